//! `syscall(SYS_futex, …)`: Rust std's Mutex/Condvar/RwLock/park and C programs call the
//! kernel directly; green callers wait in park.rs instead of the kernel.
//!
//! Handled: FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET, FUTEX_REQUEUE,
//! FUTEX_CMP_REQUEUE, with or without FUTEX_PRIVATE_FLAG / FUTEX_CLOCK_REALTIME. Other
//! operations (PI, WAKE_OP, WAITV…) go to the kernel unchanged.
//!
//! Mixed waiters: a thread that is not green (or the only green thread, on a shared futex)
//! waits in the kernel; it counts itself in
//! `KERNEL_WAITERS` first, and every wake also wakes kernel waiters while that count is non-zero
//! or the futex is shared (another process may wait on it). Wakes from non-green threads always
//! reach both the park table and the kernel.

use core::ffi::c_long;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::hub;
use crate::park::{self, ParkResult};
use crate::sys;
use crate::task::ParkReason;

const CMD_MASK: i32 = !(libc::FUTEX_PRIVATE_FLAG | libc::FUTEX_CLOCK_REALTIME);
static KERNEL_WAITERS: AtomicUsize = AtomicUsize::new(0);

/// Result of a futex call: the syscall's value, or an errno.
pub type FutexResult = Result<c_long, i32>;

fn raw(uaddr: usize, op: i32, val: u32, a4: usize, uaddr2: usize, val3: u32) -> FutexResult {
    // SAFETY: forwarding the caller's own futex arguments to the kernel, which validates them.
    let r = unsafe { sys::syscall6(libc::SYS_futex, uaddr, op as usize, val as usize, a4, uaddr2, val3 as usize) };
    if r < 0 {
        Err((-r) as i32)
    } else {
        Ok(r as c_long)
    }
}

/// Handles a futex syscall. `None`: not ours, pass it to the kernel as is.
///
/// # Safety
/// The arguments are the caller's `syscall(SYS_futex, …)` arguments; pointers are the
/// caller's responsibility as with the real syscall.
pub unsafe fn futex(uaddr: usize, op: i32, val: u32, a4: usize, uaddr2: usize, val3: u32) -> Option<FutexResult> {
    let cmd = op & CMD_MASK;
    let shared = op & libc::FUTEX_PRIVATE_FLAG == 0;
    let green = hub::current().is_some();
    match cmd {
        libc::FUTEX_WAIT | libc::FUTEX_WAIT_BITSET => {
            if cmd == libc::FUTEX_WAIT_BITSET && val3 == 0 {
                return Some(Err(libc::EINVAL));
            }
            if uaddr % 4 != 0 {
                return Some(Err(libc::EINVAL));
            }
            // A shared futex may be woken by another process's FUTEX_WAKE without the word
            // changing (stress-ng --futex does exactly that), which only a kernel waiter sees;
            // a green waiter that is alone in its process blocks nobody by waiting there.
            if !green || (shared && hub::lone_thread()) {
                KERNEL_WAITERS.fetch_add(1, Ordering::SeqCst);
                let r = raw(uaddr, op, val, a4, uaddr2, val3);
                KERNEL_WAITERS.fetch_sub(1, Ordering::SeqCst);
                return Some(r);
            }
            let deadline = if a4 == 0 {
                None
            } else {
                // SAFETY: a non-null timeout points to a timespec (futex(2) contract).
                let ts = unsafe { &*(a4 as *const libc::timespec) };
                if !sys::timespec_valid(ts) || ts.tv_sec < 0 {
                    return Some(Err(libc::EINVAL));
                }
                if cmd == libc::FUTEX_WAIT {
                    Some(sys::now_ns().saturating_add(sys::timespec_ns(ts)))
                } else {
                    let clock = if op & libc::FUTEX_CLOCK_REALTIME != 0 { libc::CLOCK_REALTIME } else { libc::CLOCK_MONOTONIC };
                    sys::abs_to_monotonic(clock, ts)
                }
            };
            let bitset = if cmd == libc::FUTEX_WAIT { !0 } else { val3 };
            // SAFETY: uaddr is the caller's aligned futex word.
            let word = unsafe { &*(uaddr as *const AtomicU32) };
            let r = park::park(uaddr, bitset, || word.load(Ordering::SeqCst) == val, deadline, ParkReason::Futex);
            Some(match r {
                ParkResult::Unparked => Ok(0),
                ParkResult::TimedOut => Err(libc::ETIMEDOUT),
                ParkResult::Invalid => Err(libc::EAGAIN),
            })
        }
        libc::FUTEX_WAKE | libc::FUTEX_WAKE_BITSET => {
            let bitset = if cmd == libc::FUTEX_WAKE { !0 } else { val3 };
            if bitset == 0 {
                return Some(Err(libc::EINVAL));
            }
            let max = (val as i32).max(0) as usize;
            let woken = park::unpark(uaddr, max, bitset, |_, _| ());
            let mut total = woken as c_long;
            if (!green || shared || KERNEL_WAITERS.load(Ordering::SeqCst) > 0) && woken < max {
                let rest = (max - woken).min(i32::MAX as usize) as u32;
                total += raw(uaddr, op, rest, a4, uaddr2, val3).unwrap_or(0);
            }
            Some(Ok(total))
        }
        libc::FUTEX_REQUEUE | libc::FUTEX_CMP_REQUEUE => {
            let wake = (val as i32).max(0) as usize;
            let requeue = (a4 as i32).max(0) as usize;
            // SAFETY: uaddr is the caller's futex word.
            let word = unsafe { &*(uaddr as *const AtomicU32) };
            let check = || cmd == libc::FUTEX_REQUEUE || word.load(Ordering::SeqCst) == val3;
            let ours = match park::requeue(uaddr, uaddr2, wake, requeue, check) {
                Some(n) => n as c_long,
                None => return Some(Err(libc::EAGAIN)),
            };
            if !green || shared || KERNEL_WAITERS.load(Ordering::SeqCst) > 0 {
                return Some(raw(uaddr, op, val, a4, uaddr2, val3).map(|k| k + ours));
            }
            Some(Ok(ours))
        }
        _ => None,
    }
}
