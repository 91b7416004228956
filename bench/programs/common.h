/* Shared by the benchmark programs: a monotonic clock and the one-line result format
 * "<figure> <value> <unit>" that bench/run.sh collects. */
#include <stdio.h>
#include <time.h>

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void result(const char *figure, double value, const char *unit)
{
    printf("%s %.3f %s\n", figure, value, unit);
}
