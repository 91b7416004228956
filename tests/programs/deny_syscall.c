/* Runs a program on what looks like an older kernel or a strict container: a seccomp filter
 * makes one system call fail with ENOSYS (as an old kernel, a container's filter or valgrind
 * does), then execs the program, which inherits the filter. tests/run.sh runs test programs
 * through it:
 * - 441, epoll_pwait2 (Linux 5.11): the hub must fall back to epoll_pwait (before the
 *   fallback, it spun on the failing call and never slept, never saw an fd event: programs hung);
 * - 334, rseq (Linux 4.18; denied by older Docker profiles): glibc runs without it, and an OS
 *   thread the runtime starts from a green thread must not try to register it either (glibc
 *   aborts a thread whose registration fails when its creator had one);
 * - 440, process_madvise, and 28@2=102, madvise(…, MADV_GUARD_INSTALL) (Linux 6.13 and 6.15's
 *   PIDFD_SELF): green stacks get their guards one slot at a time, or from mprotect as before.
 *
 * usage: deny_syscall NR[@ARG=VALUE][,...] PROGRAM [ARG...]
 * (NR@ARG=VALUE: only when argument ARG, counted from 0, has that value in its low 32 bits) */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s NR PROGRAM [ARG...]\n", argv[0]);
        return 2;
    }
    /* Per denied call: load nr, compare; [load the argument, compare]; deny. */
    struct sock_filter filter[64];
    unsigned len = 0;
    filter[len++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    filter[len++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    filter[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    for (char *item = strtok(argv[1], ","); item; item = strtok(NULL, ",")) {
        char *rest;
        unsigned nr = (unsigned)strtoul(item, &rest, 10), arg = 0, value = 0;
        int on_arg = *rest == '@';
        if (on_arg && (sscanf(rest, "@%u=%u", &arg, &value) != 2 || arg > 5)) {
            fprintf(stderr, "deny_syscall: bad item '%s'\n", item);
            return 2;
        }
        if (len + 6 > sizeof filter / sizeof filter[0]) {
            fprintf(stderr, "deny_syscall: too many items\n");
            return 2;
        }
        filter[len++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
        if (on_arg) {
            filter[len++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 3);
            filter[len++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args) + 8 * arg);
            filter[len++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, 0, 1);
        } else {
            filter[len++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1);
        }
        filter[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
    }
    filter[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = {.len = (unsigned short)len, .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        perror("deny_syscall: seccomp");
        return 2;
    }
    execvp(argv[2], argv + 2);
    perror("deny_syscall: exec");
    return 127;
}
