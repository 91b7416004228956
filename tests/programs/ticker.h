/* Shared by the tests that show a wait let other threads run: a thread that counts 2 ms ticks
 * while `ticking` is set, and a millisecond monotonic clock. */
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

static inline long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}
