/* A blocking connect that has to wait, as natively: on a TCP listener whose accept queue is full
 * (the SYN is dropped until room is made and the client retransmits it) and on a Unix listener
 * whose backlog is full (the kernel sleeps the caller until the server accepts).
 * - TCP, SIGUSR1 without SA_RESTART: connect fails with EINTR and the connection goes on in the
 *   background; a second blocking connect on that socket waits for it and returns 0.
 * - TCP, SIGUSR2 with SA_RESTART: connect is restarted and returns 0 once there is room.
 * - TCP, the listener closed while the connect waits: ECONNREFUSED at the retransmitted SYN;
 *   the same socket then connects afresh to a new listener on that port (0).
 * - Unix: connect waits for room (0), and with SO_SNDTIMEO gives EAGAIN at the timeout.
 * Every connection's first bytes are checked end to end. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sigtest.h"

static volatile int handled;
static void on_sig(int sig)
{
    (void)sig;
    handled++;
}

static const char *res(long r, int e) { return r == 0 ? "0" : e == EINTR ? "EINTR" : strerror(e); }

static struct sockaddr_in tcp_addr;
static struct sockaddr_un unix_addr;
static int tcp_listener, unix_listener;
static int client; /* the waiting thread's socket */
static int relisten[2]; /* main says it listens again */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One byte each way over a fresh connection: the accepted end proves which socket it is. */
static void check_bytes(int c, int listener, const char *what)
{
    int s = accept(listener, NULL, NULL);
    char b = 0;
    if (s < 0 || write(c, "k", 1) != 1 || read(s, &b, 1) != 1 || b != 'k')
        printf("  %s: bytes lost\n", what);
    close(s);
}

static int tcp_fill(void)
{
    /* backlog 0: the queue takes one connection; the next SYN is dropped while it is full. */
    int f = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(f, (struct sockaddr *)&tcp_addr, sizeof tcp_addr)) perror("filler connect");
    return f;
}

static void *tcp_connect_twice(void *a)
{
    (void)a;
    client = socket(AF_INET, SOCK_STREAM, 0);
    int r = connect(client, (struct sockaddr *)&tcp_addr, sizeof tcp_addr);
    printf("  connect: %s\n", res(r, errno));
    if (r) {
        r = connect(client, (struct sockaddr *)&tcp_addr, sizeof tcp_addr);
        printf("  connect again: %s\n", res(r, errno));
        r = connect(client, (struct sockaddr *)&tcp_addr, sizeof tcp_addr);
        printf("  and once more: %s\n", res(r, errno));
    }
    return NULL;
}

/* A thread connects into the full queue, gets `sig`; main then accepts the filler (room for the
 * retransmitted SYN) and, after the thread's connect returned, checks the new connection. */
static void tcp_case(int sig)
{
    int filler = tcp_fill();
    pthread_t t;
    pthread_create(&t, NULL, tcp_connect_twice, NULL);
    usleep(150000);
    pthread_kill(t, sig);
    usleep(50000);
    close(accept(tcp_listener, NULL, NULL));
    pthread_join(t, NULL);
    check_bytes(client, tcp_listener, "tcp");
    close(client);
    close(filler);
}

static void *tcp_connect_refused_then_retry(void *a)
{
    (void)a;
    int r = connect(client, (struct sockaddr *)&tcp_addr, sizeof tcp_addr);
    printf("  connect: %s\n", res(r, errno));
    char go;
    if (read(relisten[0], &go, 1) != 1) perror("read"); /* main listens again on the port */
    r = connect(client, (struct sockaddr *)&tcp_addr, sizeof tcp_addr);
    printf("  the same socket again, to a new listener: %s\n", res(r, errno));
    return NULL;
}

static int tcp_listen(void)
{
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(l, (struct sockaddr *)&tcp_addr, sizeof tcp_addr) || listen(l, 0)) perror("listen");
    return l;
}

/* A thread connects into the full queue; main closes the listener, so the retransmitted SYN
 * is refused, then listens again on the port for the thread's second try. */
static void tcp_refused_case(void)
{
    int filler = tcp_fill();
    client = socket(AF_INET, SOCK_STREAM, 0);
    pthread_t t;
    pthread_create(&t, NULL, tcp_connect_refused_then_retry, NULL);
    usleep(150000);
    close(tcp_listener);
    close(filler);
    usleep(1500000); /* the SYN is retransmitted 1 s after the first */
    tcp_listener = tcp_listen();
    if (write(relisten[1], "g", 1) != 1) perror("write");
    pthread_join(t, NULL);
    check_bytes(client, tcp_listener, "tcp retry");
    close(client);
}

static int unix_client(void)
{
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&unix_addr, sizeof unix_addr)) return -1;
    return c;
}

static void *unix_connect(void *a)
{
    struct timeval *tv = a;
    client = socket(AF_UNIX, SOCK_STREAM, 0);
    if (tv) setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, tv, sizeof *tv);
    double t0 = now();
    int r = connect(client, (struct sockaddr *)&unix_addr, sizeof unix_addr);
    printf("  unix connect%s: %s%s\n", tv ? " with a 200 ms SO_SNDTIMEO" : "", res(r, errno),
           tv ? (now() - t0 >= 0.19 ? " after the timeout" : " too early") : "");
    return NULL;
}

/* Fills the Unix listener's backlog (1: two pending connections), then a thread connects. */
static void unix_case(struct timeval *tv)
{
    int a = unix_client(), b = unix_client();
    if (a < 0 || b < 0) printf("  filling the backlog failed: %s\n", strerror(errno));
    pthread_t t;
    pthread_create(&t, NULL, unix_connect, tv);
    usleep(tv ? 400000 : 150000);
    close(accept(unix_listener, NULL, NULL));
    pthread_join(t, NULL);
    close(accept(unix_listener, NULL, NULL)); /* b's, queued before the thread's */
    if (!tv) check_bytes(client, unix_listener, "unix");
    close(client);
    close(a);
    close(b);
}

int main(void)
{
    handle(SIGUSR1, on_sig, 0);
    handle(SIGUSR2, on_sig, SA_RESTART);

    tcp_addr.sin_family = AF_INET;
    tcp_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    tcp_listener = tcp_listen();
    socklen_t len = sizeof tcp_addr;
    if (getsockname(tcp_listener, (struct sockaddr *)&tcp_addr, &len)) return 1;

    unix_listener = socket(AF_UNIX, SOCK_STREAM, 0);
    unix_addr.sun_family = AF_UNIX;
    snprintf(unix_addr.sun_path + 1, sizeof unix_addr.sun_path - 1, "green-connect-%d", getpid());
    if (bind(unix_listener, (struct sockaddr *)&unix_addr, sizeof unix_addr) || listen(unix_listener, 1))
        return 1;

    printf("TCP, full accept queue, SIGUSR1 (no SA_RESTART):\n");
    tcp_case(SIGUSR1);
    printf("TCP, full accept queue, SIGUSR2 (SA_RESTART):\n");
    tcp_case(SIGUSR2);
    if (pipe(relisten)) return 1;
    printf("TCP, listener closed while connecting:\n");
    tcp_refused_case();
    printf("Unix, full backlog:\n");
    unix_case(NULL);
    unix_case(&(struct timeval){0, 200000});
    printf("handlers run: %d\n", handled);
    return 0;
}
