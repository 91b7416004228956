/* A shared futex woken across processes without the word changing (as stress-ng --futex does):
 * the child waits with FUTEX_WAIT (no timeout), the parent repeats FUTEX_WAKE until it reports
 * one waiter woken, while a ticker thread runs. Only a waiter in the kernel can be woken like
 * that; under the preload the child's main thread is its only green thread, so it waits there. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ticker.h"

int main(void)
{
    unsigned *word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (word == MAP_FAILED)
        return 1;
    *word = 0;
    pid_t child = fork();
    if (child == 0) {
        long r = syscall(SYS_futex, word, FUTEX_WAIT, 0, NULL, NULL, 0);
        _exit(r == 0 ? 0 : 3);
    }
    pthread_t tk;
    pthread_create(&tk, NULL, ticker, NULL);
    long woken = 0;
    for (int i = 0; i < 5000 && woken == 0; i++) {
        woken = syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
        if (woken == 0)
            usleep(1000);
    }
    ticking = 0;
    pthread_join(tk, NULL);
    int st;
    waitpid(child, &st, 0);
    printf("wake reported %ld waiter(s); the word is still %u\n", woken, *word);
    printf("child: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
