/* Readiness races that only several carriers can hit, run natively, with one carrier and with
 * GREEN_HUBS=2 (tests/run.sh runs both), same output:
 * - byte ping-pong between thread pairs over pipes and over stream socketpairs (receives with
 *   room to spare, so the drained-socket skip is taken): a readiness edge handled by another
 *   carrier between a failed try and the park, if lost, hangs a pair;
 * - eight readers sharing one pipe, fed in small writes: every byte is read exactly once (the
 *   sum of their values matches) and every reader sees EOF;
 * - four acceptors sharing one listener: every connection is accepted exactly once, and a
 *   "stop" connection per acceptor ends each.
 * With one carrier this proves the single-carrier paths unchanged; with two it is the stress
 * test of fd.rs's edge counts (parks that skip the edge check hang most runs here) and
 * src/turn.rs's turns. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define PAIRS 4
#define ROUNDS 2000
#define READERS 8
#define BYTES 20000
#define ACCEPTORS 4
#define CONNS 200

static int die(const char *what)
{
    perror(what);
    exit(1);
}

/* ---- ping-pong: side 0 sends, side 1 echoes; fds[0] carries 0 -> 1, fds[1] 1 -> 0 ---- */
struct pair {
    int to_echo[2], to_sender[2]; /* read end [0], write end [1] */
    int sockets;                  /* recv/send instead of read/write */
    long done;
};

static int get1(int fd, int sockets)
{
    char buf[64]; /* room to spare: a short receive marks a stream socket drained */
    ssize_t r = sockets ? recv(fd, buf, sizeof buf, 0) : read(fd, buf, sizeof buf);
    return r == 1 ? (unsigned char)buf[0] : -1;
}

static int put1(int fd, int sockets, char c)
{
    ssize_t r = sockets ? send(fd, &c, 1, 0) : write(fd, &c, 1);
    return r == 1 ? 0 : -1;
}

static void *sender(void *arg)
{
    struct pair *p = arg;
    for (int i = 0; i < ROUNDS; i++) {
        if (put1(p->to_echo[1], p->sockets, (char)i) < 0 || get1(p->to_sender[0], p->sockets) != (unsigned char)i)
            return NULL;
        p->done++;
    }
    return NULL;
}

static void *echoer(void *arg)
{
    struct pair *p = arg;
    for (int i = 0; i < ROUNDS; i++) {
        int c = get1(p->to_echo[0], p->sockets);
        if (c < 0 || put1(p->to_sender[1], p->sockets, (char)c) < 0)
            return NULL;
    }
    return NULL;
}

static void ping_pong(int sockets)
{
    struct pair pairs[PAIRS];
    pthread_t t[PAIRS][2];
    for (int i = 0; i < PAIRS; i++) {
        struct pair *p = &pairs[i];
        p->sockets = sockets;
        p->done = 0;
        if (sockets) {
            int a[2], b[2];
            if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) || socketpair(AF_UNIX, SOCK_STREAM, 0, b))
                die("socketpair");
            /* a[1] -> a[0] carries to the echoer, b[1] -> b[0] back. */
            p->to_echo[0] = a[0], p->to_echo[1] = a[1];
            p->to_sender[0] = b[0], p->to_sender[1] = b[1];
        } else if (pipe(p->to_echo) || pipe(p->to_sender)) {
            die("pipe");
        }
        pthread_create(&t[i][1], NULL, echoer, p);
        pthread_create(&t[i][0], NULL, sender, p);
    }
    long done = 0;
    for (int i = 0; i < PAIRS; i++) {
        pthread_join(t[i][0], NULL);
        pthread_join(t[i][1], NULL);
        done += pairs[i].done;
        for (int k = 0; k < 2; k++) {
            close(pairs[i].to_echo[k]);
            close(pairs[i].to_sender[k]);
        }
    }
    printf("%s ping-pong: %d pairs, %ld of %d round trips\n", sockets ? "socketpair" : "pipe", PAIRS, done,
           PAIRS * ROUNDS);
}

