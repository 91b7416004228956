/* fwrite of a 12-byte line to a pipe that a child process drains, in ns per call, while
 * another thread is parked (libgreen: src/stdio_write.rs lets glibc's fwrite buffer what fits
 * and writes each full buffer out itself, cooperatively). */
#include "common.h"

int main(void)
{
    park_a_thread();
    FILE *f = drained_stream();
    const long n = 2000000;
    double t0 = now_s();
    for (long i = 0; i < n; i++)
        fwrite("123456 line\n", 1, 12, f);
    fflush(f);
    result("fwrite_pipe", (now_s() - t0) / n * 1e9, "ns");
    drained_stream_close(f);
    release_parked_thread();
    return 0;
}
