/* Preload-only scale test: N (default 100,000) threads each sleep 1 s concurrently; all must
 * finish within 3 s of wall time. Natively this many threads cannot even be created here. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void *sleeper(void *arg)
{
    (void)arg;
    sleep(1);
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100000;
    pthread_t *th = malloc(sizeof *th * n);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; i++)
        if (pthread_create(&th[i], NULL, sleeper, NULL)) { printf("create %d failed\n", i); return 1; }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
    printf("%d threads slept 1 s each in %.2f s wall\n", n, s);
    return s < 3.0 ? 0 : 1;
}
