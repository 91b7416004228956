/* dprintf and vdprintf (and the fortified __dprintf_chk) to pipes and sockets that a slower
 * reader thread of this process drains. glibc's dprintf writes through a FILE of its own with
 * internal write calls, so under libgreen on one carrier without hand-off its write to the full
 * pipe blocked the carrier and the reader never ran: the program hung. Cases, each printing
 * what dprintf returned in total and the bytes and hash the reader got:
 * - 3000 lines of 0..70 bytes and three 20000-byte lines to a pipe (dprintf, vdprintf,
 *   __dprintf_chk);
 * - the same to a Unix stream socket;
 * - two threads at once to two pipes (while one waits in its write, the other formats
 *   elsewhere: csrc/printf.c's second path);
 * - a conversion that fails (EILSEQ) after some output: -1, and the output before it is written;
 * - errors: the reader gone (EPIPE, SIGPIPE ignored), a closed fd (EBADF), a full pipe the
 *   program made non-blocking (EAGAIN, nothing written);
 * (Not tested: cancelling a thread inside dprintf. glibc's vdprintf leaves its FILE, on the
 * cancelled thread's stack, linked in the list of streams, and the flush at exit follows it
 * into whatever reuses that stack: natively a crash.)
 * - perror with stderr put on a pipe (dup2), 5000 lines with and without a prefix, while
 *   stderr has no orientation (glibc writes through a FILE of its own) and after it is given a
 *   narrow one (through stderr): errno is kept; with the reader gone, stderr's error flag. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wchar.h>

int __dprintf_chk(int fd, int flag, const char *fmt, ...);

#include "pipe_drain.h"

/* A pipe (or socket pair) whose read end a draining thread reads; returns the write end. */
static int open_sink(struct sink *s, int socket)
{
    int p[2];
    if (socket ? socketpair(AF_UNIX, SOCK_STREAM, 0, p) : pipe(p))
        die("pipe");
    s->fd = p[0];
    s->bytes = 0;
    if (pthread_create(&s->t, NULL, drain, s))
        die("pthread_create");
    return p[1];
}

static void close_sink(struct sink *s, int fd, const char *name, long wrote)
{
    close(fd);
    pthread_join(s->t, NULL);
    printf("%s: dprintf returned %ld in all, reader got %lu bytes, hash %016lx\n", name, wrote, s->bytes, s->hash);
}

static const char line[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!?#$%&*+";

static int my_vdprintf(int fd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vdprintf(fd, fmt, ap);
    va_end(ap);
    return r;
}

static long lines(int fd)
{
    long total = 0;
    for (int i = 0; i < 3000; i++) {
        switch (i % 3) {
        case 0: total += dprintf(fd, "%d %.*s\n", i, i % 71, line); break;
        case 1: total += my_vdprintf(fd, "v%d %.*s\n", i, i % 71, line); break;
        default: total += __dprintf_chk(fd, 1, "c%d %.*s\n", i, i % 71, line); break;
        }
        if (i % 1000 == 999)
            total += dprintf(fd, "%20000d\n", i);
    }
    return total;
}

static void *lines_thread(void *arg)
{
    return (void *)lines(*(int *)arg);
}

static void two_writers(void)
{
    struct sink s[2];
    int fd[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        fd[i] = open_sink(&s[i], 0);
        if (pthread_create(&t[i], NULL, lines_thread, &fd[i]))
            die("pthread_create");
    }
    for (int i = 0; i < 2; i++) {
        void *total;
        pthread_join(t[i], &total);
        close_sink(&s[i], fd[i], i ? "second writer" : "first writer", (long)total);
    }
}

static void bad_conversion(void)
{
    struct sink s;
    int fd = open_sink(&s, 0);
    static const wchar_t bad[] = {0xd800, 0};
    errno = 0;
    int r = dprintf(fd, "before %ls after\n", bad);
    printf("dprintf of an invalid wide string: %d, errno %s\n", r, strerrorname_np(errno));
    close_sink(&s, fd, "bad conversion", 0);
}

static void errors(void)
{
    int gone = reader_gone();
    errno = 0;
    int r = dprintf(gone, "%5000d", 1);
    printf("dprintf with the reader gone: %d, errno %s\n", r, strerrorname_np(errno));
    close(gone);
    signal(SIGPIPE, SIG_DFL);

    errno = 0;
    r = dprintf(gone, "closed %d\n", 1);
    printf("dprintf to a closed fd: %d, errno %s\n", r, strerrorname_np(errno));

    int p[2];
    if (pipe(p))
        die("pipe");
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    char block[4096];
    memset(block, 'x', sizeof block);
    long filled = 0;
    ssize_t w;
    while ((w = write(p[1], block, sizeof block)) > 0)
        filled += w;
    errno = 0;
    r = dprintf(p[1], "%100d\n", 1);
    int e = errno;
    fcntl(p[1], F_SETFL, 0);
    close(p[1]);
    long got = 0;
    ssize_t n;
    while ((n = read(p[0], block, sizeof block)) > 0)
        got += n;
    close(p[0]);
    printf("dprintf to a full non-blocking pipe: %d, errno %s, extra bytes in the pipe %ld\n", r, strerrorname_np(e),
           got - filled);
}

/* 5000 perror lines to stderr put on a pipe (or a socket); stderr is made narrow halfway. */
static void perror_lines(int socket)
{
    struct sink s;
    int fd = open_sink(&s, socket);
    int saved = dup(2);
    if (saved < 0 || dup2(fd, 2) != 2)
        die("dup2");
    close(fd);
    int kept = 0;
    for (int i = 0; i < 5000; i++) {
        if (i == 2500 && !socket)
            fwide(stderr, -1); /* narrow from here: glibc's perror writes through stderr */
        errno = i % 3 ? ENOENT : EACCES;
        int before = errno;
        perror(i % 5 == 0 ? NULL : i % 5 == 1 ? "" : "context of the failure");
        kept += errno == before;
    }
    if (dup2(saved, 2) != 2)
        die("dup2 back");
    close(saved);
    close_sink(&s, -1, socket ? "perror to a socket" : "perror to a pipe", 0);
    printf("perror: errno kept %d of 5000, stderr oriented %d, error flag %d\n", kept, fwide(stderr, 0),
           ferror(stderr) != 0);
}

/* perror to a pipe whose reader is gone. */
static void perror_gone(void)
{
    int gone = reader_gone(), saved = dup(2);
    dup2(gone, 2);
    close(gone);
    errno = EIO;
    perror("to nobody");
    int flag = ferror(stderr) != 0;
    clearerr(stderr);
    dup2(saved, 2);
    close(saved);
    signal(SIGPIPE, SIG_DFL);
    printf("perror with the reader gone: stderr error flag %d\n", flag);
}

int main(void)
{
    struct sink s;
    int fd = open_sink(&s, 0);
    close_sink(&s, fd, "pipe", lines(fd));
    fd = open_sink(&s, 1);
    close_sink(&s, fd, "socket", lines(fd));
    two_writers();
    bad_conversion();
    errors();
    perror_lines(1); /* first: stderr has no orientation, and keeps none on a socket */
    perror_lines(0);
    perror_gone();
    return 0;
}
