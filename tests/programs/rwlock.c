/* rwlocks: readers hold the lock together, writers alone; relocking gives EDEADLK; try-locks
 * give EBUSY; a writer-preferring lock holds new readers back while a writer waits. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define READERS 10
#define WRITERS 4
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int inside, max_inside, writer_inside, violations;
static long shared_value;

static const char *e(int r)
{
    return r == 0 ? "0" : r == EBUSY ? "EBUSY" : r == EDEADLK ? "EDEADLK" : r == EPERM ? "EPERM" : strerror(r);
}

static void *reader(void *arg)
{
    (void)arg;
    pthread_rwlock_rdlock(&rw);
    pthread_mutex_lock(&mu);
    if (++inside > max_inside) max_inside = inside;
    if (writer_inside) violations++;
    pthread_mutex_unlock(&mu);
    usleep(30000); /* all readers overlap here */
    pthread_mutex_lock(&mu);
    inside--;
    pthread_mutex_unlock(&mu);
    pthread_rwlock_unlock(&rw);
    return NULL;
}

static void *writer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200; i++) {
        pthread_rwlock_wrlock(&rw);
        pthread_mutex_lock(&mu);
        if (inside || writer_inside) violations++;
        writer_inside = 1;
        pthread_mutex_unlock(&mu);
        long v = shared_value;
        if (i % 50 == 0) usleep(100);
        shared_value = v + 1;
        pthread_mutex_lock(&mu);
        writer_inside = 0;
        pthread_mutex_unlock(&mu);
        pthread_rwlock_unlock(&rw);
        if (i % 10 == 0) sched_yield();
    }
    return NULL;
}

static pthread_rwlock_t wp;
static int order[3], order_n;
static void *wp_writer(void *arg)
{
    (void)arg;
    pthread_rwlock_wrlock(&wp);
    order[order_n++] = 'W';
    pthread_rwlock_unlock(&wp);
    return NULL;
}
static void *wp_reader(void *arg)
{
    (void)arg;
    pthread_rwlock_rdlock(&wp);
    order[order_n++] = 'R';
    pthread_rwlock_unlock(&wp);
    return NULL;
}

int main(void)
{
    pthread_t r[READERS], w[WRITERS];
    for (int i = 0; i < READERS; i++) pthread_create(&r[i], NULL, reader, NULL);
    for (int i = 0; i < READERS; i++) pthread_join(r[i], NULL);
    printf("readers inside together: %d of %d\n", max_inside, READERS);
    max_inside = 0;
    for (int i = 0; i < WRITERS; i++) pthread_create(&w[i], NULL, writer, NULL);
    for (int i = 0; i < READERS; i++) pthread_create(&r[i], NULL, reader, NULL);
    for (int i = 0; i < WRITERS; i++) pthread_join(w[i], NULL);
    for (int i = 0; i < READERS; i++) pthread_join(r[i], NULL);
    printf("writes %ld, exclusion violations %d\n", shared_value, violations);

    /* One call per statement: C leaves the order of argument evaluation unspecified. */
    const char *r1 = e(pthread_rwlock_wrlock(&rw));
    const char *r2 = e(pthread_rwlock_wrlock(&rw));
    const char *r3 = e(pthread_rwlock_rdlock(&rw));
    const char *r4 = e(pthread_rwlock_tryrdlock(&rw));
    const char *r5 = e(pthread_rwlock_unlock(&rw));
    printf("wrlock %s, wrlock again %s, rdlock while writing %s, tryrdlock %s, unlock %s\n", r1, r2, r3, r4, r5);
    r1 = e(pthread_rwlock_rdlock(&rw));
    r2 = e(pthread_rwlock_rdlock(&rw));
    r3 = e(pthread_rwlock_trywrlock(&rw));
    r4 = e(pthread_rwlock_unlock(&rw));
    r5 = e(pthread_rwlock_unlock(&rw));
    const char *r6 = e(pthread_rwlock_trywrlock(&rw));
    const char *r7 = e(pthread_rwlock_unlock(&rw));
    printf("rdlock %s, rdlock %s, trywrlock %s, unlock %s, unlock %s, trywrlock %s, unlock %s\n", r1, r2, r3, r4, r5, r6, r7);

    /* Writer preference: with a reader holding the lock and a writer waiting, a new reader
     * waits behind the writer. */
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&wp, &a);
    pthread_t pw, pr;
    pthread_rwlock_rdlock(&wp);
    pthread_create(&pw, NULL, wp_writer, NULL);
    usleep(100000); /* natively, give the writer time to start waiting */
    printf("writer-preferring: new tryrdlock while a writer waits: %s\n", e(pthread_rwlock_tryrdlock(&wp)));
    pthread_create(&pr, NULL, wp_reader, NULL);
    usleep(100000);
    pthread_rwlock_unlock(&wp);
    pthread_join(pw, NULL);
    pthread_join(pr, NULL);
    printf("writer-preferring order: %c%c\n", order[0], order[1]);
    return violations != 0;
}
