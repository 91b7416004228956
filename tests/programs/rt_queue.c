/* Real-time signals sent to the process queue, one delivery per send with its own value, as
 * natively, while every thread waits (under libgreen the hub is idle in epoll and takes them):
 * - four POSIX timers (SIGEV_SIGNAL, SIGRTMIN, each with its own sival_int) expiring at the same
 *   instant: the handler runs four times and sees each timer's value;
 * - a child process sigqueue()s 40 values of SIGRTMIN+1 to its parent at once: the handler runs
 *   40 times, with the values in the order sent (the kernel's queue is FIFO);
 * - a standard signal (SIGUSR1) sent 5 times at once by the child merges, as natively: at
 *   least once, at most 5 (the count is not printed: natively it depends on timing too);
 * - 40 values of SIGRTMIN+2 (handled, but blocked) to a main waiting in sigwaitinfo: each call
 *   returns the next, in order, with SI_QUEUE and the child's pid; the handler never runs.
 * Meanwhile main waits in pthread_join (a thread sleeps). Under libgreen the
 * runtime kept one slot per signal: a second real-time signal arriving before the first was
 * delivered merged with it, and values were lost. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SENDS 40

/* Atomic: a process-directed signal may run the handler on two threads at once. */
static int n_timer, n_queued;
static volatile sig_atomic_t n_usr1;
static int timer_vals[16], queued_vals[64];

static void on_rt(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (sig == SIGRTMIN) {
        int i = __atomic_fetch_add(&n_timer, 1, __ATOMIC_SEQ_CST);
        if (i < 16) timer_vals[i] = si->si_value.sival_int;
    } else {
        int i = __atomic_fetch_add(&n_queued, 1, __ATOMIC_SEQ_CST);
        if (i < 64) queued_vals[i] = si->si_value.sival_int;
    }
}

static void on_usr1(int sig) { (void)sig; n_usr1++; }

/* Blocks the real-time signals: main alone takes them, so its handler runs them in order. */
static void *sleeper(void *a)
{
    sigset_t rt;
    sigemptyset(&rt);
    for (int s = SIGRTMIN; s <= SIGRTMIN + 2; s++) sigaddset(&rt, s);
    pthread_sigmask(SIG_BLOCK, &rt, NULL);
    usleep((useconds_t)(long)a);
    return NULL;
}

/* main waits in pthread_join for a thread that sleeps `us`. */
static void wait_a_while(long us)
{
    pthread_t t;
    pthread_create(&t, NULL, sleeper, (void *)us);
    pthread_join(t, NULL);
}

/* Sleeps in steps until `*n` reaches `want` (at most 5 s): the count, not the timing, is what
 * is checked (under load a sender may come after main's wait). */
static void await_count(int *n, int want)
{
    for (int i = 0; i < 500 && __atomic_load_n(n, __ATOMIC_SEQ_CST) < want; i++)
        usleep(10000);
}

static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

int main(void)
{
    struct sigaction sa = {.sa_sigaction = on_rt, .sa_flags = SA_SIGINFO | SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGRTMIN, &sa, NULL);
    sigaction(SIGRTMIN + 1, &sa, NULL);
    struct sigaction su = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
    sigemptyset(&su.sa_mask);
    sigaction(SIGUSR1, &su, NULL);

    /* Four timers, one expiry instant. */
    timer_t timers[4];
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    struct itimerspec at = {.it_value = {now.tv_sec, now.tv_nsec + 50 * 1000000L}};
    if (at.it_value.tv_nsec >= 1000000000L) {
        at.it_value.tv_sec++;
        at.it_value.tv_nsec -= 1000000000L;
    }
    for (int i = 0; i < 4; i++) {
        struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN, .sigev_value.sival_int = 100 + i};
        if (timer_create(CLOCK_MONOTONIC, &ev, &timers[i])) { perror("timer_create"); return 1; }
    }
    for (int i = 0; i < 4; i++)
        timer_settime(timers[i], TIMER_ABSTIME, &at, NULL);
    wait_a_while(200000);
    await_count(&n_timer, 4);
    qsort(timer_vals, n_timer < 16 ? n_timer : 16, sizeof(int), cmp);
    printf("timers: %d signals, values", (int)n_timer);
    for (int i = 0; i < n_timer && i < 16; i++) printf(" %d", timer_vals[i]);
    printf("\n");

    /* A child's burst of sigqueue()s and kill()s. */
    pid_t parent = getpid(), child = fork();
    if (child == 0) {
        usleep(50000); /* the parent is in pthread_join by then */
        for (int i = 0; i < SENDS; i++) {
            union sigval v = {.sival_int = i};
            if (sigqueue(parent, SIGRTMIN + 1, v)) _exit(1);
        }
        for (int i = 0; i < 5; i++) kill(parent, SIGUSR1);
        _exit(0);
    }
    wait_a_while(200000);
    int st;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR) {}
    await_count(&n_queued, SENDS);
    int in_order = 1;
    for (int i = 0; i < n_queued && i < 64; i++) in_order &= queued_vals[i] == i;
    printf("sigqueue burst: child exit %d, %d of %d signals, %s\n", WEXITSTATUS(st), (int)n_queued, SENDS, in_order ? "values in order" : "values out of order");
    printf("SIGUSR1 x5: %s\n", n_usr1 >= 1 && n_usr1 <= 5 ? "delivered, merged or not" : "wrong count");

    /* The same burst to a main that blocks the signal (it has a handler) and sigwaitinfo()s. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 2);
    sigaction(SIGRTMIN + 2, &sa, NULL);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    child = fork();
    if (child == 0) {
        usleep(50000);
        for (int i = 0; i < SENDS; i++) {
            union sigval v = {.sival_int = 1000 + i};
            if (sigqueue(parent, SIGRTMIN + 2, v)) _exit(1);
        }
        _exit(0);
    }
    int waited = 0, ordered = 1;
    for (int i = 0; i < SENDS; i++) {
        siginfo_t si;
        if (sigwaitinfo(&set, &si) != SIGRTMIN + 2) { perror("sigwaitinfo"); break; }
        ordered &= si.si_value.sival_int == 1000 + i && si.si_code == SI_QUEUE && si.si_pid == child;
        waited++;
    }
    while (waitpid(child, &st, 0) < 0 && errno == EINTR) {}
    printf("sigwaitinfo burst: child exit %d, %d of %d taken, %s; handler ran %d times\n", WEXITSTATUS(st), waited, SENDS,
           ordered ? "values, codes and sender right" : "a value, code or sender wrong", (int)n_queued - SENDS);
    return 0;
}
