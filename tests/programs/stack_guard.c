/* Stack overflow in one of many live threads: natively the thread runs into the guard page
 * below its stack (where pthread_getattr_np says it is) and takes SIGSEGV there. Under libgreen every green stack has a guard
 * too (src/stack.rs: guard regions inside shared chunks), also beyond the 16,384 stacks that
 * once got one each, after which stacks were carved with a canary only and an overflow
 * aborted at the thread's next switch (SIGABRT).
 *
 * A child process creates N threads with 64 KiB stacks that all wait on a barrier; after it the
 * last one installs a SIGSEGV handler on an alternate stack (as Rust's runtime does) and
 * recurses until it overflows; the handler says whether the fault address lies in the thread's
 * guard and ends the child. With "calm" all threads return and are joined. The parent prints
 * how the child ended (a calm run has no child).
 *
 * usage: stack_guard N [calm] */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_barrier_t start;
static int n, calm;
static volatile int depth_limit = 1 << 30;
static char *guard_lo, *guard_hi;
static char altstack[64 * 1024];

static void say(const char *s)
{
    ssize_t r = write(1, s, strlen(s));
    (void)r;
}

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    char *at = si->si_addr;
    (void)sig, (void)ctx;
    say(at >= guard_lo && at < guard_hi ? "SIGSEGV in the guard below the thread's stack\n"
                                        : "SIGSEGV outside the thread's guard\n");
    _exit(3);
}

/* Where the calling thread's guard is, then a handler on an alternate stack. */
static void arm_overflow_handler(void)
{
    pthread_attr_t a;
    void *lo;
    size_t size, guard;
    if (pthread_getattr_np(pthread_self(), &a) || pthread_attr_getstack(&a, &lo, &size) ||
        pthread_attr_getguardsize(&a, &guard)) {
        say("pthread_getattr_np failed\n");
        _exit(4);
    }
    guard_hi = lo;
    guard_lo = guard_hi - guard;
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
    struct sigaction sa = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_ONSTACK};
    if (guard == 0 || sigaltstack(&ss, NULL) || sigaction(SIGSEGV, &sa, NULL)) {
        say("no guard, or no handler\n");
        _exit(4);
    }
}

static int __attribute__((noinline)) descend(int depth)
{
    volatile char frame[256];
    frame[0] = (char)depth;
    if (depth >= depth_limit)
        return frame[0];
    return descend(depth + 1) + frame[0];
}

static void *worker(void *arg)
{
    long i = (long)arg;
    pthread_barrier_wait(&start);
    if (i == n - 1 && !calm) {
        arm_overflow_handler();
        return (void *)(long)descend(0);
    }
    return NULL;
}

static int child(void)
{
    pthread_t *t = calloc(n, sizeof *t);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 * 1024);
    pthread_barrier_init(&start, NULL, n + 1);
    for (long i = 0; i < n; i++) {
        int e = pthread_create(&t[i], &a, worker, (void *)i);
        if (e) {
            fprintf(stderr, "pthread_create %ld: %s\n", i, strerror(e));
            return 1;
        }
    }
    pthread_barrier_wait(&start);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    printf("%d threads joined\n", n);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s N [calm]\n", argv[0]);
        return 2;
    }
    n = atoi(argv[1]);
    calm = argc > 2 && strcmp(argv[2], "calm") == 0;
    if (calm)
        return child();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(child());
    int status;
    if (waitpid(pid, &status, 0) != pid) {
        perror("waitpid");
        return 1;
    }
    if (WIFSIGNALED(status))
        printf("child with %d threads killed by signal %d (%s)\n", n, WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        printf("child with %d threads exited with %d\n", n, WEXITSTATUS(status));
    return 0;
}
