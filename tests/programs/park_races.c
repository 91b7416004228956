/* Wake-ups that race a thread on its way into a wait: with several carriers (GREEN_HUBS=2) the
 * waker runs on another OS thread while the waiter is between deciding to wait and waiting.
 *  1. A sleep is never cut short by the timer of an earlier wait of the same thread (timed
 *     condition waits woken early leave their timers behind, due while the thread sleeps).
 *  2. pthread_cancel of a thread entering a condition wait is never lost (it would hang).
 * (pthread_kill of a thread entering sigsuspend: kill_suspend.c.)
 * With one carrier these orders cannot happen; the program checks the same results. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* 1 ----------------------------------------------------------------------------------------- */
#define SLEEPERS 8
#define ROUNDS 200
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static atomic_int short_sleeps, sleepers_left = SLEEPERS;

static void *sleeper(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 300000 + (i % 5) * 100000; /* 0.3-0.7 ms: usually woken before */
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&m);
        pthread_cond_timedwait(&cv, &m, &until);
        pthread_mutex_unlock(&m);
        long t0 = now_ns();
        struct timespec d = {0, 500000};
        while (nanosleep(&d, &d) == -1 && errno == EINTR) {}
        if (now_ns() - t0 < 500000) atomic_fetch_add(&short_sleeps, 1);
    }
    atomic_fetch_sub(&sleepers_left, 1);
    return NULL;
}

static void *waker(void *arg)
{
    (void)arg;
    while (atomic_load(&sleepers_left) > 0) {
        pthread_mutex_lock(&m);
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&m);
        struct timespec d = {0, 100000};
        nanosleep(&d, NULL);
    }
    return NULL;
}

/* 2 ----------------------------------------------------------------------------------------- */
#define CANCELS 100
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static atomic_int entering;

static void unlock_m(void *arg) { pthread_mutex_unlock(arg); }

static void *cond_waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    pthread_cleanup_push(unlock_m, &m);
    atomic_store(&entering, 1);
    for (;;) pthread_cond_wait(&never, &m);
    pthread_cleanup_pop(1);
    return NULL;
}

int main(void)
{
    pthread_t th[SLEEPERS], w;
    pthread_create(&w, NULL, waker, NULL);
    for (int i = 0; i < SLEEPERS; i++) pthread_create(&th[i], NULL, sleeper, NULL);
    for (int i = 0; i < SLEEPERS; i++) pthread_join(th[i], NULL);
    pthread_join(w, NULL);
    printf("sleeps of 0.5 ms after early-woken timed waits: %d, cut short: %d\n", SLEEPERS * ROUNDS, atomic_load(&short_sleeps));

    int cancelled = 0;
    for (int i = 0; i < CANCELS; i++) {
        atomic_store(&entering, 0);
        pthread_t t;
        pthread_create(&t, NULL, cond_waiter, NULL);
        while (!atomic_load(&entering)) sched_yield();
        pthread_cancel(t);
        void *r;
        pthread_join(t, &r);
        cancelled += r == PTHREAD_CANCELED;
    }
    printf("condition waiters cancelled as they entered the wait: %d of %d\n", cancelled, CANCELS);
    return 0;
}
