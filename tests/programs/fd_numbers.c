/* The runtime's own descriptors (its epoll instance and wake-up eventfd) do not take the low
 * numbers the program's open() calls get natively: after threads have slept and waited on a
 * pipe (the hub waited in epoll), the program's next descriptors and its list of open ones
 * below 64 are the native ones. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static int p[2];
static void *sleeper(void *arg) { (void)arg; usleep(20000); return NULL; }
static void *reader(void *arg)
{
    (void)arg;
    char c;
    return (void *)(long)read(p[0], &c, 1);
}

int main(void)
{
    if (pipe(p)) return 1;
    pthread_t a, b;
    pthread_create(&a, NULL, sleeper, NULL);
    pthread_create(&b, NULL, reader, NULL);
    usleep(10000);
    if (write(p[1], "x", 1) != 1) return 1;
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    int first = open("/dev/null", O_RDONLY);
    int second = open("/dev/null", O_RDONLY);
    printf("next open(): %d, then %d\n", first, second);
    printf("open below 64:");
    for (int fd = 0; fd < 64; fd++)
        if (fcntl(fd, F_GETFD) >= 0) printf(" %d", fd);
    printf("\n");
    return 0;
}
