//! pthread lifecycle interposers. Green callers (and green targets) go to green_rt::thread;
//! everything else (threads that are not green, the main thread's own descriptor where glibc
//! already knows it) uses glibc.

use core::ffi::{c_char, c_int, c_void};

use green_rt::hub;
use green_rt::task::StartRoutine;
use green_rt::thread::{self, JoinWait};

use crate::real;

/// The target of a thread call: a green thread other than main, or None.
pub(crate) fn green_target(th: libc::pthread_t) -> Option<&'static green_rt::task::Task> {
    thread::task_of(th).filter(|t| !t.is_main)
}

#[no_mangle]
pub unsafe extern "C" fn pthread_create(
    th: *mut libc::pthread_t,
    attr: *const libc::pthread_attr_t,
    start: StartRoutine,
    arg: *mut c_void,
) -> c_int {
    if hub::current().is_none() {
        // SAFETY: the caller's arguments, forwarded unchanged.
        return unsafe { real::pthread_create()(th, attr, start, arg) };
    }
    // SAFETY: attr is null or initialised (pthread_create contract).
    match unsafe { thread::create(attr, start, arg) } {
        Ok(t) => {
            // SAFETY: th is the caller's out-pointer.
            unsafe { *th = t };
            0
        }
        Err(e) => e,
    }
}

