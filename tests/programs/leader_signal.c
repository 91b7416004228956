/* A process-directed signal goes to main when main does not block it, as Linux does (the
 * thread-group leader first), even while other threads are the ones running: main waits in
 * pause() for SIGALRMs from an interval timer while two threads keep yielding. pause() returns
 * only when a handler ran in main; the kernel gives main nearly every alarm (under strace a
 * few go elsewhere, so the counts go to stderr, checked under the preload only, where main
 * must take every one). If workers took them all, main would pause
 * for ever. */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <unistd.h>

static pthread_t main_thread;
static volatile sig_atomic_t alarms, in_main, elsewhere;
static volatile int stop;

static void on_alarm(int sig) {
    (void)sig;
    alarms++;
    if (pthread_equal(pthread_self(), main_thread)) in_main++;
    else elsewhere++;
}

static void *spin(void *arg) {
    (void)arg;
    unsigned long n = 0;
    while (!stop) {
        n++;
        sched_yield();
    }
    return (void *)n;
}

int main(void) {
    main_thread = pthread_self();
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, spin, NULL);
    struct itimerval it = {{0, 20000}, {0, 20000}};
    setitimer(ITIMER_REAL, &it, NULL);
    while (alarms < 5)
        pause();
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    stop = 1;
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    printf("5 alarms or more; main took %s\n", in_main > 0 ? "some" : "none");
    fprintf(stderr, "leader_signal: in_main=%d elsewhere=%d\n", (int)in_main, (int)elsewhere);
    return 0;
}
