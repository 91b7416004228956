/* Detached threads (by attribute and by pthread_detach) run to completion; main learns it
 * through a mutex + condition variable. Detaching twice gives EINVAL; joining a detached thread
 * gives EINVAL. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#define N 1000
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t all_done = PTHREAD_COND_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER;
static int finished, started_flag;
static long total;

static void *work(void *arg)
{
    long v = (long)arg;
    usleep(100 + (v % 7) * 50);
    pthread_mutex_lock(&mu);
    total += v;
    if (++finished == N)
        pthread_cond_signal(&all_done);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void *wait_for_go(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!started_flag)
        pthread_cond_wait(&go, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

int main(void)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (long i = 0; i < N; i++) {
        pthread_t t;
        if (i % 2) {
            pthread_create(&t, &attr, work, (void *)i);
        } else {
            pthread_create(&t, NULL, work, (void *)i);
            pthread_detach(t);
        }
    }
    pthread_mutex_lock(&mu);
    while (finished < N)
        pthread_cond_wait(&all_done, &mu);
    pthread_mutex_unlock(&mu);
    printf("detached finished %d total %ld\n", finished, total);

    pthread_t w;
    pthread_create(&w, NULL, wait_for_go, NULL);
    printf("first detach %d\n", pthread_detach(w));
    printf("second detach %s\n", pthread_detach(w) == EINVAL ? "EINVAL" : "other");
    printf("join detached %s\n", pthread_join(w, NULL) == EINVAL ? "EINVAL" : "other");
    pthread_mutex_lock(&mu);
    started_flag = 1;
    pthread_cond_broadcast(&go);
    pthread_mutex_unlock(&mu);
    usleep(20000);
    pthread_attr_destroy(&attr);
    return 0;
}
