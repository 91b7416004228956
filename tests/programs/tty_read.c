/* A thread reading a terminal waits for its input while the other threads run, as natively. The
 * terminal is a pseudo-terminal's slave side; main types into the master side.
 * - canonical mode: read returns one whole line, typed in two pieces 100 ms apart, while a
 *   ticker ticks;
 * - non-canonical, VMIN 3: read returns once 3 bytes came (2, then 1);
 * - non-canonical, VMIN 0, VTIME 0: read returns 0 at once;
 * - readv in canonical mode: the next line;
 * - fgets on a stream of the terminal (stdio refills through glibc's internal read): a line typed
 *   in two pieces.
 * Under libgreen on one carrier without hand-off, a read that blocked the carrier would stop
 * main from typing: the program would hang. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include "ticker.h"

static int master, slave;
static char got[64];
static long got_n;

static void *read_once(void *a)
{
    (void)a;
    got_n = read(slave, got, sizeof got - 1);
    return NULL;
}

static void *readv_once(void *a)
{
    (void)a;
    struct iovec v[2] = {{got, 3}, {got + 3, sizeof got - 4}};
    got_n = readv(slave, v, 2);
    return NULL;
}

static void *fgets_once(void *a)
{
    (void)a;
    static FILE *f;
    if (!f) f = fdopen(dup(slave), "r");
    got_n = fgets(got, sizeof got, f) ? (long)strlen(got) : -1;
    return NULL;
}

/* A reader thread, then the pieces typed `gap_ms` apart; prints what it read. */
static void typed(const char *what, void *(*reader)(void *), const char *a, const char *b, int gap_ms)
{
    pthread_t t;
    memset(got, 0, sizeof got);
    tick_start();
    pthread_create(&t, NULL, reader, NULL);
    usleep(100000);
    if (a && write(master, a, strlen(a)) < 0) perror("write");
    usleep(gap_ms * 1000);
    if (b && write(master, b, strlen(b)) < 0) perror("write");
    pthread_join(t, NULL);
    for (long i = 0; i < got_n; i++)
        if (got[i] == '\n') got[i] = '|';
    printf("%s: %ld bytes \"%s\", others ran meanwhile: %s\n", what, got_n, got_n > 0 ? got : "", tick_stop());
}

static void set_mode(int canonical, int vmin, int vtime)
{
    struct termios t;
    tcgetattr(slave, &t);
    if (canonical) t.c_lflag |= ICANON;
    else t.c_lflag &= ~ICANON;
    t.c_lflag &= ~ECHO;
    t.c_cc[VMIN] = vmin;
    t.c_cc[VTIME] = vtime;
    tcsetattr(slave, TCSANOW, &t);
}

int main(void)
{
    master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) || unlockpt(master)) return 1;
    slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    if (slave < 0 || !isatty(slave)) return 1;

    set_mode(1, 1, 0);
    typed("canonical line", read_once, "hel", "lo\n", 100);
    set_mode(0, 3, 0);
    typed("VMIN 3", read_once, "ab", "c", 100);
    set_mode(0, 0, 0);
    got_n = read(slave, got, sizeof got);
    printf("VMIN 0 VTIME 0 with nothing typed: %ld\n", got_n);
    set_mode(1, 1, 0);
    typed("canonical readv", readv_once, "second line\n", NULL, 0);
    typed("canonical fgets", fgets_once, "third ", "line\n", 100);
    return 0;
}
