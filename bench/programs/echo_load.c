/* Closed-loop load generator for the echo benchmark: M connections, each with one 64-byte
 * message in flight; every echo is checked byte for byte before the next message goes. One
 * thread, epoll, non-blocking sockets (it runs natively on its own CPU).
 * usage: echo_load PORT M WARMUP_S MEASURE_S [SERVER_PID]
 * prints: "<req/s> <p50 µs> <p99 µs> <requests measured> <requests in all> <server CPU µs/request>"
 * (the server's user+system CPU over the measured window, from /proc/SERVER_PID/stat; 0 without
 * a pid) */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG 64
#define HIST_US 100000 /* 1 µs buckets up to 100 ms, then one overflow bucket */

struct conn {
    int fd;
    uint64_t seq;
    size_t got;
    double sent;
    unsigned char in[MSG];
};

static unsigned long hist[HIST_US + 1];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void message(unsigned char *m, uint64_t id, uint64_t seq)
{
    memcpy(m, &id, 8);
    memcpy(m + 8, &seq, 8);
    for (int i = 16; i < MSG; i++)
        m[i] = (unsigned char)(seq + i);
}

static void send_next(struct conn *c, uint64_t id, double t)
{
    unsigned char m[MSG];
    message(m, id, ++c->seq);
    c->got = 0;
    c->sent = t;
    if (write(c->fd, m, MSG) != MSG) {
        perror("echo_load: write");
        exit(1);
    }
}

/* utime + stime of a process, in seconds (0 when unreadable). */
static double cpu_of(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = pid > 0 ? fopen(path, "r") : NULL;
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

static double percentile(unsigned long total, double p)
{
    unsigned long want = (unsigned long)(total * p), seen = 0;
    for (int i = 0; i <= HIST_US; i++) {
        seen += hist[i];
        if (seen > want)
            return i;
    }
    return HIST_US;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: %s PORT M WARMUP_S MEASURE_S [SERVER_PID]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]), m = atoi(argv[2]);
    double warm = atof(argv[3]), span = atof(argv[4]);
    int server = argc == 6 ? atoi(argv[5]) : 0;
    double cpu0 = 0, cpu1 = 0;
    int warmed = 0;
    struct conn *cs = calloc(m, sizeof *cs);
    int ep = epoll_create1(0), one = 1;
    for (int i = 0; i < m; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) {
            perror("echo_load: connect");
            return 1;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(fd, F_SETFL, O_NONBLOCK);
        cs[i].fd = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = i};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    double start = now(), t0 = start + warm, t1 = t0 + span, t = start;
    for (int i = 0; i < m; i++)
        send_next(&cs[i], i, t);
    unsigned long measured = 0, all = 0;
    struct epoll_event evs[512];
    while (t < t1) {
        int n = epoll_wait(ep, evs, 512, 1000);
        if (n < 0 && errno != EINTR) {
            perror("echo_load: epoll_wait");
            return 1;
        }
        t = now();
        if (!warmed && t >= t0) {
            cpu0 = cpu_of(server);
            warmed = 1;
        }
        for (int k = 0; k < n; k++) {
            uint64_t i = evs[k].data.u64;
            struct conn *c = &cs[i];
            ssize_t r = read(c->fd, c->in + c->got, MSG - c->got);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN)
                    continue;
                fprintf(stderr, "echo_load: connection %lu closed by the server\n", (unsigned long)i);
                return 1;
            }
            c->got += r;
            if (c->got < MSG)
                continue;
            unsigned char want[MSG];
            message(want, i, c->seq);
            if (memcmp(want, c->in, MSG)) {
                fprintf(stderr, "echo_load: wrong bytes on connection %lu\n", (unsigned long)i);
                return 1;
            }
            all++;
            if (t >= t0 && t < t1) {
                long us = (long)((t - c->sent) * 1e6);
                hist[us < HIST_US ? us : HIST_US]++;
                measured++;
            }
            send_next(c, i, t);
        }
    }
    cpu1 = cpu_of(server);
    printf("%.0f %.0f %.0f %lu %lu %.2f\n", measured / span, percentile(measured, 0.50),
           percentile(measured, 0.99), measured, all, measured ? (cpu1 - cpu0) * 1e6 / measured : 0);
    return 0;
}
