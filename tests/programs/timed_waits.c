/* Timed waits that time out return ETIMEDOUT no earlier than asked, on CLOCK_REALTIME and
 * CLOCK_MONOTONIC: condvars (default clock, condattr_setclock, clockwait), mutexes, rwlocks,
 * semaphores, joins. Meanwhile another thread keeps ticking, so the waits were cooperative. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ticker.h"

#define WAIT_NS 30000000L

static long long now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct timespec in(clockid_t c, long ns)
{
    long long t = now(c) + ns;
    return (struct timespec){t / 1000000000LL, t % 1000000000LL};
}

static void report(const char *what, int r, long long start)
{
    long long took = now(CLOCK_MONOTONIC) - start;
    printf("%-34s %s, waited long enough: %s\n", what, r == ETIMEDOUT ? "ETIMEDOUT" : strerror(r),
           took >= WAIT_NS - 1000000 ? "yes" : "NO");
}

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static void *hold_forever(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&held);
    pthread_rwlock_wrlock(&rw);
    return NULL;
}

static void *sleepy(void *arg)
{
    (void)arg;
    usleep(200000);
    return NULL;
}

int main(void)
{
    pthread_t tk, h, s;
    pthread_create(&tk, NULL, ticker, NULL);
    pthread_create(&h, NULL, hold_forever, NULL);
    pthread_join(h, NULL);

    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c = PTHREAD_COND_INITIALIZER, cm;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cm, &ca);
    long long t;
    struct timespec ts;

    pthread_mutex_lock(&m);
    t = now(CLOCK_MONOTONIC); ts = in(CLOCK_REALTIME, WAIT_NS);
    report("cond_timedwait REALTIME", pthread_cond_timedwait(&c, &m, &ts), t);
    t = now(CLOCK_MONOTONIC); ts = in(CLOCK_MONOTONIC, WAIT_NS);
    report("cond_timedwait MONOTONIC attr", pthread_cond_timedwait(&cm, &m, &ts), t);
    t = now(CLOCK_MONOTONIC); ts = in(CLOCK_MONOTONIC, WAIT_NS);
    report("cond_clockwait MONOTONIC", pthread_cond_clockwait(&c, &m, CLOCK_MONOTONIC, &ts), t);
    t = now(CLOCK_MONOTONIC); ts = in(CLOCK_REALTIME, WAIT_NS);
    report("cond_clockwait REALTIME", pthread_cond_clockwait(&c, &m, CLOCK_REALTIME, &ts), t);
    pthread_mutex_unlock(&m);

    t = now(CLOCK_MONOTONIC); ts = in(CLOCK_REALTIME, WAIT_NS);
    report("mutex_timedlock", pthread_mutex_timedlock(&held, &ts), t);
    t = now(CLOCK_MONOTONIC); ts = in(CLOCK_MONOTONIC, WAIT_NS);
    report("mutex_clocklock MONOTONIC", pthread_mutex_clocklock(&held, CLOCK_MONOTONIC, &ts), t);
    t = now(CLOCK_MONOTONIC); ts = in(CLOCK_REALTIME, WAIT_NS);
    report("rwlock_timedrdlock", pthread_rwlock_timedrdlock(&rw, &ts), t);
    t = now(CLOCK_MONOTONIC); ts = in(CLOCK_REALTIME, WAIT_NS);
    report("rwlock_timedwrlock", pthread_rwlock_timedwrlock(&rw, &ts), t);
    t = now(CLOCK_MONOTONIC); ts = in(CLOCK_MONOTONIC, WAIT_NS);
    report("rwlock_clockrdlock MONOTONIC", pthread_rwlock_clockrdlock(&rw, CLOCK_MONOTONIC, &ts), t);
    t = now(CLOCK_MONOTONIC); ts = in(CLOCK_MONOTONIC, WAIT_NS);
    report("rwlock_clockwrlock MONOTONIC", pthread_rwlock_clockwrlock(&rw, CLOCK_MONOTONIC, &ts), t);

    sem_t sem;
    sem_init(&sem, 0, 0);
    t = now(CLOCK_MONOTONIC); ts = in(CLOCK_REALTIME, WAIT_NS);
    report("sem_timedwait", sem_timedwait(&sem, &ts) == -1 ? errno : 0, t);
    t = now(CLOCK_MONOTONIC); ts = in(CLOCK_MONOTONIC, WAIT_NS);
    report("sem_clockwait MONOTONIC", sem_clockwait(&sem, CLOCK_MONOTONIC, &ts) == -1 ? errno : 0, t);

    pthread_create(&s, NULL, sleepy, NULL);
    t = now(CLOCK_MONOTONIC); ts = in(CLOCK_REALTIME, WAIT_NS);
    report("timedjoin_np", pthread_timedjoin_np(s, NULL, &ts), t);
    t = now(CLOCK_MONOTONIC); ts = in(CLOCK_MONOTONIC, WAIT_NS);
    report("clockjoin_np MONOTONIC", pthread_clockjoin_np(s, NULL, CLOCK_MONOTONIC, &ts), t);
    pthread_join(s, NULL);

    ticking = 0;
    pthread_join(tk, NULL);
    printf("ticker kept running during the waits: %s\n", ticks >= 20 ? "yes" : "NO");
    return 0;
}
