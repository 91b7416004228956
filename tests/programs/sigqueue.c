/* pthread_sigqueue to threads, as natively:
 * - three SIGRTMIN values queued to a thread that blocks it, then unblocks it: the SA_SIGINFO
 *   handler runs three times, in order, each with SI_QUEUE, its value and our pid;
 * - three values queued to a thread waiting in sigwaitinfo: each call returns the next, in order;
 * - a standard signal (SIGUSR2) queued twice while blocked is delivered once, with the first value;
 * - a value queued by a thread to itself runs the handler before pthread_sigqueue returns;
 * - a value queued to main, which waits in a nanosleep, interrupts it (EINTR);
 * - signal 0 is a check only (0); 65 and glibc's SIGCANCEL (32) and SIGSETXID (33) give EINVAL.
 * Under libgreen glibc's own pthread_sigqueue sent to the TCB's kernel tid, which a green thread
 * does not have. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int got[8], ngot;
static int codes_ok = 1;
static void on_sig(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (si->si_code != SI_QUEUE || si->si_pid != getpid() || si->si_signo != sig)
        codes_ok = 0;
    if (ngot < 8)
        got[ngot++] = si->si_value.sival_int;
}

static void handle(int sig)
{
    struct sigaction sa = {.sa_sigaction = on_sig, .sa_flags = SA_SIGINFO};
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void block(int sig, int how)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    pthread_sigmask(how, &s, NULL);
}

static void send(pthread_t t, int sig, int v)
{
    union sigval val = {.sival_int = v};
    int r = pthread_sigqueue(t, sig, val);
    if (r)
        printf("  pthread_sigqueue(%d, %d): %s\n", sig, v, strerror(r));
}

static void show(const char *what)
{
    printf("  %s: %d handler run(s):", what, ngot);
    for (int i = 0; i < ngot; i++)
        printf(" %d", got[i]);
    printf("%s\n", codes_ok ? " (SI_QUEUE, our pid)" : " (wrong siginfo)");
    ngot = 0;
}

static volatile int sent, done;
static void *blocked_then_open(void *a)
{
    int sig = *(int *)a;
    block(sig, SIG_BLOCK);
    __atomic_store_n(&done, 1, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(&sent, __ATOMIC_SEQ_CST))
        usleep(1000);
    block(sig, SIG_UNBLOCK); /* the queued ones run here, in order */
    return NULL;
}

static void *waiter(void *a)
{
    (void)a;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGRTMIN + 1);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    __atomic_store_n(&done, 1, __ATOMIC_SEQ_CST);
    for (int i = 0; i < 3; i++) {
        siginfo_t si;
        int r = sigwaitinfo(&s, &si);
        printf("  sigwaitinfo: %s, value %d, %s\n", r == SIGRTMIN + 1 ? "SIGRTMIN+1" : "other",
               si.si_value.sival_int, si.si_code == SI_QUEUE && si.si_pid == getpid() ? "SI_QUEUE, our pid" : "wrong siginfo");
    }
    return NULL;
}

static void *to_self(void *a)
{
    (void)a;
    send(pthread_self(), SIGRTMIN, 77);
    printf("  to itself: %d handler run(s) before pthread_sigqueue returned, value %d\n", ngot, ngot ? got[0] : -1);
    ngot = 0;
    return NULL;
}

static pthread_t main_thread;
static void *poke_main(void *a)
{
    (void)a;
    usleep(50000);
    send(main_thread, SIGRTMIN, 5);
    return NULL;
}

static void wait_done(void)
{
    while (!__atomic_load_n(&done, __ATOMIC_SEQ_CST))
        usleep(1000);
}

int main(void)
{
    handle(SIGRTMIN);
    handle(SIGUSR2);
    pthread_t t;

    printf("real-time, blocked then unblocked:\n");
    int sig = SIGRTMIN;
    done = sent = 0;
    pthread_create(&t, NULL, blocked_then_open, &sig);
    wait_done();
    for (int v = 1; v <= 3; v++)
        send(t, SIGRTMIN, v);
    __atomic_store_n(&sent, 1, __ATOMIC_SEQ_CST);
    pthread_join(t, NULL);
    show("SIGRTMIN");

    printf("standard, queued twice while blocked:\n");
    sig = SIGUSR2;
    done = sent = 0;
    pthread_create(&t, NULL, blocked_then_open, &sig);
    wait_done();
    send(t, SIGUSR2, 10);
    send(t, SIGUSR2, 20);
    __atomic_store_n(&sent, 1, __ATOMIC_SEQ_CST);
    pthread_join(t, NULL);
    show("SIGUSR2");

    printf("sigwaitinfo:\n");
    done = 0;
    pthread_create(&t, NULL, waiter, NULL);
    wait_done();
    for (int v = 100; v <= 300; v += 100)
        send(t, SIGRTMIN + 1, v);
    pthread_join(t, NULL);

    printf("to itself:\n");
    pthread_create(&t, NULL, to_self, NULL);
    pthread_join(t, NULL);

    printf("to main in nanosleep:\n");
    main_thread = pthread_self();
    pthread_create(&t, NULL, poke_main, NULL);
    struct timespec ts = {5, 0};
    int r = nanosleep(&ts, NULL);
    printf("  nanosleep: %s\n", r == 0 ? "0" : errno == EINTR ? "EINTR" : strerror(errno));
    pthread_join(t, NULL);
    show("main");

    printf("errors:\n");
    union sigval v = {.sival_int = 0};
    printf("  signal 0: %d, 65: %s, 32: %s, 33: %s\n", pthread_sigqueue(pthread_self(), 0, v),
           strerror(pthread_sigqueue(pthread_self(), 65, v)), strerror(pthread_sigqueue(pthread_self(), 32, v)),
           strerror(pthread_sigqueue(pthread_self(), 33, v)));
    return 0;
}
