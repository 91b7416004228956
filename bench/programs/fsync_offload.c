/* fsync of a file with nothing to write back, in ns per call, while another thread is parked:
 * the call itself natively; under libgreen also the offload pool's round trip (queue the job,
 * wake a worker, the worker unparks the caller through the hub's eventfd). */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include "common.h"

static int p[2];
static void *parked(void *a)
{
    char c;
    read(p[0], &c, 1);
    return a;
}

int main(void)
{
    pipe(p);
    pthread_t t;
    pthread_create(&t, NULL, parked, NULL);
    usleep(10000); /* let it park */
    char path[] = "/tmp/bench_fsync_XXXXXX";
    int fd = mkstemp(path);
    write(fd, "x", 1);
    fsync(fd);
    const long n = 20000;
    double t0 = now_s();
    for (long i = 0; i < n; i++) fsync(fd);
    result("fsync_clean", (now_s() - t0) / n * 1e9, "ns");
    write(p[1], "x", 1);
    pthread_join(t, NULL);
    close(fd);
    unlink(path);
    return 0;
}
