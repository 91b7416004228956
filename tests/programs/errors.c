/* Bad input gets glibc's answer: EDEADLK, EINVAL, EBUSY, ETIMEDOUT, EPERM, ERANGE, ESRCH. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *name(int e)
{
    switch (e) {
    case 0: return "0";
    case EINVAL: return "EINVAL";
    case EDEADLK: return "EDEADLK";
    case EBUSY: return "EBUSY";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EPERM: return "EPERM";
    case ERANGE: return "ERANGE";
    case ESRCH: return "ESRCH";
    case EFAULT: return "EFAULT";
    default: return strerror(e);
    }
}

#define SHOW(label, expr) printf("%-44s %s\n", label, name(expr))

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;

static void *self_join(void *arg)
{
    (void)arg;
    return (void *)(long)pthread_join(pthread_self(), NULL);
}

static void *blocked(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&gate);
    pthread_mutex_unlock(&gate);
    return (void *)5;
}

static void *unlock_foreign(void *m)
{
    return (void *)(long)pthread_mutex_unlock(m);
}

static int sleep_errno(struct timespec ts)
{
    errno = 0;
    int r = nanosleep(&ts, NULL);
    return r == -1 ? errno : r;
}

int main(void)
{
    pthread_t t;
    void *ret;
    struct timespec now, past = {0, 0};

    SHOW("join self (main)", pthread_join(pthread_self(), NULL));
    pthread_create(&t, NULL, self_join, NULL);
    pthread_join(t, &ret);
    SHOW("join self (thread)", (int)(long)ret);

    SHOW("nanosleep tv_nsec=1e9", sleep_errno((struct timespec){0, 1000000000}));
    SHOW("nanosleep tv_nsec=-1", sleep_errno((struct timespec){0, -1}));
    SHOW("nanosleep tv_sec=-1", sleep_errno((struct timespec){-1, 0}));
    SHOW("nanosleep 0", sleep_errno((struct timespec){0, 0}));
    SHOW("clock_nanosleep bad nsec", clock_nanosleep(CLOCK_MONOTONIC, 0, &(struct timespec){0, 2000000000}, NULL));
    SHOW("clock_nanosleep abs bad nsec", clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &(struct timespec){0, -5}, NULL));
    SHOW("clock_nanosleep THREAD_CPUTIME", clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &(struct timespec){0, 1000}, NULL));
    SHOW("clock_nanosleep abs in the past", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL));

    pthread_mutex_lock(&gate);
    pthread_create(&t, NULL, blocked, NULL);
    SHOW("tryjoin running thread", pthread_tryjoin_np(t, &ret));
    clock_gettime(CLOCK_REALTIME, &now);
    SHOW("timedjoin past deadline", pthread_timedjoin_np(t, &ret, &now));
    /* Not compared: glibc 2.36 busy-loops forever in pthread_timedjoin_np with tv_nsec >= 1e9
     * on a running thread (its futex wait returns EINVAL and the loop retries); libgreen
     * returns EINVAL. */
    SHOW("clockjoin bad clock", pthread_clockjoin_np(t, &ret, CLOCK_PROCESS_CPUTIME_ID, &now));
    clock_gettime(CLOCK_MONOTONIC, &now);
    now.tv_nsec += 20000000;
    if (now.tv_nsec >= 1000000000) { now.tv_sec++; now.tv_nsec -= 1000000000; }
    SHOW("clockjoin MONOTONIC times out", pthread_clockjoin_np(t, &ret, CLOCK_MONOTONIC, &now));
    pthread_mutex_unlock(&gate);
    SHOW("join after timeouts", pthread_join(t, &ret));
    printf("%-44s %ld\n", "joined value", (long)ret);

    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_t em;
    pthread_mutex_init(&em, &ma);
    SHOW("errorcheck unlock unlocked", pthread_mutex_unlock(&em));
    SHOW("errorcheck lock", pthread_mutex_lock(&em));
    SHOW("errorcheck relock", pthread_mutex_lock(&em));
    SHOW("errorcheck trylock held", pthread_mutex_trylock(&em));
    SHOW("destroy locked mutex", pthread_mutex_destroy(&em));
    pthread_create(&t, NULL, unlock_foreign, &em);
    pthread_join(t, &ret);
    SHOW("errorcheck unlock by other thread", (int)(long)ret);
    SHOW("errorcheck unlock", pthread_mutex_unlock(&em));
    SHOW("destroy unlocked mutex", pthread_mutex_destroy(&em));

    pthread_mutex_t rm;
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&rm, &ma);
    SHOW("recursive lock 1", pthread_mutex_lock(&rm));
    SHOW("recursive lock 2", pthread_mutex_lock(&rm));
    SHOW("recursive trylock 3", pthread_mutex_trylock(&rm));
    SHOW("recursive unlock 3", pthread_mutex_unlock(&rm));
    SHOW("recursive unlock 2", pthread_mutex_unlock(&rm));
    SHOW("recursive unlock 1", pthread_mutex_unlock(&rm));
    SHOW("recursive unlock 0", pthread_mutex_unlock(&rm));

    pthread_mutex_t nm = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&nm);
    SHOW("normal trylock held", pthread_mutex_trylock(&nm));
    clock_gettime(CLOCK_REALTIME, &now);
    SHOW("timedlock held, past deadline", pthread_mutex_timedlock(&nm, &now));
    SHOW("timedlock held, bad nsec", pthread_mutex_timedlock(&nm, &(struct timespec){0, -1}));
    SHOW("clocklock bad clock", pthread_mutex_clocklock(&nm, CLOCK_BOOTTIME, &now));
    pthread_mutex_unlock(&nm);
    SHOW("timedlock free, bad nsec", pthread_mutex_timedlock(&nm, &(struct timespec){0, -1}));
    pthread_mutex_unlock(&nm);

    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    pthread_mutex_lock(&nm);
    SHOW("cond_timedwait bad nsec", pthread_cond_timedwait(&cv, &nm, &(struct timespec){0, 1000000000}));
    clock_gettime(CLOCK_REALTIME, &now);
    now.tv_nsec += 10000000;
    if (now.tv_nsec >= 1000000000) { now.tv_sec++; now.tv_nsec -= 1000000000; }
    SHOW("cond_timedwait times out", pthread_cond_timedwait(&cv, &nm, &now));
    SHOW("cond_clockwait bad clock", pthread_cond_clockwait(&cv, &nm, CLOCK_BOOTTIME, &now));
    SHOW("mutex held after timed out wait", pthread_mutex_trylock(&nm) == EBUSY ? 0 : EINVAL);
    pthread_mutex_unlock(&nm);
    pthread_mutex_lock(&em);
    pthread_create(&t, NULL, blocked, NULL);
    pthread_join(t, NULL);
    pthread_mutex_unlock(&em);

    char buf[64];
    pthread_mutex_lock(&gate); /* keep the thread alive while it is named */
    pthread_create(&t, NULL, blocked, NULL);
    SHOW("setname 16 chars", pthread_setname_np(t, "0123456789abcdef"));
    SHOW("setname 15 chars", pthread_setname_np(t, "0123456789abcde"));
    SHOW("getname buffer 8", pthread_getname_np(t, buf, 8));
    SHOW("getname buffer 64", pthread_getname_np(t, buf, sizeof buf));
    printf("%-44s %s\n", "name", buf);
    pthread_mutex_unlock(&gate);
    pthread_join(t, NULL);
    return 0;
}
