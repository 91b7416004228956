/* Shared by the tests that show a wait let other threads run: a thread that counts 2 ms ticks
 * while `ticking` is set, start/stop helpers around one wait, and a millisecond monotonic
 * clock. */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

static volatile int ticking = 1;
static int ticks;

static inline void *ticker(void *arg)
{
    (void)arg;
    while (ticking) {
        usleep(2000);
        ticks++;
    }
    return NULL;
}

/* A ticker around one wait: tick_start() before it, tick_stop() after, which says whether the
 * ticker got to tick (10 ticks) meanwhile. */
static pthread_t ticker_thread;
static inline void tick_start(void)
{
    ticks = 0;
    ticking = 1;
    pthread_create(&ticker_thread, NULL, ticker, NULL);
}

static inline const char *tick_stop(void)
{
    ticking = 0;
    pthread_join(ticker_thread, NULL);
    return ticks >= 10 ? "yes" : "no";
}

static inline long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}
