/* Shared by the two echo servers: the listening socket on 127.0.0.1:PORT from argv. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

/* Listens on 127.0.0.1:argv[1] (socket type flags such as SOCK_NONBLOCK in `flags`); exits
 * with a usage line or the bind/listen error. */
static int echo_listen(int argc, char **argv, int flags)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        exit(2);
    }
    int ls = socket(AF_INET, SOCK_STREAM | flags, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 4096)) {
        perror("bind/listen");
        exit(1);
    }
    return ls;
}
