//! Waiting for child processes without blocking the hub. A green thread's waitpid/wait4/waitid
//! first asks with WNOHANG; if nothing has changed yet it waits for a pidfd of that child to
//! become readable in the hub's epoll (one specific child), or, for "any child" and process
//! groups, re-asks on a backoff timer (50 µs doubling to 10 ms; pidfds name single processes).
//! `system()` and `pclose()` wait inside glibc and still block (documented).

use crate::fd::{self, Dir};
use crate::park::Backoff;
use crate::sys;

/// Runs `try_once` (a WNOHANG attempt: 0 = nothing yet) until it returns non-zero or fails,
/// waiting cooperatively in between. Raw result (-errno).
pub fn wait_child(pid: i32, mut try_once: impl FnMut() -> isize) -> isize {
    let r = try_once();
    if r != 0 {
        return r;
    }
    let pidfd = if pid > 0 {
        // SAFETY: pidfd_open takes a pid and flags; it creates a new fd or fails.
        unsafe { sys::syscall3(libc::SYS_pidfd_open, pid as usize, 0, 0) }
    } else {
        -1
    };
    let mut backoff = Backoff::new(true, None);
    // A child that changed state since the first try makes the new pidfd ready when the first
    // wait registers it; later tries are armed before they run (fd.rs: no lost edge).
    let mut armed = fd::arm(pidfd as i32, Dir::Read);
    let r = loop {
        if pidfd >= 0 {
            fd::wait(pidfd as i32, Dir::Read, armed);
        } else if let Some(t) = crate::hub::current() {
            crate::hub::sleep_until(t, backoff.deadline().unwrap_or(0));
        }
        armed = fd::arm(pidfd as i32, Dir::Read);
        let r = try_once();
        if r != 0 {
            break r;
        }
        // waitpid is restarted after an SA_RESTART handler, fails with EINTR otherwise.
        if crate::signal::interrupted(true) {
            break -(libc::EINTR as isize);
        }
    };
    if pidfd >= 0 {
        fd::forget(pidfd as i32);
        // SAFETY: closing the pidfd we opened.
        unsafe { sys::syscall3(libc::SYS_close, pidfd as usize, 0, 0) };
    }
    r
}
