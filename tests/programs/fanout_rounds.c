/* A pump thread fans one byte out to each of 16 worker threads per round, over one stream
 * socketpair each, and waits until the last of them reports back over its own socketpair; 2000
 * rounds. Under the preload each round is two waits in epoll (the pump parks, the 16 bytes
 * wake the workers; the last worker's report wakes the pump), and the run queue is never empty
 * between them: the fairness turn's peek in epoll, due every 64 scheduling decisions, would
 * find nothing the next wait does not (the run's epoll_waits are checked in tests/run.sh).
 * Prints what every worker received. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define WORKERS 16
#define ROUNDS 2000

static int pairs[WORKERS][2], done[2];
static int finished; /* workers done with the current round (atomic builtins) */
static long received[WORKERS];

static void *worker(void *arg)
{
    int i = (int)(long)arg;
    char c;
    for (int r = 0; r < ROUNDS; r++) {
        if (read(pairs[i][1], &c, 1) != 1) {
            perror("worker read");
            exit(1);
        }
        received[i] += c;
        if (__atomic_add_fetch(&finished, 1, __ATOMIC_ACQ_REL) == WORKERS) {
            __atomic_store_n(&finished, 0, __ATOMIC_RELEASE);
            if (write(done[1], "d", 1) != 1) {
                perror("worker write");
                exit(1);
            }
        }
    }
    return NULL;
}

int main(void)
{
    pthread_t t[WORKERS];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, done)) {
        perror("socketpair");
        return 1;
    }
    for (long i = 0; i < WORKERS; i++) {
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, pairs[i]) || pthread_create(&t[i], NULL, worker, (void *)i)) {
            perror("setup");
            return 1;
        }
    }
    char c;
    for (int r = 0; r < ROUNDS; r++) {
        char b = (char)(r % 7 + 1);
        for (int i = 0; i < WORKERS; i++) {
            if (write(pairs[i][0], &b, 1) != 1) {
                perror("pump write");
                return 1;
            }
        }
        if (read(done[0], &c, 1) != 1) {
            perror("pump read");
            return 1;
        }
    }
    long total = 0;
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(t[i], NULL);
        total += received[i];
    }
    printf("rounds=%d workers=%d total=%ld\n", ROUNDS, WORKERS, total);
    return 0;
}
