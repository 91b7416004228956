/* Hand-off (issue #8): one thread spins on a volatile flag that another thread sets after
 * usleep(10000). The spinner never calls anything a hook sees, so with one carrier and no
 * hand-off the setter's timer can never be served and the program never ends (tests/run.sh runs
 * it under a timeout); with hand-off a spare carrier runs the setter and both finish. Natively
 * two OS threads, same output. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static volatile int flag;

static void *setter(void *arg)
{
    (void)arg;
    usleep(10000);
    flag = 1;
    return NULL;
}

static void *spinner(void *arg)
{
    (void)arg;
    while (!flag) {}
    return NULL;
}

int main(void)
{
    pthread_t s, p;
    pthread_create(&s, NULL, setter, NULL);
    pthread_create(&p, NULL, spinner, NULL);
    pthread_join(p, NULL);
    pthread_join(s, NULL);
    printf("the spinner saw the flag: %d\n", flag);
    return 0;
}
