//! C11 `<threads.h>`: glibc implements each function over its own pthread functions with
//! internal calls that no hook sees, so `thrd_create` made an OS thread and `mtx_lock` and
//! `cnd_wait` blocked in glibc's futexes. Each is redone here over the interposed pthread
//! functions with glibc 2.36's argument and result mapping (`thrd_err_map`, `mtx_init`'s
//! types), so C11 threads are green threads and their waits park. `tss_get`/`tss_set`,
//! `thrd_current` and `thrd_equal` stay glibc's: they only read the TCB, which is right for
//! green threads too.

use core::ffi::{c_int, c_void};

use green_rt::hub;

use super::sync::{
    pthread_cond_broadcast, pthread_cond_destroy, pthread_cond_init, pthread_cond_signal, pthread_cond_timedwait,
    pthread_cond_wait, pthread_mutex_destroy, pthread_mutex_init, pthread_mutex_lock, pthread_mutex_timedlock,
    pthread_mutex_trylock, pthread_mutex_unlock,
};
use super::thread::{pthread_create, pthread_detach, pthread_exit, pthread_join, pthread_key_create, pthread_key_delete, pthread_once};
use crate::real;

const THRD_SUCCESS: c_int = 0;
const THRD_BUSY: c_int = 1;
const THRD_ERROR: c_int = 2;
const THRD_NOMEM: c_int = 3;
const THRD_TIMEDOUT: c_int = 4;
const MTX_RECURSIVE: c_int = 1;
const MTX_TIMED: c_int = 2;

/// glibc's `thrd_err_map`.
fn map(err: c_int) -> c_int {
    match err {
        0 => THRD_SUCCESS,
        libc::ENOMEM => THRD_NOMEM,
        libc::ETIMEDOUT => THRD_TIMEDOUT,
        libc::EBUSY => THRD_BUSY,
        _ => THRD_ERROR,
    }
}

/// `thrd_start_t`.
type C11Start = unsafe extern "C" fn(*mut c_void) -> c_int;

/// A C11 start routine and its argument, boxed for the thread's first moment.
struct C11Call {
    start: C11Start,
    arg: *mut c_void,
}

/// Runs a C11 start routine as a pthread one: its int result becomes the thread's value as
/// glibc's start_thread stores it, `(void *)(intptr_t)`. A `thrd_exit` in the routine unwinds
/// through this frame (glibc's forced unwind), which owns nothing by then: no destructor runs.
unsafe extern "C" fn c11_start(call: *mut c_void) -> *mut c_void {
    // SAFETY: `call` is the box thrd_create leaked for this thread, taken once (and freed
    // before the routine runs: it may end in thrd_exit).
    let C11Call { start, arg } = *unsafe { Box::from_raw(call as *mut C11Call) };
    // SAFETY: the program's routine with its own argument.
    unsafe { start(arg) as isize as *mut c_void }
}

#[no_mangle]
pub unsafe extern "C" fn thrd_create(thr: *mut libc::pthread_t, start: C11Start, arg: *mut c_void) -> c_int {
    if hub::current().is_none() {
        // SAFETY: forwarded unchanged.
        return unsafe { real::thrd_create()(thr, start, arg) };
    }
    let call = Box::into_raw(Box::new(C11Call { start, arg })) as *mut c_void;
    // SAFETY: thr is the caller's out-pointer; c11_start takes the box.
    let r = unsafe { pthread_create(thr, core::ptr::null(), c11_start, call) };
    if r != 0 {
        // SAFETY: no thread took it.
        drop(unsafe { Box::from_raw(call as *mut C11Call) });
    }
    map(r)
}

#[no_mangle]
pub unsafe extern "C-unwind" fn thrd_join(thr: libc::pthread_t, res: *mut c_int) -> c_int {
    let mut value: *mut c_void = core::ptr::null_mut();
    // SAFETY: value is a live out-slot.
    let r = unsafe { pthread_join(thr, &mut value) };
    if !res.is_null() {
        // SAFETY: res is the caller's out-pointer (glibc writes it whatever the result).
        unsafe { *res = value as usize as c_int };
    }
    map(r)
}

#[no_mangle]
pub unsafe extern "C" fn thrd_detach(thr: libc::pthread_t) -> c_int {
    // SAFETY: forwarded.
    map(unsafe { pthread_detach(thr) })
}

#[no_mangle]
pub unsafe extern "C-unwind" fn thrd_exit(res: c_int) -> ! {
    // SAFETY: ends the calling thread as pthread_exit does, with glibc's value conversion.
    unsafe { pthread_exit(res as isize as usize as *mut c_void) }
}

