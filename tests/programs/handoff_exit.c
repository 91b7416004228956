/* A hand-off racing the process's exit. A thread keeps work waiting (a 200 µs sleep in a loop)
 * while main computes for ARG/4 ms and returns. With GREEN_HANDOFF_MS=1 the watchdog hands
 * off as main computes, and now and then exactly as main exits: tests/run.sh runs this many
 * times with ARG 0..19 and wants, every time, no OS thread the census takes for the program's
 * (a carrier cloned but not yet named when exit_group came looked like one) and a stats line
 * that counts the carriers the process started.
 *
 * usage: handoff_exit QUARTER_MS */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "clock_ns.h"

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;)
        usleep(200);
    return NULL;
}

int main(int argc, char **argv)
{
    long quarters = argc > 1 ? atol(argv[1]) : 0;
    pthread_t t;
    pthread_create(&t, NULL, sleeper, NULL);
    usleep(1000);
    long long end = now_ns() + quarters * 250000LL;
    volatile unsigned long x = 0;
    while (now_ns() < end)
        x++;
    puts("done");
    return 0;
}
