/* Mixed world: a glibc timer thread (SIGEV_THREAD, started by glibc itself, so not green) and
 * green threads share a semaphore and a mutex + condition variable, in both directions. */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static sem_t to_green, to_foreign, foreign_done;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int flag, foreign_got;

static void on_timer(union sigval v)
{
    (void)v;
    sem_post(&to_green);          /* foreign -> green: wake a parked green thread */
    sem_wait(&to_foreign);        /* green -> foreign: a real OS thread blocks on our sem */
    foreign_got = 1;
    pthread_mutex_lock(&mu);      /* and a condvar signalled from the foreign side */
    flag = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    sem_post(&foreign_done);
}

static void *green_waiter(void *arg)
{
    (void)arg;
    sem_wait(&to_green);
    usleep(10000);
    /* Post while holding mu: the foreign side can only take mu once this thread waits in the
     * condvar, so the wait really parks (not a race the foreign side may win). */
    pthread_mutex_lock(&mu);
    sem_post(&to_foreign);
    while (!flag) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return (void *)1;
}

int main(void)
{
    sem_init(&to_green, 0, 0);
    sem_init(&to_foreign, 0, 0);
    sem_init(&foreign_done, 0, 0);
    pthread_t t;
    pthread_create(&t, NULL, green_waiter, NULL);
    timer_t tm;
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_notify_function = on_timer;
    if (timer_create(CLOCK_MONOTONIC, &ev, &tm) != 0) { perror("timer_create"); return 1; }
    struct itimerspec its = {{0, 0}, {0, 20000000}};
    timer_settime(tm, 0, &its, NULL);
    void *r;
    pthread_join(t, &r);
    sem_wait(&foreign_done);
    printf("green waiter done %ld, foreign thread got the green post %d, flag %d\n", (long)r, foreign_got, flag);
    timer_delete(tm);
    return 0;
}
