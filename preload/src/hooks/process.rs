//! Waiting for children: a green caller of waitpid/wait/wait4/waitid parks (pidfd or backoff,
//! see green_rt::process) instead of blocking the hub; WNOHANG calls and callers that are not
//! green use the real call.

use core::ffi::c_int;

use green_rt::hub;
use green_rt::process::wait_child;
use green_rt::sys;

use crate::set_errno;

fn ret(r: isize) -> libc::pid_t {
    if r < 0 {
        set_errno((-r) as c_int);
        -1
    } else {
        r as libc::pid_t
    }
}

/// Options under which a wait also reports stops and continues (WUNTRACED is WSTOPPED), and
/// those of tracers (__WALL, __WCLONE: strace, gdb), whose traced children report ptrace
/// stops: a pidfd becomes readable only at exit, so these waits poll instead (a preloaded
/// strace hung in its first wait). A caller that is the only green thread makes the real call:
/// nothing else could run meanwhile.
const STATE_CHANGES: c_int = libc::WUNTRACED | libc::WCONTINUED | libc::__WALL | libc::__WCLONE;

#[no_mangle]
pub unsafe extern "C-unwind" fn wait4(pid: libc::pid_t, status: *mut c_int, options: c_int, usage: *mut libc::rusage) -> libc::pid_t {
    let raw = |opts: c_int| {
        // SAFETY: the caller's out-pointers, as the real wait4 would receive them.
        unsafe { sys::syscall6(libc::SYS_wait4, pid as usize, status as usize, opts as usize, usage as usize, 0, 0) }
    };
    if hub::current().is_none() || options & libc::WNOHANG != 0 || hub::lone_thread() {
        return ret(raw(options));
    }
    let watch = if options & STATE_CHANGES != 0 { -1 } else { pid };
    ret(wait_child(watch, || raw(options | libc::WNOHANG)))
}

#[no_mangle]
pub unsafe extern "C-unwind" fn waitpid(pid: libc::pid_t, status: *mut c_int, options: c_int) -> libc::pid_t {
    // SAFETY: same contract as wait4 without usage.
    unsafe { wait4(pid, status, options, core::ptr::null_mut()) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn wait(status: *mut c_int) -> libc::pid_t {
    // SAFETY: same contract as wait4 for any child.
    unsafe { wait4(-1, status, 0, core::ptr::null_mut()) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn waitid(idtype: libc::idtype_t, id: libc::id_t, info: *mut libc::siginfo_t, options: c_int) -> c_int {
    let raw = |opts: c_int| {
        // SAFETY: the caller's siginfo out-pointer; no rusage.
        unsafe { sys::syscall6(libc::SYS_waitid, idtype as usize, id as usize, info as usize, opts as usize, 0, 0) }
    };
    if hub::current().is_none() || options & libc::WNOHANG != 0 || hub::lone_thread() {
        return ret(raw(options));
    }
    let pid = if idtype == libc::P_PID && options & STATE_CHANGES == 0 { id as i32 } else { -1 };
    // waitid reports "nothing yet" under WNOHANG as 0 with si_pid == 0.
    let r = wait_child(pid, || {
        // SAFETY: info is the caller's siginfo; si_pid is read after the call fills it.
        unsafe { (*info).si_signo = 0 };
        let r = raw(options | libc::WNOHANG);
        // SAFETY: as above.
        if r == 0 && unsafe { (*info).si_pid() } == 0 { 0 } else if r < 0 { r } else { 1 }
    });
    if r < 0 { ret(r) } else { 0 }
}
