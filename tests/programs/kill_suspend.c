/* pthread_kill of a thread on its way into sigsuspend, many times over. The target keeps
 * SIGUSR1 blocked except inside sigsuspend, so natively the signal is never lost: it waits
 * blocked until sigsuspend opens the mask. The argument picks another call that applies a mask
 * for its wait and waits for nothing else: ppoll, pselect or epoll_pwait (-1 EINTR, as
 * sigsuspend), or "read", a read of a pipe by a thread that never blocks the signal: there the
 * signal may come before the read starts, natively too, so once its handler has run the sender
 * also writes a byte into the pipe, which ends a read the signal did not end (that read
 * returns it, and a read that the signal did end leaves it to the next one); a lost signal
 * still stalls its round. A second argument "foreign" makes the sender a thread that is not
 * green (glibc's SIGEV_THREAD timer thread), which races the target on one carrier too;
 * "process" sends it with kill() to the process (main blocks it, so only the target in its
 * wait takes it: under
 * libgreen it lands on a carrier and is routed, and sent again to the target's carrier when the
 * target runs there; a third thread, which blocks it too, keeps yielding meanwhile so that no
 * carrier goes idle: a signal sent to a carrier that has moved on to a thread blocking it would
 * stay pending there, lost to the target). With several carriers (GREEN_HUBS=2) main sends it
 * from another OS thread at the moment the target's sigsuspend unblocks it, which is the race
 * between the sender's kick (sigroute.rs) and the target delivering the signal to itself: a
 * round whose signal is lost would leave the target suspended for good, and so would a handler
 * that runs as the target enters the wait without ending it. Each step of a round waits at most
 * 5 s, and a round that stalls is reported (exit 1) instead of hanging. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "clock_ns.h"

#define ROUNDS 20000

static atomic_int entering, handled;
static pthread_t target_id;
static atomic_int wrong_thread;

static void on_usr1(int sig)
{
    (void)sig;
    if (!pthread_equal(pthread_self(), target_id)) atomic_fetch_add(&wrong_thread, 1);
    atomic_fetch_add(&handled, 1);
}

static const char *call = "sigsuspend";
static atomic_int not_eintr;

static int pipe_fds[2];
static int reading;

/* One wait with `open` as the mask, for nothing but a signal ("read": for a signal or the
 * sender's byte, with the signal unblocked throughout). */
static int masked_wait(const sigset_t *open, int epfd)
{
    if (reading) {
        char c;
        return read(pipe_fds[0], &c, 1);
    }
    if (!strcmp(call, "ppoll")) return ppoll(NULL, 0, NULL, open);
    if (!strcmp(call, "pselect")) return pselect(0, NULL, NULL, NULL, NULL, open);
    if (!strcmp(call, "epoll_pwait")) {
        struct epoll_event ev;
        return epoll_pwait(epfd, &ev, 1, -1, open);
    }
    return sigsuspend(open);
}

static void *suspender(void *arg)
{
    (void)arg;
    sigset_t open;
    pthread_sigmask(SIG_SETMASK, NULL, &open);
    sigdelset(&open, SIGUSR1);
    if (reading) pthread_sigmask(SIG_SETMASK, &open, NULL);
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    for (int r = 1; r <= ROUNDS; r++) {
        atomic_store(&entering, r);
        while (atomic_load(&handled) < r) {
            int got = masked_wait(&open, epfd);
            if ((got != -1 || errno != EINTR) && !(reading && got == 1)) atomic_fetch_add(&not_eintr, 1);
        }
    }
    close(epfd);
    return NULL;
}

/* Waits until *v reaches r; after 5 s reports `what` and exits 1. */
static void wait_for(atomic_int *v, int r, const char *what)
{
    long long give_up = now_ns() + 5000000000LL;
    while (atomic_load(v) < r) {
        if (now_ns() > give_up) {
            printf("round %d of %s: %s (handler runs: %d, on another thread: %d)\n", r, call, what, atomic_load(&handled),
                   atomic_load(&wrong_thread));
            fflush(stdout);
            _exit(1);
        }
        sched_yield();
    }
}

static int process_directed;
static atomic_int stop_spinning;

/* "process": keeps a carrier busy with SIGUSR1 blocked (inherited from main). */
static void *spinner(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_spinning)) sched_yield();
    return NULL;
}

static void send_rounds(void)
{
    for (int r = 1; r <= ROUNDS; r++) {
        wait_for(&entering, r, "the handler of the last round ran, but the wait did not return");
        if (process_directed) kill(getpid(), SIGUSR1);
        else pthread_kill(target_id, SIGUSR1);
        wait_for(&handled, r, "the signal was lost");
        if (reading && write(pipe_fds[1], "x", 1) != 1) _exit(2);
    }
}

static void send_rounds_notify(union sigval v)
{
    (void)v;
    send_rounds();
}

int main(int argc, char **argv)
{
    if (argc > 1) call = argv[1];
    reading = !strcmp(call, "read");
    if (pipe(pipe_fds)) return 2;
    process_directed = argc > 2 && !strcmp(argv[2], "process");
    struct sigaction sa = {.sa_handler = on_usr1};
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL); /* inherited: blocked until sigsuspend */
    pthread_create(&target_id, NULL, suspender, NULL);
    if (argc > 2 && !strcmp(argv[2], "foreign")) {
        /* The sender is a thread glibc starts for a SIGEV_THREAD timer: never green, it runs
         * beside the only carrier and kills the target as soon as the last round's handler ran,
         * while the target is on its way into its next wait. */
        struct sigevent ev = {.sigev_notify = SIGEV_THREAD, .sigev_notify_function = send_rounds_notify};
        timer_t tm;
        timer_create(CLOCK_MONOTONIC, &ev, &tm);
        struct itimerspec once = {.it_value = {0, 1000000}};
        timer_settime(tm, 0, &once, NULL);
        pthread_join(target_id, NULL);
        timer_delete(tm);
    } else {
        pthread_t spin;
        if (process_directed) pthread_create(&spin, NULL, spinner, NULL);
        send_rounds();
        pthread_join(target_id, NULL);
        if (process_directed) {
            atomic_store(&stop_spinning, 1);
            pthread_join(spin, NULL);
        }
    }
    printf("%s callers signalled as they entered: %d rounds, %d handler runs, %d on another thread, %d returns "
           "other than EINTR\n",
           call, ROUNDS, atomic_load(&handled), atomic_load(&wrong_thread), atomic_load(&not_eintr));
    return 0;
}
