/* A tracer's waits: waitpid(pid, __WALL) or waitpid(pid, 0) reports a traced child's ptrace
 * stops, which a pidfd does not signal (it becomes readable only at exit). Under the preload
 * such a wait by a green thread while others live parked on the child's pidfd and never saw
 * the stops (strace, when preloaded, hung in its first wait). First with main as the only
 * thread (the real call), then with a second thread alive (a polled wait: __WALL says a tracer
 * waits, and without it the child's /proc status says it is traced). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

static void *idle(void *arg)
{
    (void)arg;
    sleep(2);
    return NULL;
}

static void trace_one(const char *when, int options)
{
    pid_t child = fork();
    if (child == 0) {
        ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        raise(SIGSTOP);
        usleep(50000);
        raise(SIGUSR1); /* a signal-delivery stop */
        _exit(5);
    }
    int st, stops = 0;
    for (;;) {
        pid_t r = waitpid(child, &st, options);
        if (r != child)
            break;
        if (WIFSTOPPED(st)) {
            stops++;
            printf("%s: stop %d by signal %d\n", when, stops, WSTOPSIG(st));
            /* Let SIGSTOP go (suppressed), swallow SIGUSR1 too. */
            ptrace(PTRACE_CONT, child, NULL, NULL);
            continue;
        }
        if (WIFEXITED(st))
            printf("%s: exit status %d after %d stops\n", when, WEXITSTATUS(st), stops);
        break;
    }
}

int main(void)
{
    trace_one("alone", __WALL);
    pthread_t t;
    pthread_create(&t, NULL, idle, NULL);
    trace_one("with a thread", __WALL);
    trace_one("with a thread, options 0", 0);
    pthread_join(t, NULL);
    return 0;
}
