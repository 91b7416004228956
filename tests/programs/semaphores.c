/* Semaphores: unnamed ping-pong between threads, counting, getvalue, trywait EAGAIN, init above
 * SEM_VALUE_MAX EINVAL, bad timespec EINVAL, and a named semaphore (sem_open) shared by threads. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static sem_t ping, pong, counter;
static sem_t *named;
static int rounds_done;

static void *ponger(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10000; i++) {
        sem_wait(&ping);
        rounds_done++;
        sem_post(&pong);
    }
    return NULL;
}

static void *named_worker(void *arg)
{
    long id = (long)arg;
    sem_wait(named);
    sem_post(named);
    return (void *)id;
}

static void *poster(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++) sem_post(&counter);
    return NULL;
}

int main(void)
{
    pthread_t t, ts[8];
    int v;
    sem_init(&ping, 0, 0);
    sem_init(&pong, 0, 0);
    pthread_create(&t, NULL, ponger, NULL);
    for (int i = 0; i < 10000; i++) {
        sem_post(&ping);
        sem_wait(&pong);
    }
    pthread_join(t, NULL);
    printf("ping-pong rounds %d\n", rounds_done);

    sem_init(&counter, 0, 0);
    for (int i = 0; i < 4; i++) pthread_create(&ts[i], NULL, poster, NULL);
    int got = 0;
    for (int i = 0; i < 4000; i++) got += sem_wait(&counter) == 0;
    for (int i = 0; i < 4; i++) pthread_join(ts[i], NULL);
    sem_getvalue(&counter, &v);
    printf("counted %d posts, value now %d\n", got, v);
    errno = 0;
    printf("trywait on 0: %d %s\n", sem_trywait(&counter), errno == EAGAIN ? "EAGAIN" : strerror(errno));
    errno = 0;
    printf("init above SEM_VALUE_MAX: %d %s\n", sem_init(&counter, 0, (unsigned)SEM_VALUE_MAX + 1), errno == EINVAL ? "EINVAL" : strerror(errno));
    errno = 0;
    struct timespec bad = {0, 1000000000};
    printf("timedwait bad nsec: %d %s\n", sem_timedwait(&counter, &bad), errno == EINVAL ? "EINVAL" : strerror(errno));
    sem_post(&counter);
    errno = 0;
    printf("timedwait bad nsec, value 1: %d %s\n", sem_timedwait(&counter, &bad), errno == EINVAL ? "EINVAL" : strerror(errno));
    sem_init(&counter, 0, SEM_VALUE_MAX);
    errno = 0;
    printf("post at SEM_VALUE_MAX: %d %s\n", sem_post(&counter), errno == EOVERFLOW ? "EOVERFLOW" : strerror(errno));

    char name[64];
    snprintf(name, sizeof name, "/libgreen-test-%d", (int)getpid());
    named = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
    if (named == SEM_FAILED) { perror("sem_open"); return 1; }
    long sum = 0;
    for (long i = 0; i < 8; i++) pthread_create(&ts[i], NULL, named_worker, (void *)i);
    usleep(10000);
    sem_post(named);
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(ts[i], &r);
        sum += (long)r;
    }
    sem_getvalue(named, &v);
    printf("named semaphore: workers passed (sum %ld), value %d\n", sum, v);
    sem_close(named);
    sem_unlink(name);
    return 0;
}
