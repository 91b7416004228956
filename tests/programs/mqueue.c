/* POSIX message queues between threads, as natively: a receive on an empty queue and a send to a
 * full one wait while the other threads run (a ticker), and complete once main sends or
 * receives; mq_timedreceive gives ETIMEDOUT at its deadline, EINVAL for a malformed one even
 * with a message queued; a signal without SA_RESTART ends a receive with EINTR, one with
 * SA_RESTART lets it complete; a queue opened O_NONBLOCK gives EAGAIN at once. Every message is
 * checked with its priority. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sigtest.h"
#include "ticker.h"

static mqd_t q;
static char name[64];

static const char *res(long r, int e) { return r >= 0 ? "ok" : e == EINTR ? "EINTR" : strerror(e); }
static void on_sig(int sig) { (void)sig; }

static void *receive(void *a)
{
    (void)a;
    char buf[64] = {0};
    unsigned prio = 0;
    long r = mq_receive(q, buf, sizeof buf, &prio);
    if (r >= 0) printf("  received \"%s\" (priority %u)\n", buf, prio);
    else printf("  mq_receive: %s\n", res(r, errno));
    return NULL;
}

static void *send_third(void *a)
{
    (void)a;
    int r = mq_send(q, "third", 6, 3);
    printf("  mq_send to a full queue: %s\n", res(r, errno));
    return NULL;
}

/* `f` in a thread while a ticker runs; after 100 ms main runs `then`. */
static void while_ticking(void *(*f)(void *), void (*then)(void))
{
    pthread_t t;
    tick_start();
    pthread_create(&t, NULL, f, NULL);
    usleep(100000);
    then();
    pthread_join(t, NULL);
    printf("  others ran meanwhile: %s\n", tick_stop());
}

static void send_one(void) { mq_send(q, "hello", 6, 7); }
static void receive_two(void)
{
    char buf[64];
    unsigned prio;
    for (int i = 0; i < 2; i++) {
        /* Linux hands a blocked sender's message to the queue inside the receive that makes
         * room; a parked green sender puts it there when it next runs: the pause lets it. */
        if (i) usleep(20000);
        long r = mq_receive(q, buf, sizeof buf, &prio);
        printf("  main received \"%s\" (priority %u): %s\n", r >= 0 ? buf : "", prio, res(r, errno));
    }
}

int main(void)
{
    handle(SIGUSR1, on_sig, 0);
    handle(SIGUSR2, on_sig, SA_RESTART);
    snprintf(name, sizeof name, "/green-mqueue-%d", getpid());
    struct mq_attr attr = {.mq_maxmsg = 2, .mq_msgsize = 64};
    q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
    if (q == (mqd_t)-1) {
        perror("mq_open");
        return 1;
    }
    mq_unlink(name);

    printf("receive on an empty queue:\n");
    while_ticking(receive, send_one);

    printf("send to a full queue:\n");
    mq_send(q, "first", 6, 1);
    mq_send(q, "second", 7, 2);
    while_ticking(send_third, receive_two);
    receive(NULL);

    printf("mq_timedreceive, 100 ms, nothing sent:\n");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long t0 = now_ms();
    ts.tv_nsec += 100000000;
    if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
    char buf[64];
    long r = mq_timedreceive(q, buf, sizeof buf, NULL, &ts);
    printf("  %s after >= 100 ms: %s\n", res(r, errno), now_ms() - t0 >= 99 ? "yes" : "no");
    mq_send(q, "queued", 7, 0);
    ts.tv_nsec = 1000000000;
    r = mq_timedreceive(q, buf, sizeof buf, NULL, &ts);
    printf("  malformed deadline with a message queued: %s\n", res(r, errno));
    receive(NULL);

    printf("SIGUSR1 (no SA_RESTART):\n");
    pthread_t t = start_then_signal(receive, NULL, SIGUSR1);
    pthread_join(t, NULL);
    printf("SIGUSR2 (SA_RESTART):\n");
    t = start_then_signal(receive, NULL, SIGUSR2);
    usleep(50000);
    mq_send(q, "after the signal", 17, 5);
    pthread_join(t, NULL);

    printf("O_NONBLOCK queue:\n");
    mqd_t nb = mq_open(name, O_RDWR | O_CREAT | O_NONBLOCK, 0600, &attr);
    r = mq_receive(nb, buf, sizeof buf, NULL);
    printf("  mq_receive: %s\n", res(r, errno));
    mq_close(nb);
    mq_unlink(name);
    mq_close(q);
    return 0;
}
