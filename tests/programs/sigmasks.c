/* Per-thread signal masks: a new thread inherits its creator's mask; one thread blocking a
 * signal leaves the others' masks alone; a signal sent to a thread that blocks it stays pending
 * (sigpending shows it) and its handler runs on that thread as soon as it unblocks it, before
 * pthread_sigmask returns; raise() of a blocked signal likewise; a process-directed signal
 * goes to the thread that does not block it; the runtime's own SIGUSR2 handler (GREEN_STATS)
 * shows as SIG_DFL; a vfork child changing its handlers and mask
 * leaves the parent's alone; bad arguments get glibc's errors. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sigtest.h"

static volatile pthread_t ran_on;
static volatile int runs;
static void on_sig(int sig)
{
    (void)sig;
    ran_on = pthread_self();
    runs++;
}

static int blocked(int sig)
{
    sigset_t m;
    pthread_sigmask(SIG_BLOCK, NULL, &m);
    return sigismember(&m, sig);
}

static void *inherits(void *arg)
{
    (void)arg;
    printf("new thread: SIGUSR1 blocked (inherited) %d, SIGUSR2 blocked %d\n", blocked(SIGUSR1), blocked(SIGUSR2));
    return NULL;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stage;
static void wait_stage(int s)
{
    pthread_mutex_lock(&mu);
    while (stage < s) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}
static void set_stage(int s)
{
    pthread_mutex_lock(&mu);
    stage = s;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void *blocker(void *arg)
{
    (void)arg;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    set_stage(1);
    wait_stage(2); /* main sent SIGUSR2 meanwhile */
    sigset_t p;
    sigpending(&p);
    printf("blocker: SIGUSR2 pending while blocked %d, handler runs so far %d\n", sigismember(&p, SIGUSR2), runs);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    printf("blocker: after unblocking, handler ran %d, on this thread %d\n", runs, pthread_equal(ran_on, pthread_self()));
    /* raise of a blocked signal: pending until unblocked. */
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    raise(SIGUSR2);
    printf("blocker: raise while blocked ran %d\n", runs);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    printf("blocker: unblocked, ran %d\n", runs);
    /* Block SIGUSR1 here only, for the process-directed test below. */
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    set_stage(3);
    wait_stage(4);
    return NULL;
}

int main(void)
{
    /* GREEN_STATS's own SIGUSR2 report handler is not the program's: it sees SIG_DFL. */
    struct sigaction start;
    sigaction(SIGUSR2, NULL, &start);
    printf("SIGUSR2 at start: default %d, flags %#x\n", start.sa_handler == SIG_DFL, start.sa_flags);
    handle(SIGUSR1, on_sig, 0);
    handle(SIGUSR2, on_sig, 0);

    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    pthread_t t;
    pthread_create(&t, NULL, inherits, NULL);
    pthread_join(t, NULL);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);

    pthread_create(&t, NULL, blocker, NULL);
    wait_stage(1);
    printf("main: SIGUSR2 blocked here %d (the other thread blocked it)\n", blocked(SIGUSR2));
    pthread_kill(t, SIGUSR2);
    usleep(20000);
    printf("main: handler runs after pthread_kill to a blocking thread: %d\n", runs);
    set_stage(2);
    wait_stage(3);
    /* SIGUSR1 is blocked by the other thread only: a process-directed one runs here. */
    runs = 0;
    kill(getpid(), SIGUSR1);
    printf("main: kill(getpid) ran %d, on main %d\n", runs, pthread_equal(ran_on, pthread_self()));
    set_stage(4);
    pthread_join(t, NULL);

    /* A vfork child (sharing our memory) resets its handlers and mask, then exits. */
    pid_t c = vfork();
    if (c == 0) {
        signal(SIGUSR1, SIG_DFL);
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    runs = 0;
    kill(getpid(), SIGUSR1);
    printf("after a vfork child: SIGUSR1 blocked %d, handler still runs %d\n", blocked(SIGUSR1), runs);

    printf("pthread_sigmask bad how: %s\n", pthread_sigmask(12345, &s, NULL) == EINVAL ? "EINVAL" : "other");
    errno = 0;
    int r = sigprocmask(12345, &s, NULL);
    printf("sigprocmask bad how: %d %s\n", r, errno == EINVAL ? "EINVAL" : "other");
    printf("bad how without a set is fine: %d\n", pthread_sigmask(12345, NULL, &old));
    sigfillset(&s);
    pthread_sigmask(SIG_SETMASK, &s, &old);
    pthread_sigmask(SIG_SETMASK, &old, &s);
    printf("fill: SIGKILL blocked %d, SIGSTOP blocked %d, SIGUSR1 blocked %d, SIGRTMAX blocked %d\n", sigismember(&s, SIGKILL),
           sigismember(&s, SIGSTOP), sigismember(&s, SIGUSR1), sigismember(&s, SIGRTMAX));
    return 0;
}
