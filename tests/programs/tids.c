/* gettid() and syscall(SYS_gettid) give each thread a distinct id, stable for its life, equal
 * to the pid for the main thread; set_tid_address (given back the thread's own address, as
 * stress-ng --pthread does) returns that same id. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define N 20
static pid_t tids[N];
static int unstable, settid_wrong;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int arrived;

static void *worker(void *arg)
{
    int i = (int)(long)arg;
    tids[i] = gettid();
    usleep(1000 * (i % 3));
    if (syscall(SYS_gettid) != tids[i] || gettid() != tids[i]) unstable++;
    unsigned long addr = 0;
    if (prctl(PR_GET_TID_ADDRESS, &addr) == 0 && addr && syscall(SYS_set_tid_address, addr) != tids[i]) settid_wrong++;
    pthread_mutex_lock(&mu); /* all alive together: kernel tids cannot be reused */
    if (++arrived == N) pthread_cond_broadcast(&cv);
    while (arrived < N) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

int main(void)
{
    pthread_t t[N];
    for (long i = 0; i < N; i++) pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < N; i++) pthread_join(t[i], NULL);
    int distinct = 1, not_main = 1;
    for (int i = 0; i < N; i++) {
        if (tids[i] == getpid()) not_main = 0;
        for (int j = i + 1; j < N; j++)
            if (tids[i] == tids[j]) distinct = 0;
    }
    printf("main tid == pid: %s, thread tids distinct: %s, none equals the pid: %s, stable: %s\n",
           gettid() == getpid() && syscall(SYS_gettid) == getpid() ? "yes" : "no", distinct ? "yes" : "no",
           not_main ? "yes" : "no", unstable ? "no" : "yes");
    printf("set_tid_address returned the thread's tid: %s\n", settid_wrong ? "no" : "yes");
    return 0;
}
