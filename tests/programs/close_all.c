/* A program that closes every descriptor but 0-2, as daemons do at start-up, keeps running its
 * threads: the runtime's own epoll instance and eventfd (natively those numbers are not open)
 * are not the program's to close.
 * - close() of every number from 3 to 8191: as many succeed as the program had open (2);
 * - closefrom(3), then close_range(3, ~0U, 0): the program's fds are gone (EBADF after), 0;
 * - close_range(.., CLOSE_RANGE_CLOEXEC) marks a pipe close-on-exec and leaves it open;
 * after each, a thread waits for a byte main writes 20 ms later, and another sleeps. Under
 * libgreen without the protection the hub's epoll fd was closed: the next wait failed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hub_waits.h"

static const char *state(int fd)
{
    int f = fcntl(fd, F_GETFD);
    return f < 0 ? (errno == EBADF ? "closed" : strerror(errno)) : f & FD_CLOEXEC ? "open, close-on-exec" : "open";
}

int main(void)
{
    printf("start:\n");
    waits("start", 'a'); /* the hub has its epoll now (and the pipe is left open: fds 3, 4) */
    int closed = 0;
    for (int fd = 3; fd < 8192; fd++)
        closed += close(fd) == 0;
    printf("close loop: %d closed\n", closed);
    waits("the close loop", 'b');

    int q[2];
    if (pipe(q)) return 1;
    closefrom(3);
    printf("closefrom(3): fd %d %s, fd %d %s\n", q[0], state(q[0]), q[1], state(q[1]));
    waits("closefrom", 'c');

    if (pipe(q)) return 1;
    int r = close_range(3, ~0U, 0);
    printf("close_range(3, ~0U, 0): %d; fd %d %s\n", r, q[0], state(q[0]));
    waits("close_range", 'd');

    if (pipe(q)) return 1;
    r = close_range(q[0], q[1], CLOSE_RANGE_CLOEXEC);
    printf("close_range(%d, %d, CLOEXEC): %d; fd %d %s\n", q[0], q[1], r, q[0], state(q[0]));
    waits("close_range CLOEXEC", 'e');
    return 0;
}
