/* pthread_kill from a thread that is not green, to a green thread that is computing: glibc's
 * SIGEV_THREAD timer runs its callback on a helper thread it starts itself (not through
 * pthread_create, so not green). The worker spins on a flag only its SIGUSR1 handler sets, main
 * waits in pthread_join. With one carrier and no hand-off (GREEN_HANDOFF_MS=0) the worker holds
 * the only carrier: the signal must interrupt it where it runs, as the kernel does natively,
 * or the program never ends. The handler must run on the worker, once. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t flag, runs, on_worker;
static volatile int started;
static pthread_t worker_id;

static void handler(int sig)
{
    (void)sig;
    runs++;
    if (pthread_equal(pthread_self(), worker_id))
        on_worker++;
    flag = 1;
}

static void *worker(void *arg)
{
    (void)arg;
    started = 1;
    while (!flag) {}
    return NULL;
}

static void fire(union sigval v)
{
    (void)v;
    while (!started) {}
    pthread_kill(worker_id, SIGUSR1);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigaction(SIGUSR1, &sa, NULL);
    pthread_create(&worker_id, NULL, worker, NULL);

    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_notify_function = fire;
    timer_t tm;
    if (timer_create(CLOCK_MONOTONIC, &ev, &tm) != 0) {
        perror("timer_create");
        return 1;
    }
    struct itimerspec its = { .it_value = { .tv_nsec = 20 * 1000 * 1000 } };
    timer_settime(tm, 0, &its, NULL);
    pthread_join(worker_id, NULL);
    timer_delete(tm);
    printf("handler ran %d time(s), on the worker %d\n", runs, on_worker);
    return runs == 1 && on_worker == 1 ? 0 : 1;
}
