/* OpenMP (libgomp): a 4-thread parallel-for reduction, a barrier and a critical section, run 20
 * times. libgomp's threads wait in spin loops and in futex calls made with their own `syscall`
 * instruction, which no hook sees: with one carrier only the hand-off lets the other threads run
 * (without it the first barrier never completes). */
#include <omp.h>
#include <stdio.h>

int main(void)
{
    double sum = 0;
    long critical_hits = 0;
    for (int rep = 0; rep < 20; rep++) {
#pragma omp parallel num_threads(4)
        {
#pragma omp for reduction(+ : sum)
            for (long i = 0; i < 400000; i++)
                sum += (double)(i % 7) * 0.5;
#pragma omp barrier
#pragma omp critical
            critical_hits++;
        }
    }
    printf("sum=%.1f critical=%ld\n", sum, critical_hits);
    return 0;
}
