/* fork with 50 other threads alive: in the child only the forking thread exists (the others
 * must not run there), it can start threads of its own and exits 0; the parent's threads are
 * unaffected. Then a fork from a non-main thread: the child's only thread returns from its
 * start routine and the child process exits 0, as when a process's last thread ends. */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define N 50
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go, woke;

static void *waiter(void *arg)
{
    long i = (long)arg;
    pthread_mutex_lock(&mu);
    while (!go) pthread_cond_wait(&cv, &mu);
    woke++;
    pthread_mutex_unlock(&mu);
    if (getpid() != (pid_t)(long)i) { /* never true: i is an index, not a pid */ }
    return NULL;
}

static void *child_thread(void *arg)
{
    return (void *)((long)arg * 2);
}

static void *forker(void *arg)
{
    (void)arg;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t t;
        void *r;
        pthread_create(&t, NULL, child_thread, (void *)21L);
        pthread_join(t, &r);
        printf("grandchild-side: forked from a thread, own thread returned %ld\n", (long)r);
        fflush(stdout);
        return NULL; /* the child's last thread ends: the child exits 0 */
    }
    int st;
    waitpid(pid, &st, 0);
    printf("fork from a thread: child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return NULL;
}

int main(void)
{
    pthread_t t[N];
    for (long i = 0; i < N; i++) pthread_create(&t[i], NULL, waiter, (void *)i);
    usleep(20000); /* let them all wait */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        /* Only this thread exists here: releasing the waiters must wake nobody. */
        pthread_mutex_lock(&mu);
        go = 1;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
        usleep(50000);
        pthread_t c[3];
        long sum = 0;
        for (long k = 0; k < 3; k++) pthread_create(&c[k], NULL, child_thread, (void *)k);
        for (int k = 0; k < 3; k++) {
            void *r;
            pthread_join(c[k], &r);
            sum += (long)r;
        }
        printf("child: waiters that woke here %d, own threads sum %ld\n", woke, sum);
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("parent: child exited %d\n", WEXITSTATUS(st));
    pthread_mutex_lock(&mu);
    go = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < N; i++) pthread_join(t[i], NULL);
    printf("parent: waiters woke %d\n", woke);
    pthread_t f;
    pthread_create(&f, NULL, forker, NULL);
    pthread_join(f, NULL);
    return 0;
}
