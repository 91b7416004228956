/* Waiting for an advisory file lock that a child process holds (flock, fcntl F_SETLKW, fcntl
 * F_OFD_SETLKW, lockf F_LOCK), while another thread of this process ticks every 10 ms. The
 * kernel gives no readiness for a lock: under libgreen a green thread's wait runs on an offload
 * worker while it parks, so the ticker keeps ticking (on one carrier without hand-off the
 * carrier blocked in the kernel's wait and the ticker stopped: "ticked during the wait: no").
 * Then the kernel's own answers: EDEADLK for a POSIX lock wait that would deadlock with the
 * child (which waits for our lock), EWOULDBLOCK/EAGAIN for the non-blocking forms of a held lock,
 * EBADF, EINVAL. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

static char path[] = "/tmp/libgreen-file-lock-XXXXXX";
static atomic_int waiting, ticks;

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void *ticker(void *arg)
{
    (void)arg;
    while (atomic_load(&waiting)) {
        usleep(10000);
        atomic_fetch_add(&ticks, 1);
    }
    return NULL;
}

static int lock_cmd(int fd, int cmd, short type, off_t start)
{
    struct flock l = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = 1};
    return fcntl(fd, cmd, &l);
}

/* The child: takes the lock of kind `how`, says so, holds it 200 ms, exits (releasing it). */
static pid_t holder(const char *how, int *ready)
{
    int p[2];
    if (pipe(p))
        die("pipe");
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        int fd = open(path, O_RDWR);
        int r = !strcmp(how, "flock") ? flock(fd, LOCK_EX)
              : !strcmp(how, "ofd") ? lock_cmd(fd, F_OFD_SETLKW, F_WRLCK, 0)
                                    : lock_cmd(fd, F_SETLKW, F_WRLCK, 0);
        if (r)
            _exit(2);
        if (write(p[1], "x", 1) != 1)
            _exit(3);
        usleep(200000);
        _exit(0);
    }
    close(p[1]);
    *ready = p[0];
    return pid;
}

static void wait_case(const char *how)
{
    int ready;
    pid_t child = holder(!strcmp(how, "lockf") ? "posix" : how, &ready);
    char c;
    if (read(ready, &c, 1) != 1)
        die("read");
    close(ready);
    int fd = open(path, O_RDWR);
    atomic_store(&ticks, 0);
    atomic_store(&waiting, 1);
    pthread_t t;
    pthread_create(&t, NULL, ticker, NULL);
    int r;
    if (!strcmp(how, "flock")) r = flock(fd, LOCK_EX);
    else if (!strcmp(how, "ofd")) r = lock_cmd(fd, F_OFD_SETLKW, F_WRLCK, 0);
    else if (!strcmp(how, "lockf")) r = lockf(fd, F_LOCK, 1);
    else r = lock_cmd(fd, F_SETLKW, F_WRLCK, 0);
    int e = errno;
    atomic_store(&waiting, 0);
    pthread_join(t, NULL);
    int status;
    waitpid(child, &status, 0);
    printf("%s: %d (%s), the holder's exit status %d, ticked during the wait: %s\n", how, r, r ? strerror(e) : "-",
           WEXITSTATUS(status), atomic_load(&ticks) >= 5 ? "yes" : "no");
    close(fd);
}

static void errors(void)
{
    /* The child takes byte 1 and then waits for byte 0, which we hold: our wait for byte 1
     * would close the circle. */
    int fd = open(path, O_RDWR);
    lock_cmd(fd, F_SETLK, F_WRLCK, 0);
    int p[2];
    if (pipe(p))
        die("pipe");
    pid_t pid = fork();
    if (pid == 0) {
        int cfd = open(path, O_RDWR);
        lock_cmd(cfd, F_SETLK, F_WRLCK, 1);
        if (write(p[1], "x", 1) != 1)
            _exit(3);
        _exit(lock_cmd(cfd, F_SETLKW, F_WRLCK, 0) == 0 ? 0 : 4);
    }
    close(p[1]);
    char c;
    if (read(p[0], &c, 1) != 1)
        die("read");
    close(p[0]);
    usleep(100000); /* the child is in its wait */
    errno = 0;
    int r = lock_cmd(fd, F_SETLKW, F_WRLCK, 1);
    printf("F_SETLKW that would deadlock: %d, errno %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = lock_cmd(fd, F_SETLK, F_WRLCK, 1);
    printf("F_SETLK of a held lock: %d, errno %s\n", r, strerrorname_np(errno));
    int other = open(path, O_RDWR);
    flock(other, LOCK_EX);
    errno = 0;
    r = flock(fd, LOCK_EX | LOCK_NB);
    printf("flock LOCK_NB of a held lock: %d, errno %s\n", r, strerrorname_np(errno));
    close(other);
    close(fd); /* releases byte 0: the child gets it */
    int status;
    waitpid(pid, &status, 0);
    printf("the deadlock child got its lock: %d\n", WIFEXITED(status) && WEXITSTATUS(status) == 0);
    errno = 0;
    r = lock_cmd(-1, F_SETLKW, F_WRLCK, 0);
    printf("F_SETLKW on fd -1: %d, errno %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = flock(-1, LOCK_EX);
    printf("flock on fd -1: %d, errno %s\n", r, strerrorname_np(errno));
    fd = open(path, O_RDWR);
    errno = 0;
    r = lock_cmd(fd, F_SETLKW, 42, 0);
    printf("F_SETLKW with a bad type: %d, errno %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = flock(fd, 0);
    printf("flock with no operation: %d, errno %s\n", r, strerrorname_np(errno));
    close(fd);
}

int main(void)
{
    int fd = mkstemp(path);
    if (fd < 0)
        die("mkstemp");
    if (write(fd, "ab", 2) != 2)
        die("write");
    close(fd);
    wait_case("flock");
    wait_case("posix");
    wait_case("ofd");
    wait_case("lockf");
    errors();
    unlink(path);
    return 0;
}
