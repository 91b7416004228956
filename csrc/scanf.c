/* libgreen: the scanf family of green threads on pipes, FIFOs, sockets and terminals.
 *
 * glibc's vfscanf refills its stream through internal calls, so a scanf needing more input
 * than was buffered blocked the carrier. For a stream src/scanf.rs takes, glibc's own vfscanf
 * (or __isoc99_vfscanf: C99 conversions, the names gcc calls) runs on a private cookie stream
 * fed from the real one, whose refills wait in the hub; src/scanf.rs has the protocol. The
 * real stream is locked for the call, as glibc's vfscanf locks it, and released (with the
 * cookie stream closed) also when a cancellation unwinds through the wait (built with
 * -fexceptions). A wide-oriented stream gets EOF, as glibc's vfscanf gives it. C because the
 * arguments come as a va_list; the exported names are naked jumps in
 * preload/src/hooks/stdio.rs. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

struct scan_ctx {
    FILE *fp;
    size_t last_given;
};

int libgreen_scanf_waits(FILE *fp);
void libgreen_scan_lock(FILE *fp);
void libgreen_scan_unlock(FILE *fp);
ssize_t libgreen_scan_read(struct scan_ctx *ctx, char *buf, size_t size);
void libgreen_scan_restore(struct scan_ctx *ctx, size_t left);
int __isoc99_vfscanf(FILE *fp, const char *fmt, va_list ap);

typedef int (*vfscanf_fn)(FILE *, const char *, va_list);
static void *real_vfscanf, *real_isoc99_vfscanf;

/* glibc's vfscanf (isoc99: __isoc99_vfscanf); libgreen exports both names too. */
static int glibc_vfscanf(FILE *fp, const char *fmt, va_list ap, int isoc99)
{
    void **slot = isoc99 ? &real_isoc99_vfscanf : &real_vfscanf;
    void *f = __atomic_load_n(slot, __ATOMIC_RELAXED);
    if (!f) {
        f = dlsym(RTLD_NEXT, isoc99 ? "__isoc99_vfscanf" : "vfscanf");
        if (!f)
            abort();
        __atomic_store_n(slot, f, __ATOMIC_RELAXED);
    }
    return ((vfscanf_fn)f)(fp, fmt, ap);
}

static ssize_t scan_read(void *cookie, char *buf, size_t size)
{
    return libgreen_scan_read(cookie, buf, size);
}

/* One call's resources: released on return and when a cancellation unwinds. */
struct scan_call {
    struct scan_ctx ctx;
    FILE *cs;
    int locked;
};

static void end_call(struct scan_call *c)
{
    int e = errno;
    if (c->cs)
        fclose(c->cs);
    if (c->locked)
        libgreen_scan_unlock(c->ctx.fp);
    errno = e;
}

static int green_vfscanf(FILE *fp, const char *fmt, va_list ap, int isoc99)
{
    if (!libgreen_scanf_waits(fp))
        return glibc_vfscanf(fp, fmt, ap, isoc99);
    if (fwide(fp, -1) > 0)
        return EOF;
    struct scan_call call __attribute__((cleanup(end_call))) = {.ctx = {.fp = fp}};
    char buf[4096];
    cookie_io_functions_t io = {.read = scan_read};
    call.cs = fopencookie(&call.ctx, "r", io);
    if (!call.cs || setvbuf(call.cs, buf, _IOFBF, sizeof buf) != 0)
        return glibc_vfscanf(fp, fmt, ap, isoc99); /* no memory for ours: glibc's call */
    libgreen_scan_lock(fp);
    call.locked = 1;
    int r = glibc_vfscanf(call.cs, fmt, ap, isoc99);
    libgreen_scan_restore(&call.ctx, (size_t)(call.cs->_IO_read_end - call.cs->_IO_read_ptr));
    return r;
}

int libgreen_vfscanf(FILE *fp, const char *fmt, va_list ap) { return green_vfscanf(fp, fmt, ap, 0); }
int libgreen_vscanf(const char *fmt, va_list ap) { return green_vfscanf(stdin, fmt, ap, 0); }
int libgreen_isoc99_vfscanf(FILE *fp, const char *fmt, va_list ap) { return green_vfscanf(fp, fmt, ap, 1); }
int libgreen_isoc99_vscanf(const char *fmt, va_list ap) { return green_vfscanf(stdin, fmt, ap, 1); }

int libgreen_fscanf(FILE *fp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = green_vfscanf(fp, fmt, ap, 0);
    va_end(ap);
    return r;
}

int libgreen_scanf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = green_vfscanf(stdin, fmt, ap, 0);
    va_end(ap);
    return r;
}

int libgreen_isoc99_fscanf(FILE *fp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = green_vfscanf(fp, fmt, ap, 1);
    va_end(ap);
    return r;
}

int libgreen_isoc99_scanf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = green_vfscanf(stdin, fmt, ap, 1);
    va_end(ap);
    return r;
}
