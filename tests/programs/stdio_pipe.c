/* stdio input streams on pipes and sockets: a thread reading with fgets, getline, getdelim,
 * fgetc/getc/getchar, the inline getc_unlocked, or fread waits for its data while the writer
 * (main, or another thread) goes on, with the results and flags glibc gives:
 * - fgets across two writes 20 ms apart, then EOF (NULL, feof);
 * - getline and getdelim(',') over pieces, then -1 at EOF;
 * - getchar on stdin (a pipe put on fd 0), getc, fgetc, and the inline getc_unlocked;
 * - fread of 100000 bytes written in 10 pieces, every byte checked, then a short count at EOF;
 * - a socket stream opened "r+": fprintf a request, then fgets the answer without fflush (glibc
 *   writes the request out before it reads);
 * - a prompt: stdout line-buffered and on a pipe main reads, a line-buffered input stream:
 *   printf("name? ") without a newline is on stdout's pipe before the reader waits (glibc
 *   flushes stdout before reading such a stream), and main answers only after it saw it;
 * - two threads in fgets on one stream at once (one waits for the other's lock);
 * - SIGUSR1 without SA_RESTART sent to a thread in fgets: NULL, ferror, EINTR; with SA_RESTART
 *   the fgets goes on and returns the line written after the signals;
 * - a socket stream with SO_RCVTIMEO 100 ms and no data: NULL with EAGAIN;
 * - pthread_cancel of a thread waiting in fgets: it ends (PTHREAD_CANCELED) and the stream's
 *   lock is free again (glibc releases it in its cleanup): main's fgets of it then works.
 * Under libgreen on one carrier without hand-off, a read that blocked the carrier would stop
 * the writer: the program would hang. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void put(int fd, const char *s)
{
    if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
        die("write");
}

/* A pipe whose read end is a FILE; the write end in *w. */
static FILE *pipe_file(int *w)
{
    int p[2];
    if (pipe(p))
        die("pipe");
    *w = p[1];
    FILE *f = fdopen(p[0], "r");
    if (!f)
        die("fdopen");
    return f;
}

static FILE *in;
static pthread_t start(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    if (pthread_create(&t, NULL, fn, arg))
        die("pthread_create");
    return t;
}

static void *do_fgets(void *a)
{
    (void)a;
    char buf[64];
    while (fgets(buf, sizeof buf, in))
        printf("  fgets: [%s]\n", strtok(buf, "\n") ? buf : "");
    printf("  fgets: NULL feof=%d ferror=%d\n", feof(in), ferror(in));
    return NULL;
}

/* Records of `in` up to EOF: lines with getline (delim NULL), else getdelim(*delim). */
static void *do_records(void *delim)
{
    const char *name = delim ? "getdelim" : "getline";
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = delim ? getdelim(&line, &cap, *(char *)delim, in) : getline(&line, &cap, in)) > 0)
        printf("  %s: %zd [%.*s]\n", name, n, (int)n - (line[n - 1] == '\n'), line);
    printf("  %s: %zd feof=%d\n", name, n, feof(in));
    free(line);
    return NULL;
}

static void *do_chars(void *a)
{
    (void)a;
    char got[64];
    int n = 0, c;
    got[n++] = (char)getchar();
    got[n++] = (char)getc(stdin);
    got[n++] = (char)fgetc(stdin);
    flockfile(stdin);
    while ((c = getc_unlocked(stdin)) != EOF && n < 60)
        got[n++] = (char)c;
    funlockfile(stdin);
    got[n] = 0;
    printf("  chars: %d [%s] feof=%d\n", n, got, feof(stdin));
    return NULL;
}

static unsigned char big[100000];
static void *do_fread(void *a)
{
    (void)a;
    static unsigned char got[sizeof big];
    size_t n = fread(got, 1, sizeof got, in);
    printf("  fread: %zu bytes, %s\n", n, memcmp(got, big, sizeof big) ? "differ" : "all match");
    char tail[8];
    n = fread(tail, 2, 4, in); /* 5 bytes are left: two whole items */
    printf("  fread: %zu items [%.4s] feof=%d\n", n, tail, feof(in));
    return NULL;
}

static int sv[2];
static void *answer(void *a)
{
    (void)a;
    char req[64];
    ssize_t n = 0, r;
    while (n < (ssize_t)sizeof req - 1 && (r = read(sv[1], req + n, 1)) == 1 && req[n++] != '\n')
        ;
    req[n] = 0;
    char reply[96];
    snprintf(reply, sizeof reply, "pong to %s", req);
    put(sv[1], reply);
    return NULL;
}

static void *do_prompt(void *a)
{
    (void)a;
    char name[32];
    printf("name? ");
    if (fgets(name, sizeof name, in))
        printf("hello %s", name);
    return NULL;
}

static volatile sig_atomic_t handled;
static void on_sig(int sig)
{
    (void)sig;
    handled++;
}

