/* A program that puts descriptors at numbers of its choosing, high ones included (dup2 and dup3
 * onto every free number up to just below the soft RLIMIT_NOFILE, as a shell's `exec 1019>&1` or a daemon
 * pinning its fds does), owns every one of them, and its threads keep waiting on pipes and
 * sleeping. Natively those numbers are free; under libgreen two of them held the runtime's
 * epoll instance and eventfd, which dup2 replaced: the next wait never ended (or spun).
 * - before: F_GETFD on every number from 3 up finds only the program's own fds open, and dup,
 *   dup2, dup3 and fcntl(F_DUPFD) of the numbers it never opened fail with EBADF, and
 *   F_DUPFD(_CLOEXEC) of the pipe at each of those numbers gets exactly that number;
 * - dup2 of a pipe's write end onto every free number from 3 up (odd ones with dup3 and
 *   O_CLOEXEC): all succeed; each is that pipe (a byte written through it comes out of the
 *   read end) and carries its flags;
 * - threads wait on a pipe and sleep after it, and again once every dup is closed (close of
 *   each succeeds: the program owned them all). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "hub_waits.h"

/* A round of hub waits (hub_waits.h), its pipe closed after. */
static void waits_closed(const char *after, char c)
{
    waits(after, c);
    close(hub_pipe[0]);
    close(hub_pipe[1]);
}

static const char *err(int r)
{
    return r >= 0 ? "succeeded" : errno == EBADF ? "EBADF" : strerror(errno);
}

int main(void)
{
    struct rlimit lim;
    getrlimit(RLIMIT_NOFILE, &lim);
    /* Four below the limit: the runtime's two fds count against it (README), and the waits
     * need a pipe after the dups. */
    int top = (lim.rlim_cur > 8192 ? 8192 : (int)lim.rlim_cur) - 4;
    waits_closed("start", 'a'); /* the hub has its epoll fds now */

    int q[2];
    if (pipe(q)) return 1;
    int open_fds = 0, dup_ok = 0, dup2_ok = 0, dup3_ok = 0, dupfd_ok = 0, dupfd_at = 0, free_fds = 0;
    int first_bad = -1;
    for (int fd = 3; fd < top; fd++) {
        if (fcntl(fd, F_GETFD) >= 0) {
            open_fds++;
            continue;
        }
        free_fds++;
        int d = dup(fd), d2 = dup2(fd, q[0]), d3 = dup3(fd, q[0], 0), df = fcntl(fd, F_DUPFD, 0);
        dup_ok += d >= 0, dup2_ok += d2 >= 0, dup3_ok += d3 >= 0, dupfd_ok += df >= 0;
        /* The lowest free number at or above fd is fd itself. */
        int at = fcntl(q[1], fd % 2 ? F_DUPFD_CLOEXEC : F_DUPFD, fd);
        dupfd_at += at == fd;
        if (at >= 0) close(at);
        if (d >= 0 || d2 >= 0 || d3 >= 0 || df >= 0) {
            if (first_bad < 0) first_bad = fd;
        } else if (first_bad < 0 && errno != EBADF) {
            first_bad = fd;
        }
    }
    printf("before: %d fds open from 3 up (the pipe and any inherited); dup %d, dup2 %d, dup3 %d, F_DUPFD %d of the others succeeded%s\n",
           open_fds, dup_ok, dup2_ok, dup3_ok, dupfd_ok, first_bad < 0 ? "" : " (one that should not: see the number)");
    printf("F_DUPFD at each free number got that number: %s\n", dupfd_at == free_fds ? "all" : "not all");

    int placed = 0, failed = 0, cloexec_right = 0;
    for (int fd = q[1] + 1; fd < top; fd++) {
        int r = fd % 2 ? dup3(q[1], fd, O_CLOEXEC) : dup2(q[1], fd);
        if (r != fd) {
            if (failed++ == 0) printf("dup onto %d: %s\n", fd, err(r));
            continue;
        }
        placed++;
        int f = fcntl(fd, F_GETFD);
        cloexec_right += f >= 0 && !!(f & FD_CLOEXEC) == fd % 2;
    }
    printf("dup2/dup3 onto every number from %d up: %d of %d placed, %d failed, flags right on %d\n",
           q[1] + 1, placed, top - q[1] - 1, failed, cloexec_right);

    /* Each placed number is the pipe: a byte through it reaches the read end. */
    int through = 0, tried = 0;
    for (int fd = top - 1; fd > q[1]; fd--) {
        char c = 'A' + tried % 26, got = 0;
        tried++;
        through += write(fd, &c, 1) == 1 && read(q[0], &got, 1) == 1 && got == c;
    }
    printf("bytes through %d placed numbers: %d arrived\n", tried, through);
    waits_closed("the dups", 'b');

    int closed = 0;
    for (int fd = q[1] + 1; fd < top; fd++)
        closed += close(fd) == 0;
    printf("closed %d\n", closed);
    waits_closed("closing them", 'c');
    return 0;
}
