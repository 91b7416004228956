//! Address-keyed wait queues: the one parking mechanism under mutexes, condition variables,
//! once, join and Rust's/C's futex calls (like the kernel's futex hash or parking_lot_core).
//!
//! A waiter queues a node in the bucket of its key address after re-checking, under the bucket
//! lock, that it still has to wait (`validate`); a waker changes the waited-on word first and
//! then takes the same lock, so no wake-up is lost. Waiters are either green threads (the node
//! lives in the Task; waking makes the task ready on the hub) or plain OS threads (the node
//! lives on their stack; they block in a private futex on the node), so an object shared by
//! green and non-green threads works in both directions.
//!
//! Invariants:
//! - A node is linked in at most one bucket, and `linked` is only read or written under that
//!   bucket's lock.
//! - For a green waiter exactly one party wins `park_state` PARKED → NOTIFIED: an unparker
//!   (which unlinked the node under the lock) or the timer (which unlinks it under the lock
//!   first); the winner makes the task ready once.

use core::cell::Cell;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::hub;
use crate::lock::SpinLock;
use crate::task::{ParkReason, Task, NOTIFIED, PARKED};

const BUCKETS: usize = 4096;

/// Outcome of a park.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParkResult {
    /// Woken by an unparker.
    Unparked,
    /// The deadline passed first.
    TimedOut,
    /// `validate` said there was nothing to wait for.
    Invalid,
}

const R_UNPARKED: u32 = 0;
const R_TIMEDOUT: u32 = 1;

pub struct WaitNode {
    next: Cell<*const WaitNode>,
    prev: Cell<*const WaitNode>,
    key: Cell<usize>,
    linked: Cell<bool>,
    /// FUTEX_*_BITSET mask (all ones otherwise).
    bitset: Cell<u32>,
    /// The green task waiting, or null for an OS thread.
    task: Cell<*const Task>,
    /// OS waiter: 0 while waiting, 1 once woken (the futex word it sleeps on).
    os_word: AtomicU32,
    result: AtomicU32,
}

// SAFETY: all Cell fields are accessed under the bucket lock (module invariant).
unsafe impl Sync for WaitNode {}

impl WaitNode {
    pub const fn new() -> WaitNode {
        WaitNode {
            next: Cell::new(core::ptr::null()),
            prev: Cell::new(core::ptr::null()),
            key: Cell::new(0),
            linked: Cell::new(false),
            bitset: Cell::new(!0),
            task: Cell::new(core::ptr::null()),
            os_word: AtomicU32::new(0),
            result: AtomicU32::new(R_UNPARKED),
        }
    }
}

impl Default for WaitNode {
    fn default() -> Self {
        Self::new()
    }
}

struct Bucket {
    head: *const WaitNode,
    tail: *const WaitNode,
}

// SAFETY: the raw node pointers are only followed under the bucket's lock.
unsafe impl Send for Bucket {}

static TABLE: [SpinLock<Bucket>; BUCKETS] =
    [const { SpinLock::new(Bucket { head: core::ptr::null(), tail: core::ptr::null() }) }; BUCKETS];

#[inline]
fn bucket(key: usize) -> &'static SpinLock<Bucket> {
    // Fibonacci hashing of the address; low bits are mostly alignment.
    let h = (key as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - 12);
    &TABLE[h as usize]
}

impl Bucket {
    fn link(&mut self, n: &WaitNode) {
        n.next.set(core::ptr::null());
        n.prev.set(self.tail);
        if self.tail.is_null() {
            self.head = n;
        } else {
            // SAFETY: linked nodes are live (their waiter is blocked until unlinked).
            unsafe { (*self.tail).next.set(n) };
        }
        self.tail = n;
        n.linked.set(true);
    }

    fn unlink(&mut self, n: &WaitNode) {
        let (p, x) = (n.prev.get(), n.next.get());
        // SAFETY: neighbours are linked, hence live.
        unsafe {
            if p.is_null() { self.head = x } else { (*p).next.set(x) }
            if x.is_null() { self.tail = p } else { (*x).prev.set(p) }
        }
        n.linked.set(false);
    }
}

