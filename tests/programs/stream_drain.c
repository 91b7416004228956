/* Receives on stream sockets that the runtime knows are drained park without trying the call
 * (fd.rs READ_DRAINED); everything else must still be tried at once. Each case would hang (and
 * the deadlock check abort) if a receive parked while data was queued:
 *  - ping-pong of 64-byte messages read into a 4 KiB buffer (short reads) over a Unix stream
 *    socketpair and over TCP loopback: the next read finds the queue drained and parks;
 *  - MSG_PEEK returning short must not mark the socket drained;
 *  - datagram sockets are never tracked (a short datagram says nothing of the queue);
 *  - EOF after a drained read wakes the reader with 0. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ROUNDS 200

static int sv[2];
static sem_t go;

static void must(int ok, const char *what)
{
    if (!ok) {
        perror(what);
        exit(1);
    }
}

static void *echo_side(void *arg)
{
    (void)arg;
    char buf[4096];
    long total = 0;
    for (;;) {
        ssize_t n = read(sv[1], buf, sizeof buf);
        if (n <= 0)
            break;
        total += n;
        must(write(sv[1], buf, n) == n, "echo write");
    }
    printf("echo side got %ld bytes, then EOF\n", total);
    return NULL;
}

/* ROUNDS request/response pairs over sv[0] <-> sv[1]; returns a checksum of what came back. */
static unsigned long ping_pong(void)
{
    pthread_t t;
    pthread_create(&t, NULL, echo_side, NULL);
    unsigned long sum = 0;
    for (int r = 0; r < ROUNDS; r++) {
        char msg[64], back[4096];
        memset(msg, 'a' + r % 26, sizeof msg);
        must(write(sv[0], msg, sizeof msg) == sizeof msg, "write");
        size_t got = 0;
        while (got < sizeof msg) {
            ssize_t n = read(sv[0], back + got, sizeof back - got);
            must(n > 0, "read");
            got += n;
        }
        for (size_t i = 0; i < got; i++)
            sum = sum * 31 + (unsigned char)back[i];
    }
    shutdown(sv[0], SHUT_WR); /* the echo side, drained and parked, must see EOF */
    pthread_join(t, NULL);
    close(sv[0]);
    close(sv[1]);
    return sum;
}

static void tcp_pair(void)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    must(bind(ls, (struct sockaddr *)&a, sizeof a) == 0 && listen(ls, 1) == 0, "listen");
    must(getsockname(ls, (struct sockaddr *)&a, &al) == 0, "getsockname");
    sv[0] = socket(AF_INET, SOCK_STREAM, 0);
    must(connect(sv[0], (struct sockaddr *)&a, sizeof a) == 0, "connect");
    sv[1] = accept(ls, NULL, NULL);
    must(sv[1] >= 0, "accept");
    close(ls);
}

static void *peeker(void *arg)
{
    (void)arg;
    char buf[100];
    ssize_t n = recv(sv[1], buf, sizeof buf, 0); /* parks: the socket gets registered */
    printf("first recv: %zd bytes\n", n);
    sem_wait(&go);
    n = recv(sv[1], buf, sizeof buf, MSG_PEEK);
    printf("peek: %zd bytes '%.*s'\n", n, (int)n, buf);
    n = recv(sv[1], buf, sizeof buf, 0);
    printf("recv after peek: %zd bytes '%.*s'\n", n, (int)n, buf);
    return NULL;
}

static void *dgram_reader(void *arg)
{
    (void)arg;
    char buf[100];
    ssize_t n = recv(sv[1], buf, sizeof buf, 0);
    printf("datagram: '%.*s'\n", (int)n, buf);
    sem_wait(&go);
    for (int i = 0; i < 2; i++) {
        n = recv(sv[1], buf, sizeof buf, 0);
        printf("datagram: '%.*s'\n", (int)n, buf);
    }
    return NULL;
}

/* Sends `first`, lets the reader take it, then queues `later` (one send per string) and lets
 * the hub see the edges before the reader goes on. */
static void two_phase(void *(*reader)(void *), const char *first, const char *later[], int nlater)
{
    pthread_t t;
    pthread_create(&t, NULL, reader, NULL);
    usleep(2000);
    must(send(sv[0], first, strlen(first), 0) > 0, "send");
    usleep(2000);
    for (int i = 0; i < nlater; i++)
        must(send(sv[0], later[i], strlen(later[i]), 0) > 0, "send");
    usleep(2000);
    sem_post(&go);
    pthread_join(t, NULL);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    sem_init(&go, 0, 0);
    must(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    printf("unix stream checksum %lx\n", ping_pong());
    tcp_pair();
    printf("tcp checksum %lx\n", ping_pong());

    must(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    const char *peeked[] = {"0123456789"};
    two_phase(peeker, "hello", peeked, 1);

    must(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0, "socketpair");
    const char *grams[] = {"b", "c"};
    two_phase(dgram_reader, "a", grams, 2);
    return 0;
}
