/* A thread-per-connection TCP echo server and 200 client threads in one process over loopback
 * (blocking accept, connect, read, write, recv, send), every byte checked; a blocking connect to
 * a closed port gives ECONNREFUSED. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CLIENTS 200
#define MSGS 20
static int port;

static void *handler(void *arg)
{
    int c = (int)(long)arg;
    char buf[512];
    ssize_t n;
    while ((n = read(c, buf, sizeof buf)) > 0) {
        ssize_t off = 0;
        while (off < n) {
            ssize_t w = write(c, buf + off, (size_t)(n - off));
            if (w <= 0) break;
            off += w;
        }
    }
    close(c);
    return NULL;
}

static void *acceptor(void *arg)
{
    int l = (int)(long)arg;
    for (int i = 0; i < CLIENTS; i++) {
        int c = accept(l, NULL, NULL);
        if (c < 0) { perror("accept"); return NULL; }
        pthread_t t;
        pthread_create(&t, NULL, handler, (void *)(long)c);
        pthread_detach(t);
    }
    return NULL;
}

static int dial(int p)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)p)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(s);
        errno = e;
        return -1;
    }
    return s;
}

static void *client(void *arg)
{
    long id = (long)arg, bad = 0;
    int s = dial(port);
    if (s < 0) return (void *)1000L;
    for (int m = 0; m < MSGS; m++) {
        char out[128], in[128];
        int len = snprintf(out, sizeof out, "client %ld message %d %0*d", id, m, (int)(id % 50), 0);
        if (send(s, out, (size_t)len, 0) != len) bad++;
        int got = 0;
        while (got < len) {
            ssize_t n = recv(s, in + got, (size_t)(len - got), 0);
            if (n <= 0) { bad++; break; }
            got += (int)n;
        }
        if (got == len && memcmp(in, out, (size_t)len)) bad++;
    }
    close(s);
    return (void *)bad;
}

int main(void)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(l, (struct sockaddr *)&a, sizeof a);
    listen(l, 512);
    socklen_t al = sizeof a;
    getsockname(l, (struct sockaddr *)&a, &al);
    port = ntohs(a.sin_port);

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
    printf("%d clients x %d messages echoed, bad %ld\n", CLIENTS, MSGS, bad);

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
    return 0;
}
