/* More blocking calls that must let other threads run (a ticker keeps ticking while each one
 * waits) and give native's results: recvmmsg waiting for a batch of datagrams, sendmmsg of
 * messages larger than a socket's buffer, epoll_pwait2 with a timeout and without, connect
 * bounded by SO_SNDTIMEO (EINPROGRESS on a listener whose backlog is full), a 1 MiB writev to a
 * pipe, reads of an eventfd, a timerfd and a signalfd, and opening both ends of a FIFO. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ticker.h"


static int udp_bound(struct sockaddr_in *a)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    *a = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(s, (struct sockaddr *)a, sizeof *a);
    socklen_t l = sizeof *a;
    getsockname(s, (struct sockaddr *)a, &l);
    return s;
}

static struct sockaddr_in rx_addr;
static void *udp_sender(void *arg)
{
    int s = (int)(long)arg;
    usleep(100000);
    char m[3][16] = {"first", "second", "third"};
    struct mmsghdr v[3];
    struct iovec io[3];
    memset(v, 0, sizeof v);
    for (int i = 0; i < 3; i++) {
        io[i] = (struct iovec){m[i], strlen(m[i])};
        v[i].msg_hdr.msg_iov = &io[i];
        v[i].msg_hdr.msg_iovlen = 1;
        v[i].msg_hdr.msg_name = &rx_addr;
        v[i].msg_hdr.msg_namelen = sizeof rx_addr;
    }
    /* One now, two more a little later: the receiver must wait for all three. */
    sendmmsg(s, v, 1, 0);
    usleep(50000);
    sendmmsg(s, v + 1, 2, 0);
    return NULL;
}

#define BIG (300 * 1000)
static void *slow_reader(void *arg)
{
    int fd = (int)(long)arg;
    usleep(100000);
    unsigned char *b = malloc(2 * BIG);
    size_t got = 0;
    ssize_t n;
    while (got < 2 * BIG && (n = read(fd, b + got, 2 * BIG - got)) > 0) got += (size_t)n;
    long bad = 0;
    for (size_t i = 0; i < got; i++) bad += b[i] != (unsigned char)(i % BIG * 7);
    free(b);
    return (void *)(got == 2 * BIG && !bad ? 1L : 0L);
}

static void *late_write(void *arg)
{
    int fd = (int)(long)arg;
    usleep(100000);
    write(fd, "x", 1);
    return NULL;
}

static void *late_eventfd(void *arg)
{
    int fd = (int)(long)arg;
    usleep(100000);
    uint64_t v = 5;
    write(fd, &v, 8);
    return NULL;
}

static void *late_kill(void *arg)
{
    (void)arg;
    usleep(100000);
    kill(getpid(), SIGUSR1);
    return NULL;
}

static char fifo_path[64];
static void *fifo_writer(void *arg)
{
    (void)arg;
    usleep(100000);
    int fd = open(fifo_path, O_WRONLY);
    write(fd, "through the fifo", 16);
    close(fd);
    return NULL;
}

#define PIPE_BIG (1 << 20)
static void *pipe_drain(void *arg)
{
    int fd = (int)(long)arg;
    usleep(100000);
    unsigned char *b = malloc(PIPE_BIG);
    size_t got = 0;
    ssize_t n;
    while ((n = read(fd, b + got, PIPE_BIG - got)) > 0) got += (size_t)n;
    long ok = got == PIPE_BIG;
    for (size_t i = 0; ok && i < got; i++) ok = b[i] == (unsigned char)(i * 11 + i / 5000);
    free(b);
    return (void *)ok;
}

