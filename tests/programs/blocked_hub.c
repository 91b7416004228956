/* Calls no hook can make cooperative, while a ticker thread wants to run: a raw
 * syscall(SYS_read) on an empty pipe, then fwscanf on a pipe (the wide scanf family refills its
 * stream through glibc's internal read, which libgreen does not see; fgets, scanf and fgetws
 * now wait cooperatively). A native
 * child fills each pipe after ~300 ms. Under the preload the hub is blocked meanwhile, and the
 * watchdog must name the thread and its call on stderr (run.sh checks that); stdout is the same
 * as native. Between the two, with every thread joined, the process is back to one OS thread
 * (the idle watchdog leaves; the second round starts another). Last, the waiting thread is a
 * pipe reader parked on its fd (no timer anywhere) whose data comes while another thread
 * blocks the hub in a raw read: the watchdog sees the ready fd. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <dirent.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wchar.h>

#include "os_threads.h"
#include "ticker.h"

/* A child that writes `msg` into the pipe after `ms` milliseconds. */
static pid_t fill_later(int fd, const char *msg, int ms)
{
    pid_t p = fork();
    if (p == 0) {
        usleep((useconds_t)ms * 1000);
        if (write(fd, msg, strlen(msg)) < 0)
            _exit(1);
        _exit(0);
    }
    return p;
}

static void *raw_reader(void *arg)
{
    int fd = *(int *)arg;
    char c = 0;
    long n = syscall(SYS_read, fd, &c, 1);
    printf("raw read: %ld byte(s): %c\n", n, c);
    return NULL;
}

static void *wide_reader(void *arg)
{
    FILE *f = fdopen(*(int *)arg, "r");
    wchar_t word[64];
    if (!f || fwscanf(f, L"%63ls", word) != 1)
        return (void *)1;
    printf("fwscanf: %ls\n", word);
    fclose(f);
    return NULL;
}

static void run(void *(*reader)(void *), const char *name, const char *msg)
{
    int p[2];
    pthread_t tk, rd;
    int st;
    if (pipe(p) != 0)
        return;
    pid_t child = fill_later(p[1], msg, 300);
    ticking = 1;
    pthread_create(&tk, NULL, ticker, NULL);
    pthread_setname_np(tk, "ticker");
    pthread_create(&rd, NULL, reader, &p[0]);
    pthread_setname_np(rd, name);
    void *r;
    pthread_join(rd, &r);
    ticking = 0;
    pthread_join(tk, NULL);
    waitpid(child, &st, 0);
    printf("%s: reader %s, child exit %d\n", name, r ? "failed" : "ok", WEXITSTATUS(st));
    close(p[1]);
    if (reader == raw_reader)
        close(p[0]);
}

static int fd_pipe[2], raw_pipe[2];
static char fd_got, raw_got;

static void *pipe_reader(void *arg)
{
    (void)arg;
    if (read(fd_pipe[0], &fd_got, 1) != 1)
        fd_got = '?';
    return NULL;
}

static void *blocker(void *arg)
{
    (void)arg;
    if (syscall(SYS_read, raw_pipe[0], &raw_got, 1) != 1)
        raw_got = '?';
    return NULL;
}

/* The pipe reader's data comes after 50 ms, the blocker's after 350 ms. */
static void fd_round(void)
{
    pthread_t a, b;
    int st;
    if (pipe(fd_pipe) != 0 || pipe(raw_pipe) != 0)
        return;
    pid_t child = fork();
    if (child == 0) {
        usleep(50000);
        if (write(fd_pipe[1], "y", 1) != 1)
            _exit(1);
        usleep(300000);
        _exit(write(raw_pipe[1], "z", 1) == 1 ? 0 : 1);
    }
    pthread_create(&a, NULL, pipe_reader, NULL);
    pthread_setname_np(a, "pipe-reader");
    pthread_create(&b, NULL, blocker, NULL);
    pthread_setname_np(b, "blocker");
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    waitpid(child, &st, 0);
    printf("pipe reader got %c, blocker got %c, child exit %d\n", fd_got, raw_got, WEXITSTATUS(st));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    run(raw_reader, "raw-reader", "x");
    long long deadline = now_ms() + 10000;
    while (os_threads() > 1 && now_ms() < deadline) usleep(20000);
    printf("OS threads between the rounds: %d\n", os_threads());
    run(wide_reader, "wide-reader", "a-word\n");
    fd_round();
    return 0;
}
