/* pthread_kill(main thread) from another thread: the handler runs on the main thread and cuts
 * its wait short, as natively. Found by CPython's test_socketserver (test_write): a thread
 * signals the main thread, which waits in send(); Python runs signal handlers only on the main
 * thread, so the handler must run there and the wait must see it. Under the preload the main
 * thread is green thread 0: the signal must stay pending on it and wake it, not be raised on
 * the OS thread (where it ran on whichever green thread was current, the sender).
 *  - main sleeps in nanosleep: the handler runs on main, nanosleep gives EINTR;
 *  - main reads an empty pipe (SA_RESTART handler): the handler runs on main, the read goes on
 *    and returns the bytes written after the signal. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_t main_thread;
static volatile sig_atomic_t on_main, on_other;
static int pipefd[2];

static void handler(int sig)
{
    (void)sig;
    if (pthread_equal(pthread_self(), main_thread))
        on_main++;
    else
        on_other++;
}

static void *signal_main(void *arg)
{
    usleep(50000); /* main is waiting by now */
    pthread_kill(main_thread, SIGUSR1);
    if (arg) { /* then let main's read finish */
        usleep(50000);
        if (write(pipefd[1], "hello", 5) != 5)
            exit(1);
    }
    return NULL;
}

int main(void)
{
    main_thread = pthread_self();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigaction(SIGUSR1, &sa, NULL);

    pthread_t t;
    pthread_create(&t, NULL, signal_main, NULL);
    struct timespec ts = { .tv_sec = 5 }, rem = { 0, 0 };
    int r = nanosleep(&ts, &rem);
    printf("nanosleep: %s, %s left, handler on main %d, elsewhere %d\n", r == 0 ? "0" : strerror(errno),
           rem.tv_sec >= 4 ? "> 4 s" : "< 4 s", on_main, on_other);
    pthread_join(t, NULL);

    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    on_main = on_other = 0;
    if (pipe(pipefd) != 0)
        return 1;
    pthread_create(&t, NULL, signal_main, "write");
    char buf[16];
    ssize_t n = read(pipefd[0], buf, sizeof buf);
    printf("read: %zd bytes, handler on main %d, elsewhere %d\n", n, on_main, on_other);
    pthread_join(t, NULL);
    return 0;
}
