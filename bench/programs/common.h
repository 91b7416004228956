/* Shared by the benchmark programs: a monotonic clock, the one-line result format
 * "<figure> <value> <unit>" that bench/run.sh collects, and a second thread parked in a pipe
 * read (so libgreen sees another green thread alive while a figure is measured). */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void result(const char *figure, double value, const char *unit)
{
    printf("%s %.3f %s\n", figure, value, unit);
}

static int parked_pipe[2];
static pthread_t parked_thread;

static void *parked_in_read(void *a)
{
    char c;
    read(parked_pipe[0], &c, 1);
    return a;
}

/* Starts the parked thread and lets it reach its read. */
static inline void park_a_thread(void)
{
    pipe(parked_pipe);
    pthread_create(&parked_thread, NULL, parked_in_read, NULL);
    usleep(10000);
}

static inline void release_parked_thread(void)
{
    write(parked_pipe[1], "x", 1);
    pthread_join(parked_thread, NULL);
}

static pid_t drain_child;

/* A stream on a pipe that a child process reads to its end (drained_stream_close waits for it). */
static inline FILE *drained_stream(void)
{
    int p[2];
    pipe(p);
    drain_child = fork();
    if (drain_child == 0) {
        static char buf[65536];
        close(p[1]);
        while (read(p[0], buf, sizeof buf) > 0)
            ;
        _exit(0);
    }
    close(p[0]);
    return fdopen(p[1], "w");
}

static inline void drained_stream_close(FILE *f)
{
    fclose(f);
    waitpid(drain_child, NULL, 0);
}

/* Prints `figure`: ns per call(f, i) on a drained stream, 2,000,000 calls, while a thread is
 * parked. */
static inline void time_drained_stream(const char *figure, void (*call)(FILE *, long))
{
    park_a_thread();
    FILE *f = drained_stream();
    const long n = 2000000;
    double t0 = now_s();
    for (long i = 0; i < n; i++)
        call(f, i);
    fflush(f);
    result(figure, (now_s() - t0) / n * 1e9, "ns");
    drained_stream_close(f);
    release_parked_thread();
}
