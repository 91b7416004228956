//! pthread_once: one runner, everyone else parks until it finishes.
//!
//! The control word (PTHREAD_ONCE_INIT == 0) is ours: every pthread_once call in the process
//! goes through libgreen, green or not. 0 = not run, 1 = running, 2 = done. If the init routine
//! does not return (C++ exception, pthread_exit, cancellation) the word goes back to 0 and the
//! waiters retry, as glibc's cleanup handler does.

use core::sync::atomic::{AtomicI32, Ordering};

use crate::park;
use crate::task::ParkReason;

const INIT: i32 = 0;
const RUNNING: i32 = 1;
const DONE: i32 = 2;

/// Resets the control word if the init routine unwinds.
struct Reset<'a>(&'a AtomicI32);

impl Drop for Reset<'_> {
    fn drop(&mut self) {
        self.0.store(INIT, Ordering::Release);
        park::unpark_all(self.0.as_ptr() as usize);
    }
}

/// # Safety
/// `control` points to a pthread_once_t; `init` may unwind (the caller's ABI must allow it).
pub unsafe fn call_once(control: *mut libc::pthread_once_t, init: impl FnOnce()) {
    // SAFETY: pthread_once_t is an int, suitably aligned for AtomicI32.
    let word = unsafe { &*(control as *const AtomicI32) };
    loop {
        match word.compare_exchange(INIT, RUNNING, Ordering::Acquire, Ordering::Acquire) {
            Ok(_) => {
                let guard = Reset(word);
                init();
                core::mem::forget(guard);
                word.store(DONE, Ordering::Release);
                park::unpark_all(word.as_ptr() as usize);
                return;
            }
            Err(DONE) => return,
            Err(_) => {
                park::park(word.as_ptr() as usize, !0, || word.load(Ordering::Acquire) == RUNNING, None, ParkReason::Once);
            }
        }
    }
}

/// The lock-free fast path: whether the once has completed.
///
/// # Safety
/// As [`call_once`].
#[inline]
pub unsafe fn done(control: *mut libc::pthread_once_t) -> bool {
    // SAFETY: as in call_once.
    unsafe { &*(control as *const AtomicI32) }.load(Ordering::Acquire) == DONE
}
