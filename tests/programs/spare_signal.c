/* A signal sent to the process while main blocks it, once a hand-off is over: natively it stays
 * pending (every thread blocks it) until main's sigtimedwait takes it; the handler never runs.
 * Under libgreen a thread computes for 60 ms while another has work, so the watchdog hands that
 * work to a second carrier; when it is over, that carrier's OS thread waits as a spare for a
 * while, and it kept the signal mask of the last green thread it ran, which let the signal in:
 * the kernel gave it the signal, its handler ran there, on no green thread, and main's
 * sigtimedwait waited for a signal that had come and gone. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t handled;
static void on_usr1(int sig) { (void)sig; handled++; }

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void *compute(void *arg)
{
    (void)arg;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    volatile unsigned long x = 0;
    while (ms_since(&t0) < 60)
        for (int i = 0; i < 10000; i++) x += (unsigned long)i;
    return NULL;
}

static void *ticker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 40; i++) usleep(1000);
    return NULL;
}

int main(void)
{
    struct sigaction sa = {.sa_handler = on_usr1};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t c, t;
    pthread_create(&c, NULL, compute, NULL);
    pthread_create(&t, NULL, ticker, NULL);
    pthread_join(c, NULL);
    pthread_join(t, NULL);
    /* A few idle moments: the runtime goes back to one carrier. */
    for (int i = 0; i < 5; i++) usleep(5000);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    int took = 0;
    pid_t parent = getpid();
    for (int round = 0; round < 5; round++) {
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        /* Sent by a child while main runs (polls a non-blocking pipe for the child's "sent"),
         * so that main's carrier, which blocks it, is not where the kernel puts it. */
        int p[2];
        if (pipe2(p, O_NONBLOCK) != 0) return 2;
        pid_t child = fork();
        if (child == 0) {
            kill(parent, SIGUSR1);
            _exit(write(p[1], "s", 1) == 1 ? 0 : 1);
        }
        char b;
        while (read(p[0], &b, 1) != 1) {}
        waitpid(child, NULL, 0);
        close(p[0]);
        close(p[1]);
        struct timespec two = {2, 0};
        if (sigtimedwait(&set, NULL, &two) == SIGUSR1) took++;
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    }
    printf("5 rounds: sigtimedwait took SIGUSR1 %d times; the handler ran %d times\n", took, (int)handled);
    return took == 5 && handled == 0 ? 0 : 1;
}
