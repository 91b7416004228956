/* The sleep family sleeps at least as long as asked, on both clocks, relative and absolute,
 * and concurrent sleepers overlap (10 threads x 200 ms take far less than 2 s). */
#include <pthread.h>
#include <stdio.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void check(const char *what, long long start, long long want_ns)
{
    long long got = now_ns(CLOCK_MONOTONIC) - start;
    printf("%-36s %s\n", what, got >= want_ns ? "slept long enough" : "TOO SHORT");
    if (got < want_ns) fprintf(stderr, "%s: %lld < %lld\n", what, got, want_ns);
}

static void add_ns(struct timespec *ts, long ns)
{
    ts->tv_nsec += ns;
    while (ts->tv_nsec >= 1000000000) { ts->tv_sec++; ts->tv_nsec -= 1000000000; }
}

static void *sleeper(void *arg)
{
    (void)arg;
    usleep(200000);
    return NULL;
}

int main(void)
{
    long long t;
    struct timespec ts;

    t = now_ns(CLOCK_MONOTONIC); usleep(20000); check("usleep 20ms", t, 20000000);
    t = now_ns(CLOCK_MONOTONIC); nanosleep(&(struct timespec){0, 30000000}, NULL); check("nanosleep 30ms", t, 30000000);
    t = now_ns(CLOCK_MONOTONIC); sleep(1); check("sleep 1s", t, 1000000000);
    t = now_ns(CLOCK_MONOTONIC);
    clock_nanosleep(CLOCK_MONOTONIC, 0, &(struct timespec){0, 15000000}, NULL);
    check("clock_nanosleep MONOTONIC rel 15ms", t, 15000000);
    t = now_ns(CLOCK_MONOTONIC);
    clock_nanosleep(CLOCK_REALTIME, 0, &(struct timespec){0, 15000000}, NULL);
    check("clock_nanosleep REALTIME rel 15ms", t, 15000000);
    t = now_ns(CLOCK_MONOTONIC);
    clock_gettime(CLOCK_MONOTONIC, &ts); add_ns(&ts, 25000000);
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    check("clock_nanosleep MONOTONIC abs +25ms", t, 24000000);
    if (now_ns(CLOCK_MONOTONIC) < ts.tv_sec * 1000000000LL + ts.tv_nsec) printf("woke before the absolute time\n");
    t = now_ns(CLOCK_MONOTONIC);
    clock_gettime(CLOCK_REALTIME, &ts); add_ns(&ts, 25000000);
    clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
    check("clock_nanosleep REALTIME abs +25ms", t, 24000000);
    if (now_ns(CLOCK_REALTIME) < ts.tv_sec * 1000000000LL + ts.tv_nsec) printf("woke before the absolute time\n");
    t = now_ns(CLOCK_MONOTONIC); thrd_sleep(&(struct timespec){0, 10000000}, NULL); check("thrd_sleep 10ms", t, 10000000);

    pthread_t th[10];
    t = now_ns(CLOCK_MONOTONIC);
    for (int i = 0; i < 10; i++) pthread_create(&th[i], NULL, sleeper, NULL);
    for (int i = 0; i < 10; i++) pthread_join(th[i], NULL);
    long long took = now_ns(CLOCK_MONOTONIC) - t;
    printf("10 x 200ms sleepers overlap: %s\n", took >= 200000000 && took < 1000000000 ? "yes" : "NO");
    return 0;
}
