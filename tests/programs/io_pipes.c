/* Cooperative pipe and socket I/O: a reader blocked on an empty pipe lets other threads run
 * (a ticker keeps ticking); 1 MiB through a pipe between threads arrives intact; 50 socketpair
 * echo pairs check every byte; native child processes writing into our pipe (a shell loop, and
 * `cat` of a 4 MiB file into a pipe we drain slowly, so it fills) never see EAGAIN;
 * a pipe the program made non-blocking still gives EAGAIN, and F_GETFL shows only its flags. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ticker.h"

static volatile int ticking;
static int ticks;

static void *late_writer(void *arg)
{
    int fd = (int)(long)arg;
    usleep(100000);
    write(fd, "late", 4);
    return NULL;
}

#define BIG (1 << 20)
static void *big_writer(void *arg)
{
    int fd = (int)(long)arg;
    unsigned char *b = malloc(BIG);
    for (int i = 0; i < BIG; i++) b[i] = (unsigned char)(i * 7 + i / 4096);
    size_t off = 0;
    while (off < BIG) {
        ssize_t n = write(fd, b + off, BIG - off > 100000 ? 100000 : BIG - off);
        if (n <= 0) break;
        off += (size_t)n;
    }
    close(fd);
    free(b);
    return (void *)(long)off;
}

#define PAIRS 50
#define MSGS 100
static void *echo_server(void *arg)
{
    int fd = (int)(long)arg;
    char buf[256];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        if (write(fd, buf, (size_t)n) != n) break;
    close(fd);
    return NULL;
}

static void *echo_client(void *arg)
{
    int fd = (int)(long)arg;
    long bad = 0;
    for (int m = 0; m < MSGS; m++) {
        char out[64], in[64];
        int len = snprintf(out, sizeof out, "message %d from fd %d", m, fd);
        if (send(fd, out, (size_t)len, 0) != len) bad++;
        int got = 0;
        while (got < len) {
            ssize_t n = recv(fd, in + got, (size_t)(len - got), 0);
            if (n <= 0) { bad++; break; }
            got += (int)n;
        }
        if (memcmp(in, out, (size_t)len) != 0) bad++;
    }
    close(fd);
    return (void *)bad;
}

int main(void)
{
    int p[2];
    pthread_t tk, w;
    char buf[16];

    /* 1. Blocked reader, ticker keeps going. */
    pipe(p);
    ticking = 1;
    pthread_create(&tk, NULL, ticker, NULL);
    pthread_create(&w, NULL, late_writer, (void *)(long)p[1]);
    ssize_t n = read(p[0], buf, sizeof buf);
    ticking = 0;
    pthread_join(tk, NULL);
    pthread_join(w, NULL);
    printf("read %zd bytes '%.4s' after waiting; ticker ran meanwhile: %s\n", n, buf, ticks >= 5 ? "yes" : "no");
    close(p[0]);
    close(p[1]);

    /* 2. 1 MiB through a pipe. */
    pipe(p);
    pthread_create(&w, NULL, big_writer, (void *)(long)p[1]);
    unsigned long long sum = 0, total = 0;
    unsigned char chunk[8192];
    while ((n = read(p[0], chunk, sizeof chunk)) > 0) {
        for (ssize_t i = 0; i < n; i++) sum = sum * 31 + chunk[i];
        total += (unsigned long long)n;
    }
    void *written;
    pthread_join(w, &written);
    unsigned long long want = 0;
    for (int i = 0; i < BIG; i++) want = want * 31 + (unsigned char)(i * 7 + i / 4096);
    printf("pipe transfer: wrote %ld, read %llu, checksum %s\n", (long)written, total, sum == want ? "ok" : "BAD");
    close(p[0]);

    /* 3. Socketpair echo pairs. */
    pthread_t s[PAIRS], c[PAIRS];
    for (int i = 0; i < PAIRS; i++) {
        int sv[2];
        socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        pthread_create(&s[i], NULL, echo_server, (void *)(long)sv[0]);
        pthread_create(&c[i], NULL, echo_client, (void *)(long)sv[1]);
    }
    long bad = 0;
    for (int i = 0; i < PAIRS; i++) {
        void *r;
        pthread_join(c[i], &r);
        bad += (long)r;
        pthread_join(s[i], NULL);
    }
    printf("socketpair echo: %d pairs x %d messages, bad %ld\n", PAIRS, MSGS, bad);

    /* 4. A native child writes into our pipe while we wait; it must never see EAGAIN. */
    pipe(p);
    ticks = 0;
    ticking = 1;
    pthread_create(&tk, NULL, ticker, NULL);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        dup2(p[1], 1);
        execl("/bin/sh", "sh", "-c", "sleep 0.1; i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    long lines = 0;
    while ((n = read(p[0], chunk, sizeof chunk)) > 0)
        for (ssize_t i = 0; i < n; i++) lines += chunk[i] == '\n';
    int st;
    waitpid(pid, &st, 0);
    ticking = 0;
    pthread_join(tk, NULL);
    printf("child wrote %ld lines, exit %d, ticker ran meanwhile: %s\n", lines, WEXITSTATUS(st), ticks >= 5 ? "yes" : "no");
    close(p[0]);

    /* 4b. `cat` of a 4 MiB file into our pipe, drained slowly so that cat blocks on a full pipe:
     * it must not see EAGAIN (it would fail with "write error"), and every byte arrives. */
    char path[] = "/tmp/green_cat_XXXXXX";
    int f = mkstemp(path);
    unsigned char *big = malloc(4 << 20);
    for (int i = 0; i < (4 << 20); i++) big[i] = (unsigned char)(i * 5 + i / 3000);
    write(f, big, 4 << 20);
    close(f);
    unsigned long long want_cat = 0;
    for (int i = 0; i < (4 << 20); i++) want_cat = want_cat * 31 + big[i];
    free(big);
    pipe(p);
    ticks = 0;
    ticking = 1;
    pthread_create(&tk, NULL, ticker, NULL);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        close(p[0]);
        dup2(p[1], 1);
        execlp("cat", "cat", path, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    unsigned long long got_cat = 0, sum_cat = 0;
    int reads = 0;
    while ((n = read(p[0], chunk, sizeof chunk)) > 0) {
        for (ssize_t i = 0; i < n; i++) sum_cat = sum_cat * 31 + chunk[i];
        got_cat += (unsigned long long)n;
        if (++reads % 64 == 0) usleep(1000);
    }
    waitpid(pid, &st, 0);
    ticking = 0;
    pthread_join(tk, NULL);
    printf("cat wrote %llu bytes, checksum %s, exit %d; ticker ran meanwhile: %s\n", got_cat, sum_cat == want_cat ? "ok" : "BAD",
           WEXITSTATUS(st), ticks >= 5 ? "yes" : "no");
    close(p[0]);
    unlink(path);

    /* 5. The program's own non-blocking pipe: EAGAIN at once; flags are the program's. */
    pipe(p);
    int before = fcntl(p[0], F_GETFL);
    errno = 0;
    fcntl(p[0], F_SETFL, before | O_NONBLOCK);
    n = read(p[0], buf, sizeof buf);
    printf("non-blocking empty pipe: %zd %s\n", n, errno == EAGAIN ? "EAGAIN" : strerror(errno));
    fcntl(p[0], F_SETFL, before);
    printf("F_GETFL of a pipe we waited on shows O_NONBLOCK: %s\n", (fcntl(p[0], F_GETFL) & O_NONBLOCK) ? "yes" : "no");
    close(p[0]);
    close(p[1]);
    return 0;
}
