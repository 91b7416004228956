/* Shared by the tests whose writer fills a pipe or socket many times over: a reader thread that
 * drains it more slowly than the writer writes (4 KiB reads, a pause every 16 KiB), counting
 * the bytes and hashing them (FNV-1a), then closes its end; and a pipe whose reader is gone. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void die(const char *what)
{
    perror(what);
    exit(1);
}

struct sink {
    int fd;
    pthread_t t;
    unsigned long bytes;
    unsigned long hash;
};

static void *drain(void *arg)
{
    struct sink *s = arg;
    unsigned char buf[4096];
    unsigned long h = 1469598103934665603UL;
    ssize_t n;
    while ((n = read(s->fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            h = (h ^ buf[i]) * 1099511628211UL;
        if ((s->bytes += n) % 16384 < (unsigned long)n)
            usleep(300);
    }
    if (n < 0)
        die("read");
    s->hash = h;
    close(s->fd);
    return NULL;
}

/* The write end of a pipe whose read end is closed, with SIGPIPE ignored (writes fail EPIPE). */
static int reader_gone(void)
{
    signal(SIGPIPE, SIG_IGN);
    int p[2];
    if (pipe(p))
        die("pipe");
    close(p[0]);
    return p[1];
}
