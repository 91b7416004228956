/* Asynchronous cancellation of threads that wait where deferred cancellation would not act, as
 * natively (glibc's SIGCANCEL interrupts their futex wait):
 * - one in pthread_mutex_lock of a mutex main holds, one in pthread_rwlock_wrlock and one in
 *   pthread_rwlock_rdlock of a rwlock main holds for writing, one in pthread_barrier_wait of a
 *   barrier for three (it and one more thread arrive; the third never does), one in C11
 *   mtx_lock: each is cancelled (PTHREAD_CANCELED from join) and its cleanup handler ran;
 * (what state the rwlock and the barrier are left in is not checked: natively glibc leaves
 * them broken, none of these calls being async-cancel-safe);
 * - with deferred cancellation the same mutex wait is not cancelled: the thread gets the mutex
 *   when main unlocks it, and acts on the request at its next cancellation point.
 * Under libgreen asynchronous cancellation behaved as deferred: the joins hung (redis's crash
 * report cancels its io threads so). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <threads.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t bar;
static mtx_t cm;
static int cleaned[8], got_lock;

static void cleanup(void *i) { cleaned[(long)i] = 1; }

/* The waits, each returning at once if it gets through. */
static void mutex_wait(void) { pthread_mutex_lock(&m); pthread_mutex_unlock(&m); }
static void wrlock_wait(void) { pthread_rwlock_wrlock(&rw); pthread_rwlock_unlock(&rw); }
static void rdlock_wait(void) { pthread_rwlock_rdlock(&rw); pthread_rwlock_unlock(&rw); }
static void barrier_wait(void) { pthread_barrier_wait(&bar); }
static void mtx_wait(void) { mtx_lock(&cm); mtx_unlock(&cm); }

static struct {
    const char *name;
    void (*wait)(void);
    int async;
} waits[6] = {
    {"mutex", mutex_wait, 1}, {"rwlock wrlock", wrlock_wait, 1}, {"rwlock rdlock", rdlock_wait, 1},
    {"barrier", barrier_wait, 1}, {"mtx_lock", mtx_wait, 1}, {"barrier (deferred)", barrier_wait, 0},
};

static void *waiter(void *i)
{
    pthread_cleanup_push(cleanup, i);
    if (waits[(long)i].async)
        pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
    waits[(long)i].wait();
    pthread_cleanup_pop(0);
    return NULL;
}

static void *deferred_mutex(void *i)
{
    pthread_cleanup_push(cleanup, i);
    pthread_mutex_lock(&m);
    got_lock = 1;
    pthread_mutex_unlock(&m);
    pthread_testcancel();
    pthread_cleanup_pop(0);
    return NULL;
}

static const char *how(void *r) { return r == PTHREAD_CANCELED ? "cancelled" : "returned"; }

int main(void)
{
    pthread_barrier_init(&bar, NULL, 3);
    mtx_init(&cm, mtx_plain);
    pthread_mutex_lock(&m);
    pthread_rwlock_wrlock(&rw);
    mtx_lock(&cm);
    pthread_t t[6];
    for (long i = 0; i < 6; i++)
        pthread_create(&t[i], NULL, waiter, (void *)i);
    pthread_detach(t[5]); /* deferred: stays in the barrier */
    usleep(100000); /* all waiting */
    for (int i = 0; i < 5; i++) {
        pthread_cancel(t[i]);
        void *r;
        pthread_join(t[i], &r);
        printf("async in %s: %s, cleanup %s\n", waits[i].name, how(r), cleaned[i] ? "ran" : "did not run");
    }

    /* Deferred: the mutex wait is not a cancellation point. */
    pthread_t d;
    pthread_create(&d, NULL, deferred_mutex, (void *)7);
    usleep(50000);
    pthread_cancel(d);
    usleep(50000);
    pthread_mutex_unlock(&m);
    void *rd_;
    pthread_join(d, &rd_);
    printf("deferred in mutex: got the lock %s, then %s at testcancel\n", got_lock ? "yes" : "no", how(rd_));
    mtx_unlock(&cm);
    return 0;
}
