/* accept() of connections already queued on a listener: a child process connects N clients,
 * each sends its number, and then tells the parent through a pipe; a thread of the parent accepts
 * all N, checks each number and answers it, and the child checks the answers. Under libgreen an accept
 * that finds a connection queued costs one zero-timeout poll and the accept4 (it made two polls
 * before), and the accepted socket is known from its listener without being classified (an
 * fstat, an F_GETFL and three getsockopts each before): tests/run.sh counts these with strace,
 * from the fd numbers printed on stderr. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loopback_listener.h"

#define N 20

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void child(const struct sockaddr_in *at, int ready)
{
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0 || connect(fds[i], (const struct sockaddr *)at, sizeof *at))
            die("child connect");
        char msg[16];
        int n = snprintf(msg, sizeof msg, "%d\n", i);
        if (write(fds[i], msg, (size_t)n) != n)
            die("child write");
    }
    if (write(ready, "r", 1) != 1)
        die("child ready");
    for (int i = 0; i < N; i++) {
        char want[16], got[16] = {0};
        int n = snprintf(want, sizeof want, "ok %d\n", i);
        int have = 0;
        while (have < n) {
            ssize_t r = read(fds[i], got + have, (size_t)(n - have));
            if (r <= 0)
                die("child read");
            have += (int)r;
        }
        if (memcmp(got, want, (size_t)n))
            exit(2);
        close(fds[i]);
    }
    exit(0);
}

static int good;

/* Accepts the N queued connections, checks each number and answers it. */
static void *acceptor(void *arg)
{
    int l = (int)(long)arg, seen[N] = {0};
    for (int i = 0; i < N; i++) {
        int s = accept(l, NULL, NULL);
        if (s < 0)
            die("accept");
        fprintf(stderr, "accepted fd %d\n", s);
        char buf[16] = {0};
        int have = 0;
        while (have == 0 || buf[have - 1] != '\n') {
            ssize_t r = read(s, buf + have, sizeof buf - 1 - (size_t)have);
            if (r <= 0)
                die("parent read");
            have += (int)r;
        }
        int k = atoi(buf);
        if (k >= 0 && k < N && !seen[k]) {
            seen[k] = 1;
            good++;
        }
        char ans[16];
        int n = snprintf(ans, sizeof ans, "ok %d\n", k);
        if (write(s, ans, (size_t)n) != n)
            die("parent write");
        close(s);
    }
    return NULL;
}

int main(void)
{
    struct sockaddr_in at;
    int l = loopback_listener(&at);
    int p[2];
    if (pipe(p))
        die("pipe");
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        close(p[0]);
        child(&at, p[1]);
    }
    close(p[1]);
    char c;
    if (read(p[0], &c, 1) != 1)
        die("parent ready");
    /* Every connection is queued now (loopback completes the handshake inside connect). */
    fprintf(stderr, "listener fd %d child %d\n", l, (int)pid);
    pthread_t t;
    if (pthread_create(&t, NULL, acceptor, (void *)(long)l) || pthread_join(t, NULL))
        die("acceptor");
    int st;
    if (waitpid(pid, &st, 0) != pid)
        die("waitpid");
    printf("accepted %d queued connections, %d distinct numbers, child exit %d\n", N, good,
           WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return good == N && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
