/* sched_yield lets another thread run: a thread that yields until a flag set by another thread
 * appears must finish (on one OS thread it would spin forever if yield did not switch). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <threads.h>

static atomic_int flag, counter;

static void *waiter(void *arg)
{
    (void)arg;
    long spins = 0;
    while (!atomic_load(&flag)) {
        sched_yield();
        spins++;
    }
    return (void *)(long)(spins > 0);
}

static void *setter(void *arg)
{
    (void)arg;
    atomic_store(&flag, 1);
    return NULL;
}

static void *bump(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        atomic_fetch_add(&counter, 1);
        thrd_yield();
    }
    return NULL;
}

int main(void)
{
    pthread_t a, b, c[4];
    void *r;
    pthread_create(&a, NULL, waiter, NULL);
    sched_yield();
    pthread_create(&b, NULL, setter, NULL);
    pthread_join(a, &r);
    pthread_join(b, NULL);
    printf("waiter saw the flag\n");
    for (int i = 0; i < 4; i++) pthread_create(&c[i], NULL, bump, NULL);
    for (int i = 0; i < 4; i++) pthread_join(c[i], NULL);
    printf("counter %d\n", (int)counter);
    return 0;
}
