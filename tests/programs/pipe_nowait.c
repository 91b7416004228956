/* Pipe calls of green threads made with RWF_NOWAIT (src/fd.rs, pipe_nowait): a writer's single
 * write() of 1 MiB into a pipe a reader drains with 64 KiB reads and readv()s, every byte
 * checked; then a FIFO, where the kernel refuses RWF_NOWAIT and the runtime polls first: 100
 * messages each way between two threads. tests/run.sh compares the output with a native run and
 * counts the calls under strace (the fds are printed on stderr): the 1 MiB write takes one
 * pwritev2 per pipe-full (≈16; it took 256 polls and 256 writes of PIPE_BUF before), no poll
 * precedes a pipe read, and each FIFO refuses RWF_NOWAIT once, then is polled. Last, the
 * program's own preadv2/pwritev2 at the file position on a pipe and a socket, which read and
 * write as readv/writev do: they park like them (they blocked the carrier before).
 *
 * usage: pipe_nowait */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define TOTAL (1 << 20)

static int p[2];
static unsigned char *out;
static ssize_t written; /* printed by main after both joins: the threads end in either order */
static size_t got;
static int equal;

static void *writer(void *arg)
{
    (void)arg;
    written = write(p[1], out, TOTAL);
    close(p[1]);
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    static unsigned char in[TOTAL];
    int reads = 0;
    for (;;) {
        ssize_t r;
        size_t room = TOTAL - got < 65536 ? TOTAL - got : 65536;
        if (reads++ % 2) {
            r = read(p[0], in + got, room);
        } else {
            struct iovec v[2] = {{in + got, room / 2}, {in + got + room / 2, room - room / 2}};
            r = readv(p[0], v, 2);
        }
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    equal = got == TOTAL && memcmp(in, out, TOTAL) == 0;
    return NULL;
}

static int ask, answer; /* two FIFOs, each opened read-write (Linux allows it) */

static void *fifo_echo(void *arg)
{
    (void)arg;
    char m[32];
    for (int i = 0; i < 100; i++) {
        if (read(ask, m, sizeof m) != 8 || m[0] != 'q')
            return (void *)1;
        m[0] = 'a';
        if (write(answer, m, 8) != 8)
            return (void *)1;
    }
    return NULL;
}

static int open_fifo(const char *what)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/pipe_nowait.%d.%s", getpid(), what);
    int fd = -1;
    if (mkfifo(path, 0600) == 0)
        fd = open(path, O_RDWR);
    unlink(path);
    return fd;
}

static int q[2], sp[2];

static void *v2_reader(void *arg)
{
    (void)arg;
    char b[64];
    struct iovec v = {b, sizeof b};
    ssize_t r = preadv2(q[0], &v, 1, -1, 0);
    printf("preadv2 on a pipe: %.*s\n", (int)(r > 0 ? r : 0), b);
    r = preadv2(sp[0], &v, 1, -1, 0);
    printf("preadv2 on a socket: %.*s\n", (int)(r > 0 ? r : 0), b);
    return NULL;
}

static void pwritev2_str(int fd, const char *s)
{
    struct iovec v = {(void *)s, strlen(s)};
    if (pwritev2(fd, &v, 1, -1, 0) != (ssize_t)strlen(s))
        perror("pwritev2");
}

int main(void)
{
    out = malloc(TOTAL);
    for (size_t i = 0; i < TOTAL; i++)
        out[i] = (unsigned char)(i * 7 + i / 4096);
    if (pipe(p)) {
        perror("pipe");
        return 1;
    }
    fprintf(stderr, "pipe %d %d\n", p[0], p[1]);
    pthread_t r, w;
    pthread_create(&r, NULL, reader, NULL);
    pthread_create(&w, NULL, writer, NULL);
    pthread_join(w, NULL);
    pthread_join(r, NULL);
    printf("writer: one write returned %zd\n", written);
    printf("reader: %zu bytes, %s\n", got, equal ? "all equal" : "DIFFERENT");

    ask = open_fifo("ask");
    answer = open_fifo("answer");
    if (ask < 0 || answer < 0) {
        perror("fifo");
        return 1;
    }
    fprintf(stderr, "fifo %d %d\n", ask, answer);
    pthread_t e;
    pthread_create(&e, NULL, fifo_echo, NULL);
    int answers = 0;
    for (int i = 0; i < 100; i++) {
        char m[32] = "q", a[32];
        snprintf(m + 1, sizeof m - 1, "%07d", i);
        if (write(ask, m, 8) != 8)
            break;
        if (read(answer, a, sizeof a) == 8 && a[0] == 'a' && memcmp(a + 1, m + 1, 7) == 0)
            answers++;
    }
    void *res;
    pthread_join(e, &res);
    printf("fifo: %d answers, echo thread %s\n", answers, res ? "failed" : "done");

    if (pipe(q) || socketpair(AF_UNIX, SOCK_STREAM, 0, sp)) {
        perror("pipe, socketpair");
        return 1;
    }
    pthread_t v2;
    pthread_create(&v2, NULL, v2_reader, NULL);
    usleep(20000); /* the reader waits first */
    pwritev2_str(q[1], "written by pwritev2");
    usleep(20000);
    pwritev2_str(sp[1], "sent by pwritev2");
    pthread_join(v2, NULL);
    return 0;
}
