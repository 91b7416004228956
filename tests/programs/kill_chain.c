/* A thread that is not green (a SIGEV_THREAD timer's) kill()s the process 20,000 times, each
 * time waiting until the handler has run before sending the next; main takes the signal and
 * waits in usleep while two threads yield, so (with several carriers) most signals land on a
 * carrier running another thread and are routed to main, whose handler runs as the runtime
 * sends the signal to main's own carrier. The next kill can then come before that send has
 * returned: it must not be taken for the same signal still pending (natively the first one
 * was delivered, so the second is pending alone and delivered too). Each signal waits at most
 * 5 s for its handler: a lost one is reported (exit 1) instead of hanging. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "paced_kill.h"

#define SIGNALS 20000

static atomic_int in_main, stop;
static pthread_t main_thread;

static void on_usr1(int sig)
{
    (void)sig;
    if (pthread_equal(pthread_self(), main_thread)) atomic_fetch_add(&in_main, 1);
    atomic_fetch_add(&handled, 1);
}

static void *yielder(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) sched_yield();
    return NULL;
}

int main(void)
{
    main_thread = pthread_self();
    struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        /* The yielders block it: the kernel gives it to main, as it would natively. */
        pthread_sigmask(SIG_BLOCK, &usr1, NULL);
        pthread_create(&th[i], NULL, yielder, NULL);
        pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
    }
    /* The timer's thread blocks it too (created with main's mask at timer_create). */
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    timer_t tm = start_paced_sender(SIGNALS);
    pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
    wait_paced_sender(tm);
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    printf("%d signals, %d handler runs, %d of them in main\n", SIGNALS, atomic_load(&handled), atomic_load(&in_main));
    return atomic_load(&handled) != SIGNALS;
}
