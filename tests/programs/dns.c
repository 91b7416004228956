/* The resolver without blocking the hub: getaddrinfo, getnameinfo, the gethostby* family and
 * the res_* family for `localhost` and for names that do not exist give native's answers and
 * errors (h_errno included). Then this thread points its own resolver state (_res) at a name server
 * run by another thread of this program, which answers after 300 ms: the query must use this
 * thread's _res, and a ticker keeps ticking while the resolver waits (natively: other OS threads
 * run; under libgreen: the call runs on the offload pool and the hub keeps scheduling). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ticker.h"

/* A tiny DNS server: names starting "slow" are answered after 300 ms, "nx…" get NXDOMAIN,
 * others an A record 10.1.2.3 (type A) or no record; "quit.test" ends it. */
static void *dns_server(void *arg)
{
    int s = (int)(long)arg;
    unsigned char q[512], r[640];
    for (;;) {
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(s, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
        if (n < 12) continue;
        char name[256];
        int pos = 12, o = 0;
        while (pos < n && q[pos] && o < 200) {
            int l = q[pos++];
            if (o) name[o++] = '.';
            memcpy(name + o, q + pos, (size_t)l);
            o += l;
            pos += l;
        }
        name[o] = 0;
        pos++;
        int qtype = q[pos] << 8 | q[pos + 1];
        pos += 4;
        if (!strcmp(name, "quit.test")) break;
        if (!strncmp(name, "slow", 4)) usleep(300000);
        memcpy(r, q, (size_t)pos);
        r[2] = (unsigned char)(0x80 | (q[2] & 0x01));
        r[3] = 0x80;
        memset(r + 6, 0, 6);
        int len = pos;
        if (!strncmp(name, "nx", 2)) {
            r[3] |= 3;
        } else if (qtype == 1) {
            static const unsigned char a[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 1, 2, 3};
            r[7] = 1;
            memcpy(r + len, a, sizeof a);
            len += (int)sizeof a;
        }
        sendto(s, r, (size_t)len, 0, (struct sockaddr *)&from, fl);
    }
    close(s);
    return NULL;
}

static void show_ai(const char *what, const char *node, int family)
{
    struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_STREAM}, *res, *p;
    int rc = getaddrinfo(node, "80", &hints, &res);
    if (rc) {
        printf("%s getaddrinfo(%s): %s\n", what, node, gai_strerror(rc));
        return;
    }
    for (p = res; p; p = p->ai_next) {
        char host[64];
        getnameinfo(p->ai_addr, p->ai_addrlen, host, sizeof host, NULL, 0, NI_NUMERICHOST);
        printf("%s getaddrinfo(%s): %s\n", what, node, host);
    }
    freeaddrinfo(res);
}

static void show_he(const char *what, const struct hostent *h, int herr)
{
    if (!h) {
        printf("%s: none, h_errno %d (%s)\n", what, herr, hstrerror(herr));
        return;
    }
    char a[64];
    inet_ntop(h->h_addrtype, h->h_addr_list[0], a, sizeof a);
    printf("%s: %s %s\n", what, h->h_name, a);
}

