/* A process-directed signal arriving after a detached thread has exited during a wait of the
 * only other thread (main): main's handler runs and its wait ends (EINTR for a read, the count so far
 * for a write that made progress), as natively. Under the preload the hub went on with the
 * exited thread's TCB, whose green task word is cleared; the signal handler took that for "not
 * the carrier" and ran the program's handler in the hub, so main was never woken (CPython's
 * test_io SignalsTest hung: its reader thread had exited). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t handled;

static void on_alarm(int sig)
{
    (void)sig;
    handled++;
}

static void *short_lived(void *arg)
{
    (void)arg;
    usleep(30000); /* main waits by now */
    return NULL;
}

/* A detached thread that exits 30 ms later, while main waits; the timer fires 100 ms later. */
static void detached_thread_exits_during_the_wait(void)
{
    pthread_t t;
    pthread_create(&t, NULL, short_lived, NULL);
    pthread_detach(t);
    struct itimerval it = {.it_value = {.tv_usec = 100000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

int main(void)
{
    struct sigaction sa = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &sa, NULL);
    int p[2];
    if (pipe(p))
        return 1;

    detached_thread_exits_during_the_wait();
    char c;
    errno = 0;
    ssize_t r = read(p[0], &c, 1);
    printf("read of an empty pipe: %zd (%s), handler ran %d\n", r, strerrorname_np(errno), (int)handled);

    size_t n = 1 << 20;
    char *buf = calloc(1, n);
    detached_thread_exits_during_the_wait();
    r = write(p[1], buf, n);
    printf("write of 1 MiB into an empty pipe: %zd, handler ran %d\n", r, (int)handled);
    free(buf);
    return 0;
}
