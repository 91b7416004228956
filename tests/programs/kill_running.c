/* pthread_kill of a thread that is running, not waiting (issue #8): a worker spins on a flag
 * that only its own SIGUSR1 handler sets, so it never reaches a call the runtime sees. Natively
 * the kernel interrupts the worker at once. Under the preload the signal must reach the running
 * worker now, not at its next wait (which never comes: the program would hang), run the handler
 * on the worker (pthread_self), and run it once (the worker then sleeps, where a second delivery
 * would show).
 *  - default: main sends the signal. The worker runs on one carrier while main runs on another
 *    (GREEN_HUBS=2, or a hand-off carrier with GREEN_HUBS=1). Twice: the second time the worker
 *    has the signal blocked while main sends it, and unblocks it itself (it is delivered by
 *    pthread_sigmask, as natively).
 *  - "foreign": glibc's SIGEV_THREAD timer sends it from a thread glibc starts itself (not
 *    green) while main waits in pthread_join; with one carrier and no hand-off the worker holds
 *    the only carrier.
 *  - "sigqueue" (main sends) and "sigqueue foreign" (the timer thread sends): three values of
 *    SIGRTMIN and one of SIGUSR2 with pthread_sigqueue to a worker spinning until its SA_SIGINFO
 *    handler has seen four, each on the worker with SI_QUEUE and its value, the real-time ones
 *    in the order sent (the kernel may run SIGUSR2's between them: lower signals first).
 *  - "sigqueue rounds": "sigqueue foreign" 300 times, each send after a random 0-5 µs pause, so
 *    that sends land while the worker's handler for an earlier value runs (a value whose kick
 *    found the queue's lock held used to stay queued: the worker spun forever). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t flag, runs, on_worker, on_other;
static volatile int started, sent;
static pthread_t worker_id;

static void handler(int sig)
{
    (void)sig;
    runs++;
    if (pthread_equal(pthread_self(), worker_id))
        on_worker++;
    else
        on_other++;
    flag = 1;
}

static void *worker(void *arg)
{
    int blocked = arg != NULL;
    if (blocked) {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGUSR1);
        pthread_sigmask(SIG_BLOCK, &s, NULL);
        started = 1;
        while (!sent) {}
        if (flag)
            return (void *)1L; /* delivered while blocked: wrong */
        pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    } else {
        started = 1;
    }
    while (!flag) {}
    usleep(20000); /* a wait point: a signal still pending here would run the handler again */
    return NULL;
}

static volatile sig_atomic_t queued_runs, queued_wrong, rt_seen, rt_in_order, usr2_value;

static void on_queued(int sig, siginfo_t *si, void *uctx)
{
    (void)uctx;
    if (!pthread_equal(pthread_self(), worker_id) || si->si_code != SI_QUEUE) queued_wrong++;
    if (sig == SIGUSR2) {
        usr2_value = si->si_value.sival_int;
    } else if (si->si_value.sival_int == ++rt_seen) {
        rt_in_order++;
    }
    queued_runs++;
}

static long settle_us = 20000, pause_max_ns;
static int quiet;
static unsigned pause_seed = 1;

static void *queued_worker(void *arg)
{
    (void)arg;
    started = 1;
    while (queued_runs < 4) {}
    usleep(settle_us); /* a wait point: a value still pending here would run the handler again */
    return NULL;
}

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* A busy pause of up to pause_max_ns before a send ("sigqueue rounds"). */
static void pause_a_little(void)
{
    if (pause_max_ns == 0)
        return;
    long until = now_ns() + rand_r(&pause_seed) % pause_max_ns;
    while (now_ns() < until) {}
}

static void send_queued(void)
{
    for (int i = 1; i <= 3; i++) {
        pause_a_little();
        pthread_sigqueue(worker_id, SIGRTMIN, (union sigval){.sival_int = i});
    }
    pause_a_little();
    pthread_sigqueue(worker_id, SIGUSR2, (union sigval){.sival_int = 7});
}

