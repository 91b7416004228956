/* Closing an accepted socket that nothing else refers to needs no EPOLL_CTL_DEL (the close of a
 * file's last fd takes it out of epoll); one that was duplicated, passed in SCM_RIGHTS or
 * inherited by a fork child does. A child process makes 23 connections one after another; for
 * each, a thread of the parent sends "g" and reads the client's byte, which the client sends 50
 * ms after the "g" (so under libgreen the read parks and the socket is registered in epoll),
 * then echoes it and closes. Connections 0-19 are plain; 20 is dup()ed first, 21 is passed to
 * this process itself in SCM_RIGHTS, and 22 is inherited by a fork child before its close.
 * tests/run.sh counts the EPOLL_CTL_DELs of the accepted fds (printed on stderr) with strace:
 * three, one for each shared socket. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loopback_listener.h"

#define PLAIN 20
#define N (PLAIN + 3)

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void client(const struct sockaddr_in *at)
{
    for (int i = 0; i < N; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (const struct sockaddr *)at, sizeof *at))
            die("client connect");
        char c;
        if (read(fd, &c, 1) != 1 || c != 'g')
            die("client go");
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
        char b = (char)('a' + i % 26);
        if (write(fd, &b, 1) != 1 || read(fd, &c, 1) != 1 || c != b)
            die("client echo");
        close(fd);
    }
    exit(0);
}

/* Passes `fd` to this process over a socketpair; returns the received copy. */
static int pass_to_self(int fd)
{
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp))
        die("socketpair");
    char cbuf[CMSG_SPACE(sizeof(int))] = {0};
    char byte = 'f';
    struct iovec iov = {&byte, 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (sendmsg(sp[0], &m, 0) != 1)
        die("sendmsg");
    char rbuf[CMSG_SPACE(sizeof(int))] = {0};
    struct msghdr r = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = rbuf, .msg_controllen = sizeof rbuf};
    if (recvmsg(sp[1], &r, 0) != 1 || !CMSG_FIRSTHDR(&r))
        die("recvmsg");
    int got;
    memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&r)), sizeof got);
    close(sp[0]);
    close(sp[1]);
    return got;
}

struct conn {
    int fd, i;
};

static int echoed;

static void *serve(void *arg)
{
    struct conn *k = arg;
    int extra = -1;
    if (k->i == PLAIN)
        extra = dup(k->fd);
    else if (k->i == PLAIN + 1)
        extra = pass_to_self(k->fd);
    char c;
    if (write(k->fd, "g", 1) != 1 || read(k->fd, &c, 1) != 1)
        die("serve");
    if (k->i == PLAIN + 2) {
        pid_t p = fork();
        if (p < 0)
            die("fork");
        if (p == 0)
            _exit(0);
        waitpid(p, NULL, 0);
    }
    if (write(k->fd, &c, 1) != 1)
        die("serve echo");
    echoed += c == (char)('a' + k->i % 26);
    close(k->fd);
    if (extra >= 0)
        close(extra);
    return NULL;
}

int main(void)
{
    struct sockaddr_in at;
    int ls = loopback_listener(&at);
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0)
        client(&at);
    for (int i = 0; i < N; i++) {
        struct conn k = {accept(ls, NULL, NULL), i};
        if (k.fd < 0)
            die("accept");
        fprintf(stderr, "accepted fd %d\n", k.fd);
        pthread_t t;
        if (pthread_create(&t, NULL, serve, &k) || pthread_join(t, NULL))
            die("thread");
    }
    int status;
    waitpid(child, &status, 0);
    fprintf(stderr, "parent %d\n", (int)getpid());
    printf("echoed %d of %d, client %s\n", echoed, N, WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "ok" : "failed");
    return 0;
}
