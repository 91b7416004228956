/* Scheduling attributes set on a thread stay that thread's: pthread_setschedparam,
 * pthread_setschedprio and pthread_setaffinity_np on a worker, with glibc's/the kernel's errors
 * for bad input, a child inheriting its creator's affinity, and main's own policy and CPU set
 * untouched (under libgreen all threads share one OS thread: applying the worker's settings
 * to it would change main's too). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static sem_t ready, done;
static pid_t worker_tid;

static void show_affinity(const char *who, pthread_t th)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    int r = pthread_getaffinity_np(th, sizeof s, &s);
    printf("%s affinity: r=%d cpus=%d cpu0=%d\n", who, r, CPU_COUNT(&s), CPU_ISSET(0, &s));
}

static void show_param(const char *who, pthread_t th)
{
    int policy = -1;
    struct sched_param p = {.sched_priority = -1};
    int r = pthread_getschedparam(th, &policy, &p);
    printf("%s sched: r=%d policy=%d prio=%d\n", who, r, policy, p.sched_priority);
}

static void *child(void *a)
{
    show_affinity("child", pthread_self());
    return a;
}

static void *worker(void *a)
{
    worker_tid = gettid();
    sem_post(&ready);
    sem_wait(&done);
    /* Pin ourselves, then start a child: it inherits the set. */
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(0, &s);
    printf("worker pins itself: %d\n", pthread_setaffinity_np(pthread_self(), sizeof s, &s));
    pthread_t c;
    pthread_create(&c, NULL, child, NULL);
    pthread_join(c, NULL);
    return a;
}

int main(void)
{
    sem_init(&ready, 0, 0);
    sem_init(&done, 0, 0);
    pthread_t w;
    pthread_create(&w, NULL, worker, NULL);
    sem_wait(&ready);

    /* Nothing set yet: the process's own policy and priority, inherited. */
    show_param("fresh worker", w);
    struct sched_param p = {.sched_priority = 10};
    printf("FIFO 10: %d\n", pthread_setschedparam(w, SCHED_FIFO, &p));
    show_param("worker", w);
    printf("setschedprio 20: %d\n", pthread_setschedprio(w, 20));
    show_param("worker", w);
    p.sched_priority = 100;
    printf("FIFO 100: %s\n", strerror(pthread_setschedparam(w, SCHED_FIFO, &p)));
    p.sched_priority = 5;
    printf("OTHER 5: %s\n", strerror(pthread_setschedparam(w, SCHED_OTHER, &p)));
    printf("policy 12345: %s\n", strerror(pthread_setschedparam(w, 12345, &p)));
    printf("setschedprio 0 under FIFO: %s\n", strerror(pthread_setschedprio(w, 0)));
    show_param("worker", w);
    show_param("main", pthread_self());
    p.sched_priority = 0;
    printf("back to OTHER: %d\n", pthread_setschedparam(w, SCHED_OTHER, &p));
    show_param("worker", w);

    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(0, &s);
    printf("pin worker to cpu 0: %d\n", pthread_setaffinity_np(w, sizeof s, &s));
    show_affinity("worker", w);
    show_affinity("main", pthread_self());
    CPU_ZERO(&s);
    printf("empty set: %s\n", strerror(pthread_setaffinity_np(w, sizeof s, &s)));
    char tiny[1];
    printf("getaffinity into 1 byte: %s\n", strerror(pthread_getaffinity_np(w, sizeof tiny, (cpu_set_t *)tiny)));
    show_affinity("worker", w);

    /* The same through the sched_* calls and the worker's gettid() value (glibc's
     * pthread_getschedparam caches what pthread_setschedparam set, so it is not asked here). */
    p.sched_priority = 5;
    int r = sched_setscheduler(worker_tid, SCHED_RR, &p);
    printf("sched_setscheduler(tid, RR 5): %d\n", r);
    printf("sched_getscheduler(tid): %d\n", sched_getscheduler(worker_tid));
    struct sched_param q = {.sched_priority = -1};
    r = sched_getparam(worker_tid, &q);
    printf("sched_getparam(tid): %d prio=%d\n", r, q.sched_priority);
    p.sched_priority = 7;
    r = sched_setparam(worker_tid, &p);
    q.sched_priority = -1;
    sched_getparam(worker_tid, &q);
    printf("sched_setparam(tid, 7): %d, now %d\n", r, q.sched_priority);
    errno = 0;
    r = sched_setscheduler(worker_tid, 999, &p);
    printf("sched_setscheduler(tid, bad): %d %s\n", r, strerror(errno));
    printf("main's scheduler: %d\n", sched_getscheduler(0));
    p.sched_priority = 0;
    sched_setscheduler(worker_tid, SCHED_OTHER, &p);
    CPU_ZERO(&s);
    CPU_SET(0, &s);
    printf("sched_setaffinity(tid, cpu 0): %d\n", sched_setaffinity(worker_tid, sizeof s, &s));
    CPU_ZERO(&s);
    r = sched_getaffinity(worker_tid, sizeof s, &s);
    printf("sched_getaffinity(tid): %d cpus=%d\n", r, CPU_COUNT(&s));
    CPU_ZERO(&s);
    r = sched_getaffinity(0, sizeof s, &s);
    printf("sched_getaffinity(0) in main: %d cpus=%d\n", r, CPU_COUNT(&s));

    sem_post(&done);
    pthread_join(w, NULL);
    show_affinity("main", pthread_self());
    return 0;
}
