/* alarm, setitimer and raise as native: SIGALRM from alarm(1) interrupts a thread's sleep(5)
 * (sleep returns the 4 seconds left), from setitimer interrupts nanosleep (EINTR, time left
 * written back), and goes to the thread that does not block it (main blocks SIGALRM); the
 * other threads keep running meanwhile. raise() runs the handler on the calling thread before
 * returning. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sigtest.h"
#include "ticker.h"

static volatile pthread_t alrm_on, usr1_on;
static volatile int alrm_runs, usr1_runs;
static void on_alrm(int sig) { (void)sig; alrm_on = pthread_self(); alrm_runs++; }
static void on_usr1(int sig) { (void)sig; usr1_on = pthread_self(); usr1_runs++; }

static void *alarm_sleeper(void *arg)
{
    (void)arg;
    alarm(1);
    usleep(500000); /* the sleep below is then cut 4.5 s early: far from a whole second */
    unsigned left = sleep(5);
    printf("alarm(1) then sleep(5): %u s left, handler on this thread %d\n", left, pthread_equal(alrm_on, pthread_self()));
    return NULL;
}

static void *itimer_sleeper(void *arg)
{
    (void)arg;
    struct itimerval it = {{0, 0}, {0, 150000}};
    setitimer(ITIMER_REAL, &it, NULL);
    struct timespec rem = {0, 0};
    int r = nanosleep(&(struct timespec){5, 0}, &rem);
    int e = errno;
    printf("setitimer 150 ms then nanosleep(5 s): %d %s, rem between 4 and 5 s %s, handler here %d\n", r,
           e == EINTR ? "EINTR" : strerror(e), rem.tv_sec == 4 ? "yes" : "no", pthread_equal(alrm_on, pthread_self()));
    return NULL;
}

static void *raiser(void *arg)
{
    (void)arg;
    int before = usr1_runs;
    int r = raise(SIGUSR1);
    printf("raise: %d, handler ran before it returned %d, on this thread %d\n", r, usr1_runs == before + 1,
           pthread_equal(usr1_on, pthread_self()));
    return NULL;
}

int main(void)
{
    handle(SIGALRM, on_alrm, 0);
    handle(SIGUSR1, on_usr1, 0);

    pthread_t tk, t;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &s, NULL); /* main and the ticker block SIGALRM */
    pthread_create(&tk, NULL, ticker, NULL);

    create_unblocked(&t, alarm_sleeper, NULL);
    int t0 = ticks;
    pthread_join(t, NULL);
    printf("ticks went on meanwhile: %s\n", ticks - t0 >= 100 ? "yes" : "no");

    create_unblocked(&t, itimer_sleeper, NULL);
    pthread_join(t, NULL);

    pthread_create(&t, NULL, raiser, NULL);
    pthread_join(t, NULL);
    printf("SIGALRM handled %d times, never on main %d\n", alrm_runs, !pthread_equal(alrm_on, pthread_self()));
    ticking = 0;
    pthread_join(tk, NULL);
    return 0;
}
