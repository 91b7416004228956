/* The scanf family reading pipes and a socket that another thread of this process fills slowly,
 * in pieces that split numbers and words. Run on one carrier without hand-off (tests/run.sh): a
 * scanf that blocked the carrier in glibc's internal read would never let the writer run (the
 * test hung). Checked: every value and return count, %n, matching failures that leave the
 * stream at the failing character (the next getc sees it), EOF and feof, fscanf, scanf and
 * vfscanf through the C99 names gcc calls and the plain names (looked up with dlsym), stdin,
 * and a thread cancelled inside fscanf. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what)
{
    perror(what);
    exit(1);
}

struct feed {
    int fd;
    const char *const *pieces;
};

/* Writes each piece with a pause before it, then closes the fd. */
static void *writer(void *arg)
{
    struct feed *f = arg;
    for (const char *const *p = f->pieces; *p; p++) {
        usleep(2000);
        size_t n = strlen(*p);
        if (write(f->fd, *p, n) != (ssize_t)n)
            die("write");
    }
    close(f->fd);
    return NULL;
}

static pthread_t start_feed(struct feed *f, int fd, const char *const *pieces)
{
    f->fd = fd;
    f->pieces = pieces;
    pthread_t t;
    if (pthread_create(&t, NULL, writer, f))
        die("pthread_create");
    return t;
}

static FILE *pipe_stream(int fds[2])
{
    if (pipe(fds))
        die("pipe");
    FILE *in = fdopen(fds[0], "r");
    if (!in)
        die("fdopen");
    return in;
}

/* 300 numbers in pieces of 7 bytes: most numbers are split between two writes. */
static void numbers(void)
{
    static char text[4096];
    static const char *pieces[1024];
    size_t len = 0;
    long want = 0;
    for (int i = 0; i < 300; i++) {
        int v = i * 7919 % 100003 - 50000;
        want += v;
        len += (size_t)sprintf(text + len, i % 10 == 9 ? "%d\n" : "%d ", v);
    }
    static char chunks[1024][8];
    int n = 0;
    for (size_t off = 0; off < len; off += 7, n++) {
        snprintf(chunks[n], sizeof chunks[n], "%.7s", text + off);
        pieces[n] = chunks[n];
    }
    pieces[n] = NULL;
    int fds[2];
    FILE *in = pipe_stream(fds);
    struct feed f;
    pthread_t t = start_feed(&f, fds[1], pieces);
    long sum = 0;
    int count = 0, v, r;
    while ((r = fscanf(in, "%d", &v)) == 1) {
        sum += v;
        count++;
    }
    printf("numbers: %d read, sum %ld (want %ld), last fscanf %d, feof %d\n", count, sum, want, r, feof(in) != 0);
    pthread_join(t, NULL);
    fclose(in);
}

typedef int (*fscanf_fn)(FILE *, const char *, ...);
typedef int (*vfscanf_fn)(FILE *, const char *, va_list);

/* vfscanf through a variadic function of the program's: the C99 name, or (plain) the one
 * dlsym finds (libgreen's under the preload, glibc's natively). */
static int my_scan(int plain, FILE *in, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = plain ? ((vfscanf_fn)dlsym(RTLD_DEFAULT, "vfscanf"))(in, fmt, ap) : vfscanf(in, fmt, ap);
    va_end(ap);
    return r;
}

