/* greenlet's explicit-switching example, as pthreads handing control to each other through a
 * mutex and a condition variable ("switch_to" = greenlet's .switch()):
 *
 *     def test1(): print(12); gr2.switch(); print(34)
 *     def test2(): print(56); gr1.switch(); print(78)
 *     gr1.switch()          # prints 12 56 34
 *
 * greenlet leaves gr2 suspended forever; threads must end, so main switches to it once more
 * (78). The order is fixed by the hand-offs: identical natively (three OS threads) and under
 * libgreen (one OS thread). */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn = -1; /* who runs: 0 = main, 1 = test1, 2 = test2 */

/* Called with mu held: give the turn to `who`, wait until it comes back to `me`. */
static void switch_to(int me, int who)
{
    turn = who;
    pthread_cond_broadcast(&cv);
    while (turn != me)
        pthread_cond_wait(&cv, &mu);
}

static void *test1(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (turn != 1) pthread_cond_wait(&cv, &mu);
    printf("12\n");
    switch_to(1, 2);
    printf("34\n");
    turn = 0; /* returning from a greenlet switches to its parent */
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void *test2(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (turn != 2) pthread_cond_wait(&cv, &mu);
    printf("56\n");
    switch_to(2, 1);
    printf("78\n");
    turn = 0;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    pthread_create(&a, NULL, test1, NULL);
    pthread_create(&b, NULL, test2, NULL);
    pthread_mutex_lock(&mu);
    switch_to(0, 1); /* gr1.switch(): 12 56 34 */
    switch_to(0, 2); /* let gr2 finish: 78 */
    pthread_mutex_unlock(&mu);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 0;
}
