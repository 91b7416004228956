/* Process-shared semaphores, in glibc's own layout:
 * - sem_init's private word is glibc's (0 for a private semaphore, 128 for a shared one), so a
 *   native process and a preloaded one agree on what a shared sem_t in shared memory is;
 * - a named semaphore (sem_open: glibc initialises it as shared) waited on by a forked child
 *   that has no other thread and posted by the parent, then the other way round (CPython's
 *   multiprocessing.Lock; under the preload the lone waiter was taken for a deadlock: the
 *   semaphore was read as private, so nothing polled for the other process's post);
 * - the same semaphore shared with a native process (this program exec'd without
 *   LD_PRELOAD): our post wakes its sem_wait in the kernel, its post ends our wait. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char name[64], back_name[72];

/* A thread blocked on a pipe while the processes talk, so the main thread is not the only one
 * (the runtime makes a lone thread's waits in the kernel). */
static void *bystander(void *arg)
{
    char c;
    return (void *)(long)read(*(int *)arg, &c, 1);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The native peer: waits for the parent's post on `name`, then posts `back_name` 100 ms later. */
static int peer(void)
{
    sem_t *s = sem_open(name, 0), *back = sem_open(back_name, 0);
    if (s == SEM_FAILED || back == SEM_FAILED)
        return 2;
    if (sem_wait(s))
        return 3;
    usleep(100000);
    sem_post(back);
    return 0;
}

static void child_waits(sem_t *s)
{
    pid_t pid = fork();
    if (pid == 0) {
        double t0 = now();
        int r = sem_wait(s);
        /* The parent posts 100 ms after the fork; a wait that ended only at a later poll
         * would still come in well under a second. */
        _exit(r == 0 && now() - t0 < 2.0 ? 0 : 1);
    }
    usleep(100000);
    sem_post(s);
    int status;
    waitpid(pid, &status, 0);
    printf("a forked child's sem_wait, posted by the parent: %s\n",
           WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "woken" : "failed");
}

static void parent_waits(sem_t *s)
{
    pid_t pid = fork();
    if (pid == 0) {
        usleep(100000);
        sem_post(s);
        _exit(0);
    }
    int r = sem_wait(s);
    int status;
    waitpid(pid, &status, 0);
    printf("the parent's sem_wait, posted by a forked child: %d\n", r);
}

static void native_peer(sem_t *s, sem_t *back, const char *self)
{
    pid_t pid = fork();
    if (pid == 0) {
        unsetenv("LD_PRELOAD");
        execl(self, self, "peer", name, (char *)NULL);
        _exit(127);
    }
    usleep(100000); /* the peer is in its sem_wait */
    sem_post(s);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    int r = sem_timedwait(back, &ts);
    int status;
    waitpid(pid, &status, 0);
    printf("a native process: woken by our post: %s; its post ended our wait: %s\n",
           WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "yes" : "no", r == 0 ? "yes" : strerror(errno));
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "peer")) {
        snprintf(name, sizeof name, "%s", argv[2]);
        snprintf(back_name, sizeof back_name, "%s-back", name);
        return peer();
    }
    int quiet[2];
    if (pipe(quiet))
        return 1;
    pthread_t t;
    pthread_create(&t, NULL, bystander, &quiet[0]);

    sem_t priv, shared;
    sem_init(&priv, 0, 0);
    sem_init(&shared, 1, 0);
    printf("sem_init's private word: %d for a private semaphore, %d for a shared one\n", ((int *)&priv)[2],
           ((int *)&shared)[2]);

    snprintf(name, sizeof name, "/libgreen-sem-shared-%d", getpid());
    snprintf(back_name, sizeof back_name, "%s-back", name);
    sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0600, 0), *back = sem_open(back_name, O_CREAT | O_EXCL, 0600, 0);
    if (s == SEM_FAILED || back == SEM_FAILED) {
        perror("sem_open");
        return 1;
    }
    child_waits(s);
    parent_waits(s);
    native_peer(s, back, argv[0]);
    sem_unlink(name);
    sem_unlink(back_name);
    close(quiet[1]);
    pthread_join(t, NULL);
    return 0;
}
