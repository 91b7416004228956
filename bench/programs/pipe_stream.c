/* write(2) of 64 KiB blocks to a pipe that a child process drains, in µs per block, while
 * another thread is parked (libgreen: pwritev2 with RWF_NOWAIT, src/fd.rs; before it, the block
 * went in 16 PIPE_BUF pieces, each polled first). */
#include <string.h>

#include "common.h"

int main(void)
{
    static char block[65536];
    memset(block, 'x', sizeof block);
    park_a_thread();
    FILE *f = drained_stream();
    const long n = 8192; /* 512 MiB */
    double t0 = now_s();
    for (long i = 0; i < n; i++)
        if (write(fileno(f), block, sizeof block) != (ssize_t)sizeof block)
            return 1;
    result("pipe_write_64k", (now_s() - t0) / n * 1e6, "µs");
    drained_stream_close(f);
    release_parked_thread();
    return 0;
}
