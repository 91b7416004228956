/* Two threads alternate through two semaphores: ns per one-way hand-off. */
#include <pthread.h>
#include <semaphore.h>
#include "common.h"

#define N 200000
static sem_t ping, pong;

static void *ponger(void *arg)
{
    (void)arg;
    for (int i = 0; i < N; i++) {
        sem_wait(&ping);
        sem_post(&pong);
    }
    return NULL;
}

int main(void)
{
    pthread_t t;
    sem_init(&ping, 0, 0);
    sem_init(&pong, 0, 0);
    pthread_create(&t, NULL, ponger, NULL);
    double t0 = now_s();
    for (int i = 0; i < N; i++) {
        sem_post(&ping);
        sem_wait(&pong);
    }
    result("sem_pingpong", (now_s() - t0) / (2.0 * N) * 1e9, "ns");
    pthread_join(t, NULL);
    return 0;
}
