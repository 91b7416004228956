/* pthread_cancel of threads blocked in sleep, pthread_cond_wait (cleanup runs with the mutex
 * held), read on an empty pipe, sem_wait and pthread_join; a thread with cancellation disabled
 * finishes its sleep and is cancelled at the next testcancel; join gives PTHREAD_CANCELED. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sem_t sem, disabled_now;
static int pipefd[2];
static char log_buf[256];

static void note(void *what)
{
    strcat(log_buf, (const char *)what);
    strcat(log_buf, " ");
}

static void unlock_note(void *m)
{
    /* The mutex must be held by us here (cancelled cond_wait re-locks it first). */
    if (pthread_mutex_trylock(m) == 0) strcat(log_buf, "[mutex was NOT held] ");
    else strcat(log_buf, "cond(mutex held) ");
    pthread_mutex_unlock(m);
}

static void *in_sleep(void *a) { (void)a; pthread_cleanup_push(note, "sleep"); sleep(100); pthread_cleanup_pop(0); return NULL; }
static void *in_read(void *a)
{
    (void)a;
    char c;
    pthread_cleanup_push(note, "read");
    read(pipefd[0], &c, 1);
    pthread_cleanup_pop(0);
    return NULL;
}
static void *in_sem(void *a) { (void)a; pthread_cleanup_push(note, "sem"); sem_wait(&sem); pthread_cleanup_pop(0); return NULL; }
static void *in_cond(void *a)
{
    (void)a;
    pthread_mutex_lock(&mu);
    pthread_cleanup_push(unlock_note, &mu);
    for (;;) pthread_cond_wait(&cv, &mu);
    pthread_cleanup_pop(0);
    return NULL;
}
static pthread_t join_target;
static void *in_join(void *a) { (void)a; pthread_cleanup_push(note, "join"); pthread_join(join_target, NULL); pthread_cleanup_pop(0); return NULL; }
static void *disabled(void *a)
{
    (void)a;
    int old;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    sem_post(&disabled_now);
    usleep(50000);
    strcat(log_buf, "disabled-slept-through ");
    pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
    pthread_cleanup_push(note, "testcancel");
    pthread_testcancel();
    pthread_cleanup_pop(0);
    return NULL;
}

static const char *how(void *r) { return r == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "returned"; }

int main(void)
{
    pthread_t t;
    void *r;
    pipe(pipefd);
    sem_init(&sem, 0, 0);
    void *(*fns[])(void *) = {in_sleep, in_read, in_sem, in_cond};
    const char *names[] = {"sleep", "read", "sem_wait", "cond_wait"};
    for (int i = 0; i < 4; i++) {
        pthread_create(&t, NULL, fns[i], NULL);
        usleep(20000);
        pthread_cancel(t);
        pthread_join(t, &r);
        printf("%-10s -> %s\n", names[i], how(r));
    }
    pthread_create(&join_target, NULL, in_sleep, NULL);
    pthread_create(&t, NULL, in_join, NULL);
    usleep(20000);
    pthread_cancel(t);
    pthread_join(t, &r);
    printf("%-10s -> %s\n", "join", how(r));
    pthread_cancel(join_target);
    pthread_join(join_target, &r);
    printf("%-10s -> %s (still joinable after its joiner was cancelled)\n", "target", how(r));
    sem_init(&disabled_now, 0, 0);
    pthread_create(&t, NULL, disabled, NULL);
    sem_wait(&disabled_now); /* cancel only once it has disabled cancellation */
    pthread_cancel(t);
    pthread_join(t, &r);
    printf("%-10s -> %s\n", "disabled", how(r));
    printf("cleanup: %s\n", log_buf);
    return 0;
}
