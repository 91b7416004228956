/* stdio output streams on pipes and sockets: a thread writing with fwrite, fprintf, printf,
 * fputs, fputc, putc_unlocked (inline: __overflow), puts, putchar or the fortified
 * __fprintf_chk/__printf_chk to a pipe that a slower reader thread of this process drains
 * fills the pipe many times over and waits for the reader, with glibc's results:
 * - a fully buffered pipe stream: 1000-byte fwrites, one 100000-byte fwrite (glibc writes
 *   whole blocks straight from the caller's memory), fprintf lines, fputs, fputc, the inline
 *   putc_unlocked and fputs_unlocked/fwrite_unlocked under flockfile;
 * - line-buffered (setvbuf _IOLBF) and unbuffered (_IONBF) streams;
 * - stdout put on a pipe (dup2): printf, vprintf, puts, putchar, __printf_chk;
 * - a Unix stream socket (fdopen "w"): fprintf and __fprintf_chk;
 * - fclose writing a 100000-byte buffer (setvbuf) into the pipe while the reader drains it;
 * - two threads printing to two pipes at once (while one waits in its write, the other's
 *   fprintf formats elsewhere: csrc/printf.c's second path), with 20000-byte lines among them;
 * - a conversion that fails (EILSEQ) after some output: -1, and the output before it is written;
 * - errors: a reader gone (EPIPE, SIGPIPE ignored): fprintf -1 and ferror, fflush EOF; fwrite to
 *   a read-only stream: 0 with EBADF;
 * - pthread_cancel of a thread waiting in fprintf (or fwrite) on a pipe nobody reads: it ends
 *   with PTHREAD_CANCELED and the stream's lock is free again (glibc's cleanup releases it).
 * Every case prints the bytes the reader got and their hash, and the count written. Under
 * libgreen on one carrier without hand-off, glibc's own write to the full pipe would block the
 * carrier, so the reader would never run: the program would hang. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wchar.h>

int __fprintf_chk(FILE *fp, int flag, const char *fmt, ...);
int __printf_chk(int flag, const char *fmt, ...);

#include "pipe_drain.h"

/* A pipe whose read end a draining thread reads; the write end as a stream with `mode`. */
static FILE *open_sink(struct sink *s, int kind)
{
    int p[2];
    if (kind == 0 ? pipe(p) : socketpair(AF_UNIX, SOCK_STREAM, 0, p))
        die("pipe");
    s->fd = p[0];
    s->bytes = 0;
    if (pthread_create(&s->t, NULL, drain, s))
        die("pthread_create");
    FILE *f = fdopen(p[1], "w");
    if (!f)
        die("fdopen");
    return f;
}

static void close_sink(struct sink *s, FILE *f, const char *name, long wrote)
{
    if (fclose(f))
        die("fclose");
    pthread_join(s->t, NULL);
    printf("%s: wrote %ld, reader got %lu bytes, hash %016lx\n", name, wrote, s->bytes, s->hash);
}

static char line[64] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

static long fully_buffered(FILE *f)
{
    long total = 0;
    char rec[1000];
    for (int i = 0; i < 200; i++) {
        memset(rec, 'a' + i % 26, sizeof rec);
        total += fwrite(rec, 1, sizeof rec, f);
    }
    char *big = malloc(100000);
    for (int i = 0; i < 100000; i++)
        big[i] = (char)(i * 7);
    total += fwrite(big, 100, 1000, f) * 100;
    free(big);
    for (int i = 0; i < 5000; i++)
        total += fprintf(f, "%05d %.*s\n", i, i % 40, line);
    for (int i = 0; i < 3000; i++) {
        if (fputs("fputs line\n", f) == EOF || fputc('#', f) == EOF)
            die("fputs");
        total += 12;
    }
    flockfile(f);
    for (int i = 0; i < 60000; i++)
        putc_unlocked('a' + i % 26, f);
    total += 60000;
    for (int i = 0; i < 2000; i++) {
        fputs_unlocked("unlocked\n", f);
        total += fwrite_unlocked(line, 1, 33, f) + 9;
    }
    funlockfile(f);
    return total;
}

static long line_buffered(FILE *f)
{
    static char buf[256];
    setvbuf(f, buf, _IOLBF, sizeof buf);
    long total = 0;
    for (int i = 0; i < 8000; i++)
        total += fprintf(f, "line %d: %.*s%s", i, i % 60, line, i % 3 ? "\n" : " (no newline) ");
    return total;
}

static long unbuffered(FILE *f)
{
    setvbuf(f, NULL, _IONBF, 0);
    long total = 0;
    for (int i = 0; i < 100; i++) {
        char rec[2000];
        memset(rec, 'A' + i % 26, sizeof rec);
        total += fwrite(rec, 1, sizeof rec, f);
        total += fputc('\n', f) == '\n';
    }
    return total;
}

static int my_vprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vprintf(fmt, ap);
    va_end(ap);
    return r;
}

