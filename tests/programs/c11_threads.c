/* C11 <threads.h>: threads, mutexes (plain, recursive, timed), condition variables, call_once
 * and thread-specific storage with destructors, with glibc's result codes. glibc implements
 * them with internal calls to its pthread functions, so without hooks of their own thrd_create
 * made OS threads (tests/run.sh counts them) and mtx_lock/cnd_wait blocked in futexes. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <threads.h>
#include <time.h>

#define WORKERS 4
#define ROUNDS 500

static mtx_t m, rec, timed;
static cnd_t c;
static int turn, total;
static once_flag once = ONCE_FLAG_INIT;
static int once_runs;
static tss_t key;
static int dtor_runs, dtor_sum;

static const char *name(int r)
{
    switch (r) {
    case thrd_success: return "thrd_success";
    case thrd_busy: return "thrd_busy";
    case thrd_error: return "thrd_error";
    case thrd_nomem: return "thrd_nomem";
    case thrd_timedout: return "thrd_timedout";
    }
    return "?";
}

static void init_once(void)
{
    once_runs++;
}

static void dtor(void *v)
{
    mtx_lock(&m);
    dtor_runs++;
    dtor_sum += (int)(intptr_t)v;
    mtx_unlock(&m);
}

/* Takes turns with the other workers through one condition variable; returns -(id + 1) * 7. */
static int worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    call_once(&once, init_once);
    tss_set(key, (void *)(intptr_t)(id + 100));
    for (int i = 0; i < ROUNDS; i++) {
        mtx_lock(&m);
        while (turn != id)
            cnd_wait(&c, &m);
        total++;
        turn = (turn + 1) % WORKERS;
        cnd_broadcast(&c);
        mtx_unlock(&m);
    }
    if ((intptr_t)tss_get(key) != id + 100)
        return 1;
    return -(id + 1) * 7;
}

static void leave_early(int v)
{
    thrd_exit(v);
}

static int exits(void *arg)
{
    tss_set(key, (void *)(intptr_t)1000);
    leave_early((int)(intptr_t)arg);
    return 0;
}

static int holder_locked, holder_done;

/* Holds `timed` (and says so) until told to let go. */
static int holder(void *arg)
{
    (void)arg;
    mtx_lock(&timed);
    mtx_lock(&m);
    holder_locked = 1;
    cnd_broadcast(&c);
    while (!holder_done)
        cnd_wait(&c, &m);
    mtx_unlock(&m);
    mtx_unlock(&timed);
    return 0;
}

static struct timespec in_ms(long ms)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    ts.tv_nsec += ms * 1000000;
    ts.tv_sec += ts.tv_nsec / 1000000000;
    ts.tv_nsec %= 1000000000;
    return ts;
}

static int detached_ran;

static int detached(void *arg)
{
    (void)arg;
    mtx_lock(&m);
    detached_ran = 1;
    cnd_broadcast(&c);
    mtx_unlock(&m);
    return 0;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("mtx_init plain %s, recursive %s, timed %s\n", name(mtx_init(&m, mtx_plain)),
           name(mtx_init(&rec, mtx_plain | mtx_recursive)), name(mtx_init(&timed, mtx_timed)));
    printf("cnd_init %s, tss_create %s\n", name(cnd_init(&c)), name(tss_create(&key, dtor)));

    thrd_t t[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        if (thrd_create(&t[i], worker, (void *)(intptr_t)i) != thrd_success)
            return 1;
    int sum = 0;
    for (int i = 0; i < WORKERS; i++) {
        int r = 0;
        int j = thrd_join(t[i], &r);
        printf("worker %d: %s, result %d\n", i, name(j), r);
        sum += r;
    }
    printf("turns %d of %d, results sum %d, call_once ran %d time(s)\n", total, WORKERS * ROUNDS, sum, once_runs);

    thrd_t e;
    int r = 0;
    thrd_create(&e, exits, (void *)(intptr_t)-12345);
    int joined = thrd_join(e, &r);
    printf("thrd_exit: %s, result %d\n", name(joined), r);
    printf("tss destructors: %d run(s), values sum %d; main's value %p\n", dtor_runs, dtor_sum, tss_get(key));

    /* A recursive mutex locks twice; a plain one held reports busy to trylock. */
    int l1 = mtx_lock(&rec), l2 = mtx_lock(&rec), u1 = mtx_unlock(&rec), u2 = mtx_unlock(&rec);
    printf("recursive: %s %s %s %s\n", name(l1), name(l2), name(u1), name(u2));
    mtx_lock(&m);
    printf("trylock of a held plain mutex: %s\n", name(mtx_trylock(&m)));
    mtx_unlock(&m);

    /* A timed lock of a mutex another thread holds times out. */
    thrd_t h;
    thrd_create(&h, holder, NULL);
    mtx_lock(&m);
    while (!holder_locked)
        cnd_wait(&c, &m);
    mtx_unlock(&m);
    struct timespec ts = in_ms(60);
    printf("mtx_timedlock of a held mutex: %s\n", name(mtx_timedlock(&timed, &ts)));
    mtx_lock(&m);
    holder_done = 1;
    cnd_broadcast(&c);
    mtx_unlock(&m);
    thrd_join(h, NULL);
    ts = in_ms(60);
    printf("mtx_timedlock once free: %s\n", name(mtx_timedlock(&timed, &ts)));
    mtx_unlock(&timed);

    /* cnd_timedwait with nobody to signal times out. */
    mtx_lock(&m);
    ts = in_ms(60);
    printf("cnd_timedwait: %s\n", name(cnd_timedwait(&c, &m, &ts)));
    mtx_unlock(&m);

    /* A detached thread runs; its id compares equal only to itself. */
    thrd_t d;
    thrd_create(&d, detached, NULL);
    printf("thrd_detach: %s, equal to itself %d, to main %d\n", name(thrd_detach(d)), thrd_equal(d, d) != 0,
           thrd_equal(d, thrd_current()) != 0);
    mtx_lock(&m);
    while (!detached_ran)
        cnd_wait(&c, &m);
    mtx_unlock(&m);
    struct timespec nap = {.tv_sec = 0, .tv_nsec = 20000000};
    printf("thrd_sleep: %d, detached thread ran: %d\n", thrd_sleep(&nap, NULL), detached_ran);

    tss_delete(key);
    cnd_destroy(&c);
    mtx_destroy(&m);
    mtx_destroy(&rec);
    mtx_destroy(&timed);
    return 0;
}
