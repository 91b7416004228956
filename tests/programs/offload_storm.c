/* Many completions from offload workers in a row: eight threads each fsync their own small
 * file 1500 times. Every completion is a wake-up from an OS thread that is not a carrier; with
 * several carriers each one must reach a carrier idle in epoll. One lost wake-up leaves its
 * thread parked with every carrier idle: the run hangs (and the harness's timeout fails it). */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#define THREADS 8
#define ROUNDS 1500

static void *syncer(void *arg)
{
    long id = (long)arg, bad = 0;
    char path[64];
    snprintf(path, sizeof path, "/tmp/green_storm_%d_%ld", getpid(), id);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    for (int r = 0; r < ROUNDS; r++) {
        if (pwrite(fd, &r, sizeof r, 0) != sizeof r) bad++;
        if (fsync(fd) != 0) bad++;
    }
    close(fd);
    unlink(path);
    return (void *)bad;
}

int main(void)
{
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, syncer, (void *)i);
    long bad = 0;
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad += (long)r;
    }
    printf("%d threads x %d fsyncs, bad %ld\n", THREADS, ROUNDS, bad);
    return 0;
}
