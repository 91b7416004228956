/* pthread_once from 100 racing threads runs init exactly once, and every caller returns only
 * after init has finished (init sleeps, so callers must wait for it). */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#define N 100
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_calls, initialised;
static int saw_uninitialised;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready, go;

static void init(void)
{
    init_calls++;
    usleep(20000);
    initialised = 1;
}

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    ready++;
    while (!go)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    pthread_once(&once, init);
    if (!initialised) {
        pthread_mutex_lock(&mu);
        saw_uninitialised++;
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

int main(void)
{
    pthread_t th[N];
    for (int i = 0; i < N; i++)
        pthread_create(&th[i], NULL, worker, NULL);
    pthread_mutex_lock(&mu);
    while (ready < N) {
        pthread_mutex_unlock(&mu);
        usleep(1000);
        pthread_mutex_lock(&mu);
    }
    go = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    pthread_once(&once, init);
    printf("init ran %d time(s); callers that saw it unfinished: %d\n", init_calls, saw_uninitialised);
    return init_calls != 1;
}
