/* fprintf of a short formatted line to a pipe that a child process drains, in ns per call,
 * while another thread is parked (libgreen: csrc/printf.c formats into memory, then
 * src/stdio_write.rs copies into the FILE's buffer and writes it out cooperatively; glibc:
 * vfprintf straight into the buffer). */
#include "common.h"

int main(void)
{
    park_a_thread();
    FILE *f = drained_stream();
    const long n = 2000000;
    double t0 = now_s();
    for (long i = 0; i < n; i++)
        fprintf(f, "%ld %s\n", i, "line");
    fflush(f);
    result("fprintf_pipe", (now_s() - t0) / n * 1e9, "ns");
    drained_stream_close(f);
    release_parked_thread();
    return 0;
}
