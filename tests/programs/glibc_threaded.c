/* What glibc believes about threading, before and after the first pthread_create: the exported
 * __libc_single_threaded and the TCB word header.multiple_threads (%fs:24 on x86-64, the word
 * glibc's own single-thread shortcuts test: malloc's unlocked main-arena path, catomic ops).
 * Natively both flip at the first pthread_create. Under libgreen they must too whenever a second
 * carrier may run (hand-off on, the default): a hand-off happens while some thread is anywhere,
 * possibly in the middle of malloc's unlocked path. Then a few threads malloc and free
 * concurrently with a thread that computes long enough to be handed off. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>

static int multiple_threads(void) {
    int v;
    __asm__ volatile("movl %%fs:24, %0" : "=r"(v));
    return v;
}

static int seen_in_thread;

static void *look(void *arg) {
    (void)arg;
    seen_in_thread = multiple_threads();
    return NULL;
}

enum { WORKERS = 4, ROUNDS = 20000 };

static void *churn(void *arg) {
    unsigned long sum = 0, seed = (unsigned long)arg;
    for (int r = 0; r < ROUNDS; r++) {
        seed = seed * 6364136223846793005UL + 1442695040888963407UL;
        size_t n = 16 + (seed >> 33) % 7000;
        unsigned char *p = malloc(n);
        if (!p) { perror("malloc"); exit(1); }
        memset(p, (int)(r & 0xff), n);
        sum += p[n - 1];
        free(p);
    }
    return (void *)sum;
}

int main(void) {
    printf("before: single_threaded=%d multiple_threads=%d\n", __libc_single_threaded, multiple_threads());
    pthread_t t;
    if (pthread_create(&t, NULL, look, NULL) != 0) return 1;
    printf("after create: single_threaded=%d multiple_threads=%d\n", __libc_single_threaded, multiple_threads());
    pthread_join(t, NULL);
    printf("in thread: multiple_threads=%d\n", seen_in_thread);
    pthread_t w[WORKERS];
    for (long i = 0; i < WORKERS; i++)
        if (pthread_create(&w[i], NULL, churn, (void *)(i + 1)) != 0) return 1;
    unsigned long total = 0;
    for (int i = 0; i < WORKERS; i++) {
        void *r;
        pthread_join(w[i], &r);
        total += (unsigned long)r;
    }
    printf("churn: %d threads x %d malloc/free, checksum %lu\n", WORKERS, ROUNDS, total);
    return 0;
}
