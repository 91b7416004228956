/* pthread_exit from a nested call runs the cleanup handlers of every level, innermost first;
 * pthread_cleanup_pop(1) runs a handler, pop(0) does not; join sees the exit value. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

static char log_buf[512];
static int log_len;

static void note(void *arg)
{
    log_len += snprintf(log_buf + log_len, sizeof log_buf - log_len, "[%s]", (const char *)arg);
}

static void nested(int depth)
{
    pthread_cleanup_push(note, depth == 3 ? "depth3" : depth == 2 ? "depth2" : "depth1");
    if (depth == 3)
        pthread_exit((void *)(uintptr_t)42);
    if (depth < 3)
        nested(depth + 1);
    pthread_cleanup_pop(0);
}

static void *thread_main(void *arg)
{
    (void)arg;
    pthread_cleanup_push(note, "outer");
    pthread_cleanup_push(note, "popped-and-run");
    pthread_cleanup_pop(1);
    pthread_cleanup_push(note, "popped-not-run");
    pthread_cleanup_pop(0);
    nested(1);
    pthread_cleanup_pop(0);
    return (void *)1;
}

static void *plain_return(void *arg)
{
    pthread_cleanup_push(note, "never");
    pthread_cleanup_pop(0);
    return arg;
}

int main(void)
{
    for (int round = 0; round < 3; round++) {
        pthread_t t;
        void *ret = NULL;
        log_len = 0;
        log_buf[0] = 0;
        pthread_create(&t, NULL, thread_main, NULL);
        pthread_join(t, &ret);
        printf("round %d: exit value %lu, handlers %s\n", round, (unsigned long)(uintptr_t)ret, log_buf);
        pthread_create(&t, NULL, plain_return, (void *)(uintptr_t)(7 + round));
        pthread_join(t, &ret);
        printf("round %d: returned %lu\n", round, (unsigned long)(uintptr_t)ret);
    }
    return 0;
}
