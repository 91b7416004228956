/* A program with its own SIGUSR2 handler: under GREEN_STATS the program's handler wins (the
 * runtime's stats-on-SIGUSR2 handler is replaced, not chained), so the program sees exactly
 * what it sees natively; run.sh checks that no stats line came from the signal. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t handled;

static void on_usr2(int sig)
{
    (void)sig;
    handled++;
}

static void *raiser(void *arg)
{
    (void)arg;
    raise(SIGUSR2);
    return NULL;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    pthread_t t;
    pthread_create(&t, NULL, raiser, NULL);
    pthread_join(t, NULL);
    raise(SIGUSR2);
    printf("handled %d\n", (int)handled);
    return 0;
}
