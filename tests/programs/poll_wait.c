/* poll, ppoll, select, pselect and epoll_wait from threads: timeouts return 0 no earlier than asked, a write by
 * another thread wakes the waiter with the right revents, a zero timeout never waits, an invalid
 * fd gives POLLNVAL; a ticker thread keeps running during every wait. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sys/select.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "ticker.h"

static int p[2];

static void *write_later(void *arg)
{
    usleep((useconds_t)(long)arg);
    write(p[1], "x", 1);
    return NULL;
}

int main(void)
{
    pthread_t tk, w;
    char c;
    pthread_create(&tk, NULL, ticker, NULL);
    pipe(p);
    struct pollfd pf = {.fd = p[0], .events = POLLIN};

    long long t = now_ms();
    int r = poll(&pf, 1, 50);
    printf("poll timeout: %d, waited >= 50ms: %s\n", r, now_ms() - t >= 49 ? "yes" : "no");

    pthread_create(&w, NULL, write_later, (void *)20000L);
    r = poll(&pf, 1, 5000);
    printf("poll woken by a writer: %d, POLLIN %s\n", r, pf.revents & POLLIN ? "yes" : "no");
    pthread_join(w, NULL);
    r = poll(&pf, 1, 0);
    printf("poll zero timeout on a ready pipe: %d\n", r);
    read(p[0], &c, 1);

    t = now_ms();
    r = poll(NULL, 0, 30);
    printf("poll(NULL, 0, 30): %d, waited >= 30ms: %s\n", r, now_ms() - t >= 29 ? "yes" : "no");

    struct pollfd bad = {.fd = 1000, .events = POLLIN};
    r = poll(&bad, 1, 1000);
    printf("poll on a closed fd: %d, POLLNVAL %s\n", r, bad.revents & POLLNVAL ? "yes" : "no");

    t = now_ms();
    r = ppoll(&pf, 1, &(struct timespec){0, 40000000}, NULL);
    printf("ppoll timeout: %d, waited >= 40ms: %s\n", r, now_ms() - t >= 39 ? "yes" : "no");

    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    struct timeval tv = {0, 40000};
    t = now_ms();
    r = select(p[0] + 1, &rs, NULL, NULL, &tv);
    printf("select timeout: %d, waited >= 40ms: %s, set cleared: %s\n", r, now_ms() - t >= 39 ? "yes" : "no",
           FD_ISSET(p[0], &rs) ? "no" : "yes");
    FD_SET(p[0], &rs);
    pthread_create(&w, NULL, write_later, (void *)10000L);
    r = select(p[0] + 1, &rs, NULL, NULL, NULL);
    printf("select woken by a writer: %d, readable %s\n", r, FD_ISSET(p[0], &rs) ? "yes" : "no");
    pthread_join(w, NULL);
    read(p[0], &c, 1);
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    t = now_ms();
    r = pselect(p[0] + 1, &rs, NULL, NULL, &(struct timespec){0, 30000000}, NULL);
    printf("pselect timeout: %d, waited >= 30ms: %s\n", r, now_ms() - t >= 29 ? "yes" : "no");
    int q[2];
    pipe(q);
    close(q[0]);
    close(q[1]);
    FD_ZERO(&rs);
    FD_SET(q[0], &rs);
    errno = 0;
    tv = (struct timeval){1, 0};
    r = select(q[0] + 1, &rs, NULL, NULL, &tv);
    printf("select on a closed fd: %d %s\n", r, errno == EBADF ? "EBADF" : "other");

    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 77}, out[4];
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    t = now_ms();
    r = epoll_wait(ep, out, 4, 40);
    printf("epoll_wait timeout: %d, waited >= 40ms: %s\n", r, now_ms() - t >= 39 ? "yes" : "no");
    pthread_create(&w, NULL, write_later, (void *)10000L);
    r = epoll_wait(ep, out, 4, -1);
    printf("epoll_wait woken by a writer: %d, data %u\n", r, r > 0 ? out[0].data.u32 : 0);
    pthread_join(w, NULL);
    r = epoll_pwait(ep, out, 4, 100, NULL);
    printf("epoll_pwait with data pending: %d\n", r);
    close(ep);

    ticking = 0;
    pthread_join(tk, NULL);
    printf("ticker ran during the waits: %s\n", ticks >= 40 ? "yes" : "no");
    return 0;
}