int main(void)
{
    pthread_t t;
    void *res;
    /* Blocked before any thread exists, so every thread inherits it (signalfd below). */
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);

    /* recvmmsg waits for all three datagrams. */
    struct sockaddr_in tx_addr;
    int rx = udp_bound(&rx_addr), tx = udp_bound(&tx_addr);
    tick_start();
    pthread_create(&t, NULL, udp_sender, (void *)(long)tx);
    char bufs[4][32];
    struct iovec io[4];
    struct mmsghdr v[4];
    memset(v, 0, sizeof v);
    for (int i = 0; i < 4; i++) {
        io[i] = (struct iovec){bufs[i], sizeof bufs[i]};
        v[i].msg_hdr.msg_iov = &io[i];
        v[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(rx, v, 3, 0, NULL);
    pthread_join(t, NULL);
    printf("recvmmsg: %d:", n);
    for (int i = 0; i < n; i++) printf(" %.*s", (int)v[i].msg_len, bufs[i]);
    printf("; ticker ran: %s\n", tick_stop());
    close(rx);
    close(tx);

    /* sendmmsg of two messages larger than the socket buffer: both sent in full. */
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    unsigned char *big = malloc(BIG);
    for (int i = 0; i < BIG; i++) big[i] = (unsigned char)(i * 7);
    struct iovec bio[2] = {{big, BIG}, {big, BIG}};
    struct mmsghdr bv[2];
    memset(bv, 0, sizeof bv);
    for (int i = 0; i < 2; i++) {
        bv[i].msg_hdr.msg_iov = &bio[i];
        bv[i].msg_hdr.msg_iovlen = 1;
    }
    tick_start();
    pthread_create(&t, NULL, slow_reader, (void *)(long)sv[1]);
    n = sendmmsg(sv[0], bv, 2, 0);
    pthread_join(t, &res);
    printf("sendmmsg: %d messages, %u + %u bytes, reader got them intact: %s; ticker ran: %s\n", n, bv[0].msg_len, bv[1].msg_len,
           res ? "yes" : "no", tick_stop());
    close(sv[0]);
    close(sv[1]);
    free(big);

    /* epoll_pwait2: a timeout with nothing ready, then a wait until a thread writes. */
    int p[2];
    pipe(p);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = p[0]}, out[2];
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    tick_start();
    struct timespec ts = {0, 50 * 1000000};
    long long t0 = now_ms();
    n = epoll_pwait2(ep, out, 2, &ts, NULL);
    printf("epoll_pwait2 50 ms, nothing ready: %d after %s\n", n, now_ms() - t0 >= 50 ? ">= 50 ms" : "< 50 ms");
    pthread_create(&t, NULL, late_write, (void *)(long)p[1]);
    n = epoll_pwait2(ep, out, 2, NULL, NULL);
    pthread_join(t, NULL);
    printf("epoll_pwait2 forever: %d event(s) on the pipe: %s; ticker ran: %s\n", n, n == 1 && out[0].data.fd == p[0] ? "yes" : "no", tick_stop());
    struct timespec bad = {0, 2000000000};
    n = epoll_pwait2(ep, out, 2, &bad, NULL);
    printf("epoll_pwait2 with tv_nsec 2e9: %d %s\n", n, strerror(errno));
    close(ep);
    close(p[0]);
    close(p[1]);

    /* connect bounded by SO_SNDTIMEO: a listener that never accepts, backlog full. */
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in la = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(l, (struct sockaddr *)&la, sizeof la);
    listen(l, 0);
    socklen_t ll = sizeof la;
    getsockname(l, (struct sockaddr *)&la, &ll);
    tick_start();
    int cs[10], nc = 0, rc = 0, err = 0;
    long long waited = 0;
    struct timeval tv = {0, 200000};
    while (nc < 10) {
        cs[nc] = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(cs[nc], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        t0 = now_ms();
        rc = connect(cs[nc], (struct sockaddr *)&la, sizeof la);
        err = errno;
        waited = now_ms() - t0;
        nc++;
        if (rc != 0) break;
    }
    printf("connect with SO_SNDTIMEO 200 ms to a full backlog: %s after %s; ticker ran: %s\n", rc ? strerror(err) : "connected",
           waited >= 200 ? ">= 200 ms" : "< 200 ms", tick_stop());
    for (int i = 0; i < nc; i++) close(cs[i]);
    close(l);

    /* A 1 MiB writev to a pipe whose reader starts late. */
    pipe(p);
    unsigned char *pb = malloc(PIPE_BIG);
    for (int i = 0; i < PIPE_BIG; i++) pb[i] = (unsigned char)(i * 11 + i / 5000);
    struct iovec pv[3] = {{pb, 1000}, {pb + 1000, PIPE_BIG / 2}, {pb + 1000 + PIPE_BIG / 2, PIPE_BIG / 2 - 1000}};
    tick_start();
    pthread_create(&t, NULL, pipe_drain, (void *)(long)p[0]);
    ssize_t w = writev(p[1], pv, 3);
    close(p[1]);
    pthread_join(t, &res);
    printf("writev 1 MiB to a pipe: %zd, reader got it intact: %s; ticker ran: %s\n", w, res ? "yes" : "no", tick_stop());
    close(p[0]);
    free(pb);

    /* eventfd, timerfd, signalfd: reads that wait for an event. */
    int efd = eventfd(0, 0);
    tick_start();
    pthread_create(&t, NULL, late_eventfd, (void *)(long)efd);
    uint64_t val = 0;
    ssize_t r = read(efd, &val, 8);
    pthread_join(t, NULL);
    printf("eventfd read: %zd, value %llu; ticker ran: %s\n", r, (unsigned long long)val, tick_stop());
    close(efd);
    int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec its = {.it_value = {0, 100 * 1000000}};
    timerfd_settime(tfd, 0, &its, NULL);
    tick_start();
    r = read(tfd, &val, 8);
    printf("timerfd read: %zd, expirations %llu; ticker ran: %s\n", r, (unsigned long long)val, tick_stop());
    r = write(tfd, &val, 8);
    printf("timerfd write: %zd %s\n", r, strerror(errno));
    close(tfd);
    int sfd = signalfd(-1, &usr1, 0);
    tick_start();
    pthread_create(&t, NULL, late_kill, NULL);
    struct signalfd_siginfo si;
    r = read(sfd, &si, sizeof si);
    pthread_join(t, NULL);
    printf("signalfd read: %zd, signal %u; ticker ran: %s\n", r, si.ssi_signo, tick_stop());
    close(sfd);

    /* Both ends of a FIFO opened by two threads of this process. */
    snprintf(fifo_path, sizeof fifo_path, "/tmp/green_fifo_%d", getpid());
    mkfifo(fifo_path, 0600);
    tick_start();
    pthread_create(&t, NULL, fifo_writer, NULL);
    int ffd = open(fifo_path, O_RDONLY);
    char fb[32] = {0};
    r = read(ffd, fb, sizeof fb);
    pthread_join(t, NULL);
    printf("FIFO: read %zd '%s'; ticker ran: %s\n", r, fb, tick_stop());
    close(ffd);
    unlink(fifo_path);
    return 0;
}
