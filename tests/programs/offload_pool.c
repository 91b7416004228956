/* Eight threads start together and each writes and fsyncs its own file three times: the fsyncs
 * overlap, so the offload pool grows to its bound (GREEN_OFFLOAD_THREADS) and queues the rest;
 * every file must hold what was written. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THREADS 8
#define ROUNDS 3
#define SIZE (1 << 20)
static pthread_barrier_t start;

static void *syncer(void *arg)
{
    long id = (long)arg;
    char path[64];
    snprintf(path, sizeof path, "/tmp/green_pool_%d_%ld", getpid(), id);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    unsigned char *b = malloc(SIZE);
    long bad = 0;
    pthread_barrier_wait(&start);
    for (int r = 0; r < ROUNDS; r++) {
        memset(b, (int)(id * 16 + r), SIZE);
        if (pwrite(fd, b, SIZE, 0) != SIZE) bad++;
        if (fsync(fd) != 0) bad++;
    }
    memset(b, 0, SIZE);
    if (pread(fd, b, SIZE, 0) != SIZE) bad++;
    for (int i = 0; i < SIZE; i++) bad += b[i] != (unsigned char)(id * 16 + ROUNDS - 1);
    close(fd);
    unlink(path);
    free(b);
    return (void *)bad;
}

int main(void)
{
    pthread_t t[THREADS];
    pthread_barrier_init(&start, NULL, THREADS);
    for (long i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, syncer, (void *)i);
    long bad = 0;
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad += (long)r;
    }
    printf("%d threads x %d fsyncs of 1 MiB, bad %ld\n", THREADS, ROUNDS, bad);
    return 0;
}
