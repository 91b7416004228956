/* A thread-per-connection echo server and 200 client threads in one process (blocking accept,
 * connect, read, write, recv, send), every byte checked, over TCP loopback (no argument or
 * "tcp"), Unix stream sockets ("unix") or pairs of pipes ("pipe": each client sends its two
 * pipe fds over a shared rendezvous pipe, which the acceptor reads as it would accept). A
 * blocking connect to a closed port or to a Unix socket nobody listens on gives ECONNREFUSED. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CLIENTS 200
#define MSGS 20
enum mode { TCP, UNIX, PIPE };
static enum mode mode = TCP;
static int port;
static char unix_path[108];
static int rendezvous[2];

/* A connection's two fds: the same socket twice, or the two pipes of one direction each. */
struct conn {
    int rd, wr;
};

static void *handler(void *arg)
{
    struct conn c = *(struct conn *)arg;
    free(arg);
    char buf[512];
    ssize_t n;
    while ((n = read(c.rd, buf, sizeof buf)) > 0) {
        ssize_t off = 0;
        while (off < n) {
            ssize_t w = write(c.wr, buf + off, (size_t)(n - off));
            if (w <= 0) break;
            off += w;
        }
    }
    close(c.rd);
    if (c.wr != c.rd) close(c.wr);
    return NULL;
}

static void *acceptor(void *arg)
{
    int l = (int)(long)arg;
    for (int i = 0; i < CLIENTS; i++) {
        struct conn *c = malloc(sizeof *c);
        if (mode == PIPE) {
            if (read(l, c, sizeof *c) != sizeof *c) { perror("rendezvous"); return NULL; }
        } else {
            c->rd = c->wr = accept(l, NULL, NULL);
            if (c->rd < 0) { perror("accept"); return NULL; }
        }
        pthread_t t;
        pthread_create(&t, NULL, handler, c);
        pthread_detach(t);
    }
    return NULL;
}

/* A blocking connect to `a`; -1 with connect's errno on failure. */
static int dial_addr(const struct sockaddr *a, socklen_t len)
{
    int s = socket(a->sa_family, SOCK_STREAM, 0);
    if (connect(s, a, len) != 0) {
        int e = errno;
        close(s);
        errno = e;
        return -1;
    }
    return s;
}

static int dial_unix(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    return dial_addr((struct sockaddr *)&a, sizeof a);
}

static int dial(int p)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)p)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return dial_addr((struct sockaddr *)&a, sizeof a);
}

/* The client's end: read side and write side (the same socket, or two pipes). */
static int open_conn(struct conn *me)
{
    if (mode == TCP) {
        me->rd = me->wr = dial(port);
    } else if (mode == UNIX) {
        me->rd = me->wr = dial_unix(unix_path);
    } else {
        int up[2], down[2];
        if (pipe(up) || pipe(down)) return -1;
        struct conn server = {up[0], down[1]};
        if (write(rendezvous[1], &server, sizeof server) != sizeof server) return -1;
        me->rd = down[0];
        me->wr = up[1];
    }
    return me->rd;
}

static void *client(void *arg)
{
    long id = (long)arg, bad = 0;
    struct conn s;
    if (open_conn(&s) < 0) return (void *)1000L;
    for (int m = 0; m < MSGS; m++) {
        char out[128], in[128];
        int len = snprintf(out, sizeof out, "client %ld message %d %0*d", id, m, (int)(id % 50), 0);
        if (write(s.wr, out, (size_t)len) != len) bad++;
        int got = 0;
        while (got < len) {
            ssize_t n = read(s.rd, in + got, (size_t)(len - got));
            if (n <= 0) { bad++; break; }
            got += (int)n;
        }
        if (got == len && memcmp(in, out, (size_t)len)) bad++;
    }
    close(s.rd);
    if (s.wr != s.rd) close(s.wr);
    return (void *)bad;
}

int main(int argc, char **argv)
{
    const char *m = argc > 1 ? argv[1] : "tcp";
    mode = !strcmp(m, "unix") ? UNIX : !strcmp(m, "pipe") ? PIPE : TCP;
    int l = -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (mode == TCP) {
        l = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        bind(l, (struct sockaddr *)&a, sizeof a);
        listen(l, 512);
        getsockname(l, (struct sockaddr *)&a, &al);
        port = ntohs(a.sin_port);
    } else if (mode == UNIX) {
        snprintf(unix_path, sizeof unix_path, "/tmp/green_echo_%d.sock", getpid());
        unlink(unix_path);
        l = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un ua = {.sun_family = AF_UNIX};
        snprintf(ua.sun_path, sizeof ua.sun_path, "%s", unix_path);
        bind(l, (struct sockaddr *)&ua, sizeof ua);
        listen(l, 512);
    } else {
        pipe(rendezvous);
        l = rendezvous[0];
    }

    pthread_t acc, c[CLIENTS];
    pthread_create(&acc, NULL, acceptor, (void *)(long)l);
    for (long i = 0; i < CLIENTS; i++) pthread_create(&c[i], NULL, client, (void *)i);
    long bad = 0;
    for (int i = 0; i < CLIENTS; i++) {
        void *r;
        pthread_join(c[i], &r);
        bad += (long)r;
    }
    pthread_join(acc, NULL);
    printf("%s: %d clients x %d messages echoed, bad %ld\n", m, CLIENTS, MSGS, bad);

    if (mode == TCP) {
        /* A closed port: bind a socket, note its port, close it, dial it. */
        int tmp = socket(AF_INET, SOCK_STREAM, 0);
        a.sin_port = 0;
        bind(tmp, (struct sockaddr *)&a, sizeof a);
        al = sizeof a;
        getsockname(tmp, (struct sockaddr *)&a, &al);
        int closed_port = ntohs(a.sin_port);
        close(tmp);
        int s = dial(closed_port);
        printf("connect to a closed port: %s\n", s < 0 && errno == ECONNREFUSED ? "ECONNREFUSED" : strerror(errno));
        close(l);
    } else if (mode == UNIX) {
        /* The socket file stays, nobody listens any more. */
        close(l);
        int s = dial_unix(unix_path);
        printf("connect to a Unix socket nobody listens on: %s\n", s < 0 && errno == ECONNREFUSED ? "ECONNREFUSED" : strerror(errno));
        unlink(unix_path);
    } else {
        close(rendezvous[0]);
        close(rendezvous[1]);
    }
    return 0;
}
