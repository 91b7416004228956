/* libgreen: the one piece that must be C.
 *
 * A green thread's start routine runs below an unwind buffer registered as the end of glibc's
 * cleanup chain, exactly as glibc's start_thread does. pthread_exit (and, later, cancellation)
 * then run glibc's own forced unwind: C++ destructors and pthread_cleanup_push handlers run at
 * every depth, and the unwinder's stop function longjmps back here. setjmp cannot be called
 * soundly from Rust (it returns twice), hence this file. */
#include <pthread.h>
#include <setjmp.h>
#include <stddef.h>

/* Returns 0 when start(arg) returned (its value stored in *ret), 1 when the thread left through
 * pthread_exit (the runtime recorded the value). cleanup_jmp_buf_off is the offset of
 * struct pthread's cleanup_jmp_buf, checked at start-up by the runtime. */
int libgreen_run_start_routine(void *(*start)(void *), void *arg, size_t cleanup_jmp_buf_off,
                               void **ret)
{
    __pthread_unwind_buf_t buf;
    char *self;
    __asm__("mov %%fs:0x10, %0" : "=r"(self));
    if (__builtin_expect(__sigsetjmp_cancel(buf.__cancel_jmp_buf, 0), 0))
        return 1;
    buf.__pad[0] = NULL; /* priv.data.prev: end of the chain */
    buf.__pad[1] = NULL; /* priv.data.cleanup */
    buf.__pad[2] = NULL; /* priv.data.canceltype */
    buf.__pad[3] = NULL;
    *(void **)(self + cleanup_jmp_buf_off) = &buf;
    *ret = start(arg);
    *(void **)(self + cleanup_jmp_buf_off) = NULL;
    return 0;
}
