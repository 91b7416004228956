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
//! A waiter that has a word of its own to wait in (one fd direction's: fd.rs) may park there
//! instead of in a bucket (`park_in_word`): whoever exchanges the task's address in the word for
//! 0 wakes it, with no lock; `linked` then holds the word's address tagged IN_WORD, which is how
//! interrupts find it. Such parks have no deadline.
//!
//! Invariants:
//! - A node is linked in at most one bucket; `linked` (the key it is linked under, 0: none) is
//!   only written under that bucket's lock, so a waker that reads it without a lock, takes that
//!   bucket's lock and finds the same key there knows the node is in that bucket.
//! - For a green waiter exactly one party wins the wake-up and makes the task ready once: for a
//!   keyed park, whoever unlinks the node under the lock (an unparker, the timer, an
//!   interrupt); for a timer-only park (sleep), whoever swaps its `timer` token to 0; for a park
//!   in a word, whoever exchanges the task's address there for 0.
//!
//! Several carriers (`hub::multi()`): wakers run on other OS threads while the parker is still
//! on its way into the park, so
//! - every park takes a new generation (`Task::park_gen`) *before* it publishes PARKED, and the
//!   timer checks the generation under the bucket lock (keyed) or through the token (timer-only):
//!   a stale timer entry of an earlier park can never time out a later one;
//! - a waker that sets its condition outside the park table (a pending signal, a cancellation
//!   request) and then finds the thread not parked yet is caught by the parker, which looks at
//!   those conditions again after publishing PARKED and wakes itself (`recheck`); with one
//!   carrier such wakers run only while the parker is switched out, so the check is skipped,
//!   except once a thread that is not a carrier (glibc's SIGEV_THREAD timer threads) has
//!   pthread_kill'ed or pthread_cancel'ed a green thread, which it may do as that thread is on
//!   its way in (`must_recheck`). A signal for a thread that has published PARKED, or is on its
//!   way into a wait with its own mask (`Task::masked_wait`), does not run where the thread is,
//!   but stays pending and ends the park (sigroute.rs).

use core::cell::Cell;
use core::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use crate::hub;
use crate::lock::SpinLock;
use crate::task::{ParkReason, Task, NOTIFIED, PARKED, RUNNING};

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

/// Marks `WaitNode::linked` of a park in a word: a bit no key has (keys are addresses below
/// 2^47, or fd keys, which have bit 63 too).
const IN_WORD: usize = 1 << 62;

/// The word a node's park is in, from its `linked`; None for a keyed park (or none).
fn in_word(linked: usize) -> Option<&'static AtomicUsize> {
    // SAFETY: park_in_word's words are 'static; the tag is set only there.
    (linked & (IN_WORD | 1 << 63) == IN_WORD).then(|| unsafe { &*((linked & !IN_WORD) as *const AtomicUsize) })
}

pub struct WaitNode {
    next: Cell<*const WaitNode>,
    prev: Cell<*const WaitNode>,
    /// The key of the current (or last) park; 0 for a timer-only park. Atomic (relaxed: plain
    /// moves) because interrupts and timers on other carriers read it without a lock.
    key: AtomicUsize,
    /// The key the node is linked under, 0 when not linked (module invariants); for a park in a
    /// word (`park_in_word`), the word's address with IN_WORD.
    linked: AtomicUsize,
    /// A timer-only park's claim token (its generation), 0 when none or already claimed.
    timer: AtomicU64,
    /// Whether the current park is a cancellation point (pthread_cancel wakes only those).
    cancellable: AtomicBool,
    /// FUTEX_*_BITSET mask (all ones otherwise).
    bitset: Cell<u32>,
    /// A green task's node (its `Task::wait`, the task's first field: the node's address is the
    /// task's); false for an OS thread's node on its stack.
    green: Cell<bool>,
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
            key: AtomicUsize::new(0),
            linked: AtomicUsize::new(0),
            timer: AtomicU64::new(0),
            cancellable: AtomicBool::new(false),
            bitset: Cell::new(!0),
            green: Cell::new(false),
            os_word: AtomicU32::new(0),
            result: AtomicU32::new(R_UNPARKED),
        }
    }

    /// The green task whose node this is, None for an OS thread's.
    fn task(&self) -> Option<&'static Task> {
        // SAFETY: a green node is the first field of its Task (task.rs checks the offset), and
        // tasks are never freed.
        self.green.get().then(|| unsafe { &*(self as *const WaitNode as *const Task) })
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
        n.linked.store(n.key.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    fn unlink(&mut self, n: &WaitNode) {
        let (p, x) = (n.prev.get(), n.next.get());
        // SAFETY: neighbours are linked, hence live.
        unsafe {
            if p.is_null() { self.head = x } else { (*p).next.set(x) }
            if x.is_null() { self.tail = p } else { (*x).prev.set(p) }
        }
        n.linked.store(0, Ordering::Relaxed);
    }
}

