/* system() and popen()+pclose() while another thread keeps ticking: the ticks go on while the
 * child runs (the wait does not stall the other threads), and the statuses are glibc's: exit
 * codes, a signal death, 127 for a shell that cannot run the command, system(NULL). During
 * system() SIGINT is ignored process-wide and SIGCHLD blocked in the calling thread only; both
 * are restored after. popen in both directions: what the child writes is read back, what we
 * write reaches it, and pclose returns its status. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ticker.h"

static void on_int(int sig) { (void)sig; }

static volatile int sampled_ign = -1, sampled_chld_blocked = -1;
static void *sampler(void *arg)
{
    (void)arg;
    usleep(100000); /* while main is in system("sleep 0.3") */
    struct sigaction sa;
    sigaction(SIGINT, NULL, &sa);
    sampled_ign = sa.sa_handler == SIG_IGN;
    sigset_t m;
    pthread_sigmask(SIG_BLOCK, NULL, &m);
    sampled_chld_blocked = sigismember(&m, SIGCHLD);
    return NULL;
}

static void *sys_thread(void *cmd) { return (void *)(long)system(cmd); }

static void report(const char *what, int st)
{
    if (WIFEXITED(st))
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("%s: killed by signal %d\n", what, WTERMSIG(st));
    else
        printf("%s: status %#x\n", what, st);
}

int main(void)
{
    pthread_t tk, sp;
    signal(SIGINT, on_int);
    pthread_create(&tk, NULL, ticker, NULL);
    usleep(10000);

    int t0 = ticks;
    pthread_create(&sp, NULL, sampler, NULL);
    int st = system("sleep 0.3; exit 3");
    int during = ticks - t0;
    pthread_join(sp, NULL);
    report("system(sleep; exit 3)", st);
    printf("ticks went on during system: %s\n", during >= 20 ? "yes" : "no");
    printf("during system: SIGINT ignored %d, SIGCHLD blocked in another thread %d\n", sampled_ign, sampled_chld_blocked);
    struct sigaction sa;
    sigaction(SIGINT, NULL, &sa);
    sigset_t m;
    pthread_sigmask(SIG_BLOCK, NULL, &m);
    printf("after system: SIGINT handler restored %d, SIGCHLD blocked here %d\n", sa.sa_handler == on_int, sigismember(&m, SIGCHLD));

    report("system(kill -TERM $$)", system("kill -TERM $$"));
    report("system(exit 300)", system("exit 300"));
    report("system(no such command)", system("/nonexistent/command 2>/dev/null"));
    printf("system(NULL): %d\n", system(NULL));

    /* popen for reading: the child writes a line, then takes 0.3 s to exit. */
    FILE *f = popen("echo hello from the child; sleep 0.3; exit 5", "r");
    char line[128] = "";
    if (!fgets(line, sizeof line, f)) strcpy(line, "(nothing)\n");
    printf("popen r read: %s", line);
    t0 = ticks;
    st = pclose(f);
    during = ticks - t0;
    report("pclose(r)", st);
    printf("ticks went on during pclose(r): %s\n", during >= 20 ? "yes" : "no");

    /* popen for writing: the child counts our bytes after EOF, then takes 0.3 s to exit. */
    f = popen("n=$(wc -c); sleep 0.3; exit $((n % 256))", "w");
    for (int i = 0; i < 1000; i++) fputs("0123456789", f); /* 10000 bytes: 10000 % 256 = 16 */
    t0 = ticks;
    st = pclose(f);
    during = ticks - t0;
    report("pclose(w)", st);
    printf("ticks went on during pclose(w): %s\n", during >= 20 ? "yes" : "no");

    /* Two threads in system() at once: both statuses right, SIGINT restored by the last. */
    pthread_t a, b;
    void *ra, *rb;
    pthread_create(&a, NULL, sys_thread, "sleep 0.2; exit 6");
    pthread_create(&b, NULL, sys_thread, "sleep 0.1; exit 7");
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    report("concurrent system A", (int)(long)ra);
    report("concurrent system B", (int)(long)rb);
    sigaction(SIGINT, NULL, &sa);
    printf("after both: SIGINT handler restored %d\n", sa.sa_handler == on_int);
    ticking = 0;
    pthread_join(tk, NULL);
    return 0;
}
