/* A process-shared mutex and condition variable in shared memory, used by a parent and its
 * forked child (which inherits the preload): they hand a counter back and forth 200 times. */
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared {
    pthread_mutex_t m;
    pthread_cond_t c;
    int turn;
    int value;
};

static void *helper(void *arg)
{
    (void)arg; /* a thread, so the native run has one to count */
    return NULL;
}

int main(void)
{
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&s->m, &ma);
    pthread_cond_init(&s->c, &ca);
    pthread_t t;
    pthread_create(&t, NULL, helper, NULL);
    pthread_join(t, NULL);
    pid_t pid = fork();
    int me = pid == 0 ? 1 : 0;
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&s->m);
        while (s->turn != me) pthread_cond_wait(&s->c, &s->m);
        s->value++;
        s->turn = !me;
        pthread_cond_signal(&s->c);
        pthread_mutex_unlock(&s->m);
    }
    if (pid == 0) _exit(0);
    int status;
    waitpid(pid, &status, 0);
    printf("value %d, child exit %d\n", s->value, WEXITSTATUS(status));
    return 0;
}
