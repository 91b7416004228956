/* The number of OS threads of this process (entries of /proc/self/task): what a test prints to
 * show that helper threads (the offload pool's, the watchdog) have come and gone. libgreen's
 * carrier OS threads (GREEN_HUBS > 1, or spares started by a hand-off; each names itself
 * "green-carrier") are not counted: they run the program's green threads, like the main one,
 * and may stay for the process's life, so the printed figure means the same in every mode.
 * Raw syscalls read the names, so counting starts no offload job of its own (as opendir's
 * internal open does not). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline int is_carrier(const char *tid)
{
    char path[300], comm[32] = ""; /* a d_name is at most 255 bytes */
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", tid);
    long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    long n = syscall(SYS_read, fd, comm, sizeof comm - 1);
    syscall(SYS_close, fd);
    return n > 0 && strcmp(comm, "green-carrier\n") == 0;
}

static inline int os_threads(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while ((e = readdir(d))) n += e->d_name[0] != '.' && !is_carrier(e->d_name);
    closedir(d);
    return n;
}
