/* gevent's first example, as pthreads: two threads that sleep 2 s and 1 s.
 * Natively: two OS threads, ~2 s. Under libgreen: one OS thread, still ~2 s. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *eat(void *arg)
{
    (void)arg;
    printf("Start eating\n");
    fflush(stdout);
    sleep(2);
    printf("End eating\n");
    fflush(stdout);
    return NULL;
}

static void *play(void *arg)
{
    (void)arg;
    printf("Start playing\n");
    fflush(stdout);
    sleep(1);
    printf("End playing\n");
    fflush(stdout);
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    pthread_create(&a, NULL, eat, NULL);
    pthread_create(&b, NULL, play, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("done\n");
    return 0;
}