/// A woken waiter, to be released after the bucket lock is dropped.
enum Woken {
    Green(&'static Task),
    Os(*const AtomicU32),
}

/// Marks a linked node woken (it must already be unlinked) and says how to release it.
fn claim(n: &WaitNode, result: u32) -> Woken {
    n.result.store(result, Ordering::Relaxed);
    let t = n.task.get();
    if t.is_null() {
        Woken::Os(&n.os_word)
    } else {
        // SAFETY: tasks are never freed.
        let t: &'static Task = unsafe { &*t };
        let won = t.park_state.compare_exchange(PARKED, NOTIFIED, Ordering::AcqRel, Ordering::Acquire).is_ok();
        debug_assert!(won, "a linked green node is always still parked");
        Woken::Green(t)
    }
}

fn release(w: Woken) {
    match w {
        Woken::Green(t) => hub::make_ready(t),
        Woken::Os(word) => {
            // SAFETY: the OS waiter keeps its node alive until it observes os_word == 1; the
            // wake after the store may hit a reused address, which is only a spurious wake-up.
            unsafe { (*word).store(1, Ordering::Release) };
            crate::sys::futex_wake_os(word as *const u32, 1);
        }
    }
}

/// Parks the calling thread on `key` until unparked or until `deadline` (CLOCK_MONOTONIC ns).
/// `validate` runs under the bucket lock; returning false means "do not wait" (`Invalid`).
/// Green threads switch away; other threads block in the kernel.
pub fn park(key: usize, bitset: u32, validate: impl FnOnce() -> bool, deadline: Option<u64>, reason: ParkReason) -> ParkResult {
    match hub::current() {
        Some(task) => park_green(task, key, bitset, validate, deadline, reason),
        None => park_os(key, bitset, validate, deadline),
    }
}

fn park_green(task: &'static Task, key: usize, bitset: u32, validate: impl FnOnce() -> bool, deadline: Option<u64>, reason: ParkReason) -> ParkResult {
    // Cancellation points act before and after waiting. A condition wait acts in cond.rs,
    // after re-locking its mutex, as POSIX requires.
    let cancel_here = reason.is_cancellation_point() && reason != ParkReason::Cond;
    if cancel_here {
        crate::thread::testcancel();
    }
    let node = &task.wait;
    {
        let mut b = bucket(key).lock();
        if !validate() {
            return ParkResult::Invalid;
        }
        node.key.set(key);
        node.bitset.set(bitset);
        node.task.set(task);
        node.result.store(R_UNPARKED, Ordering::Relaxed);
        task.park_state.store(PARKED, Ordering::Release);
        b.link(node);
    }
    // A signal delivered on the way back counts as a spurious wake-up here; callers re-check.
    hub::park_current(task, deadline, reason);
    if cancel_here {
        crate::thread::testcancel();
    }
    match node.result.load(Ordering::Acquire) {
        R_TIMEDOUT => ParkResult::TimedOut,
        _ => ParkResult::Unparked,
    }
}

fn park_os(key: usize, bitset: u32, validate: impl FnOnce() -> bool, deadline: Option<u64>) -> ParkResult {
    let node = WaitNode::new();
    {
        let mut b = bucket(key).lock();
        if !validate() {
            return ParkResult::Invalid;
        }
        node.key.set(key);
        node.bitset.set(bitset);
        b.link(&node);
    }
    loop {
        if node.os_word.load(Ordering::Acquire) == 1 {
            break;
        }
        let r = crate::sys::futex_wait_os(&node.os_word, 0, deadline);
        if r == -(libc::ETIMEDOUT as isize) {
            let mut b = bucket(key).lock();
            if node.linked.get() {
                b.unlink(&node);
                return ParkResult::TimedOut;
            }
            // An unparker claimed us concurrently: wait for its store to land.
        }
    }
    match node.result.load(Ordering::Acquire) {
        R_TIMEDOUT => ParkResult::TimedOut,
        _ => ParkResult::Unparked,
    }
}

/// Called by the hub when a park deadline passes: times the task out if that park is still
/// the current one and nobody woke it.
pub fn expire(task: &'static Task, gen: u64) {
    if task.park_gen.load(Ordering::Acquire) != gen {
        return;
    }
    wake_parked(task, R_TIMEDOUT);
}

/// Wakes a parked task whatever it waits on (pthread_cancel): the wait returns as if woken
/// spuriously and the cancellation point acts on the request.
pub fn interrupt(task: &'static Task) {
    wake_parked(task, R_UNPARKED);
}

fn wake_parked(task: &'static Task, result: u32) {
    if task.park_state.load(Ordering::Acquire) != PARKED {
        return;
    }
    let node = &task.wait;
    let key = node.key.get();
    if key == 0 {
        // A pure timer park (sleep): nobody else can claim it.
        if task.park_state.compare_exchange(PARKED, NOTIFIED, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            node.result.store(result, Ordering::Relaxed);
            hub::make_ready(task);
        }
        return;
    }
    let w = {
        let mut b = bucket(key).lock();
        if !node.linked.get() || node.key.get() != key {
            return;
        }
        b.unlink(node);
        claim(node, result)
    };
    release(w);
}

/// In a fork child: every waiter belonged to a thread that no longer exists; empty the table.
///
/// # Safety
/// Only in the child of fork, on its only thread.
pub unsafe fn forget_all_waiters_after_fork() {
    for b in TABLE.iter() {
        // SAFETY: single-threaded child (contract).
        unsafe { b.force_unlock_after_fork() };
        let mut g = b.lock();
        g.head = core::ptr::null();
        g.tail = core::ptr::null();
    }
}

/// Prepares a timer-only park (sleep): no bucket, woken by the deadline alone.
pub fn prepare_timer_park(task: &'static Task) {
    task.wait.key.set(0);
    task.wait.result.store(R_UNPARKED, Ordering::Relaxed);
    task.park_state.store(PARKED, Ordering::Release);
}

/// The address a parked task waits on (0 for a timer-only park).
pub fn waiting_on(task: &Task) -> usize {
    task.wait.key.get()
}

/// Wakes up to `max` waiters on `key` whose bitset intersects `bitset`, oldest first.
/// `after` runs under the bucket lock with (woken, waiters left) before anyone runs.
pub fn unpark(key: usize, max: usize, bitset: u32, after: impl FnOnce(usize, bool)) -> usize {
    let mut after = Some(after);
    let mut woken: [Option<Woken>; 16] = [const { None }; 16];
    let mut total = 0;
    loop {
        let mut n_batch = 0;
        let more;
        {
            let mut b = bucket(key).lock();
            let mut cur = b.head;
            while !cur.is_null() && total < max && n_batch < woken.len() {
                // SAFETY: linked nodes are live.
                let n = unsafe { &*cur };
                cur = n.next.get();
                if n.key.get() == key && n.bitset.get() & bitset != 0 {
                    b.unlink(n);
                    woken[n_batch] = Some(claim(n, R_UNPARKED));
                    n_batch += 1;
                    total += 1;
                }
            }
            more = total < max && n_batch == woken.len();
            if !more {
                let left = has_waiters(&b, key);
                if let Some(f) = after.take() {
                    f(total, left);
                }
            }
        }
        for w in woken.iter_mut().take(n_batch) {
            release(w.take().expect("filled above"));
        }
        if !more {
            return total;
        }
    }
}

fn has_waiters(b: &Bucket, key: usize) -> bool {
    let mut cur = b.head;
    while !cur.is_null() {
        // SAFETY: linked nodes are live.
        let n = unsafe { &*cur };
        if n.key.get() == key {
            return true;
        }
        cur = n.next.get();
    }
    false
}

/// Wakes one waiter on `key`. Returns whether one was woken.
pub fn unpark_one(key: usize, after: impl FnOnce(usize, bool)) -> bool {
    unpark(key, 1, !0, after) == 1
}

/// Wakes every waiter on `key`.
pub fn unpark_all(key: usize) -> usize {
    unpark(key, usize::MAX, !0, |_, _| {})
}

/// Wakes up to `wake` waiters of `from` and moves up to `requeue` more to wait on `to`
/// (FUTEX_REQUEUE). `check` runs under both bucket locks first; false aborts (`None`).
pub fn requeue(from: usize, to: usize, wake: usize, requeue: usize, check: impl FnOnce() -> bool) -> Option<usize> {
    let (bf, bt) = (bucket(from), bucket(to));
    let same = core::ptr::eq(bf, bt);
    // Lock in address order to avoid lock-order inversion between two requeuers.
    let (mut g1, mut g2) = if same {
        (bf.lock(), None)
    } else if (bf as *const _ as usize) < (bt as *const _ as usize) {
        let a = bf.lock();
        (a, Some(bt.lock()))
    } else {
        let b = bt.lock();
        let a = bf.lock();
        (a, Some(b))
    };
    if !check() {
        return None;
    }
    let mut to_release = Vec::new();
    let mut moved = 0;
    let mut cur = g1.head;
    while !cur.is_null() && (to_release.len() < wake || moved < requeue) {
        // SAFETY: linked nodes are live.
        let n = unsafe { &*cur };
        cur = n.next.get();
        if n.key.get() != from {
            continue;
        }
        g1.unlink(n);
        if to_release.len() < wake {
            to_release.push(claim(n, R_UNPARKED));
        } else {
            n.key.set(to);
            match g2.as_mut() {
                Some(g) => g.link(n),
                None => g1.link(n),
            }
            moved += 1;
        }
    }
    drop(g2);
    drop(g1);
    let woken = to_release.len();
    for w in to_release {
        release(w);
    }
    Some(woken + moved)
}

/// Waiting on an object another process can change (process-shared mutex, semaphore, futex):
/// that process cannot reach our park table, so waiters also re-check on a timer, backing off
/// from 50 µs to 10 ms. `Backoff::deadline` is the deadline to park with; `Backoff::expired`
/// tells a timed-out park of a real deadline from a poll tick.
pub struct Backoff {
    shared: bool,
    interval: u64,
    user: Option<u64>,
}

impl Backoff {
    pub fn new(shared: bool, user_deadline: Option<u64>) -> Backoff {
        Backoff { shared, interval: 50_000, user: user_deadline }
    }

    /// The deadline for the next park.
    pub fn deadline(&mut self) -> Option<u64> {
        if !self.shared {
            return self.user;
        }
        let tick = crate::sys::now_ns() + self.interval;
        self.interval = (self.interval * 2).min(10_000_000);
        Some(self.user.map_or(tick, |u| u.min(tick)))
    }

    /// After a TimedOut park: whether the caller's own deadline has passed.
    pub fn expired(&self) -> bool {
        match self.user {
            Some(u) => crate::sys::now_ns() >= u,
            None => false,
        }
    }
}

/// Wakes up to `n` threads of other processes blocked in the kernel on a shared futex word.
pub fn wake_kernel_shared(word: usize, n: i32) {
    // SAFETY: FUTEX_WAKE only uses the address as a key.
    unsafe { crate::sys::syscall3(libc::SYS_futex, word, libc::FUTEX_WAKE as usize, n as usize) };
}
