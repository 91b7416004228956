/* sendfile and splice with a pipe or socket side let other threads run (a ticker keeps ticking)
 * while they wait, and move every byte: sendfile of an 8 MiB file into a socket and into a pipe
 * whose readers start late (with an offset pointer, and from the file position), splice from a
 * socket that has no data yet into a pipe, and splice from a pipe into a TCP socket whose buffer
 * fills before its reader starts; then sendfile and splice from the file once its pages are
 * dropped from the page cache. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ticker.h"

#define SIZE (8 << 20)
static unsigned char *data;


struct job {
    int fd;
    size_t want;
    size_t from; /* where in data the bytes come from */
};

/* Starts late, reads `want` bytes and checks them against data[from..]. */
static void *late_reader(void *arg)
{
    struct job *j = arg;
    usleep(100000);
    unsigned char *b = malloc(j->want);
    size_t got = 0;
    ssize_t n;
    while (got < j->want && (n = read(j->fd, b + got, j->want - got)) > 0) got += (size_t)n;
    long ok = got == j->want && !memcmp(b, data + j->from, j->want);
    free(b);
    return (void *)ok;
}

/* Reads SIZE bytes in 8 KiB reads from the start, checks them against data, then EOF. */
static void *chunk_reader(void *arg)
{
    int fd = (int)(long)arg;
    unsigned char *b = malloc(SIZE + 1);
    size_t got = 0;
    ssize_t n;
    while (got <= SIZE && (n = read(fd, b + got, got + 8192 <= SIZE + 1 ? 8192 : SIZE + 1 - got)) > 0) got += (size_t)n;
    long ok = got == SIZE && !memcmp(b, data, SIZE);
    free(b);
    return (void *)ok;
}

static void *late_send(void *arg)
{
    int fd = (int)(long)arg;
    usleep(100000);
    write(fd, data, 65536);
    return NULL;
}

static void *pipe_feeder(void *arg)
{
    int fd = (int)(long)arg;
    size_t off = 0;
    while (off < (1 << 20)) {
        ssize_t n = write(fd, data + off, 65536);
        if (n <= 0) break;
        off += (size_t)n;
    }
    close(fd);
    return NULL;
}

