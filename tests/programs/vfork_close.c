/* A vfork child that closes fds before its exec (what CPython's subprocess does: close_range
 * of everything above the pipes it keeps) must not disturb the parent's waits. Under the
 * preload the child shares the parent's memory, including the runtime's fd table and the
 * hub's epoll instance, but has an fd table of its own: its closes once made the runtime
 * forget the parent's fds and take their epoll registrations away, so a thread waiting in
 * waitpid for another child (a pidfd) and one reading a pipe never woke (a hang). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int pipe_fds[2];

static void *reaper(void *arg)
{
    pid_t pid = (pid_t)(long)arg;
    int status = 0;
    pid_t r = waitpid(pid, &status, 0);
    printf("waitpid for the first child: %s, exit status %d\n", r == pid ? "reaped" : "failed",
           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    char buf[32] = "";
    ssize_t n = read(pipe_fds[0], buf, sizeof buf - 1);
    printf("the pipe reader got %zd bytes: %s\n", n, n > 0 ? buf : "-");
    return NULL;
}

int main(void)
{
    if (pipe(pipe_fds))
        return 1;
    pid_t first = fork();
    if (first == 0) {
        usleep(200000);
        _exit(7);
    }
    pthread_t a, b;
    pthread_create(&a, NULL, reaper, (void *)(long)first);
    pthread_create(&b, NULL, reader, NULL);
    usleep(50000); /* both wait: one for the first child, one for the pipe */
    for (int round = 0; round < 2; round++) {
        pid_t child = vfork();
        if (child == 0) {
            /* CPython's child: close what it does not keep, then exec. */
            if (round == 0) {
                close(pipe_fds[0]);
                close_range(3, ~0U, 0);
            } else {
                closefrom(3);
            }
            execl("/bin/true", "true", (char *)NULL);
            _exit(127);
        }
        int status;
        waitpid(child, &status, 0);
        printf("vfork child %d: exit status %d\n", round, WEXITSTATUS(status));
    }
    if (write(pipe_fds[1], "after the vforks", 16) != 16)
        return 1;
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 0;
}