/* Formats that stop early: what is left is read next. */
static void matching(void)
{
    static const char *const pieces[] = {"12", ",ab", "c;x", " 7", "8 4", "5abc", " 3.2", "5e1 -", "-9 wo", "rd2 ", "end", NULL};
    int fds[2];
    FILE *in = pipe_stream(fds);
    struct feed f;
    pthread_t t = start_feed(&f, fds[1], pieces);
    int a = 0, b = 0, n = -1;
    char word[32] = "";
    double d = 0;
    int r = fscanf(in, "%d,%31[a-z];%n", &a, word, &n);
    printf("'%%d,%%[a-z];%%n': %d -> %d '%s' n=%d, next '%c'\n", r, a, word, n, fgetc(in));
    r = my_scan(0, in, "%d%d", &a, &b);
    printf("vfscanf '%%d%%d': %d -> %d %d\n", r, a, b);
    r = fscanf(in, "%d", &a);
    printf("'%%d' before letters: %d -> %d, next '%c'\n", r, a, fgetc(in));
    r = fscanf(in, "%d", &a);
    printf("'%%d' on letters: %d, next '%c'\n", r, fgetc(in));
    fscanf_fn plain = (fscanf_fn)dlsym(RTLD_DEFAULT, "fscanf");
    r = plain(in, "%*[a-z]%lf", &d);
    printf("plain fscanf '%%*[a-z]%%lf': %d -> %g\n", r, d);
    r = my_scan(1, in, "%d", &a);
    printf("plain vfscanf '%%d' on '--9': %d, next '%c'\n", r, fgetc(in));
    r = fscanf(in, "%d %31s", &a, word);
    printf("'%%d %%s': %d -> %d '%s'\n", r, a, word);
    r = fscanf(in, "%31s", word);
    printf("'%%s': %d -> '%s'\n", r, word);
    r = fscanf(in, "%d", &a);
    printf("at EOF: %d, feof %d, ferror %d\n", r, feof(in) != 0, ferror(in) != 0);
    pthread_join(t, NULL);
    fclose(in);
}

/* scanf on stdin (the pipe's read end moved to fd 0). */
static void on_stdin(void)
{
    static const char *const pieces[] = {"4", "0 ", "2", "\n", "x", NULL};
    int fds[2];
    if (pipe(fds) || dup2(fds[0], 0) < 0)
        die("pipe/dup2");
    close(fds[0]);
    struct feed f;
    pthread_t t = start_feed(&f, fds[1], pieces);
    int a = 0, b = 0;
    int r = scanf("%d %d", &a, &b);
    printf("scanf on stdin: %d -> %d %d, next '%c'\n", r, a, b, getchar());
    int (*plain_scanf)(const char *, ...) = (int (*)(const char *, ...))dlsym(RTLD_DEFAULT, "scanf");
    r = plain_scanf("%d", &a);
    printf("plain scanf at EOF: %d\n", r);
    pthread_join(t, NULL);
}

/* fscanf on a socket stream. */
static void on_socket(void)
{
    static const char *const pieces[] = {"hello ", "wor", "ld 1", "23", "\n", NULL};
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        die("socketpair");
    FILE *in = fdopen(sv[0], "r");
    struct feed f;
    pthread_t t = start_feed(&f, sv[1], pieces);
    char w1[16], w2[16];
    int v = 0;
    int r = fscanf(in, "%15s %15s %d", w1, w2, &v);
    printf("socket: %d -> '%s' '%s' %d\n", r, w1, w2, v);
    pthread_join(t, NULL);
    fclose(in);
}

static FILE *cancel_in;

static void *cancelled_reader(void *arg)
{
    (void)arg;
    int v;
    int r = fscanf(cancel_in, "%d", &v);
    printf("cancelled reader returned %d\n", r); /* not reached */
    return NULL;
}

/* A thread cancelled while its fscanf waits for the rest of a number: it ends (scanf is a
 * cancellation point), the stream's lock is free again, and what it had read is gone, as
 * natively. */
static void cancelled(void)
{
    int fds[2];
    cancel_in = pipe_stream(fds);
    if (write(fds[1], "12", 2) != 2)
        die("write");
    pthread_t t;
    pthread_create(&t, NULL, cancelled_reader, NULL);
    usleep(30000);
    pthread_cancel(t);
    void *res;
    pthread_join(t, &res);
    if (write(fds[1], "3 45\n", 5) != 5)
        die("write");
    close(fds[1]);
    int a = 0, b = 0;
    int r = fscanf(cancel_in, "%d %d", &a, &b);
    printf("cancelled in fscanf: %d; then fscanf %d -> %d %d\n", res == PTHREAD_CANCELED, r, a, b);
    fclose(cancel_in);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    numbers();
    matching();
    on_socket();
    cancelled();
    on_stdin();
    return 0;
}
