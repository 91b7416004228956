//! Waiting for child processes without blocking the hub. A green thread's waitpid/wait4/waitid
//! first asks with WNOHANG; if nothing has changed yet it waits for a pidfd of that child to
//! become readable in the hub's epoll (one specific child), or, for "any child" and process
//! groups, re-asks on a backoff timer (50 µs doubling to 10 ms; pidfds name single processes),
//! as it does for a child traced by us, whose ptrace stops our waits report and a pidfd does
//! not signal (it becomes readable only at exit; a pidfd wait checks every 100 ms whether the
//! child has become traced).
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
    let mut pidfd = if pid > 0 && !traced(pid) {
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
            // The child may become traced by us meanwhile (PTRACE_TRACEME, PTRACE_ATTACH): the
            // wait looks again now and then.
            fd::wait_until(pidfd as i32, Dir::Read, armed, Some(sys::now_ns() + TRACE_RECHECK_NS));
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
        if pidfd >= 0 && traced(pid) {
            close_pidfd(pidfd);
            pidfd = -1;
        }
    };
    if pidfd >= 0 {
        close_pidfd(pidfd);
    }
    r
}

/// How often a pidfd wait checks whether the child has become traced by us.
const TRACE_RECHECK_NS: u64 = 100_000_000;

fn close_pidfd(pidfd: isize) {
    fd::forget(pidfd as i32);
    // SAFETY: closing the pidfd we opened.
    unsafe { sys::syscall3(libc::SYS_close, pidfd as usize, 0, 0) };
}

/// Whether `pid` is traced by this process (its /proc status names a tracer that is one of our
/// threads): our waits may then report its ptrace stops, which no pidfd signals. A child traced
/// by another process (the tests' strace) reports its stops there. False if unknown (the child
/// is gone: the pidfd wait then ends at once).
fn traced(pid: i32) -> bool {
    let mut path = crate::log::LineBuf::new();
    let _ = core::fmt::Write::write_fmt(&mut path, format_args!("/proc/{pid}/status\0"));
    let Ok(path) = core::ffi::CStr::from_bytes_with_nul(path.as_bytes()) else { return false };
    let mut buf = [0u8; 2048];
    let Some(s) = sys::read_small_file(path, &mut buf) else { return false };
    let Ok(s) = core::str::from_utf8(s) else { return false };
    let tracer: u32 = match s.lines().find_map(|l| l.strip_prefix("TracerPid:")).and_then(|v| v.trim().parse().ok()) {
        Some(t) if t != 0 => t,
        _ => return false,
    };
    let mut task = crate::log::LineBuf::new();
    let _ = core::fmt::Write::write_fmt(&mut task, format_args!("/proc/self/task/{tracer}\0"));
    // SAFETY: a NUL-terminated path; faccessat only looks it up.
    unsafe { sys::syscall6(libc::SYS_faccessat, libc::AT_FDCWD as usize, task.as_bytes().as_ptr() as usize, libc::F_OK as usize, 0, 0, 0) == 0 }
}
