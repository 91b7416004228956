/* Shared by the tests whose sender is a thread that is not green (a SIGEV_THREAD timer's, so
 * it sends while the carriers switch): it kill()s the process with SIGUSR1 again and again, each
 * time waiting until the handler's run is counted in `handled`, at most 5 s (a signal whose
 * handler does not run is reported, exit 1, instead of hanging). The helper thread glibc starts
 * for the timer takes the mask of the thread that calls start_paced_sender. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "clock_ns.h"

static atomic_int handled, sent_all;

static void paced_send(union sigval v)
{
    for (int s = 1; s <= v.sival_int; s++) {
        kill(getpid(), SIGUSR1);
        long long give_up = now_ns() + 5000000000LL;
        while (atomic_load(&handled) < s) {
            if (now_ns() > give_up) {
                printf("signal %d: its handler did not run (handler runs: %d)\n", s, atomic_load(&handled));
                fflush(stdout);
                _exit(1);
            }
            sched_yield();
        }
    }
    atomic_store(&sent_all, 1);
}

/* Starts the sender of `signals` signals (1 ms from now). */
static timer_t start_paced_sender(int signals)
{
    struct sigevent ev = {.sigev_notify = SIGEV_THREAD, .sigev_notify_function = paced_send, .sigev_value.sival_int = signals};
    timer_t tm;
    timer_create(CLOCK_MONOTONIC, &ev, &tm);
    struct itimerspec once = {.it_value = {0, 1000000}};
    timer_settime(tm, 0, &once, NULL);
    return tm;
}

/* Waits (in usleep) until the sender has sent them all and their handlers ran. */
static void wait_paced_sender(timer_t tm)
{
    while (!atomic_load(&sent_all)) usleep(1000);
    timer_delete(tm);
}
