/* A bounded queue with 4 producers and 4 consumers (20,000 items) over a mutex and two
 * condition variables: every item is consumed once (checksum), none lost. */
#include <pthread.h>
#include <stdio.h>

#define CAP 16
#define PER_PRODUCER 5000
#define P 4
#define C 4
static int buf[CAP], head, tail, count, done_producers;
static long long total;
static long items;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;

static void *producer(void *arg)
{
    int base = (int)(long)arg * PER_PRODUCER;
    for (int i = 0; i < PER_PRODUCER; i++) {
        pthread_mutex_lock(&mu);
        while (count == CAP) pthread_cond_wait(&not_full, &mu);
        buf[tail] = base + i;
        tail = (tail + 1) % CAP;
        count++;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&mu);
    }
    pthread_mutex_lock(&mu);
    done_producers++;
    pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    long long sum = 0;
    long n = 0;
    for (;;) {
        pthread_mutex_lock(&mu);
        while (count == 0 && done_producers < P) pthread_cond_wait(&not_empty, &mu);
        if (count == 0) { pthread_mutex_unlock(&mu); break; }
        int v = buf[head];
        head = (head + 1) % CAP;
        count--;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&mu);
        sum += v;
        n++;
    }
    pthread_mutex_lock(&mu);
    total += sum;
    items += n;
    pthread_mutex_unlock(&mu);
    return NULL;
}

int main(void)
{
    pthread_t p[P], c[C];
    for (long i = 0; i < C; i++) pthread_create(&c[i], NULL, consumer, NULL);
    for (long i = 0; i < P; i++) pthread_create(&p[i], NULL, producer, (void *)i);
    for (int i = 0; i < P; i++) pthread_join(p[i], NULL);
    for (int i = 0; i < C; i++) pthread_join(c[i], NULL);
    long long want = (long long)P * PER_PRODUCER * (P * PER_PRODUCER - 1) / 2;
    printf("consumed %ld items, sum %lld, expected %lld\n", items, total, want);
    return total != want || items != (long)P * PER_PRODUCER;
}