fn join_with(th: libc::pthread_t, ret: *mut *mut c_void, wait: JoinWait, real: impl FnOnce() -> c_int) -> c_int {
    match thread::task_of(th) {
        Some(t) if !t.is_main => thread::join(t, ret, wait),
        // Main's own descriptor: glibc's.
        Some(_) => real(),
        None if thread::is_stale(th) => libc::ESRCH,
        // A thread made by glibc's own pthread_create (a library that found it with dlsym, say):
        // a green caller waits for it on the offload pool instead of blocking its carrier.
        None if !matches!(wait, JoinWait::Try) && hub::current().is_some() => green_rt::offload::run_waiting(real),
        None => real(),
    }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pthread_join(th: libc::pthread_t, ret: *mut *mut c_void) -> c_int {
    // SAFETY: forwarded unchanged.
    join_with(th, ret, JoinWait::Block, || unsafe { real::pthread_join()(th, ret) })
}

#[no_mangle]
pub unsafe extern "C" fn pthread_tryjoin_np(th: libc::pthread_t, ret: *mut *mut c_void) -> c_int {
    // SAFETY: forwarded unchanged.
    join_with(th, ret, JoinWait::Try, || unsafe { real::pthread_tryjoin_np()(th, ret) })
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pthread_timedjoin_np(th: libc::pthread_t, ret: *mut *mut c_void, abstime: *const libc::timespec) -> c_int {
    // A null abstime waits forever (glibc).
    let wait = if abstime.is_null() {
        JoinWait::Block
    } else {
        // SAFETY: non-null abstime points to a timespec.
        JoinWait::Until(libc::CLOCK_REALTIME, unsafe { *abstime })
    };
    // SAFETY: forwarded unchanged.
    join_with(th, ret, wait, || unsafe { real::pthread_timedjoin_np()(th, ret, abstime) })
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pthread_clockjoin_np(
    th: libc::pthread_t,
    ret: *mut *mut c_void,
    clock: libc::clockid_t,
    abstime: *const libc::timespec,
) -> c_int {
    if clock != libc::CLOCK_REALTIME && clock != libc::CLOCK_MONOTONIC {
        return libc::EINVAL;
    }
    let wait = if abstime.is_null() {
        JoinWait::Block
    } else {
        // SAFETY: non-null abstime points to a timespec.
        JoinWait::Until(clock, unsafe { *abstime })
    };
    // SAFETY: forwarded unchanged.
    join_with(th, ret, wait, || unsafe { real::pthread_clockjoin_np()(th, ret, clock, abstime) })
}

#[no_mangle]
pub unsafe extern "C" fn pthread_detach(th: libc::pthread_t) -> c_int {
    match green_target(th) {
        Some(t) => thread::detach(t),
        None if thread::is_stale(th) => libc::ESRCH,
        // SAFETY: forwarded unchanged.
        None => unsafe { real::pthread_detach()(th) },
    }
}

extern "C" fn main_exit_wait() {
    hub::main_exit_wait();
}

/// "C-unwind": glibc's pthread_exit unwinds through this frame (forced unwind running C++
/// destructors and cleanup handlers) down to the thread's start.
#[no_mangle]
pub unsafe extern "C-unwind" fn pthread_exit(value: *mut c_void) -> ! {
    if let Some(t) = hub::current() {
        // A green thread's value goes into its struct pthread (glibc's pthread_exit stores it),
        // where the runtime reads it back once the unwind has reached the thread's start.
        if t.is_main && !green_rt::thread::main_exit_with_runtime_threads() {
            // glibc ends the process once main's unwind is done (exit(0) in
            // __libc_start_call_main, no OS thread being left); that exit first runs the
            // most recently registered atexit handler: ours, which lets the other green
            // threads finish, as a process lives on after its main thread exits.
            // SAFETY: registering a plain extern "C" function.
            unsafe { libc::atexit(main_exit_wait) };
        }
    }
    // SAFETY: glibc's pthread_exit on the caller's own (green or real) TCB.
    unsafe { real::pthread_exit()(value) }
}

#[no_mangle]
pub unsafe extern "C" fn pthread_getattr_np(th: libc::pthread_t, attr: *mut libc::pthread_attr_t) -> c_int {
    match green_target(th) {
        // SAFETY: attr is writable (contract).
        Some(t) => unsafe { thread::getattr(t, attr) },
        // SAFETY: forwarded unchanged.
        None => unsafe { real::pthread_getattr_np()(th, attr) },
    }
}

/// A green thread's CPU clock is the process's (green_rt::thread::cpu_clock); glibc's answer
/// for it was ESRCH.
#[no_mangle]
pub unsafe extern "C" fn pthread_getcpuclockid(th: libc::pthread_t, clock: *mut libc::clockid_t) -> c_int {
    match green_target(th).map(thread::cpu_clock) {
        Some(Ok(id)) => {
            // SAFETY: clock is writable (contract).
            unsafe { *clock = id };
            0
        }
        Some(Err(e)) => e,
        // SAFETY: forwarded unchanged.
        None => unsafe { real::pthread_getcpuclockid()(th, clock) },
    }
}

#[no_mangle]
pub unsafe extern "C" fn pthread_setname_np(th: libc::pthread_t, name: *const c_char) -> c_int {
    match green_target(th) {
        // SAFETY: name is NUL-terminated (contract).
        Some(t) => unsafe { thread::setname(t, name) },
        // SAFETY: forwarded unchanged.
        None => unsafe { real::pthread_setname_np()(th, name) },
    }
}

#[no_mangle]
pub unsafe extern "C" fn pthread_getname_np(th: libc::pthread_t, buf: *mut c_char, len: usize) -> c_int {
    match green_target(th) {
        // SAFETY: buf has len bytes (contract).
        Some(t) => unsafe { thread::getname(t, buf, len) },
        // SAFETY: forwarded unchanged.
        None => unsafe { real::pthread_getname_np()(th, buf, len) },
    }
}

#[no_mangle]
pub unsafe extern "C" fn pthread_key_create(key: *mut libc::pthread_key_t, dtor: Option<unsafe extern "C" fn(*mut c_void)>) -> c_int {
    // SAFETY: forwarded unchanged; glibc keeps the values (per TCB) and runs destructors for
    // threads that are not green; we record them for green thread exit.
    let r = unsafe { real::pthread_key_create()(key, dtor) };
    if r == 0 {
        // SAFETY: key was written by a successful pthread_key_create.
        thread::key_created(unsafe { *key }, dtor);
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn pthread_key_delete(key: libc::pthread_key_t) -> c_int {
    // SAFETY: forwarded unchanged.
    let r = unsafe { real::pthread_key_delete()(key) };
    if r == 0 {
        thread::key_deleted(key);
    }
    r
}

/// "C-unwind": the init routine may throw (std::call_once) or call pthread_exit.
#[no_mangle]
pub unsafe extern "C-unwind" fn pthread_once(control: *mut libc::pthread_once_t, init: unsafe extern "C-unwind" fn()) -> c_int {
    // SAFETY: control points to a pthread_once_t (contract).
    unsafe {
        if green_rt::sync::once::done(control) {
            return 0;
        }
        // SAFETY: init is the caller's routine, run exactly once.
        green_rt::sync::once::call_once(control, || init());
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn sched_yield() -> c_int {
    match hub::current() {
        Some(t) => {
            hub::yield_now(t);
            0
        }
        // SAFETY: no arguments.
        None => unsafe { real::sched_yield()() },
    }
}

#[no_mangle]
pub unsafe extern "C" fn pthread_yield() -> c_int {
    // SAFETY: same contract as sched_yield.
    unsafe { sched_yield() }
}

#[no_mangle]
pub unsafe extern "C" fn thrd_yield() {
    // SAFETY: same contract as sched_yield.
    unsafe { sched_yield() };
}

/// gettid(): each green thread has its own stable id (see green_rt::thread::green_tid); main's
/// is the pid, as natively, whichever carrier it runs on; threads that are not green get the
/// kernel's.
#[no_mangle]
pub unsafe extern "C" fn gettid() -> libc::pid_t {
    match hub::current() {
        Some(t) if !t.is_main => thread::green_tid(t) as libc::pid_t,
        // SAFETY: getpid has no arguments.
        Some(_) => unsafe { green_rt::sys::syscall3(libc::SYS_getpid, 0, 0, 0) as libc::pid_t },
        // SAFETY: gettid has no arguments.
        _ => unsafe { green_rt::sys::syscall3(libc::SYS_gettid, 0, 0, 0) as libc::pid_t },
    }
}

/// pthread_cancel of a green thread: deferred cancellation at the cancellation points the
/// runtime interposes (and glibc's own); other threads: glibc.
#[no_mangle]
pub unsafe extern "C" fn pthread_cancel(th: libc::pthread_t) -> c_int {
    match green_target(th) {
        Some(t) => thread::cancel(t),
        None if thread::is_stale(th) => libc::ESRCH,
        // SAFETY: forwarded unchanged.
        None => unsafe { real::pthread_cancel()(th) },
    }
}

/// pthread_sigqueue to a green thread (itself included: glibc's would send to the TCB's kernel
/// tid, which a green thread does not have): the value is queued for it (green_rt::sigqueue)
/// and delivered as pthread_kill's signals are; to itself, before this returns, as natively.
#[no_mangle]
pub unsafe extern "C" fn pthread_sigqueue(th: libc::pthread_t, sig: c_int, value: libc::sigval) -> c_int {
    match thread::task_of(th) {
        Some(t) => {
            let r = green_rt::sigqueue::queue(t, sig, value.sival_ptr as usize);
            if r == 0 && hub::current().is_some_and(|me| core::ptr::eq(me, t)) {
                green_rt::signal::deliver_pending(t);
            }
            r
        }
        None if thread::is_stale(th) => libc::ESRCH,
        // SAFETY: forwarded unchanged.
        _ => unsafe { real::pthread_sigqueue()(th, sig, value) },
    }
}

/// pthread_kill of another green thread, main included: pending until it next runs, then raised
/// on it (see green_rt::signal), so the handler runs on the target and its wait is cut short
/// (CPython runs handlers only on the main thread: a thread signalling main must wake it). To
/// itself or to threads that are not green: glibc.
#[no_mangle]
pub unsafe extern "C" fn pthread_kill(th: libc::pthread_t, sig: c_int) -> c_int {
    match thread::task_of(th) {
        Some(t) if hub::current().is_none_or(|me| !core::ptr::eq(me, t)) => green_rt::signal::kill(t, sig),
        None if thread::is_stale(th) => libc::ESRCH,
        // SAFETY: forwarded unchanged.
        _ => unsafe { real::pthread_kill()(th, sig) },
    }
}
