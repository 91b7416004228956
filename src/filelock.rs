//! Waits for advisory file locks: `flock`, `fcntl` with F_SETLKW or F_OFD_SETLKW, `lockf` with
//! F_LOCK. The kernel offers no readiness for a lock, so a green thread first tries the
//! non-blocking form (an uncontended lock costs that one call) and, when another holder has it,
//! makes the waiting call on an offload worker while it parks. Taken from a worker thread the
//! lock is the same one: POSIX record locks belong to the process, `flock` and OFD locks to the
//! open file description, neither to a thread. The kernel's answers stay its own (EDEADLK for
//! a POSIX lock that would deadlock, EBADF, EINVAL), and a handler without SA_RESTART run on
//! the waiting thread ends the wait with EINTR, as natively (offload.rs interrupts the worker's
//! call); one with SA_RESTART lets it go on. Threads that are not green make the call directly.

use core::ffi::c_int;

use crate::hub;
use crate::offload;
use crate::sys;

fn flock_raw(fd: c_int, op: c_int) -> isize {
    // SAFETY: flock takes no pointers.
    unsafe { sys::syscall3(libc::SYS_flock, fd as usize, op as usize, 0) }
}

fn fcntl_raw(fd: c_int, cmd: c_int, arg: usize) -> isize {
    // SAFETY: a lock command's `arg` is the caller's struct flock (the kernel checks it).
    unsafe { sys::syscall3(libc::SYS_fcntl, fd as usize, cmd as usize, arg) }
}

/// `flock(fd, op)`, raw result (-errno).
pub fn flock(fd: c_int, op: c_int) -> isize {
    if hub::current().is_none() || op & libc::LOCK_NB != 0 || op & (libc::LOCK_SH | libc::LOCK_EX) == 0 {
        return flock_raw(fd, op);
    }
    let r = flock_raw(fd, op | libc::LOCK_NB);
    if r != -(libc::EWOULDBLOCK as isize) {
        return r;
    }
    offload::run_interruptible(true, move || flock_raw(fd, op))
}

/// Whether `cmd` is a lock command that waits (F_SETLKW, F_OFD_SETLKW).
pub fn waits(cmd: c_int) -> bool {
    cmd == libc::F_SETLKW || cmd == libc::F_OFD_SETLKW
}

/// `fcntl(fd, cmd, lock)` for a command [`waits`] says waits, raw result (-errno).
pub fn fcntl_wait(fd: c_int, cmd: c_int, lock: *mut libc::flock) -> isize {
    let arg = lock as usize;
    if hub::current().is_none() {
        return fcntl_raw(fd, cmd, arg);
    }
    let try_cmd = if cmd == libc::F_SETLKW { libc::F_SETLK } else { libc::F_OFD_SETLK };
    let r = fcntl_raw(fd, try_cmd, arg);
    // Held by another: EAGAIN, or EACCES (POSIX allows either; Linux says EAGAIN).
    if r != -(libc::EAGAIN as isize) && r != -(libc::EACCES as isize) {
        return r;
    }
    offload::run_interruptible(true, move || fcntl_raw(fd, cmd, arg))
}

/// `lockf(fd, F_LOCK, len)`: glibc's is `fcntl(F_SETLKW)` of a write lock from the current
/// offset, made with an internal call; raw result (-errno).
pub fn lockf_lock(fd: c_int, len: libc::off_t) -> isize {
    // SAFETY: struct flock is plain data; all-zero is a valid value.
    let mut l: libc::flock = unsafe { core::mem::zeroed() };
    l.l_type = libc::F_WRLCK as libc::c_short;
    l.l_whence = libc::SEEK_CUR as libc::c_short;
    l.l_start = 0;
    l.l_len = len;
    fcntl_wait(fd, libc::F_SETLKW, &mut l)
}