int main(void)
{
    /* The name server thread is up from the start (so the process has other threads). */
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(s, (struct sockaddr *)&sa, sizeof sa);
    socklen_t sl = sizeof sa;
    getsockname(s, (struct sockaddr *)&sa, &sl);
    pthread_t srv, tk;
    pthread_create(&srv, NULL, dns_server, (void *)(long)s);

    /* The system's resolver: localhost and a name that does not exist. */
    show_ai("system", "localhost", AF_INET);
    show_ai("system", "nonexistent.invalid", AF_UNSPEC);
    struct hostent *h = gethostbyname("localhost");
    show_he("gethostbyname(localhost)", h, h_errno);
    h_errno = 0;
    h = gethostbyname("nonexistent.invalid");
    show_he("gethostbyname(nonexistent.invalid)", h, h_errno);
    struct hostent he, *res;
    char buf[1024];
    int herr = 0;
    int rc = gethostbyname_r("localhost", &he, buf, sizeof buf, &res, &herr);
    printf("gethostbyname_r: rc %d\n", rc);
    show_he("gethostbyname_r(localhost)", res, herr);
    h = gethostbyname2("localhost", AF_INET);
    show_he("gethostbyname2(localhost)", h, h_errno);
    struct in_addr lo = {htonl(INADDR_LOOPBACK)};
    h = gethostbyaddr(&lo, sizeof lo, AF_INET);
    show_he("gethostbyaddr(127.0.0.1)", h, h_errno);
    rc = gethostbyaddr_r(&lo, sizeof lo, AF_INET, &he, buf, sizeof buf, &res, &herr);
    printf("gethostbyaddr_r: rc %d\n", rc);
    show_he("gethostbyaddr_r(127.0.0.1)", res, herr);
    struct sockaddr_in la = {.sin_family = AF_INET, .sin_port = htons(80), .sin_addr = lo};
    char host[64], serv[16];
    rc = getnameinfo((struct sockaddr *)&la, sizeof la, host, sizeof host, serv, sizeof serv, NI_NUMERICSERV);
    printf("getnameinfo(127.0.0.1:80): %d %s %s\n", rc, host, serv);

    /* This thread's own resolver state, pointed at our server. */
    res_init();
    _res.nscount = 1;
    _res.nsaddr_list[0] = sa;
    _res.retry = 1;
    _res.retrans = 5;
    ticks = 0;
    pthread_create(&tk, NULL, ticker, NULL);
    unsigned char ans[512];
    long long t0 = now_ms();
    int n = res_query("slow.test", ns_c_in, ns_t_a, ans, sizeof ans);
    long long waited = now_ms() - t0;
    int during = ticks;
    printf("res_query(slow.test): %d bytes, %d answer(s), %s\n", n, n > 12 ? ans[7] : -1,
           n > 16 && !memcmp(ans + n - 4, "\x0a\x01\x02\x03", 4) ? "10.1.2.3" : "?");
    printf("waited %s, ticker ran meanwhile: %s\n", waited >= 300 ? ">= 300 ms" : "< 300 ms", during >= 50 ? "yes" : "no");
    h_errno = 0;
    n = res_query("nx.test", ns_c_in, ns_t_a, ans, sizeof ans);
    printf("res_query(nx.test): %d, h_errno %s\n", n, hstrerror(h_errno));
    show_ai("our server", "slow2.test", AF_INET);
    show_ai("our server", "nx2.test", AF_INET);
    h_errno = 0;
    n = res_search("nx3.test", ns_c_in, ns_t_a, ans, sizeof ans);
    printf("res_search(nx3.test): %d, h_errno %s\n", n, hstrerror(h_errno));
    n = res_querydomain("a", "test", ns_c_in, ns_t_a, ans, sizeof ans);
    printf("res_querydomain(a, test): %d bytes, %d answer(s)\n", n, n > 12 ? ans[7] : -1);
    unsigned char q[512];
    int ql = res_mkquery(ns_o_query, "b.test", ns_c_in, ns_t_a, NULL, 0, NULL, q, sizeof q);
    n = res_send(q, ql, ans, sizeof ans);
    printf("res_send(b.test): %d bytes, %d answer(s)\n", n, n > 12 ? ans[7] : -1);
    /* An explicit resolver state (the res_n* calls), pointed at our server too. */
    struct __res_state st;
    memset(&st, 0, sizeof st);
    res_ninit(&st);
    st.nscount = 1;
    st.nsaddr_list[0] = sa;
    st.retry = 1;
    n = res_nquery(&st, "c.test", ns_c_in, ns_t_a, ans, sizeof ans);
    printf("res_nquery(c.test): %d bytes, %d answer(s)\n", n, n > 12 ? ans[7] : -1);
    n = res_nsearch(&st, "nx4.test", ns_c_in, ns_t_a, ans, sizeof ans);
    printf("res_nsearch(nx4.test): %d, res_h_errno %s\n", n, hstrerror(st.res_h_errno));
    n = res_nquerydomain(&st, "d", "test", ns_c_in, ns_t_a, ans, sizeof ans);
    printf("res_nquerydomain(d, test): %d bytes\n", n);
    n = res_nsend(&st, q, ql, ans, sizeof ans);
    printf("res_nsend(b.test): %d bytes\n", n);
    res_nclose(&st);
    h = NULL;
    rc = gethostbyname2_r("localhost", AF_INET, &he, buf, sizeof buf, &res, &herr);
    printf("gethostbyname2_r: rc %d\n", rc);
    show_he("gethostbyname2_r(localhost)", res, herr);
    ticking = 0;
    pthread_join(tk, NULL);

    /* Stop the server. */
    int c = socket(AF_INET, SOCK_DGRAM, 0);
    unsigned char quit[] = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 4, 'q', 'u', 'i', 't', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};
    sendto(c, quit, sizeof quit, 0, (struct sockaddr *)&sa, sizeof sa);
    close(c);
    pthread_join(srv, NULL);
    return 0;
}
