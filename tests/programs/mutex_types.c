/* Every mutex type and static initializer, with glibc's error answers. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const char *e(int r)
{
    switch (r) {
    case 0: return "0";
    case EBUSY: return "EBUSY";
    case EDEADLK: return "EDEADLK";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case EAGAIN: return "EAGAIN";
    default: return strerror(r);
    }
}

static void *try_from_other(void *m) { return (void *)(long)pthread_mutex_trylock(m); }
static void *unlock_from_other(void *m) { return (void *)(long)pthread_mutex_unlock(m); }

static void exercise(const char *name, pthread_mutex_t *m)
{
    pthread_t t;
    void *r;
    printf("%s: lock %s", name, e(pthread_mutex_lock(m)));
    printf(", trylock again %s", e(pthread_mutex_trylock(m)));
    pthread_create(&t, NULL, try_from_other, m);
    pthread_join(t, &r);
    printf(", trylock by other %s", e((int)(long)r));
    pthread_create(&t, NULL, unlock_from_other, m);
    pthread_join(t, &r);
    int other_unlock = (int)(long)r;
    printf(", unlock by other %s", e(other_unlock));
    if (other_unlock != 0) {
        /* Checked types: the owner unlocks every level; one more unlock is EPERM. */
        int levels = 0;
        while (pthread_mutex_unlock(m) == 0)
            levels++;
        printf(", owner unlocked %d level(s)", levels);
    }
    printf(", destroy %s\n", e(pthread_mutex_destroy(m)));
}

int main(void)
{
    pthread_mutex_t normal = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_t recursive = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
    pthread_mutex_t errorcheck = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
    pthread_mutex_t adaptive = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
    exercise("normal (static)", &normal);
    exercise("recursive (static _NP)", &recursive);
    exercise("errorcheck (static _NP)", &errorcheck);
    exercise("adaptive (static _NP)", &adaptive);

    int types[] = {PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_RECURSIVE, PTHREAD_MUTEX_ERRORCHECK, PTHREAD_MUTEX_DEFAULT, PTHREAD_MUTEX_ADAPTIVE_NP};
    const char *names[] = {"NORMAL", "RECURSIVE", "ERRORCHECK", "DEFAULT", "ADAPTIVE_NP"};
    for (int i = 0; i < 5; i++) {
        pthread_mutexattr_t a;
        pthread_mutex_t m;
        pthread_mutexattr_init(&a);
        pthread_mutexattr_settype(&a, types[i]);
        pthread_mutex_init(&m, &a);
        exercise(names[i], &m);
        pthread_mutexattr_destroy(&a);
    }

    pthread_mutexattr_t a;
    pthread_mutex_t m;
    int ceiling = -1, old = -1;
    pthread_mutexattr_init(&a);
    printf("settype bogus: %s\n", e(pthread_mutexattr_settype(&a, 42)));
    pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
    pthread_mutex_init(&m, &a);
    const char *l = e(pthread_mutex_lock(&m));
    const char *u = e(pthread_mutex_unlock(&m));
    printf("PRIO_INHERIT: lock %s, unlock %s, getprioceiling %s\n", l, u, e(pthread_mutex_getprioceiling(&m, &ceiling)));
    pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_PROTECT);
    pthread_mutexattr_setprioceiling(&a, 10);
    pthread_mutex_init(&m, &a);
    int g = pthread_mutex_getprioceiling(&m, &ceiling);
    printf("PRIO_PROTECT: getprioceiling %s = %d", e(g), ceiling);
    int s = pthread_mutex_setprioceiling(&m, 20, &old);
    pthread_mutex_getprioceiling(&m, &ceiling);
    printf(", setprioceiling %s old %d new %d", e(s), old, ceiling);
    printf(", bad ceiling %s\n", e(pthread_mutex_setprioceiling(&m, 1000, &old)));
    printf("consistent on non-robust: %s\n", e(pthread_mutex_consistent(&normal)));
    pthread_mutex_t d = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_destroy(&d);
    pthread_mutex_init(&d, NULL);
    l = e(pthread_mutex_lock(&d));
    u = e(pthread_mutex_unlock(&d));
    printf("re-init after destroy: lock %s unlock %s\n", l, u);
    return 0;
}
