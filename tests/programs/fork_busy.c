/* fork while other threads keep the runtime's queues, timers and pools changing: three threads
 * sleep 1 µs and yield in turn, and a fourth creates and joins threads, while main forks 300
 * times. Each child sleeps, starts a thread of its own that writes a byte into a pipe, joins it
 * and exits 0; the parent reads the byte and reaps the child.
 * With several carriers another one may be half-way through a run-queue pop, a timer push or a
 * pool change at the fork, and the child inherits that: its sleeping thread, woken into a torn
 * run queue, was never run again (the deadlock report aborted the child, or it hung). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int stop;

static void *churner(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        usleep(1);
        sched_yield();
    }
    return NULL;
}

static void *nothing(void *arg)
{
    return arg;
}

static void *creator(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        pthread_t t;
        if (pthread_create(&t, NULL, nothing, NULL) == 0) pthread_join(t, NULL);
    }
    return NULL;
}

static void *child_writer(void *arg)
{
    int fd = (int)(long)arg;
    return (void *)(long)write(fd, "x", 1);
}

int main(int argc, char **argv)
{
    int forks = argc > 1 ? atoi(argv[1]) : 300;
    pthread_t busy[4];
    for (int i = 0; i < 3; i++) pthread_create(&busy[i], NULL, churner, NULL);
    pthread_create(&busy[3], NULL, creator, NULL);
    int ok = 0;
    for (int i = 0; i < forks; i++) {
        int fds[2];
        if (pipe(fds) != 0) return 1;
        pid_t pid = fork();
        if (pid == 0) {
            usleep(200);
            pthread_t w;
            void *wrote = NULL;
            if (pthread_create(&w, NULL, child_writer, (void *)(long)fds[1]) != 0) _exit(2);
            pthread_join(w, &wrote);
            _exit(wrote == (void *)1L ? 0 : 3);
        }
        close(fds[1]);
        char c = 0;
        ssize_t r = read(fds[0], &c, 1);
        close(fds[0]);
        int status = 0;
        waitpid(pid, &status, 0);
        if (r == 1 && c == 'x' && WIFEXITED(status) && WEXITSTATUS(status) == 0)
            ok++;
        else
            printf("fork %d: read %zd, child status %#x\n", i, r, status);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 4; i++) pthread_join(busy[i], NULL);
    printf("%d forks, %d children wrote their byte from a thread of their own and exited 0\n", forks, ok);
    return ok == forks ? 0 : 1;
}
