/* Regular files without blocking the hub: the fsync family runs on the offload pool; reads that
 * miss the page cache (evicted with POSIX_FADV_DONTNEED) are tried with RWF_NOWAIT and finished
 * on the pool, every byte checked, through read, pread, preadv and preadv2; writes to an
 * O_DSYNC file run on the pool; bad input gets glibc's errors; /proc files (no RWF_NOWAIT) read
 * as before; a child forked by a thread gets a pool of its own. A ticker keeps ticking meanwhile,
 * and the pool's idle worker exits by itself. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os_threads.h"
#include "ticker.h"

#define SIZE (8 << 20)
static unsigned char *data;

static unsigned long long sum(const unsigned char *p, size_t n)
{
    unsigned long long s = 0;
    for (size_t i = 0; i < n; i++) s = s * 31 + p[i];
    return s;
}

static int evict(int fd)
{
    return posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
}

static const char *err(long r) { return r < 0 ? strerror(errno) : "ok"; }

static void *work(void *arg)
{
    (void)arg;
    char path[] = "/tmp/green_files_XXXXXX";
    int fd = mkstemp(path);
    data = malloc(SIZE);
    for (int i = 0; i < SIZE; i++) data[i] = (unsigned char)(i * 13 + i / 4096);
    unsigned long long want = sum(data, SIZE);
    printf("write %zd\n", write(fd, data, SIZE));
    printf("fsync %s\n", err(fsync(fd)));
    printf("fdatasync %s\n", err(fdatasync(fd)));
    printf("sync_file_range %s\n", err(sync_file_range(fd, 0, SIZE, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER)));
    printf("syncfs %s\n", err(syncfs(fd)));
    sync();
    printf("sync done\n");

    unsigned char *buf = malloc(SIZE);
    /* read() from the start, uncached. */
    evict(fd);
    lseek(fd, 0, SEEK_SET);
    size_t got = 0;
    ssize_t n;
    while ((n = read(fd, buf + got, SIZE - got)) > 0) got += (size_t)n;
    printf("read after eviction: %zu bytes, checksum %s, position %ld\n", got, sum(buf, got) == want ? "ok" : "BAD", (long)lseek(fd, 0, SEEK_CUR));
    /* pread of the second half, uncached. */
    evict(fd);
    memset(buf, 0, SIZE);
    n = pread(fd, buf, SIZE / 2, SIZE / 2);
    printf("pread after eviction: %zd, %s\n", n, memcmp(buf, data + SIZE / 2, SIZE / 2) ? "BAD" : "ok");
    /* Half cached, half not: one pread across both still returns everything. */
    evict(fd);
    pread(fd, buf, SIZE / 4, 0);
    n = pread(fd, buf, SIZE, 0);
    printf("pread half cached: %zd, %s\n", n, memcmp(buf, data, SIZE) ? "BAD" : "ok");
    /* preadv over two buffers, uncached; reading past the end gives what is there. */
    evict(fd);
    struct iovec v[2] = {{buf, 1000}, {buf + 1000, SIZE}};
    n = preadv(fd, v, 2, 5000);
    printf("preadv past the end: %zd, %s\n", n, memcmp(buf, data + 5000, SIZE - 5000) ? "BAD" : "ok");
    /* preadv2 at the file position (-1). */
    evict(fd);
    lseek(fd, 100, SEEK_SET);
    struct iovec one = {buf, 4096};
    n = preadv2(fd, &one, 1, -1, 0);
    printf("preadv2 at the position: %zd, %s, position %ld\n", n, memcmp(buf, data + 100, 4096) ? "BAD" : "ok", (long)lseek(fd, 0, SEEK_CUR));
    /* Bad input: glibc's errors. */
    n = pread(fd, buf, 10, -1);
    printf("pread at -1: %zd %s\n", n, strerror(errno));
    volatile int bad_count = -1;
    n = preadv(fd, v, bad_count, 0);
    printf("preadv with -1 vectors: %zd %s\n", n, strerror(errno));
    int r = fsync(12345);
    printf("fsync of a closed fd: %d %s\n", r, strerror(errno));
    int p[2];
    pipe(p);
    r = fsync(p[0]);
    printf("fsync of a pipe: %d %s\n", r, strerror(errno));
    close(p[0]);
    close(p[1]);
    close(fd);

    /* O_DSYNC: every write waits for the device. */
    fd = open(path, O_WRONLY | O_DSYNC);
    printf("O_DSYNC pwrite %zd\n", pwrite(fd, data, 65536, 0));
    struct iovec w[2] = {{data + 65536, 100}, {data + 65636, 200}};
    printf("O_DSYNC pwritev %zd\n", pwritev(fd, w, 2, 65536));
    close(fd);
    fd = open(path, O_RDONLY);
    n = pread(fd, buf, 65836, 0);
    printf("read back %zd, %s\n", n, memcmp(buf, data, 65836) ? "BAD" : "ok");
    close(fd);

    /* A child forked by this thread gets its own pool: fsync and an evicted read there too. */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t ctk;
        ticks = 0;
        ticking = 1;
        pthread_create(&ctk, NULL, ticker, NULL);
        int cfd = open(path, O_RDWR);
        int ok = fsync(cfd) == 0;
        evict(cfd);
        unsigned char cb[4096];
        ok = ok && pread(cfd, cb, sizeof cb, 65536) == (ssize_t)sizeof cb && !memcmp(cb, data + 65536, sizeof cb);
        ticking = 0;
        pthread_join(ctk, NULL);
        printf("child: fsync and evicted pread %s\n", ok ? "ok" : "BAD");
        fflush(stdout);
        _exit(ok ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child exit %d\n", WEXITSTATUS(st));
    unlink(path);

    /* procfs refuses RWF_NOWAIT: read directly. */
    fd = open("/proc/self/stat", O_RDONLY);
    n = read(fd, buf, 4096);
    printf("/proc/self/stat: %s\n", n > 10 && buf[0] >= '0' && buf[0] <= '9' ? "read" : "BAD");
    close(fd);
    free(buf);
    free(data);
    return NULL;
}

int main(void)
{
    pthread_t tk, w;
    pthread_create(&tk, NULL, ticker, NULL);
    pthread_create(&w, NULL, work, NULL);
    pthread_join(w, NULL);
    ticking = 0;
    pthread_join(tk, NULL);
    printf("ticker ran: %s\n", ticks > 0 ? "yes" : "no");
    /* The offload pool's worker exits after 2 s idle; natively there is nothing to wait for. */
    long long deadline = now_ms() + 10000;
    while (os_threads() > 1 && now_ms() < deadline) usleep(50000);
    printf("OS threads at the end: %d\n", os_threads());
    return 0;
}
