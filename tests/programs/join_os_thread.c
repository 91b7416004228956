/* Joining a thread made by glibc's own pthread_create (found in libc.so.6 with dlsym, as a
 * library that looks it up itself gets it: under libgreen such a thread is an OS thread, not a
 * green one) while another thread ticks every 5 ms. Under libgreen the join waits on an offload
 * worker and the ticker keeps ticking; on one carrier without hand-off the join blocked the
 * carrier in the kernel and the ticker stopped ("ticked during the join: no": not one tick; the
 * bounds, 3 of the ~60 ticks of a 300 ms join and 2 of ~20 in 100 ms, leave room for a loaded
 * machine).
 * Also pthread_timedjoin_np of such a thread: ETIMEDOUT at its deadline (ticking meanwhile),
 * then a join that gets its value; pthread_tryjoin_np: EBUSY while it runs. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

static atomic_int ticks, stop;

static void *ticker(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        usleep(5000);
        atomic_fetch_add(&ticks, 1);
    }
    return NULL;
}

/* Sleeps `arg` ms with the raw nanosleep (an OS thread), then returns arg + 1. */
static void *sleeper(void *arg)
{
    long ms = (long)arg;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {}
    return (void *)(ms + 1);
}

/* Ticks counted while `f(t)` ran. */
static int ticks_during(int (*f)(pthread_t, void **), pthread_t t, void **ret, int *rc)
{
    int before = atomic_load(&ticks);
    *rc = f(t, ret);
    return atomic_load(&ticks) - before;
}

static struct timespec deadline;

static int timedjoin(pthread_t t, void **ret)
{
    return pthread_timedjoin_np(t, ret, &deadline);
}

int main(void)
{
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    create_fn glibc_create = libc ? (create_fn)dlsym(libc, "pthread_create") : NULL;
    if (!glibc_create) {
        printf("no glibc pthread_create\n");
        return 1;
    }
    pthread_t tk, os;
    pthread_create(&tk, NULL, ticker, NULL);
    usleep(20000); /* the ticker is running */

    if (glibc_create(&os, NULL, sleeper, (void *)300L)) {
        printf("glibc pthread_create failed\n");
        return 1;
    }
    void *ret = NULL;
    int rc;
    int n = ticks_during(pthread_join, os, &ret, &rc);
    printf("join of an OS thread: rc %d, value %ld, ticked during the join: %s\n", rc, (long)ret, n >= 3 ? "yes" : "no");

    if (glibc_create(&os, NULL, sleeper, (void *)300L)) {
        printf("glibc pthread_create failed\n");
        return 1;
    }
    printf("tryjoin while it runs: %s\n", pthread_tryjoin_np(os, &ret) == EBUSY ? "EBUSY" : "other");
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 100 * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    n = ticks_during(timedjoin, os, &ret, &rc);
    printf("timedjoin with 100 ms: %s, ticked meanwhile: %s\n", rc == ETIMEDOUT ? "ETIMEDOUT" : "other", n >= 2 ? "yes" : "no");
    ret = NULL;
    rc = pthread_join(os, &ret);
    printf("then join: rc %d, value %ld\n", rc, (long)ret);

    atomic_store(&stop, 1);
    pthread_join(tk, NULL);
    return 0;
}