/* stdout on the pipe for a while. */
static void to_stdout(void)
{
    struct sink s;
    FILE *f = open_sink(&s, 0);
    fflush(stdout);
    int saved = dup(1);
    if (saved < 0 || dup2(fileno(f), 1) < 0)
        die("dup2");
    long total = 0;
    for (int i = 0; i < 3000; i++) {
        total += printf("printf %d %s\n", i, line);
        total += my_vprintf("vprintf %d %.*s\n", i, i % 50, line);
        total += __printf_chk(1, "__printf_chk %x\n", i);
        if (puts("puts line") == EOF || putchar('!') == EOF)
            die("puts");
        total += 11;
    }
    fflush(stdout);
    if (dup2(saved, 1) < 0)
        die("dup2 back");
    close(saved);
    close_sink(&s, f, "stdout", total);
}

static void errors(void)
{
    FILE *f = fdopen(reader_gone(), "w");
    int r = fprintf(f, "%5000d", 1);
    printf("fprintf with the reader gone: %d, errno %s, ferror %d\n", r, strerrorname_np(errno), ferror(f) != 0);
    clearerr(f);
    fputs("x", f);
    errno = 0;
    r = fflush(f);
    printf("fflush with the reader gone: %d, errno %s, ferror %d\n", r, strerrorname_np(errno), ferror(f) != 0);
    printf("fclose: %d\n", fclose(f));

    int p[2];
    if (pipe(p))
        die("pipe");
    f = fdopen(p[0], "r");
    errno = 0;
    size_t n = fwrite("abc", 1, 3, f);
    printf("fwrite to a read-only stream: %zu, errno %s, ferror %d\n", n, strerrorname_np(errno), ferror(f) != 0);
    fclose(f);
    close(p[1]);
    signal(SIGPIPE, SIG_DFL);
}

struct writer {
    FILE *f;
    long total;
};

static void *print_lines(void *arg)
{
    struct writer *w = arg;
    for (int i = 0; i < 3000; i++) {
        w->total += fprintf(w->f, "%d %s %.*s\n", i, line, i % 60, line);
        if (i % 1000 == 999)
            w->total += fprintf(w->f, "%20000d\n", i);
    }
    return NULL;
}

static void two_writers(void)
{
    struct sink s[2];
    struct writer w[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        w[i].f = open_sink(&s[i], 0);
        w[i].total = 0;
        if (pthread_create(&t[i], NULL, print_lines, &w[i]))
            die("pthread_create");
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        close_sink(&s[i], w[i].f, i ? "second writer" : "first writer", w[i].total);
    }
}

static void bad_conversion(void)
{
    struct sink s;
    FILE *f = open_sink(&s, 0);
    static const wchar_t bad[] = {0xd800, 0};
    errno = 0;
    int r = fprintf(f, "before %ls after\n", bad);
    printf("fprintf of an invalid wide string: %d, errno %s\n", r, strerrorname_np(errno));
    close_sink(&s, f, "bad conversion", 0);
}

static FILE *stuck;

static void *write_forever(void *use_fwrite)
{
    for (;;) {
        if (use_fwrite)
            fwrite(line, 1, 60, stuck);
        else
            fprintf(stuck, "%s %d\n", line, 1);
    }
    return NULL;
}

static void cancel_writer(int use_fwrite)
{
    int p[2];
    if (pipe(p))
        die("pipe");
    stuck = fdopen(p[1], "w");
    pthread_t t;
    if (pthread_create(&t, NULL, write_forever, use_fwrite ? "" : NULL))
        die("pthread_create");
    usleep(50000); /* it fills the pipe and waits */
    pthread_cancel(t);
    void *r;
    pthread_join(t, &r);
    int unlocked = ftrylockfile(stuck) == 0;
    if (unlocked)
        funlockfile(stuck);
    printf("%s: cancelled %d, lock free %d\n", use_fwrite ? "fwrite" : "fprintf", r == PTHREAD_CANCELED, unlocked);
    signal(SIGPIPE, SIG_IGN);
    close(p[0]);
    fclose(stuck); /* EPIPE, or 0 when nothing was left buffered */
    signal(SIGPIPE, SIG_DFL);
}

int main(void)
{
    struct sink s;
    FILE *f = open_sink(&s, 0);
    close_sink(&s, f, "fully buffered", fully_buffered(f));

    f = open_sink(&s, 0);
    close_sink(&s, f, "line buffered", line_buffered(f));

    f = open_sink(&s, 0);
    close_sink(&s, f, "unbuffered", unbuffered(f));

    to_stdout();

    f = open_sink(&s, 1);
    long total = 0;
    for (int i = 0; i < 4000; i++) {
        total += fprintf(f, "socket %d %s\n", i, line);
        total += __fprintf_chk(f, 1, "chk %d\n", i);
    }
    close_sink(&s, f, "socket", total);

    /* Nothing reaches the pipe before fclose: its 100000-byte write must wait for the reader. */
    f = open_sink(&s, 0);
    static char big_buf[128 * 1024];
    setvbuf(f, big_buf, _IOFBF, sizeof big_buf);
    total = 0;
    for (int i = 0; i < 2000; i++)
        total += fwrite(line, 1, 50, f);
    close_sink(&s, f, "fclose", total);

    two_writers();
    bad_conversion();
    errors();
    cancel_writer(0);
    cancel_writer(1);
    return 0;
}
