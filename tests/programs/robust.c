/* A robust mutex whose owner exits while holding it: the next locker gets EOWNERDEAD (holding
 * it), pthread_mutex_consistent repairs it; without consistent, unlock makes it unrecoverable. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t m;

static const char *e(int r)
{
    return r == 0 ? "0" : r == EOWNERDEAD ? "EOWNERDEAD" : r == ENOTRECOVERABLE ? "ENOTRECOVERABLE"
         : r == EBUSY ? "EBUSY" : r == EPERM ? "EPERM" : r == EINVAL ? "EINVAL" : strerror(r);
}

static void *die_holding(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    return NULL; /* exits holding the mutex */
}

static void *waiter(void *arg)
{
    (void)arg;
    int r = pthread_mutex_lock(&m); /* blocks until the holder dies */
    if (r == EOWNERDEAD) {
        pthread_mutex_consistent(&m);
    }
    pthread_mutex_unlock(&m);
    return (void *)(long)r;
}

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static void *hold_then_die(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    pthread_mutex_lock(&gate); /* wait until main says die */
    pthread_mutex_unlock(&gate);
    return NULL;
}

int main(void)
{
    pthread_mutexattr_t a;
    pthread_t t, w;
    void *r;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&m, &a);

    pthread_create(&t, NULL, die_holding, NULL);
    pthread_join(t, NULL);
    printf("trylock after owner died: %s\n", e(pthread_mutex_trylock(&m)));
    printf("consistent: %s\n", e(pthread_mutex_consistent(&m)));
    printf("unlock: %s\n", e(pthread_mutex_unlock(&m)));
    const char *l = e(pthread_mutex_lock(&m));
    printf("lock again: %s, unlock %s\n", l, e(pthread_mutex_unlock(&m)));
    printf("unlock unlocked robust: %s\n", e(pthread_mutex_unlock(&m)));

    /* A waiter blocked in lock is handed the dead owner's mutex. */
    pthread_mutex_lock(&gate);
    pthread_create(&t, NULL, hold_then_die, NULL);
    usleep(100000); /* natively, let it take the mutex first */
    pthread_create(&w, NULL, waiter, NULL);
    usleep(100000);
    pthread_mutex_unlock(&gate);
    pthread_join(t, NULL);
    pthread_join(w, &r);
    printf("blocked waiter got: %s\n", e((int)(long)r));

    /* Not made consistent: unlocking makes it unrecoverable. */
    pthread_create(&t, NULL, die_holding, NULL);
    pthread_join(t, NULL);
    printf("lock: %s\n", e(pthread_mutex_lock(&m)));
    printf("unlock without consistent: %s\n", e(pthread_mutex_unlock(&m)));
    printf("lock now: %s\n", e(pthread_mutex_lock(&m)));
    printf("trylock now: %s\n", e(pthread_mutex_trylock(&m)));
    return 0;
}
