/* pthread_getattr_np reports each thread's real stack (a local variable lies inside it), its
 * guard and detach state; stack size and user stacks from pthread_attr_t are honoured; names
 * round-trip through pthread_setname_np/getname_np. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct report {
    size_t size;
    size_t guard;
    int detach;
    int inside;
    int touched_deep;
};

static void *probe(void *arg)
{
    struct report *r = arg;
    char local[64];
    pthread_attr_t a;
    void *addr;
    size_t size;
    memset(local, 1, sizeof local);
    if (pthread_getattr_np(pthread_self(), &a) != 0) { r->inside = -1; return NULL; }
    pthread_attr_getstack(&a, &addr, &size);
    pthread_attr_getguardsize(&a, &r->guard);
    pthread_attr_getdetachstate(&a, &r->detach);
    pthread_attr_destroy(&a);
    r->size = size;
    r->inside = (uintptr_t)local >= (uintptr_t)addr && (uintptr_t)local < (uintptr_t)addr + size;
    /* Use most of the stack: it must really be that big. */
    size_t deep = size / 2;
    volatile char *p = __builtin_alloca(deep);
    p[0] = 1;
    p[deep - 1] = 1;
    r->touched_deep = 1;
    return NULL;
}

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;

static void *hold(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&gate);
    pthread_mutex_unlock(&gate);
    return NULL;
}

static void show(const char *what, struct report *r, size_t min_size)
{
    printf("%-28s size>=%zuK %s, local inside %s, guard>0 %s, detached %s, deep use %s\n", what,
           min_size / 1024, r->size >= min_size ? "yes" : "NO", r->inside == 1 ? "yes" : "NO",
           r->guard > 0 ? "yes" : "NO", r->detach == PTHREAD_CREATE_DETACHED ? "yes" : "no",
           r->touched_deep ? "yes" : "NO");
}

int main(void)
{
    pthread_t t;
    pthread_attr_t a;
    struct report r;

    memset(&r, 0, sizeof r);
    pthread_create(&t, NULL, probe, &r);
    pthread_join(t, NULL);
    show("default attributes", &r, 64 * 1024);

    memset(&r, 0, sizeof r);
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 4 << 20);
    pthread_create(&t, &a, probe, &r);
    pthread_join(t, NULL);
    show("stacksize 4M", &r, 4 << 20);
    pthread_attr_destroy(&a);

    memset(&r, 0, sizeof r);
    size_t ustack_size = 1 << 20;
    void *ustack = aligned_alloc(4096, ustack_size);
    pthread_attr_init(&a);
    pthread_attr_setstack(&a, ustack, ustack_size);
    pthread_create(&t, &a, probe, &r);
    pthread_join(t, NULL);
    show("user stack 1M", &r, 512 * 1024);
    pthread_attr_destroy(&a);
    free(ustack);

    char name[32];
    pthread_mutex_lock(&gate); /* keep the thread alive while it is named */
    pthread_create(&t, NULL, hold, NULL);
    pthread_setname_np(t, "worker-7");
    pthread_getname_np(t, name, sizeof name);
    printf("name round trip: %s\n", name);
    pthread_mutex_unlock(&gate);
    pthread_join(t, NULL);
    return 0;
}
