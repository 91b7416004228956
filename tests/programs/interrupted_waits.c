/* A signal handler run on a thread waiting for a file lock (flock, fcntl F_SETLKW, fcntl
 * F_OFD_SETLKW) or in a blocking open of a FIFO ends the wait with EINTR when it was installed
 * without SA_RESTART, and lets the wait go on (the kernel restarts the call) when installed
 * with it. Under libgreen these waits run on an offload worker while the green thread parks:
 * the handler runs on the green thread, and the worker's call must be interrupted for the
 * first case (it went on waiting before: the waiter was never joined, a hang) and not for
 * the second. A lock's holder is a child process that keeps it until its release pipe closes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char lock_path[] = "/tmp/libgreen-interrupted-XXXXXX";
static char fifo_path[64];
static volatile sig_atomic_t handled;
static atomic_int waiter_done;

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
}

static int lock_cmd(int fd, int cmd)
{
    struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    return fcntl(fd, cmd, &l);
}

static int take(const char *how, int fd)
{
    if (!strcmp(how, "flock"))
        return flock(fd, LOCK_EX);
    return lock_cmd(fd, !strcmp(how, "ofd") ? F_OFD_SETLKW : F_SETLKW);
}

struct wait {
    const char *how;
    int r, e;
};

static void *waiter(void *arg)
{
    struct wait *w = arg;
    if (!strcmp(w->how, "fifo")) {
        w->r = open(fifo_path, O_RDONLY);
        w->e = errno;
        if (w->r >= 0) {
            char c;
            if (read(w->r, &c, 1) != 1)
                w->e = -1;
            close(w->r);
            w->r = 0;
        }
    } else {
        int fd = open(lock_path, O_RDWR);
        w->r = take(w->how, fd);
        w->e = errno;
        close(fd);
    }
    atomic_store(&waiter_done, 1);
    return NULL;
}

/* A child that takes the lock `how` names, says so on the ready pipe and holds it until its
 * release pipe is closed. Returns the release pipe's write end. */
static int holder(const char *how, pid_t *pid)
{
    int ready[2], release[2];
    if (pipe(ready) || pipe(release))
        die("pipe");
    *pid = fork();
    if (*pid < 0)
        die("fork");
    if (*pid == 0) {
        close(release[1]);
        int fd = open(lock_path, O_RDWR);
        if (take(how, fd))
            _exit(2);
        if (write(ready[1], "x", 1) != 1)
            _exit(3);
        char c;
        while (read(release[0], &c, 1) > 0)
            ;
        _exit(0);
    }
    close(ready[1]);
    close(release[0]);
    char c;
    if (read(ready[0], &c, 1) != 1)
        die("read");
    close(ready[0]);
    return release[1];
}

static void interrupted(const char *how, int flags)
{
    struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = flags};
    sigaction(SIGUSR1, &sa, NULL);
    handled = 0;
    atomic_store(&waiter_done, 0);
    pid_t child = 0;
    int release = -1;
    if (!strcmp(how, "fifo"))
        mkfifo(fifo_path, 0600);
    else
        release = holder(how, &child);
    struct wait w = {.how = how};
    pthread_t t;
    pthread_create(&t, NULL, waiter, &w);
    usleep(100000); /* the waiter is in its wait */
    pthread_kill(t, SIGUSR1);
    if (!(flags & SA_RESTART)) {
        pthread_join(t, NULL); /* the handler alone ends the wait */
    } else {
        usleep(100000);
    }
    int ended_by_signal = atomic_load(&waiter_done);
    /* What ends a wait that went on: the holder exits, or a writer opens the FIFO. */
    if (release >= 0)
        close(release);
    if (!strcmp(how, "fifo") && (flags & SA_RESTART)) {
        int fd = open(fifo_path, O_WRONLY);
        if (fd < 0 || write(fd, "y", 1) != 1)
            die("fifo writer");
        close(fd);
    }
    if (flags & SA_RESTART)
        pthread_join(t, NULL);
    if (child) {
        int status;
        waitpid(child, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status))
            printf("%s: the holder failed (%d)\n", how, status);
    }
    if (!strcmp(how, "fifo"))
        unlink(fifo_path);
    printf("%s, handler %s SA_RESTART: %d (%s), handler ran %d, ended before the lock/writer came: %s\n", how,
           flags & SA_RESTART ? "with" : "without", w.r, w.r ? strerrorname_np(w.e) : "-", (int)handled,
           ended_by_signal ? "yes" : "no");
}

int main(void)
{
    int fd = mkstemp(lock_path);
    if (fd < 0)
        die("mkstemp");
    if (write(fd, "ab", 2) != 2)
        die("write");
    close(fd);
    snprintf(fifo_path, sizeof fifo_path, "/tmp/libgreen-interrupted-fifo-%d", getpid());
    const char *kinds[] = {"flock", "posix", "ofd", "fifo"};
    for (int i = 0; i < 4; i++) {
        interrupted(kinds[i], 0);
        interrupted(kinds[i], SA_RESTART);
    }
    /* After all that, the lock is free and works as before. */
    fd = open(lock_path, O_RDWR);
    printf("flock afterwards: %d, F_SETLKW afterwards: %d\n", flock(fd, LOCK_EX), lock_cmd(fd, F_SETLKW));
    close(fd);
    unlink(lock_path);
    return 0;
}
