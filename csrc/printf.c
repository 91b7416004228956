/* libgreen: the printf family of green threads on pipes, FIFOs and sockets.
 *
 * glibc's vfprintf writes into the stream through internal calls, so a printf to a full pipe
 * blocked the carrier. For a stream src/stdio_write.rs takes, the output is formatted into
 * memory first and then written under the stream's lock by libgreen_stdio_write, which parks
 * while the fd is full; one printf stays one unit of output. The formatting is glibc's own
 * vfprintf (or __vfprintf_chk with the caller's flag, so %n and the checks behave as in the
 * fortified call) into a private cookie stream, the sink, whose 4 KiB buffer holds the output
 * (more spills through its write function into a growing buffer): it costs what glibc's
 * vfprintf into the real stream costs, and output made before a conversion fails (EILSEQ) is
 * written, as glibc's leaves it in the stream. A thread that finds the sink taken (another
 * carrier formats, or its holder waits in the write) formats with vsnprintf instead.
 * dprintf and vdprintf (+ __dprintf_chk, __vdprintf_chk) to a pipe, FIFO or socket fd take the
 * same path, written with the fd's cooperative write (glibc's go through a FILE of their own).
 * perror writes its line the same way (glibc's goes through a FILE of its own, or stderr, with
 * internal calls). Every other call goes to glibc's function. C because the formatting takes a va_list; the
 * exported names are naked jumps in preload/src/hooks/stdio.rs (Rust cannot define variadic
 * functions). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

int libgreen_stdio_write_handles(FILE *fp);
int libgreen_stdio_write(FILE *fp, const char *s, size_t n);
int libgreen_fd_write_handles(int fd);
int libgreen_fd_write(int fd, const char *s, size_t n);
int __vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap);
int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap);
int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap);

typedef int (*vfprintf_fn)(FILE *, const char *, va_list);
typedef int (*vfprintf_chk_fn)(FILE *, int, const char *, va_list);
typedef int (*vdprintf_fn)(int, const char *, va_list);
typedef int (*vdprintf_chk_fn)(int, int, const char *, va_list);

/* Where formatted output goes: a stream, or (fp NULL) an fd for dprintf. */
struct dest {
    FILE *fp;
    int fd;
};

/* The whole output to `d`: 0, or -1 with errno. */
static int write_out(struct dest d, const char *s, size_t n)
{
    return d.fp ? libgreen_stdio_write(d.fp, s, n) : libgreen_fd_write(d.fd, s, n);
}

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

static void *real_vfprintf, *real_vfprintf_chk, *real_vdprintf, *real_vdprintf_chk;

/* glibc's vfprintf (flag < 0) or __vfprintf_chk. */
static int glibc_vfprintf(FILE *fp, int flag, const char *fmt, va_list ap)
{
    if (flag < 0)
        return ((vfprintf_fn)next(&real_vfprintf, "vfprintf"))(fp, fmt, ap);
    return ((vfprintf_chk_fn)next(&real_vfprintf_chk, "__vfprintf_chk"))(fp, flag, fmt, ap);
}