int main(void)
{
    data = malloc(SIZE);
    for (int i = 0; i < SIZE; i++) data[i] = (unsigned char)(i * 3 + i / 7777);
    char path[] = "/tmp/green_splice_XXXXXX";
    int f = mkstemp(path);
    write(f, data, SIZE);
    pthread_t t;
    void *ok;

    /* sendfile into a socket, with an offset pointer: 8 MiB - 1000 bytes from offset 1000. */
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    struct job j = {sv[1], SIZE - 1000, 1000};
    tick_start();
    pthread_create(&t, NULL, late_reader, &j);
    off_t off = 1000;
    ssize_t n = sendfile(sv[0], f, &off, SIZE - 1000);
    pthread_join(t, &ok);
    printf("sendfile to a socket: %zd, offset now %ld, reader got it intact: %s; ticker ran: %s\n", n, (long)off, ok ? "yes" : "no", tick_stop());
    close(sv[0]);
    close(sv[1]);

    /* sendfile into a pipe from the file position (set to 0). */
    int p[2];
    pipe(p);
    lseek(f, 0, SEEK_SET);
    j = (struct job){p[0], SIZE, 0};
    tick_start();
    pthread_create(&t, NULL, late_reader, &j);
    /* Into a pipe, sendfile returns once the pipe is full: loop, as programs do. */
    size_t sent = 0;
    int calls = 0;
    while (sent < SIZE && (n = sendfile(p[1], f, NULL, SIZE - sent)) > 0) {
        sent += (size_t)n;
        calls++;
    }
    pthread_join(t, &ok);
    printf("sendfile to a pipe: %zu in %s, file position now %ld, reader got it intact: %s; ticker ran: %s\n", sent, calls > 1 ? "several calls" : "one call",
           (long)lseek(f, 0, SEEK_CUR), ok ? "yes" : "no", tick_stop());
    close(p[0]);
    close(p[1]);

    /* splice from a socket with no data yet into a pipe. */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pipe(p);
    tick_start();
    pthread_create(&t, NULL, late_send, (void *)(long)sv[1]);
    size_t moved = 0;
    while (moved < 65536) {
        n = splice(sv[0], NULL, p[1], NULL, 65536 - moved, 0);
        if (n <= 0) break;
        moved += (size_t)n;
        /* Drain the pipe as we go (it holds 64 KiB). */
        unsigned char b[65536];
        ssize_t r = read(p[0], b, (size_t)n);
        if (r != n || memcmp(b, data + moved - (size_t)n, (size_t)n)) { moved = 0; break; }
    }
    pthread_join(t, NULL);
    printf("splice socket -> pipe: %zu bytes intact; ticker ran: %s\n", moved, tick_stop());
    close(sv[0]);
    close(sv[1]);
    close(p[0]);
    close(p[1]);

    /* splice from a pipe into a TCP socket whose reader starts late (its buffer fills). */
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(l, (struct sockaddr *)&a, sizeof a);
    listen(l, 1);
    socklen_t al = sizeof a;
    getsockname(l, (struct sockaddr *)&a, &al);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    connect(c, (struct sockaddr *)&a, sizeof a);
    int s = accept(l, NULL, NULL);
    pipe(p);
    j = (struct job){s, 1 << 20, 0};
    tick_start();
    pthread_t feeder;
    pthread_create(&feeder, NULL, pipe_feeder, (void *)(long)p[1]);
    pthread_create(&t, NULL, late_reader, &j);
    moved = 0;
    while ((n = splice(p[0], NULL, c, NULL, 1 << 20, 0)) > 0) moved += (size_t)n;
    pthread_join(feeder, NULL);
    pthread_join(t, &ok);
    printf("splice pipe -> TCP socket: %zu bytes, reader got them intact: %s; ticker ran: %s\n", moved, ok ? "yes" : "no", tick_stop());
    close(c);
    close(s);
    close(l);
    close(p[0]);

    /* sendfile of the whole file into a TCP socket that a thread reads 8 KiB at a time as the
     * bytes come (CPython's socket.sendfile test): the sends, capped by the socket's room, never
     * filled its buffer, so TCP never announced write space and the wait for it never ended. */
    l = socket(AF_INET, SOCK_STREAM, 0);
    a = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(l, (struct sockaddr *)&a, sizeof a);
    listen(l, 1);
    al = sizeof a;
    getsockname(l, (struct sockaddr *)&a, &al);
    c = socket(AF_INET, SOCK_STREAM, 0);
    connect(c, (struct sockaddr *)&a, sizeof a);
    s = accept(l, NULL, NULL);
    pthread_create(&t, NULL, chunk_reader, (void *)(long)s);
    off = 0;
    n = sendfile(c, f, &off, SIZE);
    close(c);
    pthread_join(t, &ok);
    printf("sendfile to a TCP socket read in 8 KiB pieces: %zd, reader got it intact: %s\n", n, ok ? "yes" : "no");
    close(s);
    close(l);

    /* sendfile into a socket, then splice into a pipe, from a file whose pages were dropped from
     * the page cache: under the preload the pool reads them first (offload_jobs), so the hub does
     * not wait for the disk inside the call. */
    fsync(f);
    posix_fadvise(f, 0, 0, POSIX_FADV_DONTNEED);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    j = (struct job){sv[1], SIZE, 0};
    pthread_create(&t, NULL, late_reader, &j);
    off = 0;
    n = sendfile(sv[0], f, &off, SIZE);
    pthread_join(t, &ok);
    printf("sendfile to a socket from uncached pages: %zd, reader got it intact: %s\n", n, ok ? "yes" : "no");
    close(sv[0]);
    close(sv[1]);
    posix_fadvise(f, 0, 0, POSIX_FADV_DONTNEED);
    pipe(p);
    j = (struct job){p[0], SIZE, 0};
    pthread_create(&t, NULL, late_reader, &j);
    loff_t from = 0;
    moved = 0;
    while (moved < SIZE && (n = splice(f, &from, p[1], NULL, SIZE - moved, 0)) > 0) moved += (size_t)n;
    pthread_join(t, &ok);
    printf("splice from uncached pages to a pipe: %zu, reader got it intact: %s\n", moved, ok ? "yes" : "no");

    /* An offset pointer the kernel cannot read: EFAULT, as natively (not a crash). */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    errno = 0;
    n = sendfile(sv[0], f, (off_t *)8, 100);
    printf("sendfile with an unreadable offset pointer: %zd (%s)\n", n, strerror(errno));
    errno = 0;
    n = splice(f, (loff_t *)8, p[1], NULL, 100, 0);
    printf("splice with an unreadable offset pointer: %zd (%s)\n", n, strerror(errno));
    close(sv[0]);
    close(sv[1]);
    close(p[0]);
    close(p[1]);
    close(f);
    unlink(path);
    free(data);
    return 0;
}
