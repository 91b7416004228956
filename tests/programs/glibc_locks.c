/* glibc's own recursive/error-checking mutexes and its rwlocks (the kinds behind the loader
 * locks of dlopen/dlsym/dl_iterate_phdr and setlocale's lock) tell two threads apart, green
 * threads included. They are glibc's internal functions, which no preload reaches; the test
 * calls them through a dlopen handle of libc itself (a handle lookup searches libc, never the
 * preload), so it sees exactly what glibc's internal callers get. glibc names a lock's owner by
 * the tid word of its thread descriptor: green threads must not all share one.
 *
 * Two green threads take turns (our own semaphores order them): A takes each lock, B tries it
 * (EBUSY natively), A relocks (recursive: count; error-checking: EDEADLK), and a green thread's
 * first write lock of a fresh rwlock succeeds (it is not its own writer). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>

typedef int (*mutex_fn)(pthread_mutex_t *);
typedef int (*rwlock_fn)(pthread_rwlock_t *);
static mutex_fn g_lock, g_trylock, g_unlock;
static rwlock_fn g_wrlock, g_trywrlock, g_tryrdlock, g_rwunlock;

static pthread_mutex_t rec, chk;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static sem_t a_done, b_done;

static const char *err(int r) { return r ? strerrorname_np(r) : "0"; }

static void *thread_a(void *arg)
{
    (void)arg;
    int r1 = g_lock(&rec), r2 = g_lock(&rec);
    printf("A: lock recursive %s, again %s\n", err(r1), err(r2));
    r1 = g_lock(&chk);
    r2 = g_lock(&chk);
    printf("A: lock errorcheck %s, again %s\n", err(r1), err(r2));
    printf("A: first wrlock of a fresh rwlock %s\n", err(g_wrlock(&rw)));
    sem_post(&a_done);
    sem_wait(&b_done);
    r1 = g_unlock(&rec);
    r2 = g_unlock(&rec);
    int r3 = g_unlock(&chk), r4 = g_rwunlock(&rw);
    printf("A: unlock recursive %s %s, errorcheck %s, rwlock %s\n", err(r1), err(r2), err(r3), err(r4));
    sem_post(&a_done);
    return NULL;
}

static void *thread_b(void *arg)
{
    (void)arg;
    sem_wait(&a_done);
    printf("B: trylock recursive held by A %s\n", err(g_trylock(&rec)));
    printf("B: trylock errorcheck held by A %s\n", err(g_trylock(&chk)));
    printf("B: unlock errorcheck held by A %s\n", err(g_unlock(&chk)));
    int r1 = g_trywrlock(&rw), r2 = g_tryrdlock(&rw);
    printf("B: trywrlock %s, tryrdlock %s of A's rwlock\n", err(r1), err(r2));
    sem_post(&b_done);
    sem_wait(&a_done);
    r1 = g_trylock(&rec);
    r2 = g_unlock(&rec);
    printf("B: after A let go: trylock recursive %s, unlock %s\n", err(r1), err(r2));
    return NULL;
}

int main(void)
{
    void *libc = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_LAZY);
    if (!libc) return 1;
    g_lock = (mutex_fn)dlsym(libc, "pthread_mutex_lock");
    g_trylock = (mutex_fn)dlsym(libc, "pthread_mutex_trylock");
    g_unlock = (mutex_fn)dlsym(libc, "pthread_mutex_unlock");
    g_wrlock = (rwlock_fn)dlsym(libc, "pthread_rwlock_wrlock");
    g_trywrlock = (rwlock_fn)dlsym(libc, "pthread_rwlock_trywrlock");
    g_tryrdlock = (rwlock_fn)dlsym(libc, "pthread_rwlock_tryrdlock");
    g_rwunlock = (rwlock_fn)dlsym(libc, "pthread_rwlock_unlock");
    if (!g_lock || !g_trylock || !g_unlock || !g_wrlock || !g_trywrlock || !g_tryrdlock || !g_rwunlock) return 1;

    /* Initialised by glibc's static initializers only: the objects are glibc's, whole. */
    pthread_mutex_t r = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP, c = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
    rec = r;
    chk = c;
    sem_init(&a_done, 0, 0);
    sem_init(&b_done, 0, 0);
    pthread_t a, b;
    pthread_create(&a, NULL, thread_a, NULL);
    pthread_create(&b, NULL, thread_b, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    int r1 = g_wrlock(&rw), r2 = g_rwunlock(&rw);
    printf("main: wrlock %s, unlock %s\n", err(r1), err(r2));
    return 0;
}
