/* A pipe used the wrong way round from a green thread: write/writev to its read end and
 * read/readv from its write end fail at once with EBADF, as natively. A pipe end never polls
 * ready for the direction it is not open for, so a wait for readiness first never ended (one
 * carrier without hand-off: hung). The same with a FIFO opened once each way. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static void show(const char *what, long r)
{
    printf("%s: %ld %s\n", what, r, r < 0 ? strerrorname_np(errno) : "ok");
}

static void wrong_way(const char *name, int rd, int wr)
{
    char c = 'x', buf[4];
    struct iovec out = {.iov_base = &c, .iov_len = 1}, in = {.iov_base = buf, .iov_len = sizeof buf};
    char label[64];
    snprintf(label, sizeof label, "%s: write to the read end", name);
    show(label, write(rd, &c, 1));
    snprintf(label, sizeof label, "%s: writev to the read end", name);
    show(label, writev(rd, &out, 1));
    snprintf(label, sizeof label, "%s: read from the write end", name);
    show(label, read(wr, buf, sizeof buf));
    snprintf(label, sizeof label, "%s: readv from the write end", name);
    show(label, readv(wr, &in, 1));
    /* The right way still works. */
    snprintf(label, sizeof label, "%s: write then read", name);
    show(label, write(wr, "ok", 2) == 2 ? read(rd, buf, sizeof buf) : -1);
}

static void *body(void *arg)
{
    (void)arg;
    int p[2];
    if (pipe(p) != 0)
        return (void *)1;
    wrong_way("pipe", p[0], p[1]);
    close(p[0]);
    close(p[1]);
    char path[] = "/tmp/libgreen-wrong-end-XXXXXX";
    if (!mkdtemp(path))
        return (void *)1;
    char fifo[64];
    snprintf(fifo, sizeof fifo, "%s/f", path);
    if (mkfifo(fifo, 0600) != 0)
        return (void *)1;
    int first = open(fifo, O_RDONLY | O_NONBLOCK); /* lets the blocking opens through */
    int wr = open(fifo, O_WRONLY);
    int rd = open(fifo, O_RDONLY);
    close(first);
    wrong_way("fifo", rd, wr);
    close(rd);
    close(wr);
    unlink(fifo);
    rmdir(path);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t t;
    void *r;
    pthread_create(&t, NULL, body, NULL);
    pthread_join(t, &r);
    return r != NULL;
}
