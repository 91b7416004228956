//! Real OS threads for the runtime's own use (offload workers, extra carriers), made with
//! glibc's own `pthread_create` so glibc knows the process is multi-threaded (stdio locks,
//! `__libc_single_threaded`, malloc's arena locking), and every green TCB stops taking glibc's
//! single-thread shortcuts at the same moment.

use core::ffi::c_void;

use crate::sys;

type PthreadCreate = unsafe extern "C" fn(*mut libc::pthread_t, *const libc::pthread_attr_t, extern "C" fn(*mut c_void) -> *mut c_void, *mut c_void) -> i32;
pub type PthreadJoin = unsafe extern "C" fn(libc::pthread_t, *mut *mut c_void) -> i32;

/// glibc's own function `name` (the next definition after libgreen.so), or None.
pub fn next_symbol(name: &core::ffi::CStr) -> Option<usize> {
    // SAFETY: name is NUL-terminated; RTLD_NEXT searches the objects after the caller's.
    let p = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) } as usize;
    (p != 0).then_some(p)
}

/// glibc's pthread_join (never our hook).
pub fn real_join() -> Option<PthreadJoin> {
    // SAFETY: the symbol is glibc's pthread_join.
    next_symbol(c"pthread_join").map(|p| unsafe { core::mem::transmute::<usize, PthreadJoin>(p) })
}

/// Every signal blocked but glibc's internal SIGCANCEL (32) and SIGSETXID (33), which setuid()
/// and friends must still reach on every thread.
pub const RUNTIME_MASK: u64 = !((1u64 << 31) | (1u64 << 32));

/// Tells glibc the process has several threads, as its own first `pthread_create` does: every
/// green TCB says "multiple threads", `__libc_single_threaded` is 0 and stdio takes its locks.
/// Must run at a point where no other thread of the program is inside glibc: a thread switched
/// out by the hub is only ever at one of our hooks, so the first green spawn is such a point; a
/// hand-off is not (the stuck thread may be in the middle of malloc's lock-free single-thread
/// path on `main_arena` when a second carrier starts running others: stress-ng --pthread
/// aborted in sysmalloc under CI load). So the hub calls this at the first spawn whenever a
/// hand-off or a second carrier is possible, and before any runtime OS thread starts.
pub fn become_multithreaded() {
    if !crate::tls::mark_multithreaded() {
        return;
    }
    // glibc's own copy and, when the program was linked with a copy relocation of it, the
    // program's (the one the program and libstdc++ read), as glibc's pthread_create does.
    // SAFETY: the name is NUL-terminated; RTLD_DEFAULT finds the definition that interposes.
    let program_copy = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"__libc_single_threaded".as_ptr()) } as usize;
    for p in [next_symbol(c"__libc_single_threaded"), (program_copy != 0).then_some(program_copy)].into_iter().flatten() {
        // SAFETY: an exported `char __libc_single_threaded` (GLIBC_2.32), written as glibc's
        // pthread_create writes it; readers only ever test it.
        unsafe { core::ptr::write_volatile(p as *mut u8, 0) };
    }
    if let Some(p) = next_symbol(c"_IO_enable_locks") {
        // SAFETY: glibc's `void _IO_enable_locks(void)` (GLIBC_PRIVATE, what its pthread_create
        // calls for the first thread); idempotent, takes only the stdio list lock.
        unsafe { core::mem::transmute::<usize, extern "C" fn()>(p)() };
    }
}

/// Starts `entry(arg)` on a new glibc thread whose signal mask is `RUNTIME_MASK` (set around
/// the create, so no signal reaches the thread before it runs). Returns the pthread_t.
pub fn spawn(entry: extern "C" fn(*mut c_void) -> *mut c_void, arg: *mut c_void) -> Option<libc::pthread_t> {
    let create = next_symbol(c"pthread_create")?;
    // SAFETY: the symbol is glibc's pthread_create.
    let create = unsafe { core::mem::transmute::<usize, PthreadCreate>(create) };
    become_multithreaded();
    // The creator's own TCB too (the watchdog's, for a hand-off): glibc sets it only after
    // allocating the new thread's DTV, which must not take malloc's single-thread shortcut.
    // SAFETY: the calling thread's TCB is live; multiple_threads is an int in tcbhead_t.
    unsafe { *((crate::tls::thread_pointer() + crate::glibc::OFF_MULTIPLE_THREADS) as *mut i32) = 1 };
    let mut old: u64 = 0;
    // SAFETY: rt_sigprocmask on the calling OS thread with live 8-byte sets.
    unsafe { sys::syscall6(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK as usize, &RUNTIME_MASK as *const u64 as usize, &mut old as *mut u64 as usize, 8, 0, 0) };
    let mut th: libc::pthread_t = 0;
    // SAFETY: glibc's pthread_create with a live out-pointer and default attributes.
    let r = unsafe { create(&mut th, core::ptr::null(), entry, arg) };
    // SAFETY: restores the mask saved above.
    unsafe { sys::syscall6(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK as usize, &old as *const u64 as usize, 0, 8, 0, 0) };
    (r == 0).then_some(th)
}