/// A woken waiter, to be released after the bucket lock is dropped.
enum Woken {
    Green(&'static Task),
    Os(*const AtomicU32),
}

/// Marks a linked node woken (it must already be unlinked). From here until its release the
/// waiter leaves the node alone: a green one is not run before `make_ready`, an OS one waits
/// for `os_word`.
fn claim(n: &WaitNode, result: u32) {
    n.result.store(result, Ordering::Relaxed);
    if let Some(t) = n.task() {
        // A store, not a transition (a locked instruction less per wake-up): a linked green
        // node's task is parked, only the unlinker (this caller, under the bucket lock) ends a
        // keyed park, and the task writes its state again only once it runs.
        debug_assert_eq!(t.park_state.load(Ordering::Relaxed), PARKED, "a linked green node is always still parked");
        t.park_state.store(NOTIFIED, Ordering::Release);
    }
}

/// How to release a claimed node.
fn woken(n: &WaitNode) -> Woken {
    match n.task() {
        Some(t) => Woken::Green(t),
        None => Woken::Os(&n.os_word),
    }
}

/// Nodes unlinked and claimed under a bucket lock, oldest first, chained through their own
/// `next` (unused once unlinked): released after the lock is dropped. A claimed node is left
/// alone until its release (`claim`), so the chain holds up to each node's turn, and its `next`
/// is read before that.
struct Claimed {
    head: *const WaitNode,
    tail: *const WaitNode,
    len: usize,
}

impl Claimed {
    const fn new() -> Claimed {
        Claimed { head: core::ptr::null(), tail: core::ptr::null(), len: 0 }
    }

    /// Claims `n` (already unlinked, under its bucket lock) and chains it.
    fn push(&mut self, n: &WaitNode, result: u32) {
        claim(n, result);
        n.next.set(core::ptr::null());
        if self.tail.is_null() {
            self.head = n;
        } else {
            // SAFETY: chained nodes are claimed, hence live until released below.
            unsafe { (*self.tail).next.set(n) };
        }
        self.tail = n;
        self.len += 1;
    }

