/* Four threads that only compute: each hashes its own 64 KiB buffer (filled by xorshift from its
 * index) a fixed number of rounds with FNV-1a, folding each round's digest back into the buffer
 * so no round can be skipped, then main prints the four digests in thread-index order. No call
 * parks: with one carrier the threads run one after the other, with GREEN_HUBS=2 two at a time.
 * The output is the same whatever the schedule (tests/run.sh compares native, GREEN_HUBS=1 and
 * GREEN_HUBS=2; bench/hubs.sh times them).
 *
 * usage: cpu_hash [ROUNDS]   (default 60000: about 0.5 s per thread natively on the 2-vCPU VM) */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 4
#define WORDS (64 * 1024 / 8)

static long rounds = 60000;

struct job {
    int index;
    uint64_t digest;
};

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *hash_thread(void *arg)
{
    struct job *j = arg;
    uint64_t *buf = malloc(WORDS * sizeof *buf);
    uint64_t seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(j->index + 1);
    uint64_t h = 0xcbf29ce484222325ULL;
    if (!buf)
        return (void *)1;
    for (int i = 0; i < WORDS; i++) buf[i] = xorshift(&seed);
    for (long r = 0; r < rounds; r++) {
        for (int i = 0; i < WORDS; i++) {
            h ^= buf[i];
            h *= 0x100000001b3ULL;
        }
        buf[r % WORDS] ^= h;
    }
    j->digest = h;
    free(buf);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t t[THREADS];
    struct job jobs[THREADS];
    if (argc > 1 && (rounds = atol(argv[1])) <= 0) {
        fprintf(stderr, "usage: %s [ROUNDS > 0]\n", argv[0]);
        return 2;
    }
    for (int i = 0; i < THREADS; i++) {
        jobs[i].index = i;
        if (pthread_create(&t[i], NULL, hash_thread, &jobs[i]) != 0) {
            perror("pthread_create");
            return 1;
        }
    }
    int failed = 0;
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        failed |= r != NULL;
    }
    for (int i = 0; i < THREADS; i++) printf("thread %d: %016" PRIx64 "\n", i, jobs[i].digest);
    return failed;
}