/* glibc's vdprintf (flag < 0) or __vdprintf_chk. */
static int glibc_vdprintf(int fd, int flag, const char *fmt, va_list ap)
{
    if (flag < 0)
        return ((vdprintf_fn)next(&real_vdprintf, "vdprintf"))(fd, fmt, ap);
    return ((vdprintf_chk_fn)next(&real_vdprintf_chk, "__vdprintf_chk"))(fd, flag, fmt, ap);
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

/* What the sink's buffer could not hold, in order. */
static struct {
    char *buf;
    size_t len, cap;
} spill;
static char sink_buf[4096];
static FILE *sink;

static ssize_t spill_write(void *cookie, const char *b, size_t n)
{
    (void)cookie;
    if (spill.len + n > spill.cap) {
        size_t cap = spill.cap ? spill.cap : 8192;
        while (cap < spill.len + n)
            cap *= 2;
        char *p = realloc(spill.buf, cap);
        if (!p)
            return -1;
        spill.buf = p;
        spill.cap = cap;
    }
    memcpy(spill.buf + spill.len, b, n);
    spill.len += n;
    return (ssize_t)n;
}

/* The sink, made on first use (NULL if it cannot be). */
static FILE *get_sink(void)
{
    FILE *f = __atomic_load_n(&sink, __ATOMIC_ACQUIRE);
    if (f)
        return f;
    static int making;
    if (__atomic_exchange_n(&making, 1, __ATOMIC_ACQ_REL))
        return NULL; /* another thread makes it: format with vsnprintf this time */
    cookie_io_functions_t io = {.write = spill_write};
    f = fopencookie(NULL, "w", io);
    if (f)
        setvbuf(f, sink_buf, _IOFBF, sizeof sink_buf);
    __atomic_store_n(&sink, f, __ATOMIC_RELEASE);
    return f;
}

/* Empties the sink and releases it, also when a cancellation unwinds through the write. */
static void release_sink(FILE **held)
{
    FILE *f = *held;
    if (!f)
        return;
    f->_IO_write_ptr = f->_IO_write_base;
    spill.len = 0;
    clearerr_unlocked(f);
    funlockfile(f);
}

/* Formats into the held sink and writes the output to d: vfprintf's result, or -1. */
static int through_sink(FILE *s, struct dest d, int flag, const char *fmt, va_list ap)
{
    /* Empty already, unless a fork copied it from the middle of another thread's printf (the
     * child's glibc resets every stream's lock, not its contents). */
    s->_IO_write_ptr = s->_IO_write_base;
    spill.len = 0;
    int n = glibc_vfprintf(s, flag, fmt, ap);
    int e = errno;
    const char *out = s->_IO_write_base;
    size_t len = (size_t)(s->_IO_write_ptr - s->_IO_write_base);
    if (spill.len) {
        if (spill_write(NULL, out, len) < 0)
            return -1;
        out = spill.buf;
        len = spill.len;
    }
    if (write_out(d, out, len) != 0)
        return -1;
    errno = e;
    return n;
}

/* Formats and writes to d (taken by libgreen); flag < 0: the unfortified call. */
static int green_format(struct dest d, int flag, const char *fmt, va_list ap)
{
    FILE *s = get_sink();
    if (s && ftrylockfile(s) == 0) {
        FILE *held __attribute__((cleanup(release_sink))) = s;
        return through_sink(s, d, flag, fmt, ap);
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
    if (n >= 0 && write_out(d, out, (size_t)n) != 0)
        return -1;
    return n;
}

static int green_vfprintf(FILE *fp, int flag, const char *fmt, va_list ap)
{
    if (!libgreen_stdio_write_handles(fp))
        return glibc_vfprintf(fp, flag, fmt, ap);
    return green_format((struct dest){.fp = fp}, flag, fmt, ap);
}

/* dprintf: glibc's vdprintf writes through a FILE of its own with internal calls. */
static int green_vdprintf(int fd, int flag, const char *fmt, va_list ap)
{
    if (!libgreen_fd_write_handles(fd))
        return glibc_vdprintf(fd, flag, fmt, ap);
    return green_format((struct dest){.fp = NULL, .fd = fd}, flag, fmt, ap);
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

/* green_format with the arguments given here. */
static int format_to(struct dest d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = green_format(d, -1, fmt, ap);
    va_end(ap);
    return r;
}

typedef void (*perror_fn)(const char *);
static void *real_perror;

/* perror to a stderr on a pipe, FIFO or socket: "s: message\n" (the message alone for a null
 * or empty s) as one write, like glibc's 2.36, whose steps it follows: while stderr has no
 * orientation, glibc writes through fdopen(dup(fd), "w+") so as not to give it one, which works
 * on a socket (read-write) and fails with EINVAL on a pipe's write end, and then writes through
 * stderr (now byte-oriented, errno left EINVAL); an oriented stderr is written under its lock.
 * A failed write on the fd sets stderr's error flag, as glibc's does. */
void libgreen_perror(const char *s)
{
    int errnum = errno;
    if (!libgreen_stdio_write_handles(stderr)) {
        ((perror_fn)next(&real_perror, "perror"))(s);
        return;
    }
    char buf[1024];
    const char *msg = strerror_r(errnum, buf, sizeof buf);
    const char *colon = s && *s ? ": " : "";
    if (!s)
        s = "";
    struct dest d = {.fp = stderr};
    int after = errnum;
    if (fwide(stderr, 0) == 0) {
        int fd = fileno(stderr), fl = fcntl(fd, F_GETFL);
        if (fl >= 0 && (fl & O_ACCMODE) == O_RDWR) {
            d = (struct dest){.fp = NULL, .fd = fd};
        } else {
            after = EINVAL;
            fwide(stderr, -1);
        }
    }
    if (format_to(d, "%s%s%s\n", s, colon, msg) < 0) {
        after = errno;
        if (!d.fp)
            stderr->_flags |= _IO_ERR_SEEN;
    }
    errno = after;
}

int libgreen_vdprintf(int fd, const char *fmt, va_list ap) { return green_vdprintf(fd, -1, fmt, ap); }
int libgreen_vdprintf_chk(int fd, int flag, const char *fmt, va_list ap) { return green_vdprintf(fd, flag, fmt, ap); }

int libgreen_dprintf(int fd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = green_vdprintf(fd, -1, fmt, ap);
    va_end(ap);
    return r;
}

int libgreen_dprintf_chk(int fd, int flag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = green_vdprintf(fd, flag, fmt, ap);
    va_end(ap);
    return r;
}
