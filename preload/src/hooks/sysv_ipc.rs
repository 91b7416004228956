//! System V message queues and semaphores: a green thread's wait runs on an offload worker
//! while it parks (green_rt::sysv_ipc). Threads that are not green call glibc's.

use core::ffi::{c_int, c_long, c_void};

use green_rt::{hub, sysv_ipc};

use super::io::ret;
use crate::real;

#[no_mangle]
pub unsafe extern "C-unwind" fn msgrcv(id: c_int, msg: *mut c_void, size: usize, typ: c_long, flags: c_int) -> isize {
    if hub::current().is_some() {
        return ret(sysv_ipc::msgrcv(id, msg, size, typ, flags));
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::msgrcv()(id, msg, size, typ, flags) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn msgsnd(id: c_int, msg: *const c_void, size: usize, flags: c_int) -> c_int {
    if hub::current().is_some() {
        return ret(sysv_ipc::msgsnd(id, msg, size, flags)) as c_int;
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::msgsnd()(id, msg, size, flags) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn semtimedop(id: c_int, sops: *mut libc::sembuf, n: usize, timeout: *const libc::timespec) -> c_int {
    if hub::current().is_some() {
        return ret(sysv_ipc::semtimedop(id, sops as *mut c_void, n, timeout)) as c_int;
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::semtimedop()(id, sops, n, timeout) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn semop(id: c_int, sops: *mut libc::sembuf, n: usize) -> c_int {
    if hub::current().is_some() {
        return ret(sysv_ipc::semtimedop(id, sops as *mut c_void, n, core::ptr::null())) as c_int;
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::semop()(id, sops, n) }
}
