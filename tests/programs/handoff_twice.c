/* Hand-off and back, twice. main computes for 150 ms, twice, 250 ms apart, while three threads
 * keep the runtime busy: a ticker sleeping in 5 ms steps, two threads ping-ponging a turn
 * through a mutex and condition variable, and one fsyncing a scratch file (its wake-ups come
 * from an offload worker, a thread that is not a carrier). Under the preload each stall hands
 * the others to a second carrier; once main parks again the extra carrier gives way to carrier
 * 0, which then runs everything in one carrier's unlocked sections until the next stall
 * (tests/run.sh wants handoffs=2+ and one_carrier_again=2+). Natively the threads simply run
 * beside main.
 *
 * stdout is deterministic and compared with native: the ticker ticked during each stall, the
 * ping-pong never saw a turn out of order, every fsync succeeded. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "clock_ns.h"

#define STALL_MS 150
#define GAP_MS 250
#define MAX_TICKS 4096

static atomic_int stop;
static long long tick_at[MAX_TICKS];
static int ticks;
static long long stall_from[2], stall_to[2];

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn;            /* whose move: 0 or 1 */
static long moves;
static int out_of_order;

static int fsync_failed;
static long fsyncs;

static void *ticker(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop) && ticks < MAX_TICKS) {
        usleep(5000);
        tick_at[ticks++] = now_ns();
    }
    return NULL;
}

static void *player(void *arg)
{
    int me = (int)(long)arg;
    pthread_mutex_lock(&mu);
    while (!atomic_load(&stop)) {
        while (turn != me && !atomic_load(&stop))
            pthread_cond_wait(&cv, &mu);
        if (atomic_load(&stop))
            break;
        if (moves % 2 != me)
            out_of_order++;
        moves++;
        turn = 1 - me;
        pthread_cond_broadcast(&cv);
    }
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void *syncer(void *arg)
{
    int fd = *(int *)arg;
    while (!atomic_load(&stop)) {
        if (write(fd, "x", 1) != 1 || fsync(fd) != 0)
            fsync_failed++;
        fsyncs++;
        usleep(2000);
    }
    return NULL;
}

static void compute_ms(int ms)
{
    long long end = now_ns() + ms * 1000000LL;
    volatile unsigned long x = 0;
    while (now_ns() < end)
        for (int i = 0; i < 1000; i++)
            x += i;
}

int main(void)
{
    char path[] = "/tmp/handoff_twice.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("mkstemp");
        return 1;
    }
    unlink(path);
    pthread_t tk, p0, p1, sy;
    pthread_create(&tk, NULL, ticker, NULL);
    pthread_create(&p0, NULL, player, (void *)0L);
    pthread_create(&p1, NULL, player, (void *)1L);
    pthread_create(&sy, NULL, syncer, &fd);
    for (int k = 0; k < 2; k++) {
        usleep(GAP_MS * 1000);
        stall_from[k] = now_ns();
        compute_ms(STALL_MS);
        stall_to[k] = now_ns();
    }
    usleep(GAP_MS * 1000);
    atomic_store(&stop, 1);
    pthread_mutex_lock(&mu);
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(tk, NULL);
    pthread_join(p0, NULL);
    pthread_join(p1, NULL);
    pthread_join(sy, NULL);
    close(fd);

    for (int k = 0; k < 2; k++) {
        int during = 0;
        for (int i = 0; i < ticks; i++)
            during += tick_at[i] > stall_from[k] && tick_at[i] <= stall_to[k];
        /* 30 ticks fit in a stall; 10 leave room for a slow machine and the hand-off's 10 ms. */
        printf("stall %d: ticker ticked meanwhile: %s\n", k + 1, during >= 10 ? "yes" : "no");
        if (during < 10)
            fprintf(stderr, "handoff_twice: stall %d saw %d ticks\n", k + 1, during);
    }
    printf("ping-pong moves in order: %s\n", out_of_order == 0 && moves > 0 ? "yes" : "no");
    printf("fsyncs all succeeded: %s\n", fsync_failed == 0 && fsyncs > 0 ? "yes" : "no");
    return 0;
}
