//! pthread_spinlock_t. glibc's spins forever; with one OS thread a spinner whose holder is a
//! parked green thread would never let the holder run, so after a short spin a green thread
//! yields to the others (a thread that is not green yields its CPU).

use core::ffi::c_int;
use core::sync::atomic::{AtomicI32, Ordering};

use crate::hub;

/// # Safety
/// `l` points to a pthread_spinlock_t.
unsafe fn word<'a>(l: *mut libc::pthread_spinlock_t) -> &'a AtomicI32 {
    // SAFETY: pthread_spinlock_t is an int.
    unsafe { &*(l as *const AtomicI32) }
}

/// # Safety
/// As [`word`].
pub unsafe fn lock(l: *mut libc::pthread_spinlock_t) -> c_int {
    // SAFETY: contract.
    let w = unsafe { word(l) };
    let mut spins = 0u32;
    loop {
        if w.load(Ordering::Relaxed) == 0 && w.compare_exchange_weak(0, 1, Ordering::Acquire, Ordering::Relaxed).is_ok() {
            return 0;
        }
        spins += 1;
        if spins < 64 {
            core::hint::spin_loop();
            continue;
        }
        spins = 0;
        match hub::current() {
            Some(t) => hub::yield_now(t),
            // SAFETY: sched_yield has no arguments; raw, so it cannot re-enter our hooks.
            None => unsafe {
                crate::sys::syscall3(libc::SYS_sched_yield, 0, 0, 0);
            },
        }
    }
}

/// # Safety
/// As [`word`].
pub unsafe fn trylock(l: *mut libc::pthread_spinlock_t) -> c_int {
    // SAFETY: contract.
    match unsafe { word(l) }.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed) {
        Ok(_) => 0,
        Err(_) => libc::EBUSY,
    }
}

/// # Safety
/// As [`word`].
pub unsafe fn unlock(l: *mut libc::pthread_spinlock_t) -> c_int {
    // SAFETY: contract.
    unsafe { word(l) }.store(0, Ordering::Release);
    0
}
