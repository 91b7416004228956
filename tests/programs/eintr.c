/* EINTR exactly where the native call gives it. SIGUSR1's handler has no SA_RESTART, SIGUSR2's
 * has. A signal sent to a thread waiting in sem_wait, read or readv on a pipe, writev to a full
 * pipe, splice from an empty pipe, sendfile into a full socket, recv on a socket, poll, ppoll,
 * waitpid, nanosleep interrupts it (-1 EINTR); with SA_RESTART, read, readv, writev, splice,
 * sendfile, waitpid and sem_wait go on waiting and complete, while poll and nanosleep still fail with EINTR;
 * pthread_mutex_lock and pthread_cond_wait never fail with EINTR. A process-directed signal
 * (kill from a child process) that only the reading thread takes interrupts its read. ppoll's
 * mask lets a signal the thread blocks interrupt the wait. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sigtest.h"

static volatile int handled;
static void on_sig(int sig)
{
    (void)sig;
    handled++;
}

static sem_t sem;
static int pipefd[2], sock[2], full[2], spliced[2], fullsock[2], file;
static long filled; /* bytes in `full` before do_writev's own */
static char drained_tail[2]; /* the last two bytes drain_full read */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int flag;
static pid_t child;

static const char *res(long r, int e) { return r >= 0 ? "ok" : e == EINTR ? "EINTR" : strerror(e); }

static void *do_sem(void *a) { (void)a; int r = sem_wait(&sem); printf("  sem_wait: %s\n", res(r, errno)); return NULL; }
static void *do_read(void *a)
{
    (void)a;
    char c;
    long r = read(pipefd[0], &c, 1);
    printf("  read: %s%s\n", res(r, errno), r == 1 ? (c == 'x' ? " (got the byte)" : " (wrong byte)") : "");
    return NULL;
}
static void *do_readv(void *a)
{
    (void)a;
    char c = 0;
    struct iovec v = {&c, 1};
    long r = readv(pipefd[0], &v, 1);
    printf("  readv: %s%s\n", res(r, errno), r == 1 ? (c == 'x' ? " (got the byte)" : " (wrong byte)") : "");
    return NULL;
}
/* Writes to `fd` without blocking until it is full to the last byte; returns the bytes written. */
static long fill(int fd)
{
    char junk[1024] = {0};
    long w, n = 0;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    while ((w = write(fd, junk, sizeof junk)) > 0 || (w = write(fd, junk, 1)) > 0) n += w;
    fcntl(fd, F_SETFL, 0);
    return n;
}
/* Reads exactly `n` bytes from `fd`; `tail` gets the last two. */
static void drain(int fd, long n, char tail[2])
{
    char buf[4096];
    long r;
    while (n > 0 && (r = read(fd, buf, sizeof buf < (size_t)n ? sizeof buf : (size_t)n)) > 0) {
        n -= r;
        if (r >= 2) memcpy(tail, buf + r - 2, 2);
        else tail[0] = tail[1], tail[1] = buf[0];
    }
}
/* Fills `full` to the brim, then writes two more bytes the blocking way. */
static void *do_writev(void *a)
{
    (void)a;
    filled += fill(full[1]);
    struct iovec v[2] = {{"y", 1}, {"z", 1}};
    long r = writev(full[1], v, 2);
    printf("  writev to a full pipe: %s%s\n", res(r, errno), r >= 0 ? (r == 2 ? " (2 bytes)" : " (short)") : "");
    return NULL;
}
static void *do_splice(void *a)
{
    (void)a;
    long r = splice(pipefd[0], NULL, spliced[1], NULL, 1, 0);
    char c = 0;
    if (r == 1 && read(spliced[0], &c, 1) != 1) c = 0;
    printf("  splice from an empty pipe: %s%s\n", res(r, errno), r == 1 ? (c == 'x' ? " (moved the byte)" : " (wrong byte)") : "");
    return NULL;
}
static long sock_filled;
/* Fills fullsock[0]'s direction to the brim, then sendfiles one byte of `file`. */
static void *do_sendfile(void *a)
{
    (void)a;
    sock_filled += fill(fullsock[0]);
    off_t off = 0;
    long r = sendfile(fullsock[0], file, &off, 1);
    printf("  sendfile into a full socket: %s%s\n", res(r, errno), r == 1 ? " (1 byte)" : "");
    return NULL;
}
static void *do_recv(void *a) { (void)a; char c; long r = recv(sock[0], &c, 1, 0); printf("  recv: %s\n", res(r, errno)); return NULL; }
static void *do_poll(void *a)
{
    (void)a;
    struct pollfd p = {pipefd[0], POLLIN, 0};
    int r = poll(&p, 1, 5000);
    printf("  poll: %s\n", r == 0 ? "timeout" : res(r, errno));
    return NULL;
}
static void *do_ppoll(void *a)
{
    (void)a;
    sigset_t s, empty;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    sigemptyset(&empty);
    struct pollfd p = {pipefd[0], POLLIN, 0};
    struct timespec ts = {5, 0};
    int r = ppoll(&p, 1, &ts, &empty);
    printf("  ppoll with an empty mask in a thread blocking SIGUSR1: %s\n", r == 0 ? "timeout" : res(r, errno));
    return NULL;
}
static void *do_waitpid(void *a)
{
    (void)a;
    int st;
    pid_t r = waitpid(child, &st, 0);
    printf("  waitpid: %s\n", r == child ? "ok (reaped)" : res(r, errno));
    return NULL;
}
static void *do_sleep(void *a)
{
    (void)a;
    int r = nanosleep(&(struct timespec){5, 0}, NULL);
    printf("  nanosleep: %s\n", res(r, errno));
    return NULL;
}
static void *do_mutex(void *a)
{
    (void)a;
    int r = pthread_mutex_lock(&mu);
    printf("  pthread_mutex_lock: %d\n", r);
    pthread_mutex_unlock(&mu);
    return NULL;
}
static void *do_cond(void *a)
{
    (void)a;
    pthread_mutex_lock(&mu);
    int r = 0;
    while (!flag && r == 0) r = pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    printf("  pthread_cond_wait: %d after the flag was set\n", r);
    return NULL;
}

