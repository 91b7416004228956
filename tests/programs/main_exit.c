/* main calls pthread_exit: the process lives until its other threads finish, then exits 0. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *late(void *arg)
{
    long i = (long)arg;
    usleep(50000 * i);
    printf("thread %ld finished after main exited\n", i);
    fflush(stdout);
    return NULL;
}

int main(void)
{
    pthread_t t;
    for (long i = 1; i <= 3; i++) {
        pthread_create(&t, NULL, late, (void *)i);
        pthread_detach(t);
    }
    printf("main exits\n");
    fflush(stdout);
    pthread_exit(NULL);
}
