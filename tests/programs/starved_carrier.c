/* Run by tests/run.sh while a real-time hog takes the CPU the carrier is pinned to for 0.4 s:
 * one thread computes in 2 ms bursts between sched_yields, another sleeps 1 ms at a time (its
 * timers keep work waiting). The carrier is then stalled by the kernel, not by a thread: the
 * watchdog must neither blame the computing thread (its warning goes to fd 2, which a program
 * may have pointed anywhere) nor hand off. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "clock_ns.h"

static long long end_at;

static void *computer(void *arg)
{
    (void)arg;
    long bursts = 0;
    while (now_ns() < end_at) {
        long long until = now_ns() + 2000000;
        while (now_ns() < until)
            ;
        bursts++;
        sched_yield();
    }
    return (void *)bursts;
}

static void *sleeper(void *arg)
{
    (void)arg;
    while (now_ns() < end_at)
        usleep(1000);
    return NULL;
}

int main(void)
{
    end_at = now_ns() + 2000000000LL;
    pthread_t c, s;
    pthread_create(&c, NULL, computer, NULL);
    pthread_create(&s, NULL, sleeper, NULL);
    void *bursts;
    pthread_join(c, &bursts);
    pthread_join(s, NULL);
    printf("computed in %s bursts\n", (long)bursts > 100 ? "many" : "few");
    return 0;
}
