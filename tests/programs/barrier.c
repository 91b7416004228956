/* Barriers: 16 threads x 50 rounds; exactly one PTHREAD_BARRIER_SERIAL_THREAD per round and no
 * thread runs ahead into the next round. A count of 0 is EINVAL. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#define N 16
#define ROUNDS 50
static pthread_barrier_t b;
static int phase[N], serials, ahead;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
    int id = (int)(long)arg;
    for (int r = 0; r < ROUNDS; r++) {
        phase[id] = r;
        int ret = pthread_barrier_wait(&b);
        pthread_mutex_lock(&mu);
        if (ret == PTHREAD_BARRIER_SERIAL_THREAD) serials++;
        for (int j = 0; j < N; j++)
            if (phase[j] < r) ahead++;
        pthread_mutex_unlock(&mu);
        pthread_barrier_wait(&b);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[N];
    pthread_barrier_t z;
    printf("init count 0: %s\n", pthread_barrier_init(&z, NULL, 0) == EINVAL ? "EINVAL" : "other");
    pthread_barrier_init(&b, NULL, N);
    for (long i = 0; i < N; i++) pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < N; i++) pthread_join(t[i], NULL);
    printf("serial threads %d (want %d), ran ahead %d\n", serials, 2 * ROUNDS, ahead);
    pthread_barrier_destroy(&b);
    return 0;
}