#[no_mangle]
pub unsafe extern "C" fn mtx_init(m: *mut libc::pthread_mutex_t, kind: c_int) -> c_int {
    // glibc 2.36: recursive for mtx_plain|mtx_recursive and mtx_timed|mtx_recursive, normal for
    // every other value (no check).
    let recursive = kind == MTX_RECURSIVE || kind == MTX_TIMED | MTX_RECURSIVE;
    // SAFETY: a local attribute, initialised before use and destroyed after.
    unsafe {
        let mut attr: libc::pthread_mutexattr_t = core::mem::zeroed();
        libc::pthread_mutexattr_init(&mut attr);
        libc::pthread_mutexattr_settype(&mut attr, if recursive { libc::PTHREAD_MUTEX_RECURSIVE } else { libc::PTHREAD_MUTEX_NORMAL });
        let r = pthread_mutex_init(m, &attr);
        libc::pthread_mutexattr_destroy(&mut attr);
        map(r)
    }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn mtx_lock(m: *mut libc::pthread_mutex_t) -> c_int {
    // SAFETY: forwarded.
    map(unsafe { pthread_mutex_lock(m) })
}

#[no_mangle]
pub unsafe extern "C" fn mtx_trylock(m: *mut libc::pthread_mutex_t) -> c_int {
    // SAFETY: forwarded.
    map(unsafe { pthread_mutex_trylock(m) })
}

#[no_mangle]
pub unsafe extern "C-unwind" fn mtx_timedlock(m: *mut libc::pthread_mutex_t, ts: *const libc::timespec) -> c_int {
    // SAFETY: forwarded.
    map(unsafe { pthread_mutex_timedlock(m, ts) })
}

#[no_mangle]
pub unsafe extern "C" fn mtx_unlock(m: *mut libc::pthread_mutex_t) -> c_int {
    // SAFETY: forwarded.
    map(unsafe { pthread_mutex_unlock(m) })
}

#[no_mangle]
pub unsafe extern "C" fn mtx_destroy(m: *mut libc::pthread_mutex_t) {
    // SAFETY: forwarded.
    unsafe { pthread_mutex_destroy(m) };
}

#[no_mangle]
pub unsafe extern "C" fn cnd_init(c: *mut libc::pthread_cond_t) -> c_int {
    // SAFETY: forwarded, default attributes.
    map(unsafe { pthread_cond_init(c, core::ptr::null()) })
}

#[no_mangle]
pub unsafe extern "C" fn cnd_signal(c: *mut libc::pthread_cond_t) -> c_int {
    // SAFETY: forwarded.
    map(unsafe { pthread_cond_signal(c) })
}

#[no_mangle]
pub unsafe extern "C" fn cnd_broadcast(c: *mut libc::pthread_cond_t) -> c_int {
    // SAFETY: forwarded.
    map(unsafe { pthread_cond_broadcast(c) })
}

#[no_mangle]
pub unsafe extern "C-unwind" fn cnd_wait(c: *mut libc::pthread_cond_t, m: *mut libc::pthread_mutex_t) -> c_int {
    // SAFETY: forwarded.
    map(unsafe { pthread_cond_wait(c, m) })
}

#[no_mangle]
pub unsafe extern "C-unwind" fn cnd_timedwait(c: *mut libc::pthread_cond_t, m: *mut libc::pthread_mutex_t, ts: *const libc::timespec) -> c_int {
    // SAFETY: forwarded.
    map(unsafe { pthread_cond_timedwait(c, m, ts) })
}

#[no_mangle]
pub unsafe extern "C" fn cnd_destroy(c: *mut libc::pthread_cond_t) {
    // SAFETY: forwarded.
    unsafe { pthread_cond_destroy(c) };
}

#[no_mangle]
pub unsafe extern "C-unwind" fn call_once(flag: *mut libc::pthread_once_t, init: unsafe extern "C-unwind" fn()) {
    // SAFETY: forwarded (once_flag is a pthread_once_t in glibc).
    unsafe { pthread_once(flag, init) };
}

#[no_mangle]
pub unsafe extern "C" fn tss_create(key: *mut libc::pthread_key_t, dtor: Option<unsafe extern "C" fn(*mut c_void)>) -> c_int {
    // SAFETY: forwarded (tss_t is a pthread_key_t in glibc).
    map(unsafe { pthread_key_create(key, dtor) })
}

#[no_mangle]
pub unsafe extern "C" fn tss_delete(key: libc::pthread_key_t) {
    // SAFETY: forwarded.
    unsafe { pthread_key_delete(key) };
}
