/* EOF or a reset queued right behind data on a stream socket: the read after the short read of
 * the data must return 0 (or ECONNRESET) at once, as natively. Found by iperf 2's -r mode under
 * the preload: the peer's last bytes and its FIN came in one readiness edge, the short read
 * marked the socket drained (fd.rs READ_DRAINED) and the next read parked for an edge that never
 * comes (SO_RCVTIMEO later, or forever). A reader thread parks in read/recv first; the writer
 * then sends 100 bytes, and once the reader waits again 100 more and shuts down (or resets)
 * before the reader runs again:
 *  - Unix stream socketpair, shutdown(SHUT_WR), read();
 *  - TCP loopback, shutdown(SHUT_WR), recv();
 *  - TCP loopback, close() with SO_LINGER 0 (RST), read().
 * alarm(10) turns a hang into a failure (natively the reads return at once). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void must(int ok, const char *what)
{
    if (!ok) {
        perror(what);
        exit(1);
    }
}

struct reader {
    int fd;
    int use_recv;
    char report[200];
};

/* Reads until EOF or an error; reports what each read returned. */
static void *reader(void *arg)
{
    struct reader *r = arg;
    char buf[4096];
    int len = 0;
    for (;;) {
        ssize_t n = r->use_recv ? recv(r->fd, buf, sizeof buf, 0) : read(r->fd, buf, sizeof buf);
        if (n > 0) {
            len += snprintf(r->report + len, sizeof r->report - len, "%zd bytes, ", n);
            continue;
        }
        snprintf(r->report + len, sizeof r->report - len, "%s", n == 0 ? "EOF" : strerror(errno));
        return NULL;
    }
}

/* A connected TCP pair on loopback: *a (client) and *b (accepted). */
static void tcp_pair(int *a, int *b)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    must(l >= 0, "socket");
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof sa;
    must(bind(l, (struct sockaddr *)&sa, sizeof sa) == 0, "bind");
    must(listen(l, 1) == 0, "listen");
    must(getsockname(l, (struct sockaddr *)&sa, &sl) == 0, "getsockname");
    *a = socket(AF_INET, SOCK_STREAM, 0);
    must(connect(*a, (struct sockaddr *)&sa, sizeof sa) == 0, "connect");
    *b = accept(l, NULL, NULL);
    must(*b >= 0, "accept");
    close(l);
}

/* The reader parks on `rfd`, then 100 bytes and the end (`how`) come from `wfd`. */
static void run(const char *name, int rfd, int wfd, int use_recv, const char *how)
{
    struct reader r = { .fd = rfd, .use_recv = use_recv };
    pthread_t t;
    must(pthread_create(&t, NULL, reader, &r) == 0, "pthread_create");
    char data[100];
    memset(data, 'x', sizeof data);
    /* Twice: the reader is waiting in its read by then (the first wait registers the socket
     * with the runtime's epoll; the second read is the one drained tracking applies to). */
    for (int i = 0; i < 2; i++) {
        usleep(20000);
        must(write(wfd, data, sizeof data) == sizeof data, "write");
    }
    if (strcmp(how, "shutdown") == 0) {
        must(shutdown(wfd, SHUT_WR) == 0, "shutdown");
    } else {
        struct linger lg = { .l_onoff = 1, .l_linger = 0 };
        must(setsockopt(wfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0, "SO_LINGER");
        close(wfd);
        wfd = -1;
    }
    pthread_join(t, NULL);
    printf("%s: %s\n", name, r.report);
    close(rfd);
    if (wfd >= 0)
        close(wfd);
}

int main(void)
{
    alarm(10);
    int sv[2];
    must(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    run("unix shutdown read", sv[0], sv[1], 0, "shutdown");
    int a, b;
    tcp_pair(&a, &b);
    run("tcp shutdown recv", b, a, 1, "shutdown");
    tcp_pair(&a, &b);
    run("tcp reset read", b, a, 0, "reset");
    return 0;
}
