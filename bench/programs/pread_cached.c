/* pread of 4 KiB from a file in the page cache, in ns per call, while another thread is parked
 * (so libgreen takes its regular-file path: preadv2 with RWF_NOWAIT, the pool only on a miss). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common.h"

int main(void)
{
    park_a_thread();
    char path[] = "/tmp/bench_pread_XXXXXX";
    int fd = mkstemp(path);
    static char buf[1 << 20];
    memset(buf, 'x', sizeof buf);
    write(fd, buf, sizeof buf);
    const long n = 1000000;
    double t0 = now_s();
    for (long i = 0; i < n; i++) pread(fd, buf, 4096, (i * 4096) % (1 << 20));
    result("pread_4k_cached", (now_s() - t0) / n * 1e9, "ns");
    release_parked_thread();
    close(fd);
    unlink(path);
    return 0;
}
