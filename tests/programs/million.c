/* Preload-only scale test: N (default 1,000,000) threads park in pthread_cond_wait, one
 * broadcast wakes them all, all are joined. Prints the time and the peak resident memory per
 * thread; exits 1 if it took a minute or more, or used more than 12 KiB per thread. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static long waiting, woke;
static int go;

static void *waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    waiting++;
    while (!go) pthread_cond_wait(&c, &m);
    woke++;
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    pthread_t *t = malloc(sizeof *t * (size_t)n);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 * 1024);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++)
        if (pthread_create(&t[i], &a, waiter, NULL)) { printf("create %ld failed\n", i); return 1; }
    pthread_mutex_lock(&m);
    while (waiting < n) {
        pthread_mutex_unlock(&m);
        sched_yield();
        pthread_mutex_lock(&m);
    }
    go = 1;
    pthread_cond_broadcast(&c);
    pthread_mutex_unlock(&m);
    for (long i = 0; i < n; i++) pthread_join(t[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double kib = (double)ru.ru_maxrss / (double)n;
    printf("%ld threads parked, woken by one broadcast (%ld woke) and joined in %.1f s, peak RSS %.1f KiB per thread\n",
           n, woke, s, kib);
    return woke == n && s < 60 && kib <= 12 ? 0 : 1;
}
