/* The rest of the socket family from threads: recvfrom/sendto on UDP (a datagram waits for its
 * sender), recvmsg/sendmsg and readv/writev on a stream socketpair with a 256 KiB vector (more
 * than the socket buffer, so writev must wait and continue), MSG_DONTWAIT gives EAGAIN. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static int udp_port, sv[2];

static void *udp_sender(void *arg)
{
    (void)arg;
    usleep(20000);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)udp_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < 3; i++) {
        char m[32];
        int n = snprintf(m, sizeof m, "datagram %d", i);
        sendto(s, m, (size_t)n, 0, (struct sockaddr *)&a, sizeof a);
    }
    close(s);
    return NULL;
}

#define BIG (256 * 1024)
static void *vec_writer(void *arg)
{
    (void)arg;
    static char a[BIG / 2], b[BIG / 2];
    for (int i = 0; i < BIG / 2; i++) { a[i] = (char)(i % 251); b[i] = (char)(i % 241); }
    struct iovec v[2] = {{a, sizeof a}, {b, sizeof b}};
    ssize_t n = writev(sv[0], v, 2);
    struct msghdr m = {0};
    char tail[] = "tail!";
    struct iovec tv = {tail, 5};
    m.msg_iov = &tv;
    m.msg_iovlen = 1;
    sendmsg(sv[0], &m, 0);
    return (void *)n;
}

int main(void)
{
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(u, (struct sockaddr *)&a, sizeof a);
    socklen_t al = sizeof a;
    getsockname(u, (struct sockaddr *)&a, &al);
    udp_port = ntohs(a.sin_port);
    char buf[64];
    errno = 0;
    ssize_t r = recv(u, buf, sizeof buf, MSG_DONTWAIT);
    printf("MSG_DONTWAIT on an empty socket: %zd %s\n", r, errno == EAGAIN ? "EAGAIN" : strerror(errno));
    pthread_t t;
    pthread_create(&t, NULL, udp_sender, NULL);
    for (int i = 0; i < 3; i++) {
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        r = recvfrom(u, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &fl);
        buf[r > 0 ? r : 0] = 0;
        printf("recvfrom: '%s' from loopback %s\n", buf, from.sin_addr.s_addr == htonl(INADDR_LOOPBACK) ? "yes" : "no");
    }
    pthread_join(t, NULL);
    close(u);

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pthread_create(&t, NULL, vec_writer, NULL);
    usleep(20000);
    static char got[BIG + 5];
    size_t have = 0;
    while (have < BIG + 5) {
        char x[1000], y[3000];
        struct iovec v[2] = {{x, sizeof x}, {y, sizeof y}};
        ssize_t n = (have / 4000) % 2 ? readv(sv[1], v, 2) : ({
            struct msghdr m = {0};
            m.msg_iov = v;
            m.msg_iovlen = 2;
            recvmsg(sv[1], &m, 0);
        });
        if (n <= 0) break;
        size_t first = (size_t)n < sizeof x ? (size_t)n : sizeof x;
        memcpy(got + have, x, first);
        if ((size_t)n > sizeof x) memcpy(got + have + first, y, (size_t)n - first);
        have += (size_t)n;
    }
    void *wrote;
    pthread_join(t, &wrote);
    int ok = have == BIG + 5 && memcmp(got + BIG, "tail!", 5) == 0;
    for (int i = 0; ok && i < BIG / 2; i++)
        ok = got[i] == (char)(i % 251) && got[BIG / 2 + i] == (char)(i % 241);
    printf("writev wrote %ld of %d in one call, received %zu, contents %s\n", (long)wrote, BIG, have, ok ? "ok" : "BAD");
    return 0;
}
