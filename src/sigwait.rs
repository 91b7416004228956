//! sigwait, sigwaitinfo, sigtimedwait, sigsuspend and pause for green threads: the caller parks
//! while the others run.
//!
//! A waiter looks, in order, at signals pending for itself (pthread_kill, raise, routed ones),
//! at process-pending ones the hub holds (sigroute.rs), and at what the kernel holds for the
//! carrier or the process (rt_sigtimedwait with a zero timeout); then it parks on a signalfd of
//! the signals it waits for, registered in the hub's epoll: a signal that every thread blocks
//! stays pending in the kernel and makes that fd readable. pthread_kill and the hub's routing
//! wake it directly. Natively, sigtimedwait fails with EAGAIN at the timeout and EINTR when a
//! handler for another signal ran on the thread; sigsuspend and pause return -1 EINTR once a
//! handler has run; the same results come out here.

use core::ffi::c_int;
use core::sync::atomic::Ordering;

use crate::fd::{self, Dir};
use crate::sigmask::{self, bit, UNBLOCKABLE};
use crate::signal;
use crate::sigroute;
use crate::sys;
use crate::task::Task;

/// A signalfd for `set` (non-blocking), or -errno.
fn signalfd(set: u64) -> isize {
    // SAFETY: a live 8-byte mask; creates a new fd.
    unsafe { sys::syscall6(libc::SYS_signalfd4, usize::MAX, &set as *const u64 as usize, 8, (libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) as usize, 0, 0) }
}

fn close(fd: isize) {
    if fd >= 0 {
        fd::forget(fd as i32);
        // SAFETY: closing a signalfd we created.
        unsafe { sys::syscall3(libc::SYS_close, fd as usize, 0, 0) };
    }
}

/// A signal of `set` pending for `t` (its own or process-pending here): taken, with its info.
fn take_own(t: &Task, set: u64) -> Option<(c_int, libc::siginfo_t)> {
    sigroute::claim_process_pending(t);
    loop {
        let p = t.pending_signals.load(Ordering::Acquire) & set;
        if p == 0 {
            return None;
        }
        let sig = p.trailing_zeros() as c_int + 1;
        t.pending_signals.fetch_and(!bit(sig), Ordering::AcqRel);
        let routed = t.routed_signals.fetch_and(!bit(sig), Ordering::AcqRel) & bit(sig) != 0;
        if routed {
            return Some((sig, sigroute::take_info(sig)));
        }
        let words = match crate::sigqueue::take(t, sig) {
            Some((words, more)) => {
                // A plain send too stays pending for a real-time signal (they queue), merges
                // into this one for a standard signal.
                let plain_too = if sig >= libc::SIGRTMIN() {
                    t.plain_signals.load(Ordering::Acquire) & bit(sig) != 0
                } else {
                    signal::take_plain(t, sig);
                    false
                };
                if more || plain_too {
                    t.pending_signals.fetch_or(bit(sig), Ordering::AcqRel); // the next one stays pending
                }
                words
            }
            // Sent with pthread_kill/raise: what the kernel reports for tgkill, as glibc folds
            // it (SI_TKILL becomes SI_USER), from this process.
            // SAFETY: getpid takes no arguments.
            None if signal::take_plain(t, sig) => signal::sent_by_us(sig, libc::SI_USER, unsafe { sys::syscall3(libc::SYS_getpid, 0, 0, 0) } as usize),
            // A pthread_sigqueue wake-up whose value was taken already: look further.
            None => continue,
        };
        // SAFETY: [u32; 32] and siginfo_t are the same 128 bytes of plain data.
        return Some((sig, unsafe { core::mem::transmute::<[u32; 32], libc::siginfo_t>(words) }));
    }
}

/// sigtimedwait for green thread `t`: the signal number, or -errno (EAGAIN at `deadline`,
/// EINTR when a handler ran meanwhile). `info` receives the siginfo when given.
pub fn timedwait(t: &'static Task, set: u64, info: Option<&mut libc::siginfo_t>, deadline: Option<u64>) -> isize {
    let set = set & !UNBLOCKABLE;
    t.sigwait_set.set(set);
    let mut sfd: isize = -1;
    // SAFETY: all-zero is a valid siginfo.
    let mut got: libc::siginfo_t = unsafe { core::mem::zeroed() };
    let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    let r = loop {
        // Before the tries (fd.rs: a signal the kernel queues after them is an edge not lost).
        let mut armed = fd::arm(sfd as i32, Dir::Read);
        if let Some((sig, i)) = take_own(t, set) {
            got = i;
            break sig as isize;
        }
        // SAFETY: live mask, siginfo and zero timespec.
        let r = unsafe {
            sys::syscall6(libc::SYS_rt_sigtimedwait, &set as *const u64 as usize, &mut got as *mut _ as usize, &zero as *const _ as usize, 8, 0, 0)
        };
        if r != -(libc::EAGAIN as isize) {
            if r > 0 && got.si_code == libc::SI_TKILL {
                got.si_code = libc::SI_USER; // glibc folds tgkill's code
            }
            break r;
        }
        if deadline.is_some_and(|d| sys::now_ns() >= d) {
            break -(libc::EAGAIN as isize);
        }
        if sfd < 0 {
            sfd = signalfd(set);
            if sfd < 0 {
                break sfd;
            }
            // A signal queued since the tries makes it ready when the wait registers it.
            armed = fd::arm(sfd as i32, Dir::Read);
        }
        fd::wait_until(sfd as i32, Dir::Read, armed, deadline);
        if t.last_intr.get() != signal::NONE {
            break -(libc::EINTR as isize);
        }
    };
    t.sigwait_set.set(0);
    close(sfd);
    if r > 0 {
        if let Some(out) = info {
            *out = got;
        }
    }
    r
}

/// sigsuspend for green thread `t`: waits with `mask` until a handler has run; always -EINTR.
pub fn suspend(t: &'static Task, mask: u64) -> isize {
    sigmask::wait_with(t, mask, || {
        // Everything the mask lets in wakes the wait (handled or, by default action, fatal).
        let sfd = signalfd(!mask & !UNBLOCKABLE);
        let mut armed = fd::arm(sfd as i32, Dir::Read);
        while t.handler_ran.get() == signal::NONE {
            if sfd < 0 || !fd::wait(sfd as i32, Dir::Read, armed) {
                break;
            }
            if t.last_intr.get() != signal::NONE {
                break;
            }
            // Armed before the mask lets signals in: one the kernel queues after is not missed.
            armed = fd::arm(sfd as i32, Dir::Read);
            // The signalfd fired: a signal the kernel holds; loading our mask again lets it in.
            crate::hub::mask_changed(t);
        }
        close(sfd);
        -(libc::EINTR as isize)
    })
}
