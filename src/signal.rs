//! Signals aimed at one green thread (pthread_kill). The kernel only knows the carrier thread,
//! so the runtime keeps the signal pending on the target and delivers it when that thread next
//! runs, by raising it on itself: the handler then runs on the target's own stack and TCB, as
//! the kernel would run it on the target thread. A target parked in a wait is woken for this:
//! sleeps return EINTR with the time left (as natively); other waits resume waiting after the
//! handler (condition waits may return, a spurious wake-up POSIX allows).

use core::ffi::c_int;
use core::sync::atomic::Ordering;

use crate::park;
use crate::task::Task;

const NSIG: c_int = 64;

/// pthread_kill of another green thread. EINVAL for a bad signal number; 0 only checks.
pub fn kill(target: &'static Task, sig: c_int) -> c_int {
    if !(0..=NSIG).contains(&sig) {
        return libc::EINVAL;
    }
    if sig == 0 {
        return 0;
    }
    target.pending_signals.fetch_or(1u64 << (sig - 1), Ordering::AcqRel);
    park::interrupt(target);
    0
}

/// Delivers the signals pending for the calling green thread (raise runs each handler now, on
/// this thread). Returns whether any was delivered.
#[inline]
pub fn deliver_pending(t: &Task) -> bool {
    // A plain load first: this runs at every switch back into a thread, and a locked swap
    // would cost ≈5 ns there for the rare case.
    if t.pending_signals.load(Ordering::Relaxed) == 0 {
        return false;
    }
    let bits = t.pending_signals.swap(0, Ordering::AcqRel);
    if bits == 0 {
        return false;
    }
    for sig in 1..=NSIG {
        if bits & (1u64 << (sig - 1)) != 0 {
            // SAFETY: raise targets the calling OS thread, whose TCB is this green thread's.
            unsafe { libc::raise(sig) };
        }
    }
    true
}