static int printed; /* lines do_fgets_one printed */
/* One fgets of a reader sharing `in` with another (ferror would wait for the other's lock). */
static void *do_fgets_one(void *a)
{
    (void)a;
    char buf[32];
    printf("  fgets: [%s]\n", fgets(buf, sizeof buf, in) ? strtok(buf, "\n") : "NULL");
    __atomic_add_fetch(&printed, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static volatile int returned;
static void *do_fgets_eintr(void *a)
{
    (void)a;
    char buf[32];
    errno = 0;
    char *r = fgets(buf, sizeof buf, in);
    int e = errno;
    returned = 1;
    if (r)
        printf("  fgets: [%s] ferror=%d\n", strtok(buf, "\n"), ferror(in));
    else
        printf("  fgets: NULL ferror=%d errno=%s\n", ferror(in), e == EINTR ? "EINTR" : strerror(e));
    return NULL;
}

static void handler(int flags)
{
    struct sigaction sa = {.sa_handler = on_sig, .sa_flags = flags};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int w;

    printf("fgets:\n");
    in = pipe_file(&w);
    pthread_t t = start(do_fgets, NULL);
    usleep(20000);
    put(w, "hello ");
    usleep(20000);
    put(w, "world\nsecond line\nthird");
    usleep(20000);
    close(w);
    pthread_join(t, NULL);
    fclose(in);

    printf("getline:\n");
    in = pipe_file(&w);
    t = start(do_records, NULL);
    put(w, "one\ntw");
    usleep(20000);
    put(w, "o\n");
    usleep(20000);
    put(w, "three");
    close(w);
    pthread_join(t, NULL);
    fclose(in);

    printf("getdelim:\n");
    in = pipe_file(&w);
    t = start(do_records, ",");
    usleep(20000);
    put(w, "a,bb");
    usleep(20000);
    put(w, "b,cc");
    close(w);
    pthread_join(t, NULL);
    fclose(in);

    printf("getchar, getc, fgetc, getc_unlocked on stdin:\n");
    int p[2];
    if (pipe(p) || dup2(p[0], 0) < 0)
        die("stdin pipe");
    close(p[0]);
    t = start(do_chars, NULL);
    usleep(20000);
    put(p[1], "a");
    usleep(20000);
    put(p[1], "bc");
    usleep(20000);
    put(p[1], "defgh");
    close(p[1]);
    pthread_join(t, NULL);

    printf("fread:\n");
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (unsigned char)(i * 7 + i / 251);
    in = pipe_file(&w);
    t = start(do_fread, NULL);
    for (int i = 0; i < 10; i++) {
        usleep(5000);
        if (write(w, big + i * 10000, 10000) != 10000)
            die("write big");
    }
    put(w, "wxyz!");
    close(w);
    pthread_join(t, NULL);
    fclose(in);

    printf("socket stream r+:\n");
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        die("socketpair");
    t = start(answer, NULL);
    FILE *s = fdopen(sv[0], "r+");
    fprintf(s, "ping %d\n", 42);
    char line[96];
    printf("  %s", fgets(line, sizeof line, s) ? line : "NULL\n");
    pthread_join(t, NULL);
    fclose(s);
    close(sv[1]);

    printf("prompt:\n");
    int out[2], saved = dup(1);
    if (pipe(out) || dup2(out[1], 1) < 0)
        die("stdout pipe");
    close(out[1]);
    in = pipe_file(&w);
    setvbuf(in, NULL, _IOLBF, 0);
    t = start(do_prompt, NULL);
    char seen[64];
    size_t n = 0;
    while (n < 6) { /* "name? " */
        ssize_t r = read(out[0], seen + n, 6 - n);
        if (r <= 0)
            die("read prompt");
        n += r;
    }
    put(w, "bob\n");
    pthread_join(t, NULL);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    ssize_t r = read(out[0], seen + n, sizeof seen - 1 - n);
    seen[n + (r > 0 ? r : 0)] = 0;
    printf("  stdout had: [%.6s] then [%s]\n", seen, strtok(seen + 6, "\n"));
    close(out[0]);
    close(w);
    fclose(in);

    printf("two readers of one stream:\n");
    in = pipe_file(&w);
    pthread_t t2;
    t = start(do_fgets_one, NULL);
    t2 = start(do_fgets_one, NULL);
    usleep(20000);
    put(w, "first\n");
    while (__atomic_load_n(&printed, __ATOMIC_SEQ_CST) == 0) /* in order, even when slowed down */
        usleep(1000);
    put(w, "second\n");
    pthread_join(t, NULL);
    pthread_join(t2, NULL);
    close(w);
    fclose(in);

    printf("EINTR (no SA_RESTART):\n");
    handler(0);
    in = pipe_file(&w);
    returned = 0;
    t = start(do_fgets_eintr, NULL);
    while (!returned) { /* until the signal finds it waiting */
        usleep(10000);
        if (!returned)
            pthread_kill(t, SIGUSR1);
    }
    pthread_join(t, NULL);
    printf("  handled: %s\n", handled > 0 ? "yes" : "no");

    printf("SA_RESTART:\n");
    handler(SA_RESTART);
    clearerr(in);
    handled = 0;
    returned = 0;
    t = start(do_fgets_eintr, NULL);
    for (int i = 0; i < 3; i++) {
        usleep(10000);
        pthread_kill(t, SIGUSR1);
    }
    usleep(10000);
    put(w, "restarted\n");
    pthread_join(t, NULL);
    printf("  handled: %s\n", handled > 0 ? "yes" : "no");
    close(w);
    fclose(in);

    printf("cancelled in fgets:\n");
    in = pipe_file(&w);
    t = start(do_fgets_one, NULL);
    usleep(20000);
    pthread_cancel(t);
    void *res;
    pthread_join(t, &res);
    printf("  joined: %s\n", res == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "returned");
    put(w, "after cancel\n");
    printf("  main's fgets: [%s]\n", fgets(line, sizeof line, in) ? strtok(line, "\n") : "NULL");
    close(w);
    fclose(in);

    printf("SO_RCVTIMEO:\n");
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        die("socketpair");
    struct timeval tv = {0, 100000};
    setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    in = fdopen(sv[0], "r");
    t = start(do_fgets_eintr, NULL);
    pthread_join(t, NULL);
    fclose(in);
    close(sv[1]);
    return 0;
}
