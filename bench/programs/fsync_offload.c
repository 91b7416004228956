/* fsync of a file with nothing to write back, in ns per call, while another thread is parked:
 * the call itself natively; under libgreen also the offload pool's round trip (queue the job,
 * wake a worker, the worker unparks the caller through the hub's eventfd). */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "common.h"

int main(void)
{
    park_a_thread();
    char path[] = "/tmp/bench_fsync_XXXXXX";
    int fd = mkstemp(path);
    write(fd, "x", 1);
    fsync(fd);
    const long n = 20000;
    double t0 = now_s();
    for (long i = 0; i < n; i++) fsync(fd);
    result("fsync_clean", (now_s() - t0) / n * 1e9, "ns");
    release_parked_thread();
    close(fd);
    unlink(path);
    return 0;
}
