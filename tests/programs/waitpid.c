/* Waiting for child processes from threads: waitpid on one child, wait() for any child,
 * waitid(P_PID), and WNOHANG, all while a ticker thread keeps running; ECHILD with no children. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ticker.h"


static pid_t spawn(int ms, int code)
{
    pid_t p = fork();
    if (p == 0) {
        usleep((useconds_t)ms * 1000);
        _exit(code);
    }
    return p;
}

static void *waiter(void *arg)
{
    pid_t p = (pid_t)(long)arg;
    int st;
    pid_t r = waitpid(p, &st, 0);
    return (void *)(long)(r == p && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(void)
{
    pthread_t tk, w;
    int st;
    pthread_create(&tk, NULL, ticker, NULL);

    pid_t a = spawn(80, 7);
    printf("WNOHANG before exit: %d\n", waitpid(a, &st, WNOHANG));
    pthread_create(&w, NULL, waiter, (void *)(long)a);
    void *code;
    pthread_join(w, &code);
    printf("waitpid in a thread: exit code %ld\n", (long)code);

    pid_t b = spawn(50, 3);
    pid_t r = wait(&st);
    printf("wait(): right child %s, exit code %d\n", r == b ? "yes" : "no", WEXITSTATUS(st));

    pid_t c = spawn(50, 9);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    int wr = waitid(P_PID, (id_t)c, &info, WEXITED);
    printf("waitid: %d, pid matches %s, status %d\n", wr, info.si_pid == c ? "yes" : "no", info.si_status);

    errno = 0;
    r = waitpid(-1, &st, 0);
    printf("waitpid with no children: %d %s\n", r, errno == ECHILD ? "ECHILD" : strerror(errno));
    ticking = 0;
    pthread_join(tk, NULL);
    printf("ticker ran during the waits: %s\n", ticks >= 40 ? "yes" : "no");
    return 0;
}
