/* SO_RCVTIMEO is honoured: accept on a listener with no client and recv/read on an idle socket
 * give EAGAIN no earlier than the timeout — also when the timeout is set after the socket was
 * already waited on — while another thread keeps running. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ticker.h"

static void set_rcvtimeo(int fd, long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

static void report(const char *what, long r, long long start, long ms)
{
    int e = errno;
    printf("%-34s %ld %s, waited >= %ldms: %s\n", what, r, e == EAGAIN ? "EAGAIN" : strerror(e), ms,
           now_ms() - start >= ms - 1 ? "yes" : "no");
}

static void *write_later(void *arg)
{
    usleep(10000);
    write((int)(long)arg, "hi", 2);
    return NULL;
}

int main(void)
{
    pthread_t tk, w;
    pthread_create(&tk, NULL, ticker, NULL);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(l, (struct sockaddr *)&a, sizeof a);
    listen(l, 4);
    set_rcvtimeo(l, 100);
    long long t = now_ms();
    errno = 0;
    report("accept with SO_RCVTIMEO 100ms", accept(l, NULL, NULL), t, 100);

    int sv[2];
    char buf[8];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    set_rcvtimeo(sv[0], 50);
    t = now_ms();
    errno = 0;
    report("recv with SO_RCVTIMEO 50ms", recv(sv[0], buf, sizeof buf, 0), t, 50);
    t = now_ms();
    errno = 0;
    report("read with SO_RCVTIMEO 50ms", read(sv[0], buf, sizeof buf), t, 50);

    /* Waited on first without a timeout, then given one. */
    long n;
    int sp[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
    pthread_create(&w, NULL, write_later, (void *)(long)sp[1]);
    n = recv(sp[0], buf, sizeof buf, 0);
    pthread_join(w, NULL);
    printf("recv before the timeout was set: %ld bytes\n", n);
    set_rcvtimeo(sp[0], 40);
    t = now_ms();
    errno = 0;
    report("recv after setting 40ms", recv(sp[0], buf, sizeof buf, 0), t, 40);

    ticking = 0;
    pthread_join(tk, NULL);
    printf("ticker ran meanwhile: %s\n", ticks >= 40 ? "yes" : "no");
    return 0;
}
