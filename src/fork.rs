//! What fork does to the runtime. Only the forking thread exists in the child, and it inherits
//! every structure as the parent's other carriers and workers left it at that instant, perhaps
//! half-way through a change.
//!
//! - The pools' locks (task structs, TCBs, stacks) are held by the forking thread from glibc's
//!   atfork prepare handler to its parent or child handler, so no pool is copied mid-change (a
//!   Vec whose pointer and capacity disagree, a half-linked free list): the child goes on
//!   creating threads from them. Their holders never park or wait for anything, so the forking
//!   thread waits nanoseconds.
//! - So is the lock of the program's signal actions (sigroute.rs `ACTIONS`), taken last and with
//!   every signal blocked on the forking thread until its parent or child handler.
//! - The hub's own structures (run queues, timers, park buckets, the inject queue) are not held
//!   so: the hub lock is held by sections that switch, and glibc takes its stdio and malloc locks
//!   after the prepare handlers, which may wait for a thread that needs the hub. The child
//!   instead forgets them without reading them (`hub::after_fork_child`): they described the
//!   parent's other threads only. Nor is a hand-off (`hub::MODE_CHANGE`): one that glibc's stdio
//!   lock would wait for (its holder parked on a full pipe, one carrier) must still be able to
//!   start; the child finishes a mode change the fork cut short.

use crate::lock::SpinLock;

/// A lock held across fork, whatever it protects.
trait ForkHeld: Sync {
    fn hold(&self);
    /// # Safety
    /// This OS thread holds the lock through `hold`.
    unsafe fn release(&self);
    /// # Safety
    /// Only in the child of fork, on its only thread.
    unsafe fn take_over(&self);
}

impl<T: Send> ForkHeld for SpinLock<T> {
    fn hold(&self) {
        self.lock_raw();
    }
    unsafe fn release(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.unlock_raw() };
    }
    unsafe fn take_over(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.force_unlock_after_fork() };
    }
}

/// The held locks, in the one order they are taken (none is taken inside another).
fn pool_locks() -> [&'static dyn ForkHeld; 8] {
    [
        &crate::task::TASK_POOL,
        &crate::task::ALL_TASKS,
        &crate::arena::TASKS,
        &crate::tls::POOL,
        &crate::tls::PRESERVED,
        &crate::stack::POOL,
        &crate::thread::NAMES,
        &crate::file::WARMED,
    ]
}

/// The pools' locks, then the signal actions' (after them: a handler that interrupted pool code
/// on another carrier may take it).
extern "C" fn prepare() {
    for l in pool_locks() {
        l.hold();
    }
    crate::sigroute::hold_actions_for_fork();
}

/// Signals stay blocked until every lock is released: a handler may take them.
extern "C" fn parent() {
    // SAFETY: `prepare` took it on this thread, which forked.
    let mask = unsafe { crate::sigroute::release_actions_after_fork(false) };
    for l in pool_locks().into_iter().rev() {
        // SAFETY: `prepare` took each on this thread, which forked.
        unsafe { l.release() };
    }
    crate::sigmask::set_carrier(mask);
}

extern "C" fn child() {
    // SAFETY: an atfork child handler runs on the child's only thread.
    let mask = unsafe { crate::sigroute::release_actions_after_fork(true) };
    for l in pool_locks() {
        // SAFETY: as above.
        unsafe { l.take_over() };
    }
    crate::hub::after_fork_child();
    crate::sigmask::set_carrier(mask);
}

/// Registers the handlers with glibc (once, from the constructor, after the hub started).
pub fn register() {
    // SAFETY: plain extern "C" handlers with no arguments, as pthread_atfork takes them.
    unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
}
