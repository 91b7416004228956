/* Preload-only: a lock-order deadlock. Natively this hangs forever; under libgreen the hub sees
 * every green thread waiting with nothing that could wake one, prints what each waits on and
 * aborts (GREEN_DEADLOCK=0 restores the silent hang). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;

static void *ab(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&a);
    usleep(10000);
    pthread_mutex_lock(&b);
    return NULL;
}

static void *ba(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&b);
    usleep(10000);
    pthread_mutex_lock(&a);
    return NULL;
}

int main(void)
{
    pthread_t t1, t2;
    pthread_create(&t1, NULL, ab, NULL);
    pthread_create(&t2, NULL, ba, NULL);
    pthread_setname_np(t2, "ba-thread");
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    puts("unreachable");
    return 0;
}
