/* Hand-written single-thread epoll echo server: the yardstick the threaded server under libgreen
 * is compared with. Level-triggered, non-blocking sockets; a write that does not complete keeps
 * its rest and waits for EPOLLOUT. usage: echo_epoll PORT
 * Built with -DEXTRA_PAGES=N, each request also writes a word in N more pages of its own per
 * connection (a thread's footprint: bench/NOTES.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "echo_listen.h"

#ifndef EXTRA_PAGES
#define EXTRA_PAGES 0
#endif

struct conn {
    int fd;
    size_t pending, off; /* unsent rest of the last read */
    char buf[4096];
#if EXTRA_PAGES
    volatile long *extra[EXTRA_PAGES];
#endif
};

static void drop(int ep, struct conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

/* Sends what is pending; returns 0 when all went, 1 when the socket is full, -1 on error. */
static int flush(struct conn *c)
{
    while (c->pending) {
        ssize_t w = write(c->fd, c->buf + c->off, c->pending);
        if (w < 0)
            return errno == EAGAIN ? 1 : -1;
        c->off += w;
        c->pending -= w;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int ls = echo_listen(argc, argv, SOCK_NONBLOCK), one = 1;
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    c = calloc(1, sizeof *c);
                    c->fd = fd;
#if EXTRA_PAGES
                    for (int k = 0; k < EXTRA_PAGES; k++)
                        c->extra[k] = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
#endif
                    struct epoll_event ce = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ce);
                }
                continue;
            }
            if (c->pending) { /* EPOLLOUT: finish the write, then read again */
                int r = flush(c);
                if (r < 0) {
                    drop(ep, c);
                } else if (r == 0) {
                    struct epoll_event ce = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ce);
                }
                continue;
            }
            ssize_t r = read(c->fd, c->buf, sizeof c->buf);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN)
                    continue;
                drop(ep, c);
                continue;
            }
            c->off = 0;
            c->pending = r;
#if EXTRA_PAGES
            for (int k = 0; k < EXTRA_PAGES; k++) c->extra[k][k]++;
#endif
            int f = flush(c);
            if (f < 0) {
                drop(ep, c);
            } else if (f == 1) {
                struct epoll_event ce = {.events = EPOLLOUT, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ce);
            }
        }
    }
}
