/* Shared by the tests that accept connections from a child process: a TCP listener on
 * 127.0.0.1 at a port the kernel picks (backlog 64), whose address goes to the child. Exits
 * with a message on failure. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

static int loopback_listener(struct sockaddr_in *at)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    *at = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof *at;
    if (l < 0 || bind(l, (struct sockaddr *)at, sizeof *at) || listen(l, 64) || getsockname(l, (struct sockaddr *)at, &len)) {
        perror("listener");
        exit(1);
    }
    return l;
}
