/* errno, __thread variables and pthread_self() are per thread, across sleeps that switch to
 * other threads (checked through non-inlined calls, since compilers may cache &errno). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#define N 50
static __thread int counter;
static __thread char tag[32] = "initial";
static int failures;
static pthread_t selves[N];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t all_here = PTHREAD_COND_INITIALIZER;
static int arrived;

__attribute__((noinline)) static int read_errno(void) { return errno; }
__attribute__((noinline)) static int *errno_addr(void) { return &errno; }
__attribute__((noinline)) static int *counter_addr(void) { return &counter; }

static void fail(const char *what, int i)
{
    pthread_mutex_lock(&mu);
    failures++;
    printf("thread %d: %s\n", i, what);
    pthread_mutex_unlock(&mu);
}

static void *worker(void *arg)
{
    int i = (int)(intptr_t)arg;
    if (counter != 0 || tag[0] != 'i') fail("TLS not initialised", i);
    selves[i] = pthread_self();
    snprintf(tag, sizeof tag, "thread-%d", i);
    int *e = errno_addr();
    for (int round = 0; round < 5; round++) {
        errno = 1000 + i * 10 + round;
        counter++;
        usleep(1000 * ((i + round) % 4));
        if (read_errno() != 1000 + i * 10 + round) fail("errno changed across a switch", i);
        if (errno_addr() != e) fail("&errno moved", i);
        if (*counter_addr() != round + 1) fail("__thread counter changed", i);
        if (!pthread_equal(pthread_self(), selves[i])) fail("pthread_self changed", i);
    }
    char want[32];
    snprintf(want, sizeof want, "thread-%d", i);
    for (int k = 0; want[k] || tag[k]; k++)
        if (want[k] != tag[k]) { fail("__thread string changed", i); break; }
    /* Stay alive until every thread recorded its pthread_self, so ids cannot be reused. */
    pthread_mutex_lock(&mu);
    if (++arrived == N)
        pthread_cond_broadcast(&all_here);
    while (arrived < N)
        pthread_cond_wait(&all_here, &mu);
    pthread_mutex_unlock(&mu);
    return (void *)(intptr_t)counter;
}

int main(void)
{
    pthread_t th[N];
    errno = 77;
    for (int i = 0; i < N; i++)
        pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
    long sum = 0;
    for (int i = 0; i < N; i++) {
        void *r;
        pthread_join(th[i], &r);
        sum += (long)(intptr_t)r;
    }
    int distinct = 1;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            if (pthread_equal(selves[i], selves[j])) distinct = 0;
    printf("main errno still %d, main counter %d, main tag %s\n", read_errno(), counter, tag);
    printf("sum of per-thread counters %ld, distinct pthread_self %d, failures %d\n", sum, distinct, failures);
    return failures != 0;
}
