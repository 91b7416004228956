/* fprintf of a short formatted line to a pipe that a child process drains, in ns per call,
 * while another thread is parked (libgreen: csrc/printf.c formats into memory, then
 * src/stdio_write.rs copies into the FILE's buffer and writes it out cooperatively; glibc:
 * vfprintf straight into the buffer). */
#include "common.h"

static void one(FILE *f, long i)
{
    fprintf(f, "%ld %s\n", i, "line");
}

int main(void)
{
    time_drained_stream("fprintf_pipe", one);
    return 0;
}
