/* Two threads install different actions for one signal, over and over, while a third queries
 * it. The kernel serialises sigaction calls, so natively every query sees one whole action: the
 * handler with its own flags and mask, never one call's handler with the other's flags or mask.
 * Under libgreen the program's handler and flags are kept in the runtime and the kernel holds
 * the trampoline with the mask, so two calls on two carriers must not interleave either. At
 * the end the action is one whole action too, and a signal runs the handler it names. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define ROUNDS 100000

static atomic_int ran_a, ran_b, stop;

static void on_a(int sig)
{
    (void)sig;
    atomic_fetch_add(&ran_a, 1);
}

static void on_b(int sig, siginfo_t *info, void *uc)
{
    (void)sig;
    (void)info;
    (void)uc;
    atomic_fetch_add(&ran_b, 1);
}

static void action(struct sigaction *sa, int which)
{
    memset(sa, 0, sizeof *sa);
    sigemptyset(&sa->sa_mask);
    if (which == 0) {
        sa->sa_handler = on_a;
        sa->sa_flags = SA_RESTART;
        sigaddset(&sa->sa_mask, SIGUSR2);
    } else {
        sa->sa_sigaction = on_b;
        sa->sa_flags = SA_SIGINFO | SA_NODEFER;
        sigaddset(&sa->sa_mask, SIGTERM);
    }
}

/* 0: action a whole, 1: action b whole, -1: a mix of the two. */
static int which_action(const struct sigaction *o)
{
    int flags = o->sa_flags & (SA_RESTART | SA_SIGINFO | SA_NODEFER);
    if (o->sa_handler == on_a && flags == SA_RESTART && sigismember(&o->sa_mask, SIGUSR2) && !sigismember(&o->sa_mask, SIGTERM))
        return 0;
    if (o->sa_sigaction == on_b && flags == (SA_SIGINFO | SA_NODEFER) && sigismember(&o->sa_mask, SIGTERM) &&
        !sigismember(&o->sa_mask, SIGUSR2))
        return 1;
    return -1;
}

static void *setter(void *arg)
{
    int which = arg != NULL;
    struct sigaction sa, old;
    action(&sa, which);
    long mixed = 0;
    for (int i = 0; i < ROUNDS; i++) {
        if (sigaction(SIGUSR1, &sa, &old) != 0) return (void *)-1L;
        mixed += which_action(&old) < 0;
    }
    return (void *)mixed;
}

static void *querier(void *arg)
{
    (void)arg;
    struct sigaction old;
    long mixed = 0;
    while (!atomic_load(&stop)) {
        if (sigaction(SIGUSR1, NULL, &old) != 0) return (void *)-1L;
        mixed += which_action(&old) < 0;
    }
    return (void *)mixed;
}

int main(void)
{
    struct sigaction sa;
    action(&sa, 0);
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t a, b, q;
    pthread_create(&q, NULL, querier, NULL);
    pthread_create(&a, NULL, setter, NULL);
    pthread_create(&b, NULL, setter, (void *)1);
    void *ra, *rb, *rq;
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    atomic_store(&stop, 1);
    pthread_join(q, &rq);
    printf("old actions seen mixed: %ld by the setters, %ld by the querier\n", (long)ra + (long)rb, (long)rq);
    struct sigaction now;
    sigaction(SIGUSR1, NULL, &now);
    int w = which_action(&now);
    raise(SIGUSR1);
    int ran = w == 0 ? atomic_load(&ran_a) : atomic_load(&ran_b);
    printf("final action whole: %s; its handler ran: %s\n", w < 0 ? "no" : "yes", ran == 1 ? "yes" : "no");
    return (long)ra + (long)rb + (long)rq != 0 || w < 0 || ran != 1;
}
