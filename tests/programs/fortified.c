/* The fortified entry points a program built with _FORTIFY_SOURCE calls when the compiler cannot
 * check a length (__recv_chk, __recvfrom_chk, __poll_chk, __ppoll_chk, __pread_chk, and stdio's
 * __fgets_chk, __fread_chk and __fgetws_chk on a socket stream; Debian's memcached imports
 * __poll_chk) wait as
 * their plain versions do: each thread's call completes
 * once main writes, 100 ms later, while a ticker runs; the pread reads a file whose pages were
 * dropped. Under libgreen on one carrier without hand-off, a call that blocked the carrier would
 * keep main from writing: the program would hang. tests/run.sh checks that the binary imports
 * these eight symbols. */
#undef _FORTIFY_SOURCE
#define _FORTIFY_SOURCE 2
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wchar.h>

#include "ticker.h"

static int s[2];
static volatile size_t want = 16; /* a length the compiler cannot see */
static volatile int nfds = 1;

static void *do_recv(void *a)
{
    (void)a;
    char buf[32] = {0};
    long r = recv(s[0], buf, want, 0);
    printf("  recv: %ld \"%s\"\n", r, buf);
    return NULL;
}

static void *do_recvfrom(void *a)
{
    (void)a;
    char buf[32] = {0};
    long r = recvfrom(s[0], buf, want, 0, NULL, NULL);
    printf("  recvfrom: %ld \"%s\"\n", r, buf);
    return NULL;
}

static void *do_poll(void *a)
{
    (void)a;
    struct pollfd p[2] = {{s[0], POLLIN, 0}, {-1, 0, 0}};
    int r = poll(p, nfds, 5000);
    char c;
    printf("  poll: %d, revents %#x, then read %zd\n", r, p[0].revents, read(s[0], &c, 1));
    return NULL;
}

static void *do_ppoll(void *a)
{
    (void)a;
    struct pollfd p[2] = {{s[0], POLLIN, 0}, {-1, 0, 0}};
    int r = ppoll(p, nfds, NULL, NULL);
    char c;
    printf("  ppoll: %d, revents %#x, then read %zd\n", r, p[0].revents, read(s[0], &c, 1));
    return NULL;
}

static FILE *sf; /* a stream on a dup of s[0] */

static void *do_fgets(void *a)
{
    (void)a;
    char buf[32] = {0};
    char *r = fgets(buf, (int)want, sf);
    printf("  fgets: %s", r ? buf : "NULL\n");
    return NULL;
}

static FILE *wf; /* a wide stream on another dup of s[0] */

static void *do_fgetws(void *a)
{
    (void)a;
    wchar_t buf[32] = {0};
    wchar_t *r = fgetws(buf, (int)want, wf);
    printf("  fgetws: %ls", r ? buf : L"NULL\n");
    return NULL;
}

static void *do_fread(void *a)
{
    (void)a;
    char buf[32] = {0};
    size_t n = fread(buf, 1, want / 2, sf);
    printf("  fread: %zu \"%s\"\n", n, buf);
    return NULL;
}

/* `f` in a thread while a ticker runs; main writes `msg` 100 ms later. */
static void waits(const char *what, void *(*f)(void *), const char *msg)
{
    pthread_t t;
    printf("%s:\n", what);
    tick_start();
    pthread_create(&t, NULL, f, NULL);
    usleep(100000);
    if (write(s[1], msg, strlen(msg)) < 0) perror("write");
    pthread_join(t, NULL);
    printf("  others ran meanwhile: %s\n", tick_stop());
}

/* Drops the file's pages from the page cache until the page at `off` is gone (mincore): one
 * POSIX_FADV_DONTNEED can leave a page that is still being written back. */
static int evicted(int f, off_t off)
{
    for (int tries = 0; tries < 100; tries++) {
        posix_fadvise(f, 0, 0, POSIX_FADV_DONTNEED);
        void *m = mmap(NULL, off + 4096, PROT_READ, MAP_SHARED, f, 0);
        if (m == MAP_FAILED) return 0;
        unsigned char vec[64];
        int gone = mincore(m, off + 4096, vec) == 0 && !(vec[off / 4096] & 1);
        munmap(m, off + 4096);
        if (gone) return 1;
        usleep(10000);
    }
    return 0;
}

int main(void)
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, s)) return 1;
    waits("__recv_chk", do_recv, "first");
    waits("__recvfrom_chk", do_recvfrom, "second");
    waits("__poll_chk", do_poll, "p");
    waits("__ppoll_chk", do_ppoll, "q");
    sf = fdopen(dup(s[0]), "r");
    waits("__fgets_chk", do_fgets, "a line\n");
    waits("__fread_chk", do_fread, "12345678");
    fclose(sf);
    wf = fdopen(dup(s[0]), "r");
    waits("__fgetws_chk", do_fgetws, "a wide line\n");
    fclose(wf);

    char path[] = "/tmp/green-fortified-XXXXXX";
    int f = mkstemp(path);
    char data[8192];
    for (size_t i = 0; i < sizeof data; i++) data[i] = 'a' + i % 26;
    if (f < 0 || write(f, data, sizeof data) != (long)sizeof data || fsync(f)) return 1;
    if (!evicted(f, 4096)) {
        puts("the page stayed in the page cache");
        return 1;
    }
    char buf[32] = {0};
    tick_start(); /* another live thread: libgreen reads a missing page on its pool */
    long r = pread(f, buf, want, 4096);
    tick_stop();
    printf("__pread_chk of a dropped page: %ld \"%s\" (%s)\n", r, buf, memcmp(buf, data + 4096, 16) ? "wrong" : "right");
    unlink(path);
    return 0;
}
