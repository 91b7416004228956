/* Dining philosophers (N from argv: 5 and 500), forks are mutexes taken lowest-first; each
 * philosopher eats MEALS times, thinking (sleeping) in between. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MEALS 20
static int n;
static pthread_mutex_t *forks;
static int *meals;

static void *philosopher(void *arg)
{
    int i = (int)(long)arg;
    int a = i, b = (i + 1) % n;
    int lo = a < b ? a : b, hi = a < b ? b : a;
    for (int m = 0; m < MEALS; m++) {
        usleep(100 + (i * 37 + m * 11) % 300);
        pthread_mutex_lock(&forks[lo]);
        pthread_mutex_lock(&forks[hi]);
        meals[i]++;
        if (m % 3 == 0) sched_yield(); /* hold the forks across a switch */
        pthread_mutex_unlock(&forks[hi]);
        pthread_mutex_unlock(&forks[lo]);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    n = argc > 1 ? atoi(argv[1]) : 5;
    forks = calloc(n, sizeof *forks);
    meals = calloc(n, sizeof *meals);
    pthread_t *t = calloc(n, sizeof *t);
    for (int i = 0; i < n; i++) pthread_mutex_init(&forks[i], NULL);
    for (long i = 0; i < n; i++) pthread_create(&t[i], NULL, philosopher, (void *)i);
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    long total = 0;
    int all = 1;
    for (int i = 0; i < n; i++) {
        total += meals[i];
        all &= meals[i] == MEALS;
    }
    printf("%d philosophers ate %ld meals, everyone %d: %s\n", n, total, MEALS, all ? "yes" : "no");
    return !all;
}
