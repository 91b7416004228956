/* Direct futex(2) use through syscall(): WAIT/WAKE, WAIT_BITSET with an absolute timeout on
 * both clocks, WAKE_BITSET waking only matching waiters, REQUEUE and CMP_REQUEUE (including
 * its EAGAIN), EAGAIN for a changed value, EINVAL for a bad timespec and a zero bitset —
 * private and shared futexes. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long fx(atomic_uint *addr, int op, unsigned val, const struct timespec *ts, atomic_uint *addr2, unsigned val3)
{
    return syscall(SYS_futex, addr, op, val, ts, addr2, val3);
}

static const char *res(long r)
{
    static char buf[32];
    if (r >= 0) { snprintf(buf, sizeof buf, "%ld", r); return buf; }
    return errno == EAGAIN ? "EAGAIN" : errno == ETIMEDOUT ? "ETIMEDOUT" : errno == EINVAL ? "EINVAL" : strerror(errno);
}

static atomic_uint word, word2, woken;
static unsigned bits[4] = {1, 2, 4, 8};

static void *waiter(void *arg)
{
    int op = (int)(long)arg;
    while (atomic_load(&word) == 0)
        fx(&word, op, 0, NULL, NULL, 0);
    atomic_fetch_add(&woken, 1);
    return NULL;
}

static void *bit_waiter(void *arg)
{
    unsigned b = *(unsigned *)arg;
    fx(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, NULL, b);
    atomic_fetch_or(&woken, b);
    return NULL;
}

static void *requeue_waiter(void *arg)
{
    (void)arg;
    fx(&word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0); /* requeued onto word2, woken there */
    atomic_fetch_add(&woken, 1);
    return NULL;
}

static void settle(void) { usleep(100000); } /* natively, let the waiters reach the kernel */

int main(void)
{
    pthread_t t[8];
    struct timespec ts, now;

    for (int shared = 0; shared < 2; shared++) {
        int op = shared ? FUTEX_WAIT : FUTEX_WAIT_PRIVATE;
        int wake = shared ? FUTEX_WAKE : FUTEX_WAKE_PRIVATE;
        atomic_store(&word, 0);
        atomic_store(&woken, 0);
        for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, waiter, (void *)(long)op);
        settle();
        atomic_store(&word, 1);
        long n = fx(&word, wake, 16, NULL, NULL, 0);
        for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
        printf("%s: WAKE woke %s of 4 waiters, all done %d\n", shared ? "shared" : "private", n == 4 ? "4" : "some", (int)woken);
    }

    atomic_store(&word, 5);
    printf("WAIT on changed value: %s\n", res(fx(&word, FUTEX_WAIT_PRIVATE, 4, NULL, NULL, 0)));
    printf("WAIT bad timespec: %s\n", res(fx(&word, FUTEX_WAIT_PRIVATE, 5, &(struct timespec){0, 1000000000}, NULL, 0)));
    printf("WAIT_BITSET bitset 0: %s\n", res(fx(&word, FUTEX_WAIT_BITSET_PRIVATE, 5, NULL, NULL, 0)));
    long long t0;
    clock_gettime(CLOCK_MONOTONIC, &now);
    t0 = now.tv_sec * 1000000000LL + now.tv_nsec;
    printf("WAIT relative 20ms: %s", res(fx(&word, FUTEX_WAIT_PRIVATE, 5, &(struct timespec){0, 20000000}, NULL, 0)));
    clock_gettime(CLOCK_MONOTONIC, &now);
    printf(", long enough %s\n", now.tv_sec * 1000000000LL + now.tv_nsec - t0 >= 20000000 ? "yes" : "no");
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += 20000000;
    if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
    printf("WAIT_BITSET abs MONOTONIC: %s\n", res(fx(&word, FUTEX_WAIT_BITSET_PRIVATE, 5, &ts, NULL, ~0u)));
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 20000000;
    if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
    printf("WAIT_BITSET abs REALTIME: %s\n", res(fx(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 5, &ts, NULL, ~0u)));

    /* WAKE_BITSET wakes only waiters whose bitset intersects. */
    atomic_store(&word, 0);
    atomic_store(&woken, 0);
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, bit_waiter, &bits[i]);
    settle();
    long n = fx(&word, FUTEX_WAKE_BITSET_PRIVATE, 16, NULL, NULL, 2 | 8);
    settle();
    printf("WAKE_BITSET 0b1010 woke %ld, bits now %#x\n", n, (unsigned)woken);
    fx(&word, FUTEX_WAKE_BITSET_PRIVATE, 16, NULL, NULL, ~0u);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    printf("WAKE_BITSET bitset 0: %s\n", res(fx(&word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0)));

    /* REQUEUE: wake 1, move 2 onto word2, wake those from word2. */
    atomic_store(&word, 0);
    atomic_store(&woken, 0);
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, requeue_waiter, NULL);
    settle();
    printf("CMP_REQUEUE with a stale value: %s\n",
           res(syscall(SYS_futex, &word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)(uintptr_t)2, &word2, 7)));
    n = syscall(SYS_futex, &word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)(uintptr_t)2, &word2, 0);
    settle();
    printf("CMP_REQUEUE woke+moved %ld, woken so far %d\n", n, (int)woken);
    printf("WAKE on the old word finds %ld\n", fx(&word, FUTEX_WAKE_PRIVATE, 16, NULL, NULL, 0));
    n = fx(&word2, FUTEX_WAKE_PRIVATE, 16, NULL, NULL, 0);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    printf("WAKE on word2 woke %ld, all done %d\n", n, (int)woken);
    atomic_store(&woken, 0);
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, requeue_waiter, NULL);
    settle();
    n = syscall(SYS_futex, &word, FUTEX_REQUEUE_PRIVATE, 0, (void *)(uintptr_t)8, &word2, 0);
    printf("REQUEUE moved %ld\n", n);
    fx(&word2, FUTEX_WAKE_PRIVATE, 16, NULL, NULL, 0);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    printf("requeued waiters done %d\n", (int)woken);
    return 0;
}
