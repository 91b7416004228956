/* A process-directed signal for a thread waiting with its own mask while another thread computes
 * (the usual layout: workers block the signal, one thread takes it in ppoll, pselect,
 * epoll_pwait or sigsuspend). Every thread blocks SIGUSR1 (inherited from main) except the
 * waiter inside its call; the computing thread spins without any call until the waiter's
 * handler has run; a child process sends the signal 50 ms in. Natively the kernel gives it to
 * the waiter at once. Under libgreen the computing thread holds the only carrier, whose mask
 * (its own) blocks the signal, so the kernel keeps it pending for the process: the watchdog
 * must see that and hand the carrier's other work off (a new carrier's idle wait lets the
 * signal in and routes it to the waiter). Argument: the call (default ppoll). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t handled, on_waiter;
static volatile int stop;
static pthread_t waiter_id;
static const char *call = "ppoll";

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
    if (pthread_equal(pthread_self(), waiter_id)) on_waiter++;
}

static void *waiter(void *arg)
{
    (void)arg;
    sigset_t open;
    pthread_sigmask(SIG_SETMASK, NULL, &open);
    sigdelset(&open, SIGUSR1);
    int r, ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev;
    if (!strcmp(call, "pselect")) r = pselect(0, NULL, NULL, NULL, NULL, &open);
    else if (!strcmp(call, "epoll_pwait")) r = epoll_pwait(ep, &ev, 1, -1, &open);
    else if (!strcmp(call, "sigsuspend")) r = sigsuspend(&open);
    else r = ppoll(NULL, 0, NULL, &open);
    int e = errno;
    close(ep);
    printf("waiter: %s returned %d (%s), handler ran %d time(s), on the waiter %d\n", call, r, r < 0 ? strerror(e) : "-",
           handled, on_waiter);
    stop = 1;
    return NULL;
}

static void *computer(void *arg)
{
    (void)arg;
    while (!stop) {}
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1) call = argv[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    pthread_t c;
    pthread_create(&waiter_id, NULL, waiter, NULL);
    pthread_create(&c, NULL, computer, NULL);
    pid_t child = fork();
    if (child == 0) {
        usleep(50000);
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    pthread_join(c, NULL);
    pthread_join(waiter_id, NULL);
    int status;
    waitpid(child, &status, 0);
    printf("computer stopped; child exit %d\n", WEXITSTATUS(status));
    return handled == 1 && on_waiter == 1 ? 0 : 1;
}
