/* fwrite of a 12-byte line to a pipe that a child process drains, in ns per call, while
 * another thread is parked (libgreen: src/stdio_write.rs lets glibc's fwrite buffer what fits
 * and writes each full buffer out itself, cooperatively). */
#include "common.h"

static void one(FILE *f, long i)
{
    (void)i;
    fwrite("123456 line\n", 1, 12, f);
}

int main(void)
{
    time_drained_stream("fwrite_pipe", one);
    return 0;
}
