/* pthread_create + pthread_join of a trivial thread, serially: ns per pair. */
#include <pthread.h>
#include "common.h"

static void *nothing(void *a) { return a; }

int main(void)
{
    const int n = 50000;
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        pthread_t t;
        pthread_create(&t, NULL, nothing, NULL);
        pthread_join(t, NULL);
    }
    result("create_join", (now_s() - t0) / n * 1e9, "ns");
    return 0;
}