static pid_t spawn_sleeper(void)
{
    pid_t p = fork();
    if (p == 0) {
        usleep(600000);
        _exit(0);
    }
    return p;
}

/* Starts f, sends sig after 150 ms (a thread traced by strace takes a while to start), then
 * runs `finish` (which may complete the call), joins. */
static void run(const char *what, void *(*f)(void *), int sig, void (*finish)(void))
{
    printf("%s\n", what);
    pthread_t t;
    pthread_create(&t, NULL, f, NULL);
    usleep(150000);
    pthread_kill(t, sig);
    usleep(50000);
    if (finish) finish();
    pthread_join(t, NULL);
}

static void write_byte(void) { if (write(pipefd[1], "x", 1) != 1) perror("write"); }
/* Empties fullsock: what do_sendfile filled it with, and `extra` bytes after that. */
static char sock_tail[2];
static void drain_sock_plus(long extra)
{
    drain(fullsock[1], sock_filled + extra, sock_tail);
    sock_filled = 0;
}
static void drain_sock(void) { drain_sock_plus(0); }            /* the sendfile failed */
static void drain_sock_and_byte(void) { drain_sock_plus(1); }   /* it goes on and sends its byte */
/* Empties `full`: what do_writev filled it with, then its two bytes. */
static void drain_full(void) { drain(full[0], filled + 2, drained_tail); }
static void post(void) { sem_post(&sem); }
static void unlock_mu(void) { pthread_mutex_unlock(&mu); }
static void set_flag(void)
{
    pthread_mutex_lock(&mu);
    flag = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}
static void reap_if_needed(void)
{
    if (waitpid(child, NULL, WNOHANG) == 0) waitpid(child, NULL, 0);
}

int main(void)
{
    handle(SIGUSR1, on_sig, 0);
    handle(SIGUSR2, on_sig, SA_RESTART);
    sem_init(&sem, 0, 0);
    if (pipe(pipefd) || pipe(full) || pipe(spliced) || socketpair(AF_UNIX, SOCK_STREAM, 0, sock) ||
        socketpair(AF_UNIX, SOCK_STREAM, 0, fullsock))
        return 1;
    char path[] = "/tmp/green-eintr-XXXXXX";
    file = mkstemp(path);
    if (file < 0 || write(file, "s", 1) != 1) return 1;
    unlink(path);

    run("SIGUSR1 (no SA_RESTART):", do_sem, SIGUSR1, NULL);
    run("", do_read, SIGUSR1, NULL);
    run("", do_readv, SIGUSR1, NULL);
    run("", do_writev, SIGUSR1, NULL);
    run("", do_splice, SIGUSR1, NULL);
    run("", do_sendfile, SIGUSR1, drain_sock);
    run("", do_recv, SIGUSR1, NULL);
    run("", do_poll, SIGUSR1, NULL);
    run("", do_sleep, SIGUSR1, NULL);
    child = spawn_sleeper();
    run("", do_waitpid, SIGUSR1, reap_if_needed);
    run("", do_ppoll, SIGUSR1, NULL);

    run("SIGUSR2 (SA_RESTART):", do_read, SIGUSR2, write_byte);
    run("", do_readv, SIGUSR2, write_byte);
    run("", do_writev, SIGUSR2, drain_full);
    printf("  the pipe's last bytes: \"%.2s\"\n", drained_tail);
    run("", do_splice, SIGUSR2, write_byte);
    run("", do_sendfile, SIGUSR2, drain_sock_and_byte);
    printf("  the socket's last byte: '%c'\n", sock_tail[1]);
    child = spawn_sleeper();
    run("", do_waitpid, SIGUSR2, NULL);
    run("", do_sem, SIGUSR2, post);
    run("", do_poll, SIGUSR2, NULL);
    run("", do_sleep, SIGUSR2, NULL);

    pthread_mutex_lock(&mu);
    run("never EINTR:", do_mutex, SIGUSR1, unlock_mu);
    run("", do_cond, SIGUSR1, set_flag);

    /* Process-directed: main blocks SIGUSR1, so only the reader takes it. */
    printf("kill() from a child process, taken by the reading thread:\n");
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    pthread_t t;
    create_unblocked(&t, do_read, NULL);
    usleep(150000);
    kill_from_child(SIGUSR1);
    pthread_join(t, NULL);
    printf("handlers run: %d\n", handled);
    return 0;
}
