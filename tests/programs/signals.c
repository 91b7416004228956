/* pthread_kill to a sleeping thread runs the handler on that thread and its nanosleep returns
 * EINTR with the time left; sleep() returns the seconds left; to a thread in pthread_cond_wait
 * the handler runs on it and it goes on waiting; signal 0 checks, a bad number is EINVAL. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile pthread_t handled_on;
static volatile int handled;

static void on_usr1(int sig)
{
    (void)sig;
    handled_on = pthread_self();
    handled++;
}

static void *nano_sleeper(void *arg)
{
    (void)arg;
    struct timespec rem = {0, 0};
    int r = nanosleep(&(struct timespec){10, 0}, &rem);
    int e = errno;
    printf("nanosleep: %d %s, rem between 9 and 10 s: %s, handler ran on this thread: %s\n", r,
           e == EINTR ? "EINTR" : strerror(e), rem.tv_sec == 9 ? "yes" : "no",
           pthread_equal(handled_on, pthread_self()) ? "yes" : "no");
    return NULL;
}

static void *sec_sleeper(void *arg)
{
    (void)arg;
    unsigned left = sleep(5);
    printf("sleep(5) interrupted, seconds left: %u\n", left);
    return NULL;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int done;
static void *cond_waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!done) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    printf("cond waiter: handler ran on it: %s, kept waiting until signalled: yes\n",
           pthread_equal(handled_on, pthread_self()) ? "yes" : "no");
    return NULL;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t t;

    pthread_create(&t, NULL, nano_sleeper, NULL);
    usleep(50000);
    printf("pthread_kill 0: %d, bad signal: %s\n", pthread_kill(t, 0), pthread_kill(t, 999) == EINVAL ? "EINVAL" : "other");
    pthread_kill(t, SIGUSR1);
    pthread_join(t, NULL);

    pthread_create(&t, NULL, sec_sleeper, NULL);
    usleep(50000);
    pthread_kill(t, SIGUSR1);
    pthread_join(t, NULL);

    pthread_create(&t, NULL, cond_waiter, NULL);
    usleep(50000);
    pthread_kill(t, SIGUSR1);
    usleep(50000);
    pthread_mutex_lock(&mu);
    done = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(t, NULL);
    printf("handlers run: %d\n", handled);
    return 0;
}
