/* pthread_getcpuclockid of live threads, from themselves and from another thread, and
 * clock_gettime/clock_getres on the clock it names; the clock advances while its thread
 * computes. Natively every call succeeds; under libgreen the clock is the process's
 * (green_rt::thread::cpu_clock), and glibc's own answer for a green thread was ESRCH.
 *
 * usage: cpu_clock */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static pthread_barrier_t asked, done;

static double secs(clockid_t c)
{
    struct timespec ts;
    if (clock_gettime(c, &ts))
        return -1;
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
    (void)arg;
    clockid_t c;
    int e = pthread_getcpuclockid(pthread_self(), &c);
    printf("worker: own clock: %s\n", strerror(e));
    if (e == 0) {
        struct timespec res;
        printf("worker: clock_getres: %s\n", clock_getres(c, &res) == 0 ? "ok" : "failed");
        double start = secs(c), wall = secs(CLOCK_MONOTONIC);
        /* Compute until the clock has counted 20 ms (at most 5 s of wall time). */
        volatile unsigned long x = 0;
        while (secs(c) - start < 0.02 && secs(CLOCK_MONOTONIC) - wall < 5)
            for (int i = 0; i < 100000; i++)
                x += i;
        printf("worker: clock %s while computing\n", secs(c) - start >= 0.02 ? "advanced 20 ms" : "did not advance");
    }
    pthread_barrier_wait(&asked);
    pthread_barrier_wait(&done);
    return NULL;
}

int main(void)
{
    pthread_barrier_init(&asked, NULL, 2);
    pthread_barrier_init(&done, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pthread_barrier_wait(&asked);
    /* The worker is alive (waiting on `done`): its clock, asked from main. */
    clockid_t c;
    int e = pthread_getcpuclockid(t, &c);
    printf("main: worker's clock: %s, reads %s\n", strerror(e), e == 0 && secs(c) >= 0.02 ? "at least 20 ms" : "less or nothing");
    pthread_barrier_wait(&done);
    pthread_join(t, NULL);
    e = pthread_getcpuclockid(pthread_self(), &c);
    printf("main: own clock: %s, clock_gettime %s\n", strerror(e), e == 0 && secs(c) >= 0 ? "ok" : "failed");
    return 0;
}
