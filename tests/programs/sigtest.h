/* Shared by the signal tests: installing a handler, creating a thread with no signal blocked,
 * and sending a process-directed signal from outside (a child process). */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static inline void handle(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigaction(sig, &sa, NULL);
}

/* pthread_create with an empty mask for the new thread (the caller's is kept). */
static inline void create_unblocked(pthread_t *t, void *(*fn)(void *), void *arg)
{
    sigset_t none, saved;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, &saved);
    pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
}

/* Starts fn in a thread and, once it had 50 ms to start waiting, sends it sig. */
static inline pthread_t start_then_signal(void *(*fn)(void *), void *arg, int sig)
{
    pthread_t t;
    pthread_create(&t, NULL, fn, arg);
    usleep(50000);
    pthread_kill(t, sig);
    return t;
}

/* kill(our pid, sig) from a child process, which is then reaped. */
static inline void kill_from_child(int sig)
{
    pid_t c = fork();
    if (c == 0) {
        kill(getppid(), sig);
        _exit(0);
    }
    waitpid(c, NULL, 0);
}
