/* Each thread has its own floating-point environment, as natively (the kernel switches it with
 * the thread): the rounding mode in the x87 control word (fegetround reads it) and in MXCSR
 * (what SSE arithmetic uses), and MXCSR's exception flags. A new thread starts with its
 * creator's environment (clone copies it). Under the preload every switch must keep them apart:
 * threads A and B change theirs while the other is parked between two barrier waits, and main
 * changes its own around creating a thread. */
#include <fenv.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_barrier_t bar;
/* 1/3 and 1/10 rounded to nearest, computed by main at start: the first is rounded down, the
 * second up, so upward rounding changes the one and rounding toward zero the other. */
static double near_third, near_tenth;
static volatile double sink;

/* Quotients in SSE arithmetic: their last bit depends on MXCSR's rounding mode. */
static double quotient(double x, double y)
{
    volatile double a = x, b = y;
    return a / b;
}

static double third(void) { return quotient(1.0, 3.0); }
static double tenth(void) { return quotient(1.0, 10.0); }

static void divbyzero(void) { sink = quotient(1.0, 0.0); }

static void *inherits(void *arg)
{
    printf("new thread: rounds upward like its creator: %d, in SSE: %d\n", fegetround() == FE_UPWARD,
           third() > near_third);
    return arg;
}

static void *a(void *arg)
{
    fesetround(FE_UPWARD);
    feclearexcept(FE_ALL_EXCEPT);
    divbyzero();
    pthread_barrier_wait(&bar); /* B looks at its own environment now */
    pthread_barrier_wait(&bar); /* B has changed its own */
    usleep(10000);
    printf("A: still upward: %d, in SSE: %d, its divide-by-zero flag kept: %d\n", fegetround() == FE_UPWARD,
           third() > near_third, fetestexcept(FE_DIVBYZERO) != 0);
    return arg;
}

static void *b(void *arg)
{
    pthread_barrier_wait(&bar);
    printf("B: to nearest while A rounds upward: %d, in SSE: %d, no divide-by-zero flag of A's: %d\n",
           fegetround() == FE_TONEAREST, third() == near_third, fetestexcept(FE_DIVBYZERO) == 0);
    fesetround(FE_TOWARDZERO);
    pthread_barrier_wait(&bar);
    usleep(20000);
    printf("B: still toward zero: %d, in SSE: %d\n", fegetround() == FE_TOWARDZERO, tenth() < near_tenth);
    return arg;
}

int main(void)
{
    near_third = third();
    near_tenth = tenth();
    pthread_t t, ta, tb;
    fesetround(FE_UPWARD);
    pthread_create(&t, NULL, inherits, NULL);
    fesetround(FE_TONEAREST);
    pthread_join(t, NULL);
    printf("main: back to nearest after the join: %d\n", fegetround() == FE_TONEAREST);

    pthread_barrier_init(&bar, NULL, 2);
    pthread_create(&ta, NULL, a, NULL);
    pthread_create(&tb, NULL, b, NULL);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    printf("main: still to nearest: %d, in SSE: %d, no flag of A's: %d\n", fegetround() == FE_TONEAREST,
           third() == near_third, fetestexcept(FE_DIVBYZERO) == 0);
    return 0;
}
