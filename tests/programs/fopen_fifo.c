/* fopen of a FIFO by a thread waits for the other end (natively, only that thread waits). Under
 * the preload with one carrier and no hand-off, glibc's fopen opens through an internal call, so
 * it must go to the pool like open() does: otherwise the reader's fopen holds the only carrier
 * and main, which opens the writing end 50 ms later, never runs (a hang). Also: "re" sets
 * FD_CLOEXEC, "r+" (which never waits for a FIFO) and a regular file take glibc's own fopen, and
 * a FIFO that does not exist gives ENOENT. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char path[64];

static void *reader(void *arg)
{
    (void)arg;
    static char line[64];
    FILE *f = fopen(path, "re");
    if (!f) return "fopen failed";
    int cloexec = fcntl(fileno(f), F_GETFD) & FD_CLOEXEC;
    /* read(2), not fgets: stdio reads through glibc's internal read, which would hold the only
     * carrier until main writes (a README limit; a hand-off, off here, would free it). */
    size_t got = 0;
    ssize_t n;
    while (got < sizeof line - 1 && (n = read(fileno(f), line + got, sizeof line - 1 - got)) > 0) got += (size_t)n;
    line[got] = 0;
    if (!got) strcpy(line, "nothing\n");
    fclose(f);
    static char out[128];
    snprintf(out, sizeof out, "read %s", cloexec ? "with FD_CLOEXEC: " : "without FD_CLOEXEC: ");
    strncat(out, line, sizeof out - strlen(out) - 1);
    return out;
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/green_fopen_fifo_%d", getpid());
    mkfifo(path, 0600);
    pthread_t t;
    pthread_create(&t, NULL, reader, NULL);
    usleep(50000);
    FILE *w = fopen(path, "w");
    fputs("through the FIFO\n", w);
    fclose(w);
    void *r;
    pthread_join(t, &r);
    printf("%s", (char *)r);

    /* "r+": Linux opens a FIFO read-write at once. */
    FILE *rw = fopen(path, "r+");
    fputs("to myself\n", rw);
    fflush(rw);
    char line[64] = "";
    fgets(line, sizeof line, rw);
    printf("r+ read back: %s", line);
    fclose(rw);
    unlink(path);

    errno = 0;
    FILE *none = fopen(path, "r");
    printf("a removed FIFO: %s (%s)\n", none ? "opened" : "NULL", strerror(errno));
    errno = 0;
    none = fopen(path, "q");
    printf("a bad mode: %s (%s)\n", none ? "opened" : "NULL", strerror(errno));
    return 0;
}
