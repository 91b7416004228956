// An exception a thread does not catch ends the process in std::terminate, as natively: the
// thread's stack ends at its first frame, so the unwinder finds no handler, not even main's
// catch-all around the pthread_create and join (a thread's frames are never main's callers).
// The throw happens in a fork child whose stderr comes back through a pipe; the parent prints
// how the child ended and the first line the child wrote. A thread that catches its own
// exception goes on as usual first.
#include <pthread.h>
#include <stdexcept>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

static void *catches(void *)
{
    try {
        throw std::runtime_error("caught");
    } catch (const std::exception &e) {
        std::printf("thread caught its own: %s\n", e.what());
    }
    return nullptr;
}

static void *throws(void *)
{
    throw std::runtime_error("boom");
}

int main()
{
    pthread_t th;
    pthread_create(&th, nullptr, catches, nullptr);
    pthread_join(th, nullptr);
    std::fflush(stdout);

    int p[2];
    if (pipe(p) != 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        try {
            pthread_create(&th, nullptr, throws, nullptr);
            pthread_join(th, nullptr);
        } catch (...) {
            std::puts("main caught the thread's exception");
        }
        _exit(0);
    }
    close(p[1]);
    std::string err;
    char buf[4096];
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0)
        err.append(buf, n);
    close(p[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st))
        std::printf("child killed by signal %d\n", WTERMSIG(st));
    else
        std::printf("child exited with %d\n", WEXITSTATUS(st));
    std::printf("its stderr began: %s\n", err.substr(0, err.find('\n')).c_str());
    return 0;
}
