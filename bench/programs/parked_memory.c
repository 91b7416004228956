/* Memory per parked thread: N threads wait in pthread_cond_wait; the resident-set growth
 * (VmRSS + page tables, VmPTE) divided by N, in KiB. Kernel stacks of native threads are not in
 * VmRSS; they add 16 KiB each natively (not counted here). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"

#define N 10000
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int waiting, go;

static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, strlen(key)) == 0) v = atol(line + strlen(key));
    fclose(f);
    return v;
}

static void *waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    waiting++;
    while (!go) pthread_cond_wait(&c, &m);
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(void)
{
    static pthread_t t[N];
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 * 1024);
    long before = status_kb("VmRSS:") + status_kb("VmPTE:");
    for (int i = 0; i < N; i++) pthread_create(&t[i], &a, waiter, NULL);
    for (;;) {
        pthread_mutex_lock(&m);
        int w = waiting;
        pthread_mutex_unlock(&m);
        if (w == N) break;
        sched_yield();
    }
    long after = status_kb("VmRSS:") + status_kb("VmPTE:");
    pthread_mutex_lock(&m);
    go = 1;
    pthread_cond_broadcast(&c);
    pthread_mutex_unlock(&m);
    for (int i = 0; i < N; i++) pthread_join(t[i], NULL);
    result("parked_thread_memory", (double)(after - before) / N, "KiB");
    return 0;
}
