/* pthread_key_create destructors run at thread exit (for values that are set), up to
 * PTHREAD_DESTRUCTOR_ITERATIONS rounds when a destructor sets a value again; a deleted key's
 * destructor does not run; values are per thread. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define N 20
static pthread_key_t k_free, k_again, k_deleted, k_nodtor;
static atomic_int freed, again_calls, deleted_calls;
static atomic_long freed_sum;

static void dtor_free(void *p)
{
    freed_sum += *(long *)p;
    free(p);
    freed++;
}

static void dtor_again(void *p)
{
    again_calls++;
    /* Set it again the first two times: glibc calls destructors up to 4 rounds. */
    if ((uintptr_t)p < 3)
        pthread_setspecific(k_again, (void *)((uintptr_t)p + 1));
}

static void dtor_deleted(void *p)
{
    (void)p;
    deleted_calls++;
}

static void *worker(void *arg)
{
    long i = (long)arg;
    long *v = malloc(sizeof *v);
    *v = i;
    if (pthread_getspecific(k_free) != NULL) printf("fresh thread saw a value\n");
    pthread_setspecific(k_free, v);
    pthread_setspecific(k_again, (void *)(uintptr_t)1);
    pthread_setspecific(k_deleted, v);
    pthread_setspecific(k_nodtor, (void *)(uintptr_t)(i + 1));
    usleep(500 * (i % 5));
    if (pthread_getspecific(k_free) != v) printf("value changed across a switch\n");
    if ((long)(uintptr_t)pthread_getspecific(k_nodtor) != i + 1) printf("nodtor value changed\n");
    return NULL;
}

int main(void)
{
    pthread_key_create(&k_free, dtor_free);
    pthread_key_create(&k_again, dtor_again);
    pthread_key_create(&k_deleted, dtor_deleted);
    pthread_key_create(&k_nodtor, NULL);
    pthread_t th[N];
    for (long i = 0; i < N / 2; i++)
        pthread_create(&th[i], NULL, worker, (void *)i);
    for (long i = 0; i < N / 2; i++)
        pthread_join(th[i], NULL);
    pthread_key_delete(k_deleted);
    for (long i = N / 2; i < N; i++)
        pthread_create(&th[i], NULL, worker, (void *)i);
    for (long i = N / 2; i < N; i++)
        pthread_join(th[i], NULL);
    printf("freed %d (sum %ld), again calls %d, deleted-key calls %d\n",
           (int)freed, (long)freed_sum, (int)again_calls, (int)deleted_calls);
    printf("main value %p\n", pthread_getspecific(k_free));
    return 0;
}
