/* kill() of the process while threads that block the signal and threads that let it in take
 * turns on the CPU. The kernel runs the handler only on a thread that lets the signal in; under
 * libgreen a carrier's kernel mask is the loaded thread's, and it changes at a switch between a
 * thread that lets SIGUSR1 in and one that blocks it: a signal landing as the carrier has moved
 * on to the blocking thread but still has the other one's mask must not run the handler on the
 * blocking thread. Each handler checks that it sees kill()'s siginfo (SI_USER, our pid), also when
 * the runtime routed the signal and sent it again. The sender is a thread glibc starts for a SIGEV_THREAD timer (never green),
 * so it sends while the carriers switch. Each signal waits at most 5 s for its handler; a
 * signal whose handler does not run is reported (exit 1) instead of hanging. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "paced_kill.h"

#define SIGNALS 20000
#define OPEN_THREADS 2
#define BLOCKING_THREADS 2

static __thread int blocks_usr1;
static atomic_int on_blocking, wrong_info, stop;
static pid_t pid;

static void on_usr1(int sig, siginfo_t *info, void *uctx)
{
    (void)sig;
    (void)uctx;
    if (blocks_usr1) atomic_fetch_add(&on_blocking, 1);
    if (info->si_code != SI_USER || info->si_pid != pid) atomic_fetch_add(&wrong_info, 1);
    atomic_fetch_add(&handled, 1);
}

static void *yielder(void *arg)
{
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    blocks_usr1 = arg != NULL;
    pthread_sigmask(blocks_usr1 ? SIG_BLOCK : SIG_UNBLOCK, &usr1, NULL);
    while (!atomic_load(&stop)) sched_yield();
    return NULL;
}

int main(void)
{
    pid = getpid();
    struct sigaction sa = {.sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO};
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL); /* main and the blocking threads: blocked */
    blocks_usr1 = 1;
    pthread_t th[OPEN_THREADS + BLOCKING_THREADS];
    for (int i = 0; i < OPEN_THREADS + BLOCKING_THREADS; i++)
        pthread_create(&th[i], NULL, yielder, i % 2 ? (void *)1 : NULL);
    wait_paced_sender(start_paced_sender(SIGNALS));
    atomic_store(&stop, 1);
    for (int i = 0; i < OPEN_THREADS + BLOCKING_THREADS; i++) pthread_join(th[i], NULL);
    printf("%d signals, %d handler runs, %d on a thread that blocks the signal, %d with a siginfo other than kill()'s\n",
           SIGNALS, atomic_load(&handled), atomic_load(&on_blocking), atomic_load(&wrong_info));
    return atomic_load(&on_blocking) != 0 || atomic_load(&wrong_info) != 0;
}
