/* fwrite of a 12-byte line to a pipe that a child process drains, in ns per call, while
 * another thread is parked (libgreen: src/stdio_write.rs lets glibc's fwrite buffer what fits
 * and writes each full buffer out itself, cooperatively). */
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
        fwrite("123456 line\n", 1, 12, f);
    fflush(f);
    result("fwrite_pipe", (now_s() - t0) / n * 1e9, "ns");
    fclose(f);
    waitpid(child, NULL, 0);
    release_parked_thread();
    return 0;
}
