/* 10,000 threads created and joined (in waves of 100, then 2,000 alive at once); every return
 * value must come back intact. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void *triple(void *arg)
{
    return (void *)((uintptr_t)arg * 3 + 1);
}

int main(void)
{
    uint64_t sum = 0;
    int bad = 0;
    pthread_t th[2000];
    for (int wave = 0; wave < 100; wave++) {
        for (int i = 0; i < 100; i++) {
            int r = pthread_create(&th[i], NULL, triple, (void *)(uintptr_t)(wave * 100 + i));
            if (r) { printf("create failed: %d\n", r); return 1; }
        }
        for (int i = 0; i < 100; i++) {
            void *ret;
            pthread_join(th[i], &ret);
            uintptr_t want = (uintptr_t)(wave * 100 + i) * 3 + 1;
            if ((uintptr_t)ret != want) bad++;
            sum += (uintptr_t)ret;
        }
    }
    for (int i = 0; i < 2000; i++)
        if (pthread_create(&th[i], NULL, triple, (void *)(uintptr_t)i)) { printf("create failed\n"); return 1; }
    for (int i = 0; i < 2000; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        if ((uintptr_t)ret != (uintptr_t)i * 3 + 1) bad++;
        sum += (uintptr_t)ret;
    }
    printf("joined 12000 threads, sum %llu, bad %d\n", (unsigned long long)sum, bad);
    return bad != 0;
}
