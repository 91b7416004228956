/* libgreen: the printf family of green threads on pipes, FIFOs and sockets.
 *
 * glibc's vfprintf writes into the stream through internal calls, so a printf to a full pipe
 * blocked the carrier. For a stream src/stdio_write.rs takes, the output is formatted into
 * memory first (vsnprintf, or __vsnprintf_chk with the caller's fortify flag, so %n and the
 * checks behave as in the fortified call) and then written under the stream's lock by
 * libgreen_stdio_write, which parks while the fd is full; one printf stays one unit of output.
 * Every other call goes to glibc's function. C because the formatting takes a va_list; the
 * exported names are naked jumps in preload/src/hooks/stdio.rs (Rust cannot define variadic
 * functions). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int libgreen_stdio_write_handles(FILE *fp);
int libgreen_stdio_write(FILE *fp, const char *s, size_t n);
int __vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap);
int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap);

typedef int (*vfprintf_fn)(FILE *, const char *, va_list);
typedef int (*vfprintf_chk_fn)(FILE *, int, const char *, va_list);

/* glibc's function `name` (libgreen exports one of that name too). */
static void *next(void **slot, const char *name)
{
    void *f = __atomic_load_n(slot, __ATOMIC_RELAXED);
    if (!f) {
        f = dlsym(RTLD_NEXT, name);
        if (!f)
            abort();
        __atomic_store_n(slot, f, __ATOMIC_RELAXED);
    }
    return f;
}

/* Frees a formatted output that did not fit the stack buffer, also when a cancellation
 * unwinds through the write (built with -fexceptions), keeping errno. */
static void free_output(char **out)
{
    if (*out) {
        int e = errno;
        free(*out);
        errno = e;
    }
}

/* flag < 0: the unfortified call. */
static int green_vfprintf(FILE *fp, int flag, const char *fmt, va_list ap)
{
    static void *real, *real_chk;
    if (!libgreen_stdio_write_handles(fp)) {
        if (flag < 0)
            return ((vfprintf_fn)next(&real, "vfprintf"))(fp, fmt, ap);
        return ((vfprintf_chk_fn)next(&real_chk, "__vfprintf_chk"))(fp, flag, fmt, ap);
    }
    char local[1024];
    char *big __attribute__((cleanup(free_output))) = NULL;
    const char *out = local;
    va_list again;
    va_copy(again, ap);
    int n = flag < 0 ? vsnprintf(local, sizeof local, fmt, ap)
                     : __vsnprintf_chk(local, sizeof local, flag, sizeof local, fmt, ap);
    if (n >= (int)sizeof local) {
        big = malloc((size_t)n + 1);
        if (!big) {
            va_end(again);
            return -1; /* errno ENOMEM, as glibc's own allocation failure */
        }
        n = flag < 0 ? vsnprintf(big, (size_t)n + 1, fmt, again)
                     : __vsnprintf_chk(big, (size_t)n + 1, flag, (size_t)n + 1, fmt, again);
        out = big;
    }
    va_end(again);
    if (n >= 0 && libgreen_stdio_write(fp, out, (size_t)n) != 0)
        return -1;
    return n;
}

int libgreen_vfprintf(FILE *fp, const char *fmt, va_list ap) { return green_vfprintf(fp, -1, fmt, ap); }
int libgreen_vprintf(const char *fmt, va_list ap) { return green_vfprintf(stdout, -1, fmt, ap); }
int libgreen_vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap) { return green_vfprintf(fp, flag, fmt, ap); }
int libgreen_vprintf_chk(int flag, const char *fmt, va_list ap) { return green_vfprintf(stdout, flag, fmt, ap); }

int libgreen_fprintf(FILE *fp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = green_vfprintf(fp, -1, fmt, ap);
    va_end(ap);
    return r;
}

int libgreen_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = green_vfprintf(stdout, -1, fmt, ap);
    va_end(ap);
    return r;
}

int libgreen_fprintf_chk(FILE *fp, int flag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = green_vfprintf(fp, flag, fmt, ap);
    va_end(ap);
    return r;
}

int libgreen_printf_chk(int flag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = green_vfprintf(stdout, flag, fmt, ap);
    va_end(ap);
    return r;
}
