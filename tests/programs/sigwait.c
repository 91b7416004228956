/* The sigwait family parks only the caller: a sigwait thread receives SIGUSR1 sent by another
 * thread (pthread_kill) and by kill() (process-directed, every thread blocking it) while a ticker
 * keeps ticking; sigwaitinfo reports the sender; sigtimedwait gives EAGAIN at its timeout (the
 * ticker ticks meanwhile), EINVAL for a bad timespec, EINTR when a handler for another signal
 * runs on the thread; sigsuspend returns -1 EINTR after the handler ran, with the mask back;
 * pause in a thread is ended by a process-directed signal only that thread takes. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sigtest.h"
#include "ticker.h"

static volatile int usr2_runs;
static volatile pthread_t usr2_on;
static void on_usr2(int sig)
{
    (void)sig;
    usr2_runs++;
    usr2_on = pthread_self();
}

static volatile int got_first, got_second, second_code, second_from_us;
static void *waiter(void *arg)
{
    sigset_t *set = arg;
    int sig = 0;
    int r = sigwait(set, &sig);
    got_first = r == 0 ? sig : -r;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    got_second = sigwaitinfo(set, &si);
    second_code = si.si_code;
    second_from_us = si.si_pid == getpid();
    return NULL;
}

static void *timed(void *arg)
{
    sigset_t *set = arg;
    struct timespec ts = {2, 0};
    int r = sigtimedwait(set, NULL, &ts);
    return (void *)(long)(r < 0 ? -errno : r);
}

static void *suspender(void *arg)
{
    (void)arg;
    sigset_t empty;
    sigemptyset(&empty);
    int r = sigsuspend(&empty);
    int e = errno;
    sigset_t now;
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    printf("sigsuspend: %d %s, handler ran on it %d, SIGUSR2 blocked again %d\n", r, e == EINTR ? "EINTR" : strerror(e),
           pthread_equal(usr2_on, pthread_self()), sigismember(&now, SIGUSR2));
    return NULL;
}

static void *pauser(void *arg)
{
    (void)arg;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL); /* the only thread taking SIGUSR2 */
    int r = pause();
    int e = errno;
    printf("pause: %d %s, handler ran on it %d\n", r, e == EINTR ? "EINTR" : strerror(e), pthread_equal(usr2_on, pthread_self()));
    return NULL;
}

int main(void)
{
    handle(SIGUSR2, on_usr2, 0);

    static sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* every thread created from here blocks both */
    sigdelset(&set, SIGUSR2);

    pthread_t tk, w;
    pthread_create(&tk, NULL, ticker, NULL);
    pthread_create(&w, NULL, waiter, &set);
    usleep(50000);
    int t0 = ticks;
    pthread_kill(w, SIGUSR1);
    usleep(50000);
    kill(getpid(), SIGUSR1);
    pthread_join(w, NULL);
    printf("sigwait got %d from pthread_kill; sigwaitinfo got %d from kill(), si_code SI_USER %d, si_pid ours %d\n", got_first,
           got_second, second_code == SI_USER, second_from_us);
    printf("ticker ran while it waited: %s\n", ticks - t0 >= 10 ? "yes" : "no");

    /* sigtimedwait: nothing comes within 100 ms. */
    struct timespec ts = {0, 100000000};
    t0 = ticks;
    long long start = now_ms();
    int r = sigtimedwait(&set, NULL, &ts);
    int e = errno;
    printf("sigtimedwait timeout: %d %s after >= 100 ms %s, ticks went on %s\n", r, e == EAGAIN ? "EAGAIN" : strerror(e),
           now_ms() - start >= 99 ? "yes" : "no", ticks - t0 >= 10 ? "yes" : "no");
    ts.tv_nsec = 1000000000;
    r = sigtimedwait(&set, NULL, &ts);
    e = errno;
    printf("sigtimedwait bad timespec: %d %s\n", r, e == EINVAL ? "EINVAL" : strerror(e));

    /* A handler for another signal interrupts sigtimedwait (SIGUSR2 is unblocked there). */
    sigset_t s2;
    sigemptyset(&s2);
    sigaddset(&s2, SIGUSR2);
    pthread_sigmask(SIG_UNBLOCK, &s2, NULL);
    w = start_then_signal(timed, &set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &s2, NULL);
    void *res;
    pthread_join(w, &res);
    printf("sigtimedwait interrupted: %s, handler ran on it %d\n", (long)res == -EINTR ? "EINTR" : "other", pthread_equal(usr2_on, w));

    /* sigsuspend with an empty mask, woken by pthread_kill. */
    pthread_join(start_then_signal(suspender, NULL, SIGUSR2), NULL);

    /* pause in the only thread not blocking SIGUSR2; kill() from a child process. */
    pthread_create(&w, NULL, pauser, NULL);
    usleep(50000);
    kill_from_child(SIGUSR2);
    pthread_join(w, NULL);
    printf("SIGUSR2 handler runs: %d\n", usr2_runs);
    ticking = 0;
    pthread_join(tk, NULL);
    return 0;
}
