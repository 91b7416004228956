//! POSIX message queues for green threads. An mqd_t is an fd that epoll watches (readable while
//! the queue holds a message, writable while it has room), so a blocking receive or send parks
//! until the queue polls ready. The try is the real call with a deadline already past, which
//! the kernel answers with ETIMEDOUT instead of waiting: the queue's O_NONBLOCK, on an open
//! description the program may share with other processes, is never touched. A queue opened
//! O_NONBLOCK takes the real call (EAGAIN at once).

use crate::fd::{self, Dir};
use crate::sys;

/// The epoch: a deadline every try has already missed.
const PAST: libc::timespec = libc::timespec { tv_sec: 0, tv_nsec: 0 };

/// mq_timedreceive (`Dir::Read`) or mq_timedsend (`Dir::Write`) of `len` bytes at `buf` for a
/// green thread; `prio` is the receive's out-pointer or the send's priority, `abs` the caller's
/// CLOCK_REALTIME deadline (null: none). Raw result (-errno): ETIMEDOUT at the deadline, EINVAL
/// for a malformed one (checked first, as the kernel does), EINTR after a handler unless
/// SA_RESTART restarts the call. None: make the real call (a non-blocking queue or not a queue,
/// or epoll refused it).
pub fn transfer(mqd: i32, dir: Dir, buf: usize, len: usize, prio: usize, abs: *const libc::timespec) -> Option<isize> {
    // SAFETY: F_GETFL takes no argument.
    let fl = unsafe { sys::syscall3(libc::SYS_fcntl, mqd as usize, libc::F_GETFL as usize, 0) };
    if fl < 0 || fl as i32 & libc::O_NONBLOCK != 0 {
        return None;
    }
    let deadline = if abs.is_null() {
        None
    } else {
        // SAFETY: a non-null deadline points to a timespec (the call's contract).
        let t = unsafe { &*abs };
        if !sys::timespec_valid(t) || t.tv_sec < 0 {
            return Some(-(libc::EINVAL as isize));
        }
        Some(sys::abs_to_monotonic(libc::CLOCK_REALTIME, t)?)
    };
    let nr = if dir == Dir::Read { libc::SYS_mq_timedreceive } else { libc::SYS_mq_timedsend };
    loop {
        let armed = fd::arm(mqd, dir);
        // SAFETY: the caller's buffer and priority, as the real call would receive them; our PAST.
        let r = unsafe { sys::syscall6(nr, mqd as usize, buf, len, prio, &PAST as *const libc::timespec as usize, 0) };
        if r != -(libc::ETIMEDOUT as isize) {
            return Some(r);
        }
        if deadline.is_some_and(|d| sys::now_ns() >= d) {
            return Some(r);
        }
        if !fd::wait_until(mqd, dir, armed, deadline) {
            return None;
        }
        // Message queue calls are restarted under SA_RESTART, even with a timeout (signal(7)).
        if crate::signal::interrupted(true) {
            return Some(-(libc::EINTR as isize));
        }
    }
}