static void fire_queued(union sigval v)
{
    (void)v;
    while (!started) {}
    send_queued();
}

static int queued(int foreign)
{
    started = 0;
    queued_runs = queued_wrong = rt_seen = rt_in_order = usr2_value = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_queued;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    timer_t tm;
    if (foreign) {
        struct sigevent ev;
        memset(&ev, 0, sizeof ev);
        ev.sigev_notify = SIGEV_THREAD;
        ev.sigev_notify_function = fire_queued;
        timer_create(CLOCK_MONOTONIC, &ev, &tm);
        struct itimerspec its = { .it_value = { .tv_nsec = settle_us * 1000 } };
        timer_settime(tm, 0, &its, NULL);
    }
    pthread_create(&worker_id, NULL, queued_worker, NULL);
    if (!foreign) {
        while (!started) usleep(1000);
        usleep(20000);
        send_queued();
    }
    pthread_join(worker_id, NULL);
    if (foreign) timer_delete(tm);
    if (!quiet)
        printf("sigqueue%s to a running thread: %d handler runs, %d not on the worker or not SI_QUEUE, "
               "real-time values in order: %d of 3, SIGUSR2's value %d\n",
               foreign ? " from a glibc timer thread" : "", queued_runs, queued_wrong, rt_in_order, usr2_value);
    return queued_runs == 4 && !queued_wrong && rt_in_order == 3 && usr2_value == 7;
}

/* The SIGEV_THREAD callback, on a thread glibc made. */
static void fire(union sigval v)
{
    (void)v;
    while (!started) {}
    pthread_kill(worker_id, SIGUSR1);
}

static int report(const char *what, void *r)
{
    printf("%s: handler ran %d time(s), on the worker %d, elsewhere %d%s\n", what, runs, on_worker, on_other,
           r ? ", delivered while blocked" : "");
    return runs == 1 && on_worker == 1 && !r;
}

static int from_main(int blocked)
{
    flag = runs = on_worker = on_other = started = sent = 0;
    pthread_create(&worker_id, NULL, worker, blocked ? (void *)1L : NULL);
    while (!started)
        usleep(1000); /* main waits; with one carrier a hand-off carrier runs it meanwhile */
    usleep(20000);
    pthread_kill(worker_id, SIGUSR1);
    sent = 1;
    void *r;
    pthread_join(worker_id, &r);
    return report(blocked ? "blocked first" : "running", r);
}

static int from_foreign(void)
{
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_notify_function = fire;
    timer_t tm;
    if (timer_create(CLOCK_MONOTONIC, &ev, &tm) != 0) {
        perror("timer_create");
        return 0;
    }
    /* Armed before the worker exists: once it spins, main gets no carrier to arm anything. */
    struct itimerspec its = { .it_value = { .tv_nsec = 20 * 1000 * 1000 } };
    timer_settime(tm, 0, &its, NULL);
    pthread_create(&worker_id, NULL, worker, NULL);
    void *r;
    pthread_join(worker_id, &r);
    timer_delete(tm);
    return report("from a glibc timer thread", r);
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigaction(SIGUSR1, &sa, NULL);
    if (argc > 1 && strcmp(argv[1], "foreign") == 0)
        return from_foreign() ? 0 : 1;
    if (argc > 2 && strcmp(argv[1], "sigqueue") == 0 && strcmp(argv[2], "rounds") == 0) {
        settle_us = 2000;
        pause_max_ns = 5000;
        pause_seed = (unsigned)getpid();
        quiet = 1;
        for (int round = 1; round <= 300; round++)
            if (!queued(1)) {
                printf("round %d\n", round);
                return 1;
            }
        printf("300 rounds of four queued values each delivered once, on the worker, in order\n");
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "sigqueue") == 0)
        return queued(argc > 2 && strcmp(argv[2], "foreign") == 0) ? 0 : 1;
    int ok = from_main(0);
    ok &= from_main(1);
    return ok ? 0 : 1;
}
