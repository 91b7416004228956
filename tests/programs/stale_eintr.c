/* A signal handler that cut one wait short must not cut a later one. Each round, main's read
 * of an empty pipe is interrupted by SIGUSR1 (a handler without SA_RESTART: EINTR; another
 * thread keeps sending it until the read has returned), then, with SIGUSR1 blocked, main makes
 * a blocking write of 256 KiB to a pipe another thread drains in 4 KiB reads. Every write
 * returns all its bytes, as natively: no signal can reach it. With several carriers a write's
 * park is now and then refused (a read on another carrier made the pipe writable between the
 * failed try and the park: try again), and such a refused park used to report the handler of
 * the read's park, so the write returned early with a short count (CPython's test_io
 * SignalsTest failed that way on two carriers). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ROUNDS 2000
#define SIZE (256 * 1024)

static int p[2], q[2];
static char buf[SIZE];
static atomic_int round_go = -1, round_done = -1;
static pthread_t main_thread;

static void on_usr1(int sig)
{
    (void)sig;
}

static void *reader(void *arg)
{
    (void)arg;
    char b[4096];
    long total = 0;
    for (;;) {
        ssize_t n = read(p[0], b, sizeof b);
        if (n <= 0)
            break;
        total += n;
    }
    return (void *)total;
}

/* Sends SIGUSR1 to main until main says its read of round i returned. */
static void *killer(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        while (atomic_load(&round_go) < i)
            usleep(100);
        while (atomic_load(&round_done) < i) {
            pthread_kill(main_thread, SIGUSR1);
            usleep(200);
        }
    }
    return NULL;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1; /* no SA_RESTART */
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    if (pipe(p) != 0 || pipe(q) != 0) {
        perror("pipe");
        return 1;
    }
    memset(buf, 'x', sizeof buf);
    main_thread = pthread_self();
    pthread_t rd, k;
    pthread_create(&rd, NULL, reader, NULL);
    pthread_create(&k, NULL, killer, NULL);
    long short_writes = 0, written = 0, interrupted = 0;
    for (int i = 0; i < ROUNDS; i++) {
        char c;
        atomic_store(&round_go, i);
        /* A SIGUSR1 left pending from the last round is delivered here, outside any call. */
        pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
        if (read(q[0], &c, 1) == -1 && errno == EINTR)
            interrupted++;
        pthread_sigmask(SIG_BLOCK, &usr1, NULL);
        atomic_store(&round_done, i);
        ssize_t w = write(p[1], buf, SIZE);
        if (w != SIZE)
            short_writes++;
        if (w > 0)
            written += w;
    }
    pthread_join(k, NULL);
    close(p[1]);
    void *total;
    pthread_join(rd, &total);
    printf("%ld of %d reads interrupted\n", interrupted, ROUNDS);
    printf("%d writes of %d bytes: %ld short; %s\n", ROUNDS, SIZE, short_writes,
           (long)total == written ? "every byte written was read" : "bytes lost");
    return 0;
}
