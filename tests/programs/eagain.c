/* pthread_create reports EAGAIN when there is no memory left for another thread's stack
 * (address space limited with RLIMIT_AS), and the threads already created still run and join. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;

static void *hold(void *arg)
{
    pthread_mutex_lock(&gate);
    pthread_mutex_unlock(&gate);
    return arg;
}

int main(void)
{
    struct rlimit rl = {1UL << 30, 1UL << 30};
    if (setrlimit(RLIMIT_AS, &rl) != 0) { perror("setrlimit"); return 1; }
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 192UL << 20);
    pthread_t th[64];
    int n = 0, err = 0;
    pthread_mutex_lock(&gate);
    while (n < 64) {
        err = pthread_create(&th[n], &a, hold, (void *)(long)(n + 1));
        if (err) break;
        n++;
    }
    pthread_mutex_unlock(&gate);
    long sum = 0;
    for (int i = 0; i < n; i++) {
        void *r;
        pthread_join(th[i], &r);
        sum += (long)r;
    }
    printf("created some: %s, then failed with %s, joined values ok: %s\n", n > 0 ? "yes" : "no",
           err == EAGAIN ? "EAGAIN" : "something else", sum == (long)n * (n + 1) / 2 ? "yes" : "no");
    return 0;
}
