//! sem_t, cooperative, in glibc's own layout (so sem_open's file, initialised by glibc, and
//! native processes sharing a semaphore keep working):
//!
//! | offset | field | meaning |
//! | --- | --- | --- |
//! | 0 | u32 value | the count |
//! | 4 | u32 nwaiters | threads waiting (posters wake only when non-zero) |
//! | 8 | i32 private | 0 for process-private, FUTEX_PRIVATE_FLAG for shared (glibc's FUTEX_SHARED) |
//!
//! Waiters in this process park; a shared semaphore's waiters also poll (another process posts
//! without our park table) and its posters also wake kernel waiters (native processes).

use core::ffi::c_int;
use core::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use super::field;
use crate::park::{self, Backoff, ParkResult};
use crate::task::ParkReason;

pub const SEM_VALUE_MAX: u32 = i32::MAX as u32;

pub struct Sem(*mut libc::sem_t);

impl Sem {
    /// # Safety
    /// `s` points to a sem_t that stays valid while the view is used.
    pub unsafe fn from_ptr(s: *mut libc::sem_t) -> Sem {
        Sem(s)
    }
    fn value(&self) -> &AtomicU32 {
        field(self.0, 0)
    }
    fn nwaiters(&self) -> &AtomicU32 {
        field(self.0, 4)
    }
    /// glibc's own test: its FUTEX_PRIVATE is 0 and FUTEX_SHARED is FUTEX_PRIVATE_FLAG (the
    /// flag its futex calls then flip), so a zero-filled sem_t is private.
    fn shared(&self) -> bool {
        field::<_, AtomicI32>(self.0, 8).load(Ordering::Relaxed) != 0
    }
    fn key(&self) -> usize {
        self.0 as usize
    }

    /// sem_init. EINVAL for a value above SEM_VALUE_MAX.
    pub fn init(&self, pshared: bool, value: u32) -> c_int {
        if value > SEM_VALUE_MAX {
            return libc::EINVAL;
        }
        self.value().store(value, Ordering::Relaxed);
        self.nwaiters().store(0, Ordering::Relaxed);
        field::<_, AtomicI32>(self.0, 8).store(if pshared { libc::FUTEX_PRIVATE_FLAG } else { 0 }, Ordering::Release);
        0
    }

    pub fn trywait(&self) -> c_int {
        let v = self.value();
        let mut cur = v.load(Ordering::Relaxed);
        while cur > 0 {
            match v.compare_exchange_weak(cur, cur - 1, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return 0,
                Err(x) => cur = x,
            }
        }
        libc::EAGAIN
    }

    /// sem_wait / sem_timedwait: 0, ETIMEDOUT or EINTR (`deadline` is CLOCK_MONOTONIC ns).
    pub fn wait(&self, deadline: Option<u64>) -> c_int {
        if self.trywait() == 0 {
            return 0;
        }
        let mut backoff = Backoff::new(self.shared(), deadline);
        self.nwaiters().fetch_add(1, Ordering::SeqCst);
        // Leaves the waiter count on every way out, cancellation's unwind included.
        struct Waiting<'a>(&'a AtomicU32);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let _waiting = Waiting(self.nwaiters());
        loop {
            if self.trywait() == 0 {
                break 0;
            }
            let v = self.value();
            let r = park::park(self.key(), !0, || v.load(Ordering::SeqCst) == 0, backoff.deadline(), ParkReason::Sem);
            if r == ParkResult::TimedOut && backoff.expired() {
                // A post that landed since the timer fired is ours; the unit this trywait takes
                // must be returned as a success, never dropped with ETIMEDOUT or a retry (a
                // lost unit left stress-ng --sem's semaphore at 0 for good).
                break if self.trywait() == 0 { 0 } else { libc::ETIMEDOUT };
            }
            // A signal handler ran on this thread: EINTR unless it has SA_RESTART (signal(7);
            // glibc's futex wait is restarted by the kernel then).
            if crate::signal::interrupted(true) {
                break libc::EINTR;
            }
        }
    }

    /// sem_post: EOVERFLOW at SEM_VALUE_MAX.
    pub fn post(&self) -> c_int {
        let v = self.value();
        let mut cur = v.load(Ordering::Relaxed);
        loop {
            if cur >= SEM_VALUE_MAX {
                return libc::EOVERFLOW;
            }
            match v.compare_exchange_weak(cur, cur + 1, Ordering::SeqCst, Ordering::Relaxed) {
                Ok(_) => break,
                Err(x) => cur = x,
            }
        }
        if self.nwaiters().load(Ordering::SeqCst) > 0 {
            park::unpark_one(self.key());
            if self.shared() {
                park::wake_kernel_shared(self.key(), 1);
            }
        }
        0
    }

    pub fn getvalue(&self) -> c_int {
        self.value().load(Ordering::Relaxed) as c_int
    }
}
