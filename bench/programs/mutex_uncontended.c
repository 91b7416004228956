/* Uncontended pthread_mutex_lock + unlock, in ns per pair (after one thread was created, so
 * glibc is in its multi-threaded mode too). */
#include <pthread.h>
#include "common.h"

static void *nothing(void *a) { return a; }

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, nothing, NULL);
    pthread_join(t, NULL);
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    const long n = 20000000;
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&m);
        __asm__ volatile("" ::: "memory");
        pthread_mutex_unlock(&m);
    }
    result("mutex_lock_unlock", (now_s() - t0) / n * 1e9, "ns");
    return 0;
}
