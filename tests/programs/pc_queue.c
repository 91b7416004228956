/* Bounded producer/consumer queue: 8 producers, 8 consumers, 100,000 items through a 64-slot
 * ring guarded by a mutex and two condition variables; every item consumed exactly once. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define P 8
#define C 8
#define ITEMS 100000
#define CAP 64
static int ring[CAP], head, tail, count, producers_done;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static unsigned char seen[ITEMS];
static long long sum;
static int dup;

static void *producer(void *arg)
{
    int id = (int)(long)arg;
    for (int i = id; i < ITEMS; i += P) {
        pthread_mutex_lock(&mu);
        while (count == CAP) pthread_cond_wait(&not_full, &mu);
        ring[tail] = i;
        tail = (tail + 1) % CAP;
        count++;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&mu);
    }
    pthread_mutex_lock(&mu);
    if (++producers_done == P) pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&mu);
        while (count == 0 && producers_done < P) pthread_cond_wait(&not_empty, &mu);
        if (count == 0) { pthread_mutex_unlock(&mu); return NULL; }
        int v = ring[head];
        head = (head + 1) % CAP;
        count--;
        if (seen[v]++) dup++;
        sum += v;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&mu);
    }
}

int main(void)
{
    pthread_t p[P], c[C];
    for (long i = 0; i < C; i++) pthread_create(&c[i], NULL, consumer, NULL);
    for (long i = 0; i < P; i++) pthread_create(&p[i], NULL, producer, (void *)i);
    for (int i = 0; i < P; i++) pthread_join(p[i], NULL);
    for (int i = 0; i < C; i++) pthread_join(c[i], NULL);
    int missing = 0;
    for (int i = 0; i < ITEMS; i++) missing += !seen[i];
    printf("sum %lld (want %lld), duplicates %d, missing %d\n", sum, (long long)ITEMS * (ITEMS - 1) / 2, dup, missing);
    return missing || dup;
}