/* ---- eight readers on one pipe ---- */
static int shared_rd;
static long read_sum, read_count, saw_eof;
static pthread_mutex_t tally = PTHREAD_MUTEX_INITIALIZER;

static void *shared_reader(void *arg)
{
    (void)arg;
    long sum = 0, count = 0;
    unsigned char buf[3];
    ssize_t r;
    while ((r = read(shared_rd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < r; i++)
            sum += buf[i];
        count += r;
    }
    pthread_mutex_lock(&tally);
    read_sum += sum;
    read_count += count;
    saw_eof += r == 0;
    pthread_mutex_unlock(&tally);
    return NULL;
}

static void shared_pipe(void)
{
    int p[2];
    if (pipe(p))
        die("pipe");
    shared_rd = p[0];
    pthread_t t[READERS];
    for (int i = 0; i < READERS; i++)
        pthread_create(&t[i], NULL, shared_reader, NULL);
    long sum = 0;
    unsigned char chunk[7];
    for (int off = 0; off < BYTES;) {
        int n = 1 + off % 7;
        if (n > BYTES - off)
            n = BYTES - off;
        for (int i = 0; i < n; i++) {
            chunk[i] = (unsigned char)((off + i) % 251);
            sum += chunk[i];
        }
        if (write(p[1], chunk, n) != n)
            die("write");
        off += n;
        if (off % 700 == 0)
            usleep(200); /* let the readers drain it and park again */
    }
    close(p[1]);
    for (int i = 0; i < READERS; i++)
        pthread_join(t[i], NULL);
    close(p[0]);
    printf("shared pipe: %ld of %d bytes read, sum matches: %s, readers at EOF: %ld of %d\n", read_count, BYTES,
           read_sum == sum ? "yes" : "no", saw_eof, READERS);
}

/* ---- four acceptors on one listener ---- */
static int listener;
static long accepted, stopped;

static void *acceptor(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept(listener, NULL, NULL);
        if (c < 0)
            die("accept");
        char b = 0;
        ssize_t r = read(c, &b, 1);
        close(c);
        pthread_mutex_lock(&tally);
        int stop = r == 1 && b == 'q';
        if (stop)
            stopped++;
        else
            accepted++;
        pthread_mutex_unlock(&tally);
        if (stop)
            return NULL;
    }
}

static void connect_and_send(const struct sockaddr_in *a, char what)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || connect(s, (const struct sockaddr *)a, sizeof *a))
        die("connect");
    if (write(s, &what, 1) != 1)
        die("write");
    close(s);
}

static void shared_listener(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof a) || listen(listener, 256) ||
        getsockname(listener, (struct sockaddr *)&a, &l))
        die("listener");
    pthread_t t[ACCEPTORS];
    for (int i = 0; i < ACCEPTORS; i++)
        pthread_create(&t[i], NULL, acceptor, NULL);
    for (int i = 0; i < CONNS; i++)
        connect_and_send(&a, 'c');
    /* Every ordinary connection is counted before the stops go out: each acceptor then takes
     * exactly one stop. */
    for (;;) {
        pthread_mutex_lock(&tally);
        long n = accepted;
        pthread_mutex_unlock(&tally);
        if (n == CONNS)
            break;
        usleep(1000);
    }
    for (int i = 0; i < ACCEPTORS; i++)
        connect_and_send(&a, 'q');
    for (int i = 0; i < ACCEPTORS; i++)
        pthread_join(t[i], NULL);
    close(listener);
    printf("shared listener: %ld of %d connections accepted, acceptors stopped: %ld of %d\n", accepted, CONNS,
           stopped, ACCEPTORS);
}

int main(void)
{
    ping_pong(0);
    ping_pong(1);
    shared_pipe();
    shared_listener();
    return 0;
}
