/* CLOCK_MONOTONIC in nanoseconds, for the tests that time ticks against deadlines. */
#include <time.h>

static inline long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
