/* Threads that keep every carrier busy yielding (sched_yield in a loop, as a spin-wait on a
 * flag does) while another thread waits for a pipe that a child process writes 100 ms later.
 * Natively the reader wakes when the byte arrives and sets the flag that ends the spinning.
 * Under libgreen the hub hears of a ready fd from epoll, which it used to ask only when a
 * carrier went idle: with a spinner on every carrier none ever did, and the reader (and so the
 * whole program) waited for good (a run that misses the byte is ended by the test's timeout).
 * Argument: the number of spinners besides main (default 1). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int arrived;
static int fds[2];

static void *reader(void *arg)
{
    (void)arg;
    char c = 0;
    ssize_t n = read(fds[0], &c, 1);
    printf("reader: read %zd byte '%c'\n", n, c);
    atomic_store(&arrived, 1);
    return NULL;
}

static void *spinner(void *arg)
{
    (void)arg;
    while (!atomic_load(&arrived)) sched_yield();
    return NULL;
}

int main(int argc, char **argv)
{
    int spinners = argc > 1 ? atoi(argv[1]) : 1;
    if (pipe(fds) != 0) return 1;
    pthread_t r, s[8];
    pthread_create(&r, NULL, reader, NULL);
    for (int i = 0; i < spinners && i < 8; i++) pthread_create(&s[i], NULL, spinner, NULL);
    pid_t child = fork();
    if (child == 0) {
        usleep(100000);
        ssize_t w = write(fds[1], "x", 1);
        _exit(w == 1 ? 0 : 1);
    }
    while (!atomic_load(&arrived)) sched_yield();
    pthread_join(r, NULL);
    for (int i = 0; i < spinners && i < 8; i++) pthread_join(s[i], NULL);
    int status;
    waitpid(child, &status, 0);
    printf("spinners stopped; child exit %d\n", WEXITSTATUS(status));
    return 0;
}
