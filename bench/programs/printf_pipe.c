/* fprintf of a short formatted line to a pipe that a child process drains, in ns per call,
 * while another thread is parked (libgreen: csrc/printf.c formats into memory, then
 * src/stdio_write.rs copies into the FILE's buffer and writes it out cooperatively; glibc:
 * vfprintf straight into the buffer). */
#include <stdlib.h>
#include <sys/wait.h>
#include "common.h"

int main(void)
{
    park_a_thread();
    int p[2];
    pipe(p);
    pid_t child = fork();
    if (child == 0) {
        static char buf[65536];
        close(p[1]);
        while (read(p[0], buf, sizeof buf) > 0)
            ;
        _exit(0);
    }
    close(p[0]);
    FILE *f = fdopen(p[1], "w");
    const long n = 2000000;
    double t0 = now_s();
    for (long i = 0; i < n; i++)
        fprintf(f, "%ld %s\n", i, "line");
    fflush(f);
    result("fprintf_pipe", (now_s() - t0) / n * 1e9, "ns");
    fclose(f);
    waitpid(child, NULL, 0);
    release_parked_thread();
    return 0;
}
