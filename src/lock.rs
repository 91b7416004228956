//! A tiny test-and-test-and-set spin lock for the runtime's own short critical sections
//! (park buckets, pools, the inject queue).
//!
//! Why not `std::sync::Mutex`: it parks with `syscall(SYS_futex)`, which binds to libgreen's own
//! `syscall` hook. Critical sections here are a few pointer updates and never park, so spinning
//! is bounded; an OS thread that loses the race yields the CPU with a raw `sched_yield` (no hook).

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, Ordering};

pub struct SpinLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: access to `value` is serialised by `locked`.
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: the lock owns its value.
unsafe impl<T: Send> Send for SpinLock<T> {}

impl<T> SpinLock<T> {
    pub const fn new(value: T) -> Self {
        SpinLock { locked: AtomicBool::new(false), value: UnsafeCell::new(value) }
    }

    #[inline]
    pub fn lock(&self) -> SpinGuard<'_, T> {
        if self.locked.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            self.lock_slow();
        }
        SpinGuard { lock: self }
    }

    /// The lock if it is free now (never waits).
    #[inline]
    pub fn try_lock(&self) -> Option<SpinGuard<'_, T>> {
        self.locked.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).ok().map(|_| SpinGuard { lock: self })
    }

    /// Takes the lock without a guard, for a hold that spans a context switch (the hub lock is
    /// taken by a parking green thread and released by the carrier's root); pair with
    /// `unlock_raw` on the same OS thread.
    #[inline]
    pub fn lock_raw(&self) {
        core::mem::forget(self.lock());
    }

    /// Releases a hold taken with `lock_raw`.
    ///
    /// # Safety
    /// The caller's OS thread holds the lock through `lock_raw`.
    #[inline]
    pub unsafe fn unlock_raw(&self) {
        self.locked.store(false, Ordering::Release);
    }

    #[cold]
    fn lock_slow(&self) {
        let mut spins = 0u32;
        loop {
            while self.locked.load(Ordering::Relaxed) {
                spins += 1;
                if spins < 100 {
                    core::hint::spin_loop();
                } else {
                    // SAFETY: sched_yield takes no arguments and cannot fail harmfully.
                    unsafe { crate::sys::syscall3(libc::SYS_sched_yield, 0, 0, 0) };
                }
            }
            if self.locked.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                return;
            }
        }
    }

    /// In a child after fork only the forking thread exists: a lock another thread held at the
    /// fork can never be released, so the child takes it over.
    ///
    /// # Safety
    /// Only in the child of fork, before anything else uses the lock.
    pub unsafe fn force_unlock_after_fork(&self) {
        self.locked.store(false, Ordering::Release);
    }
}

pub struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves the lock is held.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard proves the lock is held exclusively.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}
