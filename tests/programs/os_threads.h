/* The number of OS threads of this process (entries of /proc/self/task): what a test prints to
 * show that helper threads (the offload pool's, the watchdog) have come and gone. */
#include <dirent.h>

static inline int os_threads(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while ((e = readdir(d))) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}