    /// Releases every chained node, in order (no bucket lock held).
    fn release_all(self) {
        let mut cur = self.head;
        while !cur.is_null() {
            // SAFETY: claimed and not yet released: live.
            let n = unsafe { &*cur };
            cur = n.next.get();
            release(woken(n));
        }
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
#[inline(always)]
pub fn park(key: usize, bitset: u32, validate: impl FnOnce() -> bool, deadline: Option<u64>, reason: ParkReason) -> ParkResult {
    match hub::current() {
        Some(task) => park_green(task, key, bitset, validate, deadline, reason),
        None => park_os(key, bitset, validate, deadline),
    }
}

/// Where a green thread's park acts on cancellation: before and after waiting.
#[derive(Clone, Copy)]
struct CancelPoint {
    /// A cancellation point (a condition wait acts in cond.rs instead, after re-locking its
    /// mutex, as POSIX requires).
    here: bool,
    /// Not one, but the thread has asynchronous cancellation enabled there.
    async_here: bool,
}

impl CancelPoint {
    #[inline(always)]
    fn of(task: &Task, reason: ParkReason) -> CancelPoint {
        CancelPoint {
            here: reason.is_cancellation_point() && reason != ParkReason::Cond,
            async_here: !reason.is_cancellation_point() && task.async_cancel_point.get(),
        }
    }

    #[inline(always)]
    fn test(self, task: &'static Task) {
        if self.here {
            crate::thread::testcancel();
        } else if self.async_here {
            crate::thread::testcancel_async(task);
        }
    }
}

/// A green park that `validate` refused: no handler ran during it, whatever ran during the
/// thread's last real park. Callers ask `signal::interrupted` after any park, and a stale
/// answer made a pipe write that was told to try again return early as if a handler had cut it
/// short (CPython's test_io SignalsTest on two carriers, after an earlier test's alarm).
fn not_parked(task: &Task) -> ParkResult {
    task.last_intr.set(crate::signal::NONE);
    ParkResult::Invalid
}

/// Fills in `task`'s node for a new park on `key` (a new generation first: module invariants);
/// `linked` and PARKED are the caller's, in the order its wakers need.
#[inline(always)]
fn prepare_node(task: &Task, key: usize, bitset: u32, cancellable: bool) {
    let node = &task.wait;
    new_generation(task);
    node.key.store(key, Ordering::Relaxed);
    node.bitset.set(bitset);
    node.green.set(true);
    node.cancellable.store(cancellable, Ordering::Relaxed);
    node.result.store(R_UNPARKED, Ordering::Relaxed);
}

#[inline(always)]
fn park_green(task: &'static Task, key: usize, bitset: u32, validate: impl FnOnce() -> bool, deadline: Option<u64>, reason: ParkReason) -> ParkResult {
    let cancel = CancelPoint::of(task, reason);
    cancel.test(task);
    let node = &task.wait;
    let cancellable = reason.is_cancellation_point();
    {
        let mut b = bucket(key).lock();
        if !validate() {
            return not_parked(task);
        }
        prepare_node(task, key, bitset, cancellable);
        task.park_state.store(PARKED, Ordering::Release);
        b.link(node);
    }
    if must_recheck() {
        recheck(task, cancellable, cancel.async_here);
    }
    // A signal delivered on the way back counts as a spurious wake-up here; callers re-check.
    hub::park_current(task, deadline, reason);
    cancel.test(task);
    match node.result.load(Ordering::Acquire) {
        R_TIMEDOUT => ParkResult::TimedOut,
        _ => ParkResult::Unparked,
    }
}

/// Parks the calling green thread in `word` (0 when free, else the parked task's address)
/// instead of a bucket: a waker takes it out of the word (`unpark_word`), with no bucket lock,
/// hash or walk. For waits with a word of their own that usually have one waiter (a direction
/// of an fd: fd.rs), where it takes a seventh of the request path's instructions out of the
/// echo server's (bench/NOTES.md, session 22). None when the caller must park on its key
/// instead: not a green thread, or the word is taken. No deadline: timers find parks through
/// their buckets. Interrupts (signals, cancellation) find it through `linked`.
///
/// `validate` runs once the word names the task: the waker changes what `validate` reads and
/// then reads the word, each a full barrier (locked instructions), so either the waker finds
/// the task or `validate` sees the change. False: the task takes itself out again (Invalid),
/// unless a waker was faster (then the park returns at once).
#[inline(always)]
pub fn park_in_word(word: &'static AtomicUsize, key: usize, validate: impl FnOnce() -> bool, reason: ParkReason) -> Option<ParkResult> {
    let task = hub::current()?;
    if word.load(Ordering::Relaxed) != 0 {
        return None;
    }
    let cancel = CancelPoint::of(task, reason);
    cancel.test(task);
    let node = &task.wait;
    let cancellable = reason.is_cancellation_point();
    let me = task as *const Task as usize;
    prepare_node(task, key, !0, cancellable);
    node.linked.store(word as *const AtomicUsize as usize | IN_WORD, Ordering::Relaxed);
    task.park_state.store(PARKED, Ordering::Release);
    if word.compare_exchange(0, me, Ordering::AcqRel, Ordering::Relaxed).is_err() {
        // Another carrier's thread took the word meanwhile: park on the key.
        node.linked.store(0, Ordering::Relaxed);
        task.park_state.store(RUNNING, Ordering::Release);
        return None;
    }
    if !validate() && word.compare_exchange(me, 0, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
        node.linked.store(0, Ordering::Relaxed);
        task.park_state.store(RUNNING, Ordering::Release);
        return Some(not_parked(task));
    }
    if must_recheck() {
        recheck(task, cancellable, cancel.async_here);
    }
    crate::stats::parked_in_word();
    hub::park_current(task, None, reason);
    cancel.test(task);
    Some(ParkResult::Unparked)
}

/// Wakes the green thread parked in `word` (`park_in_word`), if one is. Returns whether one was.
#[inline(always)]
pub fn unpark_word(word: &AtomicUsize) -> bool {
    let t = word.load(Ordering::Acquire);
    // The exchange is the claim: one waker wins (an interrupt may race with us).
    if t == 0 || word.compare_exchange(t, 0, Ordering::AcqRel, Ordering::Relaxed).is_err() {
        return false;
    }
    // SAFETY: a word holds a parked task's address (pooled, never freed).
    release_word(unsafe { &*(t as *const Task) }, R_UNPARKED);
    true
}

/// Makes the task just taken out of its word ready, with `result`.
fn release_word(task: &'static Task, result: u32) {
    let node = &task.wait;
    node.linked.store(0, Ordering::Relaxed);
    node.result.store(result, Ordering::Relaxed);
    task.park_state.store(NOTIFIED, Ordering::Release);
    hub::make_ready(task);
}

fn park_os(key: usize, bitset: u32, validate: impl FnOnce() -> bool, deadline: Option<u64>) -> ParkResult {
    let node = WaitNode::new();
    {
        let mut b = bucket(key).lock();
        if !validate() {
            return ParkResult::Invalid;
        }
        node.key.store(key, Ordering::Relaxed);
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
            if node.linked.load(Ordering::Relaxed) != 0 {
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

/// A new park generation for `task`, published before its PARKED state (module invariants):
/// the timer entry the hub adds for this park carries a later one, so no entry of an earlier
/// park matches while this one is being set up.
#[inline(always)]
fn new_generation(task: &Task) -> u64 {
    // Only the task itself writes its generation.
    let g = task.park_gen.load(Ordering::Relaxed) + 1;
    task.park_gen.store(g, Ordering::Release);
    g
}

/// Whether a park must look for a signal or cancellation request that came while it was set up
/// (`recheck`): with several carriers, and once a thread that is not a carrier has woken a green
/// thread (`note_waker`). With one carrier and no such thread, every such waker runs only while
/// the parker is switched out (a signal captured on the parker's own carrier on its way in is
/// routed by the hub after the switch).
#[inline(always)]
fn must_recheck() -> bool {
    hub::multi() || FOREIGN_WAKERS.load(Ordering::Relaxed)
}

/// Set for good once a thread other than carrier 0 has interrupted a green thread's wait (a
/// pthread_kill or pthread_cancel from glibc's timer threads, say): every park then rechecks.
static FOREIGN_WAKERS: AtomicBool = AtomicBool::new(false);

/// Whether membarrier's private expedited command is registered for this process
/// (`init_barriers`).
static MEMBARRIER_REGISTERED: AtomicBool = AtomicBool::new(false);

/// At start-up (and in a fork child, whose registration is not inherited): registers for
/// membarrier's cheap command, used once by the first foreign waker (`note_waker`).
pub fn init_barriers() {
    // SAFETY: membarrier takes no pointers.
    let r = unsafe { crate::sys::syscall3(libc::SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) };
    MEMBARRIER_REGISTERED.store(r == 0, Ordering::Relaxed);
}

const MEMBARRIER_CMD_GLOBAL: usize = 1;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED: usize = 8;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: usize = 16;

/// Called by a waker before it looks for a parked task whose condition it has just set. The
/// first waker that is not carrier 0, while parks with one carrier do not recheck, turns
/// rechecks on and makes every thread of the process run a full barrier (membarrier) before it
/// looks: a parker that still read the flag as false had published PARKED before that barrier,
/// so the waker sees it parked; one that reads it later sees the flag and rechecks. Without
/// membarrier, rechecks stay on from the start.
fn note_waker() {
    if FOREIGN_WAKERS.load(Ordering::Relaxed) || hub::multi() || crate::carrier::gettid() == crate::carrier::original().tid.load(Ordering::Relaxed) {
        return;
    }
    FOREIGN_WAKERS.store(true, Ordering::SeqCst);
    let cmd = if MEMBARRIER_REGISTERED.load(Ordering::Relaxed) { MEMBARRIER_CMD_PRIVATE_EXPEDITED } else { MEMBARRIER_CMD_GLOBAL };
    // SAFETY: membarrier takes no pointers.
    if unsafe { crate::sys::syscall3(libc::SYS_membarrier, cmd, 0, 0) } != 0 {
        // SAFETY: as above.
        unsafe { crate::sys::syscall3(libc::SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) };
    }
}

/// Several carriers: a signal or cancellation request that arrived while this park was being
/// set up may have found the task still running and woken nobody (signal.rs and thread.rs set
/// their bit, then look for a parked task). Look again now that PARKED is published; the fence
/// pairs with the one in `interrupt`, so at least one side sees the other.
#[cold]
fn recheck(task: &'static Task, cancellable: bool, async_point: bool) {
    fence(Ordering::SeqCst);
    if crate::signal::wakes(task)
        || (cancellable && crate::thread::cancel_pending(task))
        || (async_point && crate::thread::async_cancel_pending(task))
    {
        // The task wakes itself before switching out: the hub treats it as any wake-up that
        // overtakes a switch.
        wake_parked(task, R_UNPARKED, None);
    }
}

/// Called by the hub when a park deadline passes: times the task out if that park (`gen`) is
/// still the current one and nobody woke it.
pub fn expire(task: &'static Task, gen: u64) {
    let node = &task.wait;
    // A timer-only park: its token was stored before the hub pushed this entry, so a token
    // read here is this park's unless the task has moved on, which the generation shows.
    let token = node.timer.load(Ordering::Acquire);
    if token != 0 {
        if task.park_gen.load(Ordering::Acquire) == gen {
            claim_timer(task, token, R_TIMEDOUT);
        }
        return;
    }
    // Most entries are stale (the wait ended early): generations only grow, so a mismatch now
    // is final and needs no lock.
    if task.park_gen.load(Ordering::Acquire) != gen {
        return;
    }
    wake_keyed(task, R_TIMEDOUT, Some(gen));
}

/// Wakes a parked task whatever it waits on (pthread_cancel, a signal): the wait returns as if
/// woken spuriously and the caller acts on the request. Callers set their condition (pending
/// signal, cancel bit) first; see `recheck` for a task that is not parked yet.
pub fn interrupt(task: &'static Task) {
    note_waker();
    fence(Ordering::SeqCst);
    wake_parked(task, R_UNPARKED, None);
}

/// pthread_cancel: interrupts `task` if it waits at a cancellation point.
pub fn interrupt_cancellable(task: &'static Task) {
    note_waker();
    fence(Ordering::SeqCst);
    if task.wait.cancellable.load(Ordering::Relaxed) {
        wake_parked(task, R_UNPARKED, None);
    }
}

fn wake_parked(task: &'static Task, result: u32, gen: Option<u64>) {
    let token = task.wait.timer.load(Ordering::Acquire);
    if token != 0 {
        claim_timer(task, token, result);
        return;
    }
    wake_keyed(task, result, gen);
}

/// Claims timer-only park `token` (exactly one claimer wins: tokens are never reused) and
/// makes its task ready.
fn claim_timer(task: &'static Task, token: u64, result: u32) {
    let node = &task.wait;
    if node.timer.compare_exchange(token, 0, Ordering::AcqRel, Ordering::Relaxed).is_err() {
        return;
    }
    node.result.store(result, Ordering::Relaxed);
    // A store, not a transition: the token is the claim. If the task has not stored PARKED yet
    // it overwrites this, and it is ready (queued) all the same.
    task.park_state.store(NOTIFIED, Ordering::Release);
    hub::make_ready(task);
}

/// Unlinks and wakes a keyed park, if the task is still linked (and, for the timer, still in
/// park `gen`). Follows a node that a requeue moves to another key meanwhile.
fn wake_keyed(task: &'static Task, result: u32, gen: Option<u64>) {
    let node = &task.wait;
    loop {
        if task.park_state.load(Ordering::Acquire) != PARKED {
            return;
        }
        let key = node.linked.load(Ordering::Acquire);
        if key == 0 {
            return;
        }
        if let Some(word) = in_word(key) {
            // A timer never names a park in a word (they have no deadline): a stale entry.
            if gen.is_none() && word.compare_exchange(task as *const Task as usize, 0, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
                release_word(task, result);
            }
            return;
        }
        let w = {
            let mut b = bucket(key).lock();
            if node.linked.load(Ordering::Relaxed) != key {
                continue; // requeued, or woken and parked again elsewhere: look again
            }
            // A later park takes its generation before linking, under this lock.
            if gen.is_some_and(|g| task.park_gen.load(Ordering::Relaxed) != g) {
                return;
            }
            b.unlink(node);
            claim(node, result);
            woken(node)
        };
        release(w);
        return;
    }
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

/// Prepares a timer-only park (sleep): no bucket, woken by the deadline or an interrupt,
/// whichever claims its token first. Sleeps are cancellation points.
pub fn prepare_timer_park(task: &'static Task) {
    let node = &task.wait;
    let g = new_generation(task);
    node.key.store(0, Ordering::Relaxed);
    node.cancellable.store(true, Ordering::Relaxed);
    node.result.store(R_UNPARKED, Ordering::Relaxed);
    // The token before PARKED: whoever sees PARKED can claim the park.
    node.timer.store(g, Ordering::Release);
    task.park_state.store(PARKED, Ordering::Release);
    if must_recheck() {
        recheck(task, true, false);
    }
}

/// The address a parked task waits on (0 for a timer-only park).
pub fn waiting_on(task: &Task) -> usize {
    task.wait.key.load(Ordering::Relaxed)
}

/// Wakes up to `max` waiters on `key` whose bitset intersects `bitset`, oldest first.
/// `after` runs under the bucket lock with the number woken and a test for waiters left,
/// before anyone runs.
pub fn unpark(key: usize, max: usize, bitset: u32, after: impl FnOnce(usize, &dyn Fn() -> bool)) -> usize {
    /// Waiters woken per hold of the bucket lock (a broadcast to many does not hold it long).
    const BATCH: usize = 64;
    let mut after = Some(after);
    let mut total = 0;
    loop {
        let mut woken = Claimed::new();
        let more;
        {
            let mut b = bucket(key).lock();
            let mut cur = b.head;
            while !cur.is_null() && total < max && woken.len < BATCH {
                // SAFETY: linked nodes are live.
                let n = unsafe { &*cur };
                cur = n.next.get();
                if n.key.load(Ordering::Relaxed) == key && n.bitset.get() & bitset != 0 {
                    b.unlink(n);
                    woken.push(n, R_UNPARKED);
                    total += 1;
                }
            }
            more = total < max && woken.len == BATCH;
            if !more {
                if let Some(f) = after.take() {
                    f(total, &|| has_waiters(&b, key));
                }
            }
        }
        woken.release_all();
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
        if n.key.load(Ordering::Relaxed) == key {
            return true;
        }
        cur = n.next.get();
    }
    false
}

/// Wakes the oldest waiter on `key`. Returns whether one was woken. The hand-off path of
/// every mutex, condition variable and semaphore: one walk to the first match, no batch.
pub fn unpark_one(key: usize) -> bool {
    let w = {
        let mut b = bucket(key).lock();
        let mut cur = b.head;
        loop {
            if cur.is_null() {
                return false;
            }
            // SAFETY: linked nodes are live.
            let n = unsafe { &*cur };
            if n.key.load(Ordering::Relaxed) == key {
                b.unlink(n);
                claim(n, R_UNPARKED);
                break woken(n);
            }
            cur = n.next.get();
        }
    };
    release(w);
    true
}

/// Wakes every waiter on `key`.
pub fn unpark_all(key: usize) -> usize {
    unpark(key, usize::MAX, !0, |_, _| ())
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
    let mut to_release = Claimed::new();
    let mut moved = 0;
    let mut cur = g1.head;
    while !cur.is_null() && (to_release.len < wake || moved < requeue) {
        // SAFETY: linked nodes are live.
        let n = unsafe { &*cur };
        cur = n.next.get();
        if n.key.load(Ordering::Relaxed) != from {
            continue;
        }
        g1.unlink(n);
        if to_release.len < wake {
            to_release.push(n, R_UNPARKED);
        } else {
            n.key.store(to, Ordering::Relaxed);
            match g2.as_mut() {
                Some(g) => g.link(n),
                None => g1.link(n),
            }
            moved += 1;
        }
    }
    drop(g2);
    drop(g1);
    let woken = to_release.len;
    to_release.release_all();
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
