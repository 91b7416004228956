/* Wide-character stdio input on pipes, read by green threads while main writes the text in
 * pieces later (UTF-8, C.UTF-8 locale):
 * - fgetws of lines from an fdopen'ed pipe, then NULL and feof at the end;
 * - fgetwc and getwc one character at a time, and fgetwc_unlocked under flockfile;
 * - getwchar from stdin (the pipe dup2'ed onto fd 0);
 * and a thread sleeping meanwhile. glibc refills a wide stream through its internal read: on
 * one carrier without hand-off the reader blocked the carrier, and main never wrote (hung). */
#define _GNU_SOURCE
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

static int p[2];
static const char *pieces[] = {"h\xc3\xa9llo w\xc3\xb6rld\n", "\xc3\xbcn\xc3\xaf" "code \xe2\x9c\x93\n", "last line, no newline"};

static void *sleeper(void *a)
{
    (void)a;
    usleep(30000);
    return NULL;
}

/* Writes the pieces 10 ms apart, then closes the write end. */
static void write_slowly(void)
{
    for (int i = 0; i < 3; i++) {
        usleep(10000);
        if (write(p[1], pieces[i], strlen(pieces[i])) < 0) perror("write");
    }
    close(p[1]);
}

static void *lines(void *a)
{
    (void)a;
    FILE *f = fdopen(p[0], "r");
    wchar_t buf[64];
    int n = 0;
    while (fgetws(buf, 64, f)) printf("fgetws %d: %ls%s", ++n, buf, wcschr(buf, L'\n') ? "" : "\n");
    printf("fgetws: NULL, feof %d, ferror %d\n", feof(f) != 0, ferror(f) != 0);
    fclose(f);
    return NULL;
}

static void *chars(void *a)
{
    (void)a;
    FILE *f = fdopen(p[0], "r");
    wint_t c;
    int n = 0, wide = 0;
    flockfile(f);
    c = fgetwc_unlocked(f); /* the first one under the program's own lock */
    funlockfile(f);
    for (; c != WEOF; c = n % 2 ? getwc(f) : fgetwc(f)) {
        n++;
        wide += c > 127;
    }
    printf("fgetwc/getwc: %d characters, %d beyond ASCII, feof %d\n", n, wide, feof(f) != 0);
    fclose(f);
    return NULL;
}

static void *from_stdin(void *a)
{
    (void)a;
    wint_t c;
    int n = 0;
    wchar_t last = 0;
    while ((c = getwchar()) != WEOF) {
        n++;
        last = c;
    }
    printf("getwchar: %d characters, the last '%lc'\n", n, last);
    return NULL;
}

static void round_of(void *(*reader)(void *), int onto_stdin)
{
    pthread_t r, s;
    if (pipe(p)) { perror("pipe"); return; }
    if (onto_stdin) {
        dup2(p[0], 0);
        close(p[0]);
    }
    pthread_create(&r, NULL, reader, NULL);
    pthread_create(&s, NULL, sleeper, NULL);
    write_slowly();
    pthread_join(r, NULL);
    pthread_join(s, NULL);
    fflush(stdout);
}

int main(void)
{
    if (!setlocale(LC_ALL, "C.UTF-8")) { printf("no C.UTF-8 locale\n"); return 1; }
    round_of(lines, 0);
    round_of(chars, 0);
    round_of(from_stdin, 1);
    return 0;
}
