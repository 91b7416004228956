/* Per-thread libc state that glibc sets up when a thread starts: ctype tables (isalpha,
 * toupper), the thread's locale (uselocale), its own resolver state (_res), and strerror
 * buffers — all usable in every thread, and per thread. */
#define _GNU_SOURCE
#include <ctype.h>
#include <locale.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static struct __res_state *main_res;

struct out {
    char upper[32];
    int alpha, digits;
    int own_res;
    char decimal[8];
    char err[64];
};

static void *worker(void *arg)
{
    struct out *o = arg;
    const char *s = "Green threads 2026!";
    int i;
    for (i = 0; s[i]; i++) {
        o->upper[i] = (char)toupper((unsigned char)s[i]);
        o->alpha += isalpha((unsigned char)s[i]) != 0;
        o->digits += isdigit((unsigned char)s[i]) != 0;
    }
    o->upper[i] = 0;
    o->own_res = &_res != main_res;
    usleep(1000);
    locale_t l = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    locale_t old = uselocale(l);
    snprintf(o->decimal, sizeof o->decimal, "%.1f", 1.5);
    uselocale(old);
    freelocale(l);
    snprintf(o->err, sizeof o->err, "%s", strerror(2));
    return NULL;
}

int main(void)
{
    main_res = &_res;
    pthread_t t[4];
    struct out o[4];
    memset(o, 0, sizeof o);
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, &o[i]);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++)
        printf("thread %d: %s alpha=%d digits=%d own _res=%s decimal=%s err=%s\n", i, o[i].upper, o[i].alpha,
               o[i].digits, o[i].own_res ? "yes" : "no", o[i].decimal, o[i].err);
    return 0;
}
