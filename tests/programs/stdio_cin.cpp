// C++ iostreams on a pipe: std::getline(std::cin) in a thread waits for lines main writes 20 ms
// apart, then sees EOF. With sync_with_stdio (the default) libstdc++ reads std::cin through
// stdio's getc/ungetc, so under libgreen on one carrier without hand-off a read that blocked the
// carrier would stop main from writing: the program would hang.
#include <iostream>
#include <string>
#include <thread>
#include <unistd.h>

static void put(int fd, const char *s, size_t n)
{
    if (write(fd, s, n) != static_cast<ssize_t>(n))
        _exit(1);
}

int main()
{
    int p[2];
    if (pipe(p) || dup2(p[0], 0) < 0)
        return 1;
    close(p[0]);
    std::thread reader([] {
        std::string line;
        while (std::getline(std::cin, line))
            std::cout << "got [" << line << "]" << std::endl;
        std::cout << "eof" << std::endl;
    });
    usleep(20000);
    put(p[1], "one\ntw", 6);
    usleep(20000);
    put(p[1], "o\nthree", 7);
    close(p[1]);
    reader.join();
}
