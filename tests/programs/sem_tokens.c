/* No semaphore unit is ever lost: threads take a semaphore (initial value 1) with
 * sem_trywait, a 10 µs sem_timedwait or sem_wait in turn, as stress-ng --sem does, and give it
 * back with sem_post; timed waits time out all the time while posts race with their expiry.
 * At the end the value must be 1 again and every acquisition matched by a post. Before the fix,
 * a timed wait whose timer fired just as a post landed took the unit and then retried, dropping
 * it: the value stayed 0 and every later wait timed out. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <time.h>

enum { THREADS = 4, ROUNDS = 200000 };
static sem_t sem;

static void *thrash(void *arg) {
    long taken = 0;
    int mode = (int)(long)arg;
    for (int r = 0; r < ROUNDS; r++) {
        for (;;) {
            mode = (mode + 1) % 3;
            if (mode == 0) {
                if (sem_trywait(&sem) == 0) break;
                if (errno != EAGAIN) { perror("sem_trywait"); return (void *)-1L; }
            } else if (mode == 1) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 10000;
                if (ts.tv_nsec >= 1000000000) { ts.tv_nsec -= 1000000000; ts.tv_sec++; }
                if (sem_timedwait(&sem, &ts) == 0) break;
                if (errno != ETIMEDOUT) { perror("sem_timedwait"); return (void *)-1L; }
            } else {
                if (sem_wait(&sem) == 0) break;
                perror("sem_wait");
                return (void *)-1L;
            }
        }
        taken++;
        sem_post(&sem);
        sched_yield();
    }
    return (void *)taken;
}

int main(void) {
    sem_init(&sem, 0, 1);
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, thrash, (void *)i);
    long total = 0;
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        if ((long)r < 0) return 1;
        total += (long)r;
    }
    int v;
    sem_getvalue(&sem, &v);
    printf("acquired %ld times, value at the end %d\n", total, v);
    return v == 1 && total == (long)THREADS * ROUNDS ? 0 : 1;
}
