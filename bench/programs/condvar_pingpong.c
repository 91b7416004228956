/* Two threads hand a turn back and forth with a mutex + condition variable: ns per one-way
 * hand-off (a wake-up and a switch). */
#include <pthread.h>
#include "common.h"

#define N 200000
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int turn;

static void *player(void *arg)
{
    int me = (int)(long)arg;
    pthread_mutex_lock(&m);
    for (int i = 0; i < N; i++) {
        while (turn != me) pthread_cond_wait(&c, &m);
        turn = !me;
        pthread_cond_signal(&c);
    }
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    double t0 = now_s();
    pthread_create(&a, NULL, player, (void *)0L);
    pthread_create(&b, NULL, player, (void *)1L);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    result("condvar_pingpong", (now_s() - t0) / (2.0 * N) * 1e9, "ns");
    return 0;
}
