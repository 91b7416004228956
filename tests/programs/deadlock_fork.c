/* Preload-only: a fork child that deadlocks while its parent had a thread parked in an fd wait.
 * The child inherits the parent's memory, the runtime's count of threads waiting on fds
 * included; only the forking thread lives on in it. The child then waits for a mutex the
 * parent's reader held at the fork (that thread does not exist in the child): natively it hangs
 * forever; under libgreen the child's hub must see that nothing can wake it, report and abort
 * (with the parent's count of fd waiters, it waited in epoll for nobody and hung). The parent
 * reports how the child ended, then wakes its reader and exits 0. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static int fds[2];
static volatile int locked;

static void *reader(void *arg)
{
    (void)arg;
    char c;
    pthread_mutex_lock(&held);
    locked = 1;
    ssize_t n = read(fds[0], &c, 1); /* parks until the parent writes after the child ended */
    pthread_mutex_unlock(&held);
    return (void *)n;
}

int main(void)
{
    if (pipe(fds) != 0)
        return 1;
    pthread_t t;
    pthread_create(&t, NULL, reader, NULL);
    while (!locked)
        usleep(1000);
    usleep(20000); /* the reader is in its read by now */
    pid_t pid = fork();
    if (pid == 0) {
        pthread_mutex_lock(&held); /* owned by a thread the child does not have */
        puts("child: unreachable");
        _exit(0);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return 2;
    if (WIFSIGNALED(st))
        printf("child killed by signal %d\n", WTERMSIG(st));
    else
        printf("child exited %d\n", WEXITSTATUS(st));
    if (write(fds[1], "x", 1) != 1)
        return 3;
    void *r;
    pthread_join(t, &r);
    printf("reader got %ld byte\n", (long)r);
    return 0;
}
