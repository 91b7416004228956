/* Runs a program on what looks like an older kernel or a strict container: a seccomp filter
 * makes one system call fail with ENOSYS (as an old kernel, a container's filter or valgrind
 * does), then execs the program, which inherits the filter. tests/run.sh runs test programs
 * through it:
 * - 441, epoll_pwait2 (Linux 5.11): the hub must fall back to epoll_pwait (before the
 *   fallback, it spun on the failing call and never slept, never saw an fd event: programs hung);
 * - 334, rseq (Linux 4.18; denied by older Docker profiles): glibc runs without it, and an OS
 *   thread the runtime starts from a green thread must not try to register it either (glibc
 *   aborts a thread whose registration fails when its creator had one).
 *
 * usage: deny_syscall NR PROGRAM [ARG...] */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s NR PROGRAM [ARG...]\n", argv[0]);
        return 2;
    }
    unsigned nr = (unsigned)strtoul(argv[1], NULL, 10);
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof filter / sizeof filter[0], .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        perror("deny_syscall: seccomp");
        return 2;
    }
    execvp(argv[2], argv + 2);
    perror("deny_syscall: exec");
    return 127;
}
