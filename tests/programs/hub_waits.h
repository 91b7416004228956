/* Shared by the tests that take fds away from under the runtime (close_all, dup_onto_all): a
 * round of the two waits the hub serves, one on a pipe and one on a timer, to show it still
 * serves them. The pipe (`hub_pipe`) is left open. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static int hub_pipe[2];
static void *sleeper(void *a) { (void)a; usleep(20000); return NULL; }
static void *reader(void *a)
{
    (void)a;
    char c = 0;
    return (void *)(long)(read(hub_pipe[0], &c, 1) == 1 ? c : -1);
}

/* A reader and a sleeper wait while main writes `c` 20 ms later; prints what was read. */
static void waits(const char *after, char c)
{
    pthread_t r, s;
    if (pipe(hub_pipe)) { perror("pipe"); return; }
    pthread_create(&r, NULL, reader, NULL);
    pthread_create(&s, NULL, sleeper, NULL);
    usleep(20000);
    if (write(hub_pipe[1], &c, 1) != 1) perror("write");
    void *got;
    pthread_join(r, &got);
    pthread_join(s, NULL);
    printf("  after %s: read '%c', slept\n", after, (char)(long)got);
}
