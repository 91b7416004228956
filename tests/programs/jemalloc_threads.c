/* A program linked with jemalloc (as redis is): threads that allocate, exit and are replaced
 * (their TCBs reused), then jemalloc's mallctl, which walks the per-thread caches it keeps
 * linked in each arena. Under the preload a cache was set up on a TCB that then went to the pool,
 * and the next thread's TLS images overwrote it while still linked, so the first mallctl
 * crashed (SIGSEGV; redis died at start-up): the runtime's start-up probe of glibc's malloc ran
 * one malloc on a fresh TCB, and the hub, going on with a finished thread's TCB, allocated
 * there after the thread's key destructors had released its cache. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int go;

static void *churn(void *arg)
{
    long n = (long)arg;
    for (long i = 0; i < 1000; i++) {
        char *p = malloc((size_t)(16 + (i * n) % 4000));
        memset(p, 1, 16);
        free(p);
    }
    return NULL;
}

static void *waiter(void *arg)
{
    (void)arg;
    void *keep = malloc(100);
    pthread_mutex_lock(&m);
    while (!go)
        pthread_cond_wait(&c, &m);
    pthread_mutex_unlock(&m);
    free(keep);
    return NULL;
}

static int epoch(void)
{
    uint64_t e = 1;
    size_t sz = sizeof e;
    return mallctl("epoch", &e, &sz, &e, sz);
}

int main(void)
{
    pthread_t w;
    pthread_create(&w, NULL, waiter, NULL);
    for (int round = 0; round < 3; round++) {
        pthread_t t[8];
        for (long i = 0; i < 8; i++)
            pthread_create(&t[i], NULL, churn, (void *)(i + 1));
        for (int i = 0; i < 8; i++)
            pthread_join(t[i], NULL);
        pthread_t d;
        pthread_create(&d, NULL, churn, (void *)9L);
        pthread_detach(d);
        usleep(20000);
        printf("round %d: mallctl(epoch) = %d\n", round, epoch());
    }
    printf("mallctl(thread.tcache.flush) = %d\n", mallctl("thread.tcache.flush", NULL, NULL, NULL, 0));
    pthread_mutex_lock(&m);
    go = 1;
    pthread_cond_signal(&c);
    pthread_mutex_unlock(&m);
    pthread_join(w, NULL);
    printf("after the waiter: mallctl(epoch) = %d\n", epoch());
    return 0;
}
