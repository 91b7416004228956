//! Per-green-thread signal masks. The kernel knows one mask per OS thread (the carrier); each
//! green thread keeps its own in its Task and the hub loads it into the carrier when it switches
//! to a thread whose mask differs from the loaded one: one compare per switch, a syscall only
//! when masks differ (they rarely do). A green thread's pthread_sigmask/sigprocmask changes its
//! mask and the carrier's at once, as the native call does, and a signal pending for the thread
//! that it unblocks is delivered before the call returns. New threads inherit their creator's
//! mask. As glibc and the kernel do, SIGKILL, SIGSTOP and glibc's internal SIGCANCEL (32) and
//! SIGSETXID (33) are never blocked.
//!
//! Masks changed behind glibc's exported functions (siglongjmp's restore, setcontext, a raw
//! rt_sigprocmask syscall) reach the carrier but not the thread's record: the next switch back
//! to the thread loads the recorded mask (README limit).

use core::ffi::c_int;
use core::sync::atomic::Ordering;

use crate::sys;
use crate::task::Task;

/// The bit of signal `sig` (1..=64) in a mask.
#[inline(always)]
pub const fn bit(sig: c_int) -> u64 {
    1u64 << (sig - 1)
}

/// Signals no mask may hold.
pub const UNBLOCKABLE: u64 = bit(libc::SIGKILL) | bit(libc::SIGSTOP) | bit(32) | bit(33);

/// The carrier's current kernel mask.
pub fn carrier_mask() -> u64 {
    let mut old: u64 = 0;
    // SAFETY: a null new set only reads the mask into a live 8-byte buffer.
    unsafe { sys::syscall6(libc::SYS_rt_sigprocmask, libc::SIG_BLOCK as usize, 0, &mut old as *mut u64 as usize, 8, 0, 0) };
    old
}

/// Runs `f` with every signal blocked on the calling OS thread, then restores its mask: for a
/// runtime lock that a signal handler on the same thread may also take (it would spin for ever
/// on a holder it interrupted). Raw calls: the carrier's mask is back before anything reads it.
pub fn with_all_blocked<R>(f: impl FnOnce() -> R) -> R {
    let old = block_all();
    let r = f();
    set_carrier(old);
    r
}

/// Blocks every signal on the calling OS thread; returns the mask it had (give it back with
/// `set_carrier`).
pub fn block_all() -> u64 {
    let all: u64 = !0;
    let mut old: u64 = 0;
    // SAFETY: rt_sigprocmask on the calling OS thread with live 8-byte sets.
    unsafe { sys::syscall6(libc::SYS_rt_sigprocmask, libc::SIG_BLOCK as usize, &all as *const u64 as usize, &mut old as *mut u64 as usize, 8, 0, 0) };
    old
}

/// Sets the carrier's kernel mask (the hub, at a switch to a thread with another mask).
pub fn set_carrier(mask: u64) {
    // SAFETY: a live 8-byte mask; no old set.
    unsafe { sys::syscall6(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK as usize, &mask as *const u64 as usize, 0, 8, 0, 0) };
}

/// pthread_sigmask for the calling green thread `t`: `how` applied with `set` (None only reads).
/// Returns the previous mask, or EINVAL for a bad `how` with a set (the kernel ignores `how`
/// without one).
pub fn change(t: &'static Task, how: c_int, set: Option<u64>) -> Result<u64, c_int> {
    let old = t.sigmask.get();
    let Some(s) = set else { return Ok(old) };
    let s = s & !UNBLOCKABLE;
    let new = match how {
        libc::SIG_BLOCK => old | s,
        libc::SIG_UNBLOCK => old & !s,
        libc::SIG_SETMASK => s,
        _ => return Err(libc::EINVAL),
    };
    set_mask(t, new);
    Ok(old)
}

/// Makes `mask` the calling green thread's mask now (carrier included) and delivers what it
/// unblocks of the thread's pending signals.
pub fn set_mask(t: &'static Task, mask: u64) {
    t.sigmask.set(mask & !UNBLOCKABLE);
    crate::hub::mask_changed(t);
    crate::signal::mask_unblocked(t);
}

/// Runs `wait` with `mask` as the calling green thread's mask, restored after: sigsuspend,
/// ppoll, pselect and epoll_pwait apply theirs atomically for their wait, so a handler that runs
/// once the mask is in place ends the call with EINTR (-EINTR at once when setting the mask
/// delivered one; `wait` sees `Task::last_intr` or `handler_ran` for the rest). While it waits,
/// a signal for the thread is not run on its way into the park but left to wake the park
/// (`Task::masked_wait`). As the kernel does, a signal still pending that the mask lets in is
/// delivered before an interrupted call restores the old mask; after a call that was not
/// interrupted, the old mask decides.
pub fn wait_with(t: &'static Task, mask: u64, wait: impl FnOnce() -> isize) -> isize {
    let old = t.sigmask.get();
    t.handler_ran.set(crate::signal::NONE);
    t.masked_wait.store(true, Ordering::SeqCst);
    set_mask(t, mask);
    let r = if t.handler_ran.get() != crate::signal::NONE { -(libc::EINTR as isize) } else { wait() };
    t.masked_wait.store(false, Ordering::SeqCst);
    if r == -(libc::EINTR as isize) {
        crate::signal::deliver_pending(t);
    }
    set_mask(t, old);
    r
}

/// Reads the first 64 signals of a sigset_t (glibc's and the kernel's layout: bit `sig - 1`).
///
/// # Safety
/// `p` is null or points to a sigset_t.
pub unsafe fn read_set(p: *const libc::sigset_t) -> Option<u64> {
    // SAFETY: a non-null p points to a sigset_t, whose first 8 bytes are the 64 signals.
    (!p.is_null()).then(|| unsafe { *(p as *const u64) })
}

/// Writes a mask into a sigset_t as the kernel does (only the first 8 bytes, as glibc passes
/// an 8-byte set size).
///
/// # Safety
/// `p` is null or points to a writable sigset_t.
pub unsafe fn write_set(p: *mut libc::sigset_t, mask: u64) {
    if !p.is_null() {
        // SAFETY: a non-null p points to a writable sigset_t of at least 8 bytes.
        unsafe { *(p as *mut u64) = mask };
    }
}
