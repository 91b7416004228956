//! The hub: run queue, timers and epoll shared by the carrier OS threads, and the switch
//! between green threads.
//!
//! Shape: every carrier (carrier.rs) has a root context that runs the scheduling loop; green
//! threads, main included (on the process's original stack), switch to and from a root with
//! context.rs. So every switch is task → root → task, and any task may resume on any carrier.
//!
//! Invariants:
//! - Hub state is reached through one pointer (`HUB`), never through TLS: every green TCB would
//!   carry its own copy of a `thread_local!`.
//! - Hub state (run queue, timers, alive count) is touched only inside a section (`enter` /
//!   `leave`). With one carrier a section is a flag (no lock, no atomic RMW); with several
//!   (`MODE` MULTI) it holds the hub lock. A parking task enters the section and its carrier's
//!   root leaves it, so no waker can pop the task before it has switched out, and a task popped
//!   while still switching out on another carrier is waited for (`Task::on_cpu`).
//! - No section is held while calling out of the hub (timer expiry, fd readiness, signal
//!   routing, unparking joiners): those call `make_ready`, which enters one itself.
//! - The thread pointer is changed only here, and only when the next task's TCB differs from the
//!   one loaded on the carrier; with several carriers a root loads its own TCB while it runs,
//!   so two OS threads never share one TCB's glibc state (malloc's tcache).
//! - Run queues: one shared FIFO (`Hub::runq`) and, once several carriers run, one per carrier
//!   (`Carrier::runq`), all touched only inside sections. A task made ready by a green thread
//!   joins the queue of the carrier that thread runs on (the wake-up stays on the waker's
//!   carrier: no cross-CPU hand-over of the woken thread when the waker parks next), anything
//!   else (timers, fd readiness, foreign threads, yields) the shared one. A carrier takes its own
//!   queue first, then the shared one, then steals from another carrier's; an idle carrier is
//!   woken for every push, so a waker that goes on running does not keep the work to itself.
//! - A carrier blocks only in epoll (`epoll_pwait2`, or `epoll_pwait` on older kernels) with
//!   every run queue empty, or parked as a spare.
//! - Tasks made ready by threads that are not carriers go through the `inject` queue and an
//!   eventfd while there is one carrier; with several they take the lock like carriers do.

use core::cell::{Cell, UnsafeCell};
use core::sync::atomic::{compiler_fence, AtomicBool, AtomicI32, AtomicU64, AtomicU8, AtomicUsize, Ordering};

use crate::carrier::{self, Carrier};
use crate::context;
use crate::lock::SpinLock;
use crate::park;
use crate::stats;
use crate::sys;
use crate::task::{self, ParkReason, RunQueue, Task, EXITED, NOTIFIED, PARKED, RUNNING};
use crate::timer::TimerHeap;
use crate::tls;

/// How many scheduling decisions may pass before timers, the inject queue, epoll (without
/// waiting) and stranded signals are polled even though the run queues are not empty
/// (fairness towards sleepers, I/O waiters and foreign wake-ups).
const POLL_EVERY: u64 = 64;
/// Stack of carrier 0's root context (the scheduling loop, timer expiry, fd readiness and
/// signal routing run on it; never a program's code).
const ROOT_STACK: usize = 256 * 1024;

pub struct Hub {
    runq: RunQueue,
    main: &'static Task,
    /// Serialises hub sections while several carriers run (`MODE` MULTI).
    lock: SpinLock<()>,
    /// One carrier: set while carrier 0 is inside a hub section, so a hand-off that brings a
    /// second carrier can wait until it is out (see `begin_multi`).
    in_section: AtomicBool,
    timers: UnsafeCell<TimerHeap>,
    inject: SpinLock<Vec<usize>>,
    inject_pending: AtomicBool,
    /// Scheduling decisions so far, counting when to poll timers and wake-ups (POLL_EVERY);
    /// bumped inside sections. The watchdog uses each carrier's own counter instead.
    dispatches: AtomicU64,
    /// `dispatches` when a carrier last looked in epoll (waited or peeked): a fairness turn
    /// peeks only if that was POLL_EVERY decisions ago or more.
    polled_at: AtomicU64,
    /// The earliest timer deadline (u64::MAX: none), kept for the watchdog: lowered when a
    /// timed park pushes an earlier one, refreshed whenever the hub fires timers.
    next_due: AtomicU64,
    /// Green threads other than main that have not finished (the watchdog reads it too).
    alive: SharedCell,
    /// Carriers waiting in epoll for work; read and changed inside sections, so a push that
    /// sees 0 is sure no carrier went to sleep missing it.
    idle: AtomicUsize,
    /// The wake-up eventfd was written and not yet drained: further pushes need not write it.
    wake_sent: AtomicBool,
    /// Main called pthread_exit: run until every other thread is done, then let exit proceed.
    main_exiting: AtomicBool,
    /// In a child forked by another green thread, main does not exist: the process ends with
    /// exit(0) when its last green thread finishes, as glibc's last thread does.
    main_gone: Cell<bool>,
    /// The epoll instance and the wake-up eventfd, created on first use (-1 before): a process
    /// that never waits has no runtime fd, so its descriptors number as natively (a program
    /// listing its open fds, like CPython's fd_status, sees only its own).
    epfd_cell: AtomicI32,
    wake_fd_cell: AtomicI32,
}

/// The runtime's long-lived fds (the epoll instance and its wake-up eventfd), -1 where not
/// created. Natively those numbers are not open: close() of one gets EBADF and closefrom /
/// close_range leave them alone (preload/src/hooks/io.rs), or a daemon closing every fd at
/// start-up would take the hub's epoll away.
pub fn own_fds() -> [i32; 2] {
    if !started() {
        return [-1, -1];
    }
    let h = hub();
    let mut fds = [h.epfd_cell.load(Ordering::Acquire), h.wake_fd_cell.load(Ordering::Acquire)];
    fds.sort_unstable();
    fds
}

/// Whether `fd` is one of [`own_fds`].
pub fn is_own_fd(fd: i32) -> bool {
    if fd < 0 || !started() {
        return false;
    }
    let h = hub();
    fd == h.epfd_cell.load(Ordering::Acquire) || fd == h.wake_fd_cell.load(Ordering::Acquire)
}

/// Threads between loading the wake-up eventfd's number and their write or read of it: a
/// [`vacate`] of that number waits for them, so none writes into (or drains) the program's
/// file that `dup2` puts there next.
static WAKE_FD_USERS: AtomicUsize = AtomicUsize::new(0);

/// Runs `f` on the wake-up eventfd's number (or -1) while [`vacate`] cannot move it.
#[inline]
fn with_wake_fd<R>(h: &Hub, f: impl FnOnce(i32) -> R) -> R {
    WAKE_FD_USERS.fetch_add(1, Ordering::SeqCst);
    let r = f(h.wake_fd_cell.load(Ordering::SeqCst));
    WAKE_FD_USERS.fetch_sub(1, Ordering::Release);
    r
}

/// Before the program's `dup2`/`dup3` onto `fd`: if `fd` is one of [`own_fds`], that runtime fd
/// moves to another free number at or above `high_fd_floor` (natively `fd` is free and the
/// call succeeds, so the program gets it). The old number stays ours until the program's call
/// replaces it atomically, and the epoll instance keeps its registrations (they belong to the
/// open file, not the number). Returns 0, or -errno when no number is free (EMFILE: the
/// program's call fails then, rather than take the hub's epoll away).
pub fn vacate(fd: i32) -> isize {
    if !is_own_fd(fd) {
        return 0;
    }
    let h = hub();
    let _g = EPOLL_INIT.lock();
    for (cell, is_wake) in [(&h.epfd_cell, false), (&h.wake_fd_cell, true)] {
        if cell.load(Ordering::Acquire) != fd {
            continue;
        }
        let low = high_fd_floor().unwrap_or(3);
        // SAFETY: duplicating our own fd to a free number.
        let moved = unsafe { sys::syscall3(libc::SYS_fcntl, fd as usize, libc::F_DUPFD_CLOEXEC as usize, low) };
        if moved < 0 {
            return moved;
        }
        cell.store(moved as i32, Ordering::SeqCst);
        if is_wake {
            // Anyone who loaded the old number has finished with it once the count drops.
            while WAKE_FD_USERS.load(Ordering::SeqCst) != 0 {
                core::hint::spin_loop();
            }
        }
    }
    0
}

/// Serialises the lazy creation of the epoll instance (the carrier or a foreign waker).
static EPOLL_INIT: SpinLock<()> = SpinLock::new(());

/// The hub's (epoll fd, wake-up eventfd), created on first use.
#[inline]
fn fds(h: &Hub) -> (i32, i32) {
    let ep = h.epfd_cell.load(Ordering::Acquire);
    if ep >= 0 {
        return (ep, h.wake_fd_cell.load(Ordering::Acquire));
    }
    create_fds(h)
}

#[cold]
fn create_fds(h: &Hub) -> (i32, i32) {
    let _g = EPOLL_INIT.lock();
    let ep = h.epfd_cell.load(Ordering::Acquire);
    if ep >= 0 {
        return (ep, h.wake_fd_cell.load(Ordering::Acquire));
    }
    match new_epoll() {
        Ok((ep, wf)) => {
            h.wake_fd_cell.store(wf, Ordering::Release);
            h.epfd_cell.store(ep, Ordering::Release);
            (ep, wf)
        }
        Err(why) => crate::log::fatal(format_args!("cannot wait for events: {why}")),
    }
}

/// A value written only inside hub sections that other threads (the watchdog) also read:
/// relaxed loads and stores, the same plain moves as a Cell.
struct SharedCell(AtomicUsize);

impl SharedCell {
    #[inline(always)]
    fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
    #[inline(always)]
    fn set(&self, v: usize) {
        self.0.store(v, Ordering::Relaxed)
    }
}

// SAFETY: Cell fields are touched only inside hub sections (module invariant); the inject
// queue is locked and the rest atomic.
unsafe impl Sync for Hub {}

static HUB_PTR: AtomicUsize = AtomicUsize::new(0);
/// GREEN_DEADLOCK: report and abort when nothing can ever wake any green thread.
pub static DEADLOCK_CHECK: AtomicBool = AtomicBool::new(true);
static READY: AtomicBool = AtomicBool::new(false);

/// `MODE`: one carrier (sections are a flag), carrier 0 being switched to locked sections by a
/// hand-off, or several carriers (sections take the hub lock). Goes back to SINGLE when a
/// hand-off is over and carrier 0 is the only carrier left (`end_multi`), never with
/// GREEN_HUBS > 1.
const SINGLE: u8 = 0;
const SWITCHING: u8 = 1;
const MULTI: u8 = 2;
static MODE: AtomicU8 = AtomicU8::new(SINGLE);
/// Held by a hand-off for its whole course (the mode change and the new carrier's start), and
/// tried by `end_multi`: a carrier is never started into one carrier's unlocked sections.
pub static MODE_CHANGE: SpinLock<()> = SpinLock::new(());

/// Whether several carriers may run green threads at once: code that is correct only with one
/// carrier (plain load + store counters, wake-ups that rely on epoll being polled only between
/// switches) takes its concurrent path when this is true. Turns true before a second carrier
/// starts; false again only once every other carrier is spare or gone and carrier 0, in its
/// root, runs no green thread (`end_multi`): code that saw it true may finish on its
/// concurrent path, which stays correct with one carrier.
#[inline(always)]
pub fn multi() -> bool {
    MODE.load(Ordering::Relaxed) == MULTI
}

#[inline(always)]
fn hub() -> &'static Hub {
    // SAFETY: HUB_PTR is set once in start() to a leaked Hub before READY is published, and every
    // caller is a green thread (which exist only after start) or checked `started()`.
    unsafe { &*(HUB_PTR.load(Ordering::Relaxed) as *const Hub) }
}

/// Enters a hub section on a carrier. Returns whether it took the lock (pass it to `leave`).
#[inline(always)]
fn enter(h: &Hub) -> bool {
    if MODE.load(Ordering::Relaxed) != SINGLE {
        h.lock.lock_raw();
        return true;
    }
    h.in_section.store(true, Ordering::Relaxed);
    // Paired with the membarrier in `begin_multi`: either it sees our flag, or we see its mode.
    compiler_fence(Ordering::SeqCst);
    if MODE.load(Ordering::Relaxed) != SINGLE {
        h.in_section.store(false, Ordering::Release);
        h.lock.lock_raw();
        return true;
    }
    false
}

/// A thread that is not a carrier enters a section: only while several carriers run (the hub
/// lock, held with MODE checked again under it: `end_multi` changes it holding the lock).
/// False: one carrier, use the inject queue.
#[inline]
fn enter_foreign(h: &Hub) -> bool {
    if MODE.load(Ordering::Relaxed) != MULTI {
        return false;
    }
    h.lock.lock_raw();
    if MODE.load(Ordering::Relaxed) == MULTI {
        return true;
    }
    // SAFETY: taken just above by this thread.
    unsafe { h.lock.unlock_raw() };
    false
}

#[inline(always)]
fn leave(h: &Hub, locked: bool) {
    if locked {
        // SAFETY: this OS thread took the lock in `enter` (a parking task's section is left by
        // its carrier's root, on the same OS thread).
        unsafe { h.lock.unlock_raw() };
    } else {
        h.in_section.store(false, Ordering::Release);
    }
}

/// Whether the runtime is up (hooks use the real libc path until then).
#[inline(always)]
pub fn started() -> bool {
    READY.load(Ordering::Relaxed)
}

/// The calling green thread, or None for threads that are not green.
///
/// With one carrier it is carrier 0's `current` when the calling thread's thread pointer is the
/// one carrier 0 has loaded (`rdfsbase`, no memory): the task word in the TCB is a line of each
/// thread's own that every hook would otherwise touch, a cache miss per resume with thousands
/// of threads (bench/NOTES.md: 2–4 % more echo requests served at 5000 connections). Sound
/// because in SINGLE mode only carrier 0 runs green threads (hand-off carriers start after
/// `begin_multi` and are gone before `end_multi`), a TCB is loaded on one OS thread at a time,
/// and every other thread runs on a TCB of its own. In carrier 0's root the answer is None
/// (`current` is null there), where the task word still named the last thread run.
#[inline(always)]
pub fn current() -> Option<&'static Task> {
    if MODE.load(Ordering::Relaxed) == SINGLE {
        if let (Some(tp), Some(c0)) = (tls::fs_base(), carrier::get(0)) {
            if c0.loaded_tp.load(Ordering::Relaxed) == tp {
                let p = c0.current.load(Ordering::Relaxed);
                // SAFETY: `current` holds null or a pooled (never freed) task.
                return (!p.is_null()).then(|| unsafe { &*p });
            }
        }
    }
    let w = tls::current_task_word();
    // SAFETY: a non-zero task word in a TCB is always a live pooled Task (set by tls::tag).
    (w != 0).then(|| unsafe { &*(w as *const Task) })
}

/// The carrier a running task is on.
#[inline(always)]
fn carrier_of(t: &Task) -> &'static Carrier {
    // SAFETY: set at every dispatch (and for main at start-up) to a leaked carrier.
    unsafe { &*t.carrier.get() }
}

/// Adds `n` to the I/O-waiter count of the carrier running `t`, the calling green thread
/// (fd.rs `io_waiting`): only that carrier's OS thread writes it.
#[inline(always)]
pub fn count_io_waiter(t: &Task, n: isize) {
    let w = &carrier_of(t).io_waiters;
    w.store(w.load(Ordering::Relaxed) + n, Ordering::Relaxed);
}

/// The green thread running on the calling OS thread now, or None in a root (between
/// switches). For signal handlers (sigroute.rs): no store is added to the switch path for it.
pub fn running() -> Option<&'static Task> {
    if !started() {
        return None;
    }
    let c = if MODE.load(Ordering::Relaxed) == SINGLE { carrier::original() } else { carrier::by_tid(carrier::gettid())? };
    let p = c.current.load(Ordering::Relaxed);
    // SAFETY: `current` holds null or a pooled (never freed) task.
    (!p.is_null()).then(|| unsafe { &*p })
}

/// Whether the calling OS thread is a carrier between green threads (its root): a signal the
/// kernel delivers here belongs to no green thread and is routed to one (sigroute.rs).
pub fn in_root() -> bool {
    if !started() {
        return false;
    }
    if MODE.load(Ordering::Relaxed) != MULTI {
        // The carrier: a green TCB is loaded, or the carrier's own tid (after a thread finishes
        // the root loads its own TCB, whose task word is 0; before it did, it went on with the
        // finished thread's, cleared at its release). Without the second test a
        // process-directed signal landing then ran its handler in the hub, and a thread
        // waiting for it (main in a write, CPython) was never woken.
        return running().is_none()
            && (tls::current_task_word() != 0 || carrier::gettid() == carrier::original().tid.load(Ordering::Relaxed));
    }
    carrier::by_tid(carrier::gettid()).is_some_and(|c| c.current.load(Ordering::Relaxed).is_null())
}

/// The kernel tid of the carrier running `t` right now, if it runs: a signal for it is sent
/// there, so its handler runs in it at once, as natively. Racy by nature (the receiving side
/// checks again); with one carrier only a thread that is not green (or a signal handler) can
/// see another thread running.
pub fn carrier_running(t: &Task) -> Option<i32> {
    if !t.on_cpu.load(Ordering::Acquire) {
        return None;
    }
    let c = carrier_of(t);
    (c.current.load(Ordering::Relaxed) as *const Task == t as *const Task).then(|| c.tid.load(Ordering::Relaxed))
}

/// The process the runtime state belongs to (updated in fork children).
static OWNER_PID: AtomicI32 = AtomicI32::new(0);

fn getpid() -> i32 {
    // SAFETY: getpid takes no arguments.
    unsafe { sys::syscall3(libc::SYS_getpid, 0, 0, 0) as i32 }
}

/// Whether the caller is a vfork child (CPython's subprocess uses vfork): it shares the parent's
/// memory but not its kernel signal state, so hooks that would change runtime state (masks,
/// handlers) must take the real call there. fork children are not (their atfork handler
/// updates the owner); costs a getpid syscall, only on signal-state calls.
pub fn in_vfork_child() -> bool {
    started() && getpid() != OWNER_PID.load(Ordering::Relaxed)
}

/// The main thread, unless this is a fork child of another thread (where it does not exist).
pub fn main_task() -> Option<&'static Task> {
    let h = hub();
    (!h.main_gone.get()).then_some(h.main)
}

/// The thread the kernel would give a process-directed signal first (the thread-group leader):
/// main, unless it is gone (a fork child of another thread) or waiting in pthread_exit (an
/// exiting leader takes no signals). From any thread, signal handlers included.
pub fn leader() -> Option<&'static Task> {
    if !started() {
        return None;
    }
    let h = hub();
    (!h.main_gone.get() && !h.main_exiting.load(Ordering::Relaxed)).then_some(h.main)
}

/// Where the runtime's fds go: just below the soft RLIMIT_NOFILE (at most 4096), so the
/// program's own open() calls get the numbers they get natively. None if unknown.
fn high_fd_floor() -> Option<usize> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: a live rlimit out-buffer.
    if unsafe { sys::syscall3(libc::SYS_getrlimit, libc::RLIMIT_NOFILE as usize, &mut lim as *mut _ as usize, 0) } < 0 {
        return None;
    }
    Some(lim.rlim_cur.min(4096).saturating_sub(16).max(3) as usize)
}

/// Moves a runtime fd to `high_fd_floor` or above. Keeps `fd` if that fails.
fn move_high(fd: isize) -> isize {
    let Some(low) = high_fd_floor().filter(|_| fd >= 0) else { return fd };
    // SAFETY: duplicating and closing our own fd.
    unsafe {
        let high = sys::syscall3(libc::SYS_fcntl, fd as usize, libc::F_DUPFD_CLOEXEC as usize, low);
        if high < 0 {
            return fd;
        }
        sys::syscall3(libc::SYS_close, fd as usize, 0, 0);
        high
    }
}

/// Grows the fd table up to `high_fd_floor` now, while the process has one thread: growing it
/// later (the first I/O wait creates the epoll fds there) costs the kernel an RCU grace period
/// (≈10 ms here) once another thread shares the table, which stalled the hub. The table never
/// shrinks; no fd stays open.
fn grow_fd_table() {
    let Some(low) = high_fd_floor() else { return };
    // SAFETY: a new eventfd, duplicated high and both closed: no fd of the program is touched.
    unsafe {
        let fd = sys::syscall3(libc::SYS_eventfd2, 0, libc::EFD_CLOEXEC as usize, 0);
        if fd < 0 {
            return;
        }
        let high = sys::syscall3(libc::SYS_fcntl, fd as usize, libc::F_DUPFD_CLOEXEC as usize, low);
        if high >= 0 {
            sys::syscall3(libc::SYS_close, high as usize, 0, 0);
        }
        sys::syscall3(libc::SYS_close, fd as usize, 0, 0);
    }
}

/// A new epoll instance with our wake-up eventfd registered (token 0), both high in the fd
/// range.
fn new_epoll() -> Result<(i32, i32), &'static str> {
    // SAFETY: plain syscalls creating new fds; flags are valid.
    let epfd = move_high(unsafe { sys::syscall3(libc::SYS_epoll_create1, libc::EPOLL_CLOEXEC as usize, 0, 0) });
    if epfd < 0 {
        return Err("epoll_create1 failed");
    }
    // SAFETY: as above.
    let wake_fd = move_high(unsafe {
        sys::syscall3(libc::SYS_eventfd2, 0, (libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) as usize, 0)
    });
    if wake_fd < 0 {
        return Err("eventfd2 failed");
    }
    let mut ev = libc::epoll_event { events: libc::EPOLLIN as u32, u64: 0 };
    // SAFETY: registering our own eventfd with our own epoll; ev is live.
    unsafe {
        sys::syscall6(libc::SYS_epoll_ctl, epfd as usize, libc::EPOLL_CTL_ADD as usize, wake_fd as usize, &mut ev as *mut _ as usize, 0, 0)
    };
    Ok((epfd as i32, wake_fd as i32))
}

/// The child side of fork (a pthread_atfork handler): POSIX says only the calling thread
/// exists in the child. Forget every other green thread (their stacks and TCBs stay mapped, as
/// native threads' stacks do), every waiter, timer and queued wake-up, every other carrier, and
/// get an epoll instance and eventfd of our own (the parent's are shared with it).
pub fn after_fork_child() {
    if !started() {
        return;
    }
    let h = hub();
    let me = current();
    // SAFETY: we are the only thread of the child; nothing else touches runtime state.
    unsafe {
        crate::park::forget_all_waiters_after_fork();
        h.inject.force_unlock_after_fork();
        h.lock.force_unlock_after_fork();
        // Not dropped: another carrier may have been changing it at the fork.
        core::mem::forget(core::mem::replace(&mut *h.timers.get(), TimerHeap::new()));
        h.next_due.store(u64::MAX, Ordering::Relaxed);
        EPOLL_INIT.force_unlock_after_fork();
        // A hand-off the fork cut short: the child's one carrier takes locked sections, as the
        // watchdog would have finished it (carrier 0's root TCB exists before SWITCHING).
        MODE_CHANGE.force_unlock_after_fork();
        let _ = MODE.compare_exchange(SWITCHING, MULTI, Ordering::AcqRel, Ordering::Relaxed);
        for fd in [h.epfd_cell.swap(-1, Ordering::AcqRel), h.wake_fd_cell.swap(-1, Ordering::AcqRel)] {
            if fd >= 0 {
                sys::syscall3(libc::SYS_close, fd as usize, 0, 0);
            }
        }
    }
    // SAFETY: as above: the child's only thread takes over the offload queue's lock (the pools'
    // were held across the fork: src/fork.rs).
    unsafe { crate::offload::after_fork_child() };
    crate::sigqueue::after_fork_child();
    crate::park::init_barriers();
    core::mem::forget(core::mem::take(&mut *h.inject.lock()));
    h.inject_pending.store(false, Ordering::Relaxed);
    h.in_section.store(false, Ordering::Relaxed);
    h.idle.store(0, Ordering::Relaxed);
    h.runq.forget_all();
    carrier::for_each(|c| c.runq.forget_all());
    task::for_each(|t| {
        if !me.is_some_and(|m| core::ptr::eq(m, t)) {
            // A thread that does not exist here: never parked, never scheduled.
            t.park_state.store(RUNNING, Ordering::Relaxed);
            t.on_cpu.store(false, Ordering::Relaxed);
        }
    });
    if let Some(t) = me {
        carrier::after_fork_child(carrier_of(t));
    }
    match me {
        Some(t) if !t.is_main => {
            h.alive.set(1);
            h.main_gone.set(true);
        }
        _ => h.alive.set(0),
    }
    crate::fd::forget_all_after_fork();
    stats::after_fork_child(h.alive.get());
    crate::watchdog::after_fork_child();
    crate::sigroute::after_fork_child();
    OWNER_PID.store(getpid(), Ordering::Relaxed);
}

/// Makes the main thread green thread 0 on carrier 0. Called once from the constructor.
pub fn start() -> Result<(), &'static str> {
    grow_fd_table();
    crate::park::init_barriers();
    let main: &'static Task = Box::leak(Box::new(Task::new(true)));
    task::register(main);
    let tp = tls::thread_pointer();
    main.tcb.set(tp);
    let mask = crate::sigmask::carrier_mask();
    main.sigmask.set(mask);
    let c0 = carrier::init_original(tp, mask);
    // Carrier 0's root context, entered the first time main parks.
    let prot = libc::PROT_READ | libc::PROT_WRITE;
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK | libc::MAP_NORESERVE;
    // SAFETY: a fresh anonymous mapping; the kernel picks the address.
    let stack = unsafe { sys::syscall6(libc::SYS_mmap, 0, ROOT_STACK, prot as usize, flags as usize, usize::MAX, 0) };
    if stack < 0 {
        return Err("no memory for the hub's stack");
    }
    // SAFETY: the new mapping is ours and unused; its top is page-aligned.
    c0.root_sp.set(unsafe { context::prepare_root(stack as usize + ROOT_STACK, original_root, c0 as *const Carrier as usize) });
    main.carrier.set(c0);
    main.on_cpu.store(true, Ordering::Relaxed);
    c0.current.store(main as *const Task as *mut Task, Ordering::Relaxed);
    let hub = Box::leak(Box::new(Hub {
        runq: RunQueue::new(),
        main,
        lock: SpinLock::new(()),
        in_section: AtomicBool::new(false),
        timers: UnsafeCell::new(TimerHeap::new()),
        inject: SpinLock::new(Vec::new()),
        inject_pending: AtomicBool::new(false),
        dispatches: AtomicU64::new(0),
        polled_at: AtomicU64::new(0),
        next_due: AtomicU64::new(u64::MAX),
        alive: SharedCell(AtomicUsize::new(0)),
        idle: AtomicUsize::new(0),
        wake_sent: AtomicBool::new(false),
        main_exiting: AtomicBool::new(false),
        main_gone: Cell::new(false),
        epfd_cell: AtomicI32::new(-1),
        wake_fd_cell: AtomicI32::new(-1),
    }));
    HUB_PTR.store(hub as *const Hub as usize, Ordering::Release);
    OWNER_PID.store(getpid(), Ordering::Relaxed);
    // SAFETY: tagging the calling (main) thread's own TCB.
    unsafe { tls::tag(tp, main as *const Task as usize) };
    // The hand-off's switch to locked sections (begin_multi) needs membarrier; without it a
    // hand-off is not possible with one carrier (watchdog.rs checks `can_begin_multi`).
    // SAFETY: membarrier registration takes no pointers.
    let r = unsafe { sys::syscall3(libc::SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) };
    MEMBARRIER_OK.store(r == 0, Ordering::Relaxed);
    READY.store(true, Ordering::Release);
    Ok(())
}

const MEMBARRIER_CMD_PRIVATE_EXPEDITED: usize = 1 << 3;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: usize = 1 << 4;
static MEMBARRIER_OK: AtomicBool = AtomicBool::new(false);

/// The process is exiting (the GREEN_STATS exit report is about to be printed): a hand-off in
/// flight finishes first, so its carrier has named itself and is counted, and no new one
/// starts, so the report and the threads the process ends with agree (a hand-off whose thread
/// was cloned but had not yet named itself when exit_group came looked like a program thread
/// to the tests' census). Never released: the process is ending. Waits at most 100 ms (a
/// hand-off takes well under 1 ms), and never holds up exit for longer.
pub fn freeze_handoffs_at_exit() {
    let deadline = sys::now_ns() + 100_000_000;
    loop {
        if let Some(g) = MODE_CHANGE.try_lock() {
            core::mem::forget(g);
            return;
        }
        if sys::now_ns() >= deadline {
            return;
        }
        // SAFETY: sched_yield takes no arguments.
        unsafe { sys::syscall3(libc::SYS_sched_yield, 0, 0, 0) };
    }
}

/// Whether a second carrier can be brought in (the process is already MULTI, or membarrier
/// lets us switch carrier 0 to locked sections safely).
pub fn can_begin_multi() -> bool {
    MODE.load(Ordering::Relaxed) == MULTI || MEMBARRIER_OK.load(Ordering::Relaxed)
}

/// Gives carrier 0's root a TCB of its own, made on a live thread's TLS (the creator of a green
/// thread, or the thread starting a second carrier). With one carrier the root keeps the last
/// thread's TCB loaded, but not that of a thread that has finished: its TLS destructors and key
/// destructors have run, and the allocator calls the root makes (freeing the stack record, the
/// timer heap growing…) would set up a new per-thread cache there that nobody releases, and
/// that the TCB's next owner's TLS images then overwrite (jemalloc keeps its caches linked in
/// its arenas: its first `mallctl` crashed walking the list; redis died at start-up). False if
/// no TCB could be made.
pub fn ensure_root_tcb() -> bool {
    let c0 = carrier::original();
    if c0.root_tp.get() == 0 {
        let Some(tp) = tls::alloc(tls::thread_pointer()) else { return false };
        if !c0.root_tp.set_if_unset(tp) {
            tls::release(tp);
        }
    }
    true
}

/// Switches the hub to locked sections before a second carrier starts. From any thread but
/// carrier 0 while it is running (the watchdog): carrier 0 may be inside an unlocked section;
/// after MODE says SWITCHING, membarrier makes its flag visible to us or our mode visible to
/// it, and we wait until it is out. Also gives each existing carrier's root a TCB of its own.
pub fn begin_multi() -> bool {
    // Carrier 0's root TCB exists before the mode says anything but SINGLE: the root loads it
    // as soon as it sees another mode.
    if !ensure_root_tcb() {
        return false;
    }
    match MODE.compare_exchange(SINGLE, SWITCHING, Ordering::SeqCst, Ordering::SeqCst) {
        Ok(_) => {}
        Err(MULTI) => return true,
        Err(_) => {
            while MODE.load(Ordering::Acquire) != MULTI {
                core::hint::spin_loop();
            }
            return true;
        }
    }
    if current().is_some() {
        // A green thread on carrier 0 (GREEN_HUBS at the first spawn): it is outside any
        // section now, and its next one sees SWITCHING.
    } else {
        // SAFETY: membarrier takes no pointers; registered at start-up.
        unsafe { sys::syscall3(libc::SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) };
        let h = hub();
        while h.in_section.load(Ordering::Acquire) {
            let ts = sys::ns_to_timespec(20_000);
            // SAFETY: a relative sleep with a live timespec; raw, never our hook.
            unsafe { sys::syscall6(libc::SYS_clock_nanosleep, libc::CLOCK_MONOTONIC as usize, 0, &ts as *const _ as usize, 0, 0, 0) };
        }
    }
    MODE.store(MULTI, Ordering::Release);
    true
}

/// Entry of a carrier thread (carrier.rs starts it with glibc's pthread_create).
pub extern "C" fn carrier_thread(arg: *mut core::ffi::c_void) -> *mut core::ffi::c_void {
    // SAFETY: the argument is a leaked Carrier.
    let c: &'static Carrier = unsafe { &*(arg as *const Carrier) };
    // Named for ps/top (and for tests, which tell runtime threads from program threads by it).
    // SAFETY: PR_SET_NAME with a NUL-terminated name of at most 16 bytes, on this thread.
    unsafe { sys::syscall3(libc::SYS_prctl, libc::PR_SET_NAME as usize, c"green-carrier".as_ptr() as usize, 0) };
    let own = tls::thread_pointer();
    c.tid.store(carrier::gettid(), Ordering::Release);
    c.root_tp.set(own);
    c.loaded_tp.store(own, Ordering::Relaxed);
    c.loaded_mask.set(crate::osthread::RUNTIME_MASK);
    c.section_locked.set(enter(hub()));
    root_loop(c);
    // Leaving for good: glibc's thread exit runs on our own TCB, with the runtime's mask.
    load_tp(c, own);
    load_mask(c, crate::osthread::RUNTIME_MASK);
    core::ptr::null_mut()
}

/// Carrier 0's root, on its own stack: entered the first time main parks; never returns.
extern "C" fn original_root(arg: usize) -> ! {
    // SAFETY: the argument is carrier 0, leaked.
    let c: &'static Carrier = unsafe { &*(arg as *const Carrier) };
    // Main's first park switched here without a `run`: complete its switch-out as `run` does.
    c.current.store(core::ptr::null_mut(), Ordering::Relaxed);
    hub().main.on_cpu.store(false, Ordering::Release);
    loop {
        root_loop(c);
    }
}

/// First green thread created with GREEN_HUBS > 1: the other home carriers start now (not at
/// load time: a program that never creates a thread keeps one OS thread).
#[cold]
fn start_home_carriers() {
    static STARTED: AtomicBool = AtomicBool::new(false);
    if STARTED.swap(true, Ordering::AcqRel) {
        return;
    }
    begin_multi();
    carrier::start_home(carrier_thread);
}

/// Queues a new green thread (created by the calling green thread).
pub fn spawn(t: &'static Task) {
    // A hand-off can make a second carrier run while some thread is anywhere in glibc: glibc
    // must stop taking its single-thread shortcuts now, while every other thread is at a hook.
    if crate::watchdog::HANDOFF_MS.load(Ordering::Relaxed) != 0 {
        crate::osthread::become_multithreaded();
    }
    if carrier::home_count() > 1 && MODE.load(Ordering::Relaxed) != MULTI {
        start_home_carriers();
    }
    let h = hub();
    let locked = enter(h);
    h.alive.set(h.alive.get() + 1);
    stats::thread_started(h.alive.get());
    let wake = push_locked(h, t, locked);
    leave(h, locked);
    if wake {
        wake_idle(h);
    }
    crate::watchdog::maybe_start();
}

/// Pushes inside a section; returns whether an idle carrier should be woken for it: whenever
/// several carriers run and one idles in epoll, unless a wake-up is already on its way. (Not
/// waking, and leaving the task to the pusher's carrier, would save the eventfd write in a
/// ping-pong, but a pusher that goes on running would leave the task waiting for the
/// watchdog's next tick. The collapse of a semaphore stress once blamed on that was the lost
/// semaphore unit fixed in sync/sem.rs; the policy has not been measured again since.)
#[inline(always)]
fn push_locked(h: &Hub, t: &'static Task, locked: bool) -> bool {
    queue_for_caller(h).push(t);
    locked && h.idle.load(Ordering::Relaxed) > 0 && !h.wake_sent.swap(true, Ordering::Relaxed)
}

/// The queue a task made ready by the calling thread joins (module doc): with several carriers
/// the caller's carrier's own when the caller is a green thread, else the shared one. Inside a
/// section.
#[inline(always)]
fn queue_for_caller(h: &Hub) -> &RunQueue {
    if MODE.load(Ordering::Relaxed) == MULTI {
        if let Some(me) = current() {
            return &carrier_of(me).runq;
        }
    }
    &h.runq
}

/// The next task for carrier `c`, inside a section: its own queue, the shared one, then one
/// stolen from another carrier's (the shared one first when `shared_first`: every POLL_EVERY
/// dispatches, so its tasks never wait behind a ping-pong that keeps refilling the local queue).
#[inline]
fn pop_ready(h: &Hub, c: &Carrier, shared_first: bool) -> Option<&'static Task> {
    if MODE.load(Ordering::Relaxed) != MULTI {
        // Carrier queues are used only once several carriers run (and never emptied by a
        // return to one carrier, which does not happen).
        return h.runq.pop();
    }
    if shared_first {
        if let Some(t) = h.runq.pop() {
            return Some(t);
        }
    }
    if let Some(t) = c.runq.pop() {
        stats::ran_queued(false);
        return Some(t);
    }
    if let Some(t) = h.runq.pop() {
        return Some(t);
    }
    steal(c)
}

/// Takes the oldest task from the first carrier queue with work, starting after `c`'s own (so
/// thieves spread over victims). Inside a section.
#[cold]
fn steal(c: &Carrier) -> Option<&'static Task> {
    let n = carrier::made();
    for k in 1..n {
        if let Some(t) = carrier::get((c.index + k) % n).and_then(|v| v.runq.pop()) {
            stats::ran_queued(true);
            return Some(t);
        }
    }
    None
}

/// Whether any run queue holds a task. Inside a section (or a racy snapshot for the watchdog).
fn work_queued(h: &Hub) -> bool {
    if !h.runq.is_empty() {
        return true;
    }
    let mut any = false;
    if MODE.load(Ordering::Relaxed) == MULTI {
        carrier::for_each(|c| any |= !c.runq.is_empty());
    }
    any
}

/// Wakes the carriers idle in epoll (the eventfd is level-triggered for them).
fn wake_idle(h: &Hub) {
    fds(h);
    with_wake_fd(h, |wf| {
        let one: u64 = 1;
        // SAFETY: writing 8 bytes from a live u64 to our eventfd.
        unsafe { sys::syscall3(libc::SYS_write, wf as usize, &one as *const u64 as usize, 8) };
    });
}

/// Makes a parked task runnable. Safe from any thread.
pub fn make_ready(t: &'static Task) {
    let h = hub();
    // On the carrier: a green TCB is loaded, or (one carrier) the root's own, which the root
    // loads after a thread finishes (ensure_root_tcb); from there the wake-up of a joiner must
    // not take the foreign path (the inject queue and an eventfd write: +0.5 µs per join).
    let on_carrier = tls::current_task_word() != 0
        || (MODE.load(Ordering::Relaxed) == SINGLE && tls::thread_pointer() == carrier::original().root_tp.get());
    if on_carrier {
        let locked = enter(h);
        let wake = push_locked(h, t, locked);
        leave(h, locked);
        if wake {
            wake_idle(h);
        }
    } else if enter_foreign(h) {
        let wake = push_locked(h, t, true);
        leave(h, true);
        if wake {
            wake_idle(h);
        }
    } else {
        let mut q = h.inject.lock();
        let was_empty = q.is_empty();
        q.push(t as *const Task as usize);
        h.inject_pending.store(true, Ordering::Release);
        drop(q);
        if was_empty {
            wake_idle(h);
        }
    }
}

/// Blocks the current task until something makes it ready: its wait node and `park_state` were
/// set up by the caller (park.rs); `deadline` adds a timer. Returns whether a signal sent to the
/// thread meanwhile was delivered (its handler has run) on the way back.
#[inline(always)]
pub fn park_current(t: &'static Task, deadline: Option<u64>, reason: ParkReason) -> bool {
    let h = hub();
    // The park's generation, taken by park.rs before it published PARKED.
    let gen = t.park_gen.load(Ordering::Relaxed);
    t.reason.set(reason);
    let locked = enter(h);
    if let Some(d) = deadline {
        // SAFETY: timers are touched only inside sections.
        unsafe { (*h.timers.get()).push(d, t as *const Task as usize, gen) };
        if d < h.next_due.load(Ordering::Relaxed) {
            h.next_due.store(d, Ordering::Relaxed);
        }
    }
    stats::parked(reason);
    switch_out(t, locked);
    t.reason.set(ParkReason::None);
    t.park_state.store(RUNNING, Ordering::Release);
    let intr = crate::signal::deliver_pending(t);
    t.last_intr.set(intr);
    intr != crate::signal::NONE
}

/// Sleeps the current green thread until `deadline` (CLOCK_MONOTONIC ns).
/// Sleeps are cancellation points: a pending cancellation acts before and after. Returns true
/// when a signal handler ran and cut the sleep short (EINTR for the caller).
pub fn sleep_until(t: &'static Task, deadline: u64) -> bool {
    crate::thread::testcancel();
    park::prepare_timer_park(t);
    let interrupted = park_current(t, Some(deadline), ParkReason::Sleep);
    crate::thread::testcancel();
    // Sleeps are never restarted (signal(7)): any handler cuts them short.
    interrupted && sys::now_ns() < deadline
}

/// sched_yield: lets every other ready thread run once, then continues.
pub fn yield_now(t: &'static Task) {
    let h = hub();
    let mut locked = enter(h);
    // A yield that finds nothing queued counts as a decision too: threads yielding on every
    // carrier never reach the root's turns (`Poll::Peek`).
    poll(h, carrier_of(t), &mut locked, if fairness_turn(h) { Poll::Peek } else { Poll::Due });
    if !work_queued(h) {
        leave(h, locked);
        return;
    }
    stats::parked(ParkReason::Yield);
    t.park_state.store(NOTIFIED, Ordering::Release);
    h.runq.push(t);
    switch_out(t, locked);
    t.park_state.store(RUNNING, Ordering::Release);
    crate::signal::deliver_pending(t);
}

/// Leaves the current task for its carrier's root, inside the section the caller entered
/// (`locked` as `enter` returned it); the root leaves it. Returns when the task runs again,
/// outside any section, perhaps on another carrier.
#[inline(always)]
fn switch_out(t: &'static Task, locked: bool) {
    let c = carrier_of(t);
    c.section_locked.set(locked);
    // SAFETY: the root's context was saved when it resumed us (or prepared at start-up) and
    // does not run now; ours is saved before anything can resume it (on_cpu).
    unsafe { context::suspend(t.ctx_sp.as_ptr(), c.root_sp.get()) };
}

/// A green thread's body has returned (thread.rs `thread_entry`): leaves its context for good,
/// marked finished (`ctx_sp` 0); its carrier's root recycles the stack (`finish`).
pub fn exit_current(t: &'static Task) -> ! {
    let c = carrier_of(t);
    t.ctx_sp.set(0);
    // SAFETY: the root's context was saved when it resumed us and does not run now; nothing
    // resumes a finished thread.
    unsafe { context::leave(c.root_sp.get()) }
}

/// A carrier's scheduling loop, entered inside a section (`c.section_locked`). Returns only
/// when the carrier leaves for good (a hand-off carrier whose work is done).
fn root_loop(c: &'static Carrier) {
    let h = hub();
    loop {
        let mut locked = c.section_locked.get();
        if c.surplus.load(Ordering::Relaxed) {
            hand_over(h, c, locked);
            if !carrier::leave(c) {
                return;
            }
            locked = enter(h);
        }
        let Some(t) = next_ready(h, c, &mut locked) else {
            // A home carrier takes this one's place.
            hand_over(h, c, locked);
            if !carrier::leave(c) {
                return;
            }
            c.section_locked.set(enter(h));
            continue;
        };
        leave(h, locked);
        run(h, c, t);
    }
}

/// Carrier `c` is about to leave (surplus, or a hand-off carrier giving way to a home one):
/// work left in its queue, or queued while no carrier idled, goes to the others through the
/// shared queue, and one idle in epoll is woken for it (the carrier taking over may already
/// have looked, found nothing and gone to wait). Timers too: one added here (the last thread
/// this carrier ran went to sleep) may be due before whatever an idle carrier computed its
/// epoll timeout from, or it had none. Leaves the section.
fn hand_over(h: &Hub, c: &Carrier, locked: bool) {
    while let Some(t) = c.runq.pop() {
        h.runq.push(t);
    }
    // SAFETY: timers are touched only inside sections.
    let queued = !h.runq.is_empty() || unsafe { !(*h.timers.get()).is_empty() };
    leave(h, locked);
    if queued {
        wake_idle(h);
    }
}

#[inline(always)]
fn load_tp(c: &Carrier, tp: usize) {
    if c.loaded_tp.load(Ordering::Relaxed) != tp {
        // SAFETY: tp is a live TCB (a green thread's, or the carrier's own); the root keeps no
        // TLS addresses across the switch.
        unsafe { tls::set_thread_pointer(tp) };
        c.loaded_tp.store(tp, Ordering::Relaxed);
    }
}

/// Loads a green thread's signal mask into the carrier: one compare per switch, a syscall only
/// when the next thread's mask differs from the loaded one.
#[inline(always)]
fn load_mask(c: &Carrier, mask: u64) {
    if c.loaded_mask.get() != mask {
        set_carrier_mask(c, mask);
    }
}

#[cold]
fn set_carrier_mask(c: &Carrier, mask: u64) {
    crate::sigmask::set_carrier(mask);
    c.loaded_mask.set(mask);
}

/// The calling green thread changed its own mask: load it now, as the native call does.
pub fn mask_changed(t: &Task) {
    load_mask(carrier_of(t), t.sigmask.get());
}

/// Runs one green thread on carrier `c` until it parks or finishes. Called outside any
/// section; on return `c.section_locked` describes the section the root is in.
fn run(h: &Hub, c: &'static Carrier, t: &'static Task) {
    // Made ready while still switching out on another carrier: that takes nanoseconds, unless
    // the kernel preempted that carrier (more carriers than vCPUs): then let it run.
    let mut spins = 0u32;
    while t.on_cpu.load(Ordering::Acquire) {
        spins += 1;
        if spins < 64 {
            core::hint::spin_loop();
        } else {
            // SAFETY: sched_yield takes no arguments.
            unsafe { sys::syscall3(libc::SYS_sched_yield, 0, 0, 0) };
        }
    }
    t.on_cpu.store(true, Ordering::Relaxed);
    t.carrier.set(c);
    load_tp(c, t.tcb.get());
    // current first: a signal the new mask lets in is then taken by `t` (sigroute.rs).
    c.current.store(t as *const Task as *mut Task, Ordering::Relaxed);
    load_mask(c, t.sigmask.get());
    c.dispatches.store(c.dispatches.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    stats::switched();
    prefetch_next(h);
    // SAFETY: t's context was saved by its switch_out (or prepared at create) and on_cpu says
    // it is not running.
    unsafe { context::resume(c.root_sp.as_ptr(), t.ctx_sp.get()) };
    let finished = t.ctx_sp.get() == 0;
    c.current.store(core::ptr::null_mut(), Ordering::Relaxed);
    check_stack(t);
    if MODE.load(Ordering::Relaxed) != SINGLE || (finished && c.root_tp.get() != 0) {
        // The task may resume on another carrier as soon as on_cpu clears, or it has finished
        // (ensure_root_tcb): stop using its TCB.
        load_tp(c, c.root_tp.get());
    }
    t.on_cpu.store(false, Ordering::Release);
    if finished {
        finish(h, t);
        c.section_locked.set(enter(h));
    }
}

/// Lines of a parked thread's stack prefetched from its saved stack pointer up: the switch's
/// 32 bytes, the frames of the call it waits in (a socket receive: 256 bytes to the hook's
/// caller) and the start of the caller's own frame, which holds the buffers the kernel copies
/// into and out of (the echo server's `buf` is 288 bytes above the saved pointer).
const PREFETCH_STACK_LINES: usize = 7;

/// Asks the cache for what the next queued thread touches first when it resumes, while the
/// thread about to run does its work (system calls take microseconds): its task's hot lines
/// and the top of its stack. With a thousand threads and more those lines have left this
/// core's caches since the thread last ran, and each was a miss on the resume path
/// (bench/NOTES.md, session 22: +1.6 % echo requests at 1000 connections). One carrier only:
/// with several, a queued thread may still be switching out on another carrier, writing the
/// stack pointer read here.
#[inline(always)]
fn prefetch_next(h: &Hub) {
    if MODE.load(Ordering::Relaxed) != SINGLE {
        return;
    }
    let n = h.runq.peek();
    if n.is_null() {
        return;
    }
    // SAFETY: queued tasks are live (pooled, never freed), and with one carrier only this OS
    // thread writes their saved stack pointer.
    let sp = unsafe { (*n).ctx_sp.get() };
    use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
    // SAFETY: a prefetch never faults, whatever the address.
    unsafe {
        for off in (0..task::HOT_BYTES).step_by(64) {
            _mm_prefetch::<_MM_HINT_T0>((n as *const i8).wrapping_add(off));
        }
        for i in 0..PREFETCH_STACK_LINES {
            _mm_prefetch::<_MM_HINT_T0>((sp + 64 * i) as *const i8);
        }
    }
}

#[inline]
fn check_stack(t: &Task) {
    // SAFETY: the carrier that ran `t` owns its stack slot until `t` runs again.
    if t.canaried.get() && !unsafe { &*t.stack.get() }.as_ref().is_some_and(|s| s.canary_intact()) {
        crate::log::fatal(format_args!(
            "green thread {} overflowed its {} KiB stack (raise GREEN_STACK_SIZE or use pthread_attr_setstacksize)",
            t.id.get(),
            t.stack_size.get() / 1024
        ));
    }
}

/// A green thread's body returned: recycle its stack, publish the exit, and reclaim the rest now
/// (detached) or at join. Outside any section.
fn finish(h: &Hub, t: &'static Task) {
    // SAFETY: the thread has left its stack for good (exit_current); its carrier owns it now.
    let stack = unsafe { (*t.stack.get()).take().expect("a finished thread's stack") };
    crate::stack::release(stack);
    let locked = enter(h);
    h.alive.set(h.alive.get() - 1);
    leave(h, locked);
    let prev = t.join_flags.fetch_or(EXITED, Ordering::AcqRel);
    if prev & task::DETACHED != 0 {
        reclaim(t);
    } else {
        park::unpark_all(t.join_flags.as_ptr() as usize);
    }
}

/// Frees a joined or detached, finished thread's TCB and task.
pub fn reclaim(t: &'static Task) {
    tls::release(t.tcb.get());
    task::release(t);
}

/// Counts a scheduling decision (or a yield that found nothing else to run): every
/// POLL_EVERY-th is a fairness turn. Inside a section.
fn fairness_turn(h: &Hub) -> bool {
    let d = h.dispatches.load(Ordering::Relaxed) + 1;
    h.dispatches.store(d, Ordering::Relaxed);
    d % POLL_EVERY == 0
}

/// Picks the next task to run on `c`, polling timers/wake-ups and blocking in epoll when idle.
/// Inside a section (`locked` is updated when it is left and entered again). None: `c` is a
/// hand-off carrier and a spare home carrier takes its place.
fn next_ready(h: &Hub, c: &'static Carrier, locked: &mut bool) -> Option<&'static Task> {
    loop {
        if MODE.load(Ordering::Relaxed) == MULTI && c.index == 0 && carrier::ACTIVE_COUNT.load(Ordering::Acquire) == 1 {
            end_multi(h, c, locked);
        }
        if MODE.load(Ordering::Relaxed) != SINGLE {
            // The root's own TCB (the last task's may be running elsewhere by now).
            load_tp(c, c.root_tp.get());
        }
        let fairness_turn = fairness_turn(h);
        if fairness_turn && !c.is_home() && carrier::wake_spare_home() {
            // A home carrier is free again (the one this carrier was brought in for, once its
            // thread parked): it takes over, so a stall's extra carrier does not outlive the
            // stall (and one home carrier can take one carrier's sections back: `end_multi`).
            return None;
        }
        if fairness_turn {
            poll(h, c, locked, Poll::Peek);
        } else if h.runq.is_empty() && c.runq.is_empty() {
            poll(h, c, locked, Poll::Due);
        }
        if let Some(t) = pop_ready(h, c, fairness_turn) {
            return Some(t);
        }
        if h.alive.get() == 0 {
            if h.main_gone.get() {
                // SAFETY: the last thread of a process whose main thread is gone: glibc's
                // start_thread calls exit(0) here.
                unsafe { libc::exit(0) };
            }
            if h.main_exiting.load(Ordering::Relaxed) {
                h.main_exiting.store(false, Ordering::Relaxed);
                return Some(h.main);
            }
        }
        if !c.is_home() && carrier::wake_spare_home() {
            return None;
        }
        // SAFETY: timers are touched only inside sections.
        if unsafe { (*h.timers.get()).is_empty() }
            && !h.inject_pending.load(Ordering::Acquire)
            && DEADLOCK_CHECK.load(Ordering::Relaxed)
            && h.idle.load(Ordering::Relaxed) + 1 >= carrier::ACTIVE_COUNT.load(Ordering::Relaxed)
        {
            check_deadlock();
        }
        poll(h, c, locked, Poll::Block);
        if let Some(t) = pop_ready(h, c, false) {
            return Some(t);
        }
    }
}

/// A hand-off is over: carrier 0, in its root inside a locked section, is the only carrier
/// left (every other one spare or gone, running nothing). With one home carrier it takes one
/// carrier's unlocked sections back, so the rest of the run does not pay for the hub lock and a
/// thread-pointer load per switch (a server's accept burst can stall carrier 0 long enough for
/// one hand-off; the process then stayed in MULTI for good, with an eventfd wake-up per epoll
/// wait). Not while the watchdog is handing off (MODE_CHANGE), nor with GREEN_HUBS > 1.
#[cold]
fn end_multi(h: &Hub, c: &'static Carrier, locked: &mut bool) {
    if carrier::home_count() != 1 || c.surplus.load(Ordering::Relaxed) {
        return;
    }
    let Some(_mode) = MODE_CHANGE.try_lock() else { return };
    // Under MODE_CHANGE no carrier is being added: the count cannot rise behind this check.
    let mut others = carrier::ACTIVE_COUNT.load(Ordering::Acquire) != 1;
    carrier::for_each(|o| {
        if o.index != 0 {
            others |= o.state.load(Ordering::Acquire) == carrier::ACTIVE || !o.current.load(Ordering::Acquire).is_null();
        }
    });
    if others || !*locked {
        return;
    }
    // One carrier uses only the shared queue.
    carrier::for_each(|o| {
        while let Some(t) = o.runq.pop() {
            h.runq.push(t);
        }
    });
    // The root runs on main's TCB with one carrier, as before the first hand-off (main runs
    // nowhere now: every other carrier is idle and this root runs no thread). Its task word
    // tells hooks and signal routing this OS thread is the carrier.
    load_tp(c, h.main.tcb.get());
    // This locked section becomes an unlocked one; threads waiting for the lock find MODE
    // changed under it (`enter_foreign`).
    h.in_section.store(true, Ordering::Relaxed);
    MODE.store(SINGLE, Ordering::Release);
    // SAFETY: this carrier took the lock when it entered the section (`locked`).
    unsafe { h.lock.unlock_raw() };
    *locked = false;
    stats::ONE_CARRIER_AGAIN.fetch_add(1, Ordering::Relaxed);
}

/// What `poll` does besides firing due timers, draining foreign wake-ups and routing signals.
#[derive(Clone, Copy, PartialEq)]
enum Poll {
    /// Nothing more (a yield, or a scheduling decision with work queued).
    Due,
    /// Also takes what epoll has ready without waiting, and process-directed signals no running
    /// thread lets in (`sigroute::take_stranded`): every POLL_EVERY decisions, so threads that
    /// keep every carrier busy (yielding spinners) do not starve I/O waiters and masked waits,
    /// which otherwise hear of their fd or signal only when a carrier goes idle.
    Peek,
    /// Waits in epoll until the next deadline or a wake-up first (nothing is queued).
    Block,
}

/// Fires due timers and drains foreign wake-ups, after waiting or peeking in epoll as `how`
/// says. Inside a section, left around every call out of the hub.
fn poll(h: &Hub, c: &Carrier, locked: &mut bool, how: Poll) {
    if how == Poll::Peek && crate::sigroute::may_strand(c.loaded_mask.get()) {
        leave(h, *locked);
        crate::sigroute::take_stranded(c.loaded_mask.get());
        *locked = enter(h);
    }
    // SAFETY: timers are touched only inside sections.
    let timers = unsafe { &mut *h.timers.get() };
    let timeout = match how {
        Poll::Due => None,
        // Only epoll's fd events are news to a peek (wake-ups and timers are looked at below),
        // so none while no thread waits for an fd: a ping-pong pays nothing for it. Nor when a
        // carrier looked in epoll within the last POLL_EVERY decisions: a server whose queue
        // keeps running dry waits in epoll every few dispatches, and its peeks were a syscall
        // per POLL_EVERY requests that found only what the next wait would (bench/NOTES.md,
        // session 23).
        Poll::Peek => (crate::fd::io_waiting()
            && h.dispatches.load(Ordering::Relaxed).wrapping_sub(h.polled_at.load(Ordering::Relaxed)) >= POLL_EVERY)
            .then_some(Some(0)),
        Poll::Block => Some(timers.next_deadline().map(|d| d.saturating_sub(sys::now_ns()))).filter(|t| *t != Some(0)),
    };
    if let Some(timeout) = timeout {
        let idle = how == Poll::Block;
        if idle {
            h.idle.fetch_add(1, Ordering::Relaxed);
        }
        h.polled_at.store(h.dispatches.load(Ordering::Relaxed), Ordering::Relaxed);
        leave(h, *locked);
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 64];
        let n = epoll_wait(h, c, timeout, &mut events);
        *locked = enter(h);
        if idle {
            h.idle.fetch_sub(1, Ordering::Relaxed);
        }
        // Dispatched once this carrier no longer counts as idle: the wake-ups they cause
        // would otherwise see it idle and write the eventfd for it (its next wait would
        // return at once only to drain it: a write, a read and a wait more per wait).
        if n > 0 {
            leave(h, *locked);
            dispatch(h, &events[..n]);
            *locked = enter(h);
        }
    }
    // SAFETY: as above (the section was entered again).
    let timers = unsafe { &mut *h.timers.get() };
    if !timers.is_empty() {
        let now = sys::now_ns();
        loop {
            let mut due = [(0usize, 0u64); 32];
            let mut n = 0;
            while n < due.len() {
                let Some(e) = timers.pop_due(now) else { break };
                due[n] = (e.task, e.gen);
                n += 1;
            }
            h.next_due.store(timers.next_deadline().unwrap_or(u64::MAX), Ordering::Relaxed);
            if n == 0 {
                break;
            }
            leave(h, *locked);
            for &(task, gen) in &due[..n] {
                // SAFETY: timer entries name pooled (never freed) tasks.
                park::expire(unsafe { &*(task as *const Task) }, gen);
            }
            *locked = enter(h);
            if n < due.len() {
                break;
            }
        }
    }
    if crate::sigroute::ROUTE.load(Ordering::Acquire) {
        leave(h, *locked);
        crate::sigroute::route();
        *locked = enter(h);
    }
    if h.inject_pending.load(Ordering::Acquire) {
        let drained = core::mem::take(&mut *h.inject.lock());
        h.inject_pending.store(false, Ordering::Release);
        for &p in &drained {
            // SAFETY: inject holds pooled task pointers.
            h.runq.push(unsafe { &*(p as *const Task) });
        }
        drop(drained);
    }
}

/// Waits in epoll until an event, a signal or `timeout_ns` (None: no timeout); returns how many
/// of `events` it filled (to be dispatched).
fn epoll_wait(h: &Hub, c: &Carrier, timeout_ns: Option<u64>, events: &mut [libc::epoll_event; 64]) -> usize {
    let ts;
    let tsp = match timeout_ns {
        Some(ns) => {
            ts = sys::ns_to_timespec(ns);
            &ts as *const libc::timespec as usize
        }
        None => 0,
    };
    stats::epoll_waited();
    // Signals the program handles are let in while idle, whatever the last thread blocked: the
    // trampoline keeps them for routing (sigroute.rs). The same syscall sets the mask.
    let idle_mask = c.loaded_mask.get() & !crate::sigroute::TRAMPOLINED.load(Ordering::Relaxed);
    // Not for a peek: without a wait the kernel delivers nothing the mask lets in.
    let maskp = if idle_mask != c.loaded_mask.get() && timeout_ns != Some(0) { &idle_mask as *const u64 as usize } else { 0 };
    let ep = fds(h).0 as usize;
    let mut n = -(libc::ENOSYS as isize);
    if PWAIT2.load(Ordering::Relaxed) {
        // SAFETY: events is a live array of 64; tsp is null or a live timespec; maskp is null or
        // a live 8-byte mask.
        n = unsafe { sys::syscall6(libc::SYS_epoll_pwait2, ep, events.as_mut_ptr() as usize, events.len(), tsp, maskp, 8) };
    }
    if n == -(libc::ENOSYS as isize) {
        PWAIT2.store(false, Ordering::Relaxed);
        // Whole milliseconds, rounded up: a timer is never fired early, at most 1 ms late.
        let ms = timeout_ns.map_or(-1, |ns| ns.div_ceil(1_000_000).min(i32::MAX as u64) as i32);
        // SAFETY: as above, with a millisecond timeout instead of the timespec.
        n = unsafe { sys::syscall6(libc::SYS_epoll_pwait, ep, events.as_mut_ptr() as usize, events.len(), ms as isize as usize, maskp, 8) };
    }
    n.max(0) as usize
}

/// epoll_pwait2 (Linux 5.11) takes a nanosecond timeout; on a kernel without it (ENOSYS, also
/// under a seccomp filter or valgrind that refuses it) the hub waits with epoll_pwait.
static PWAIT2: AtomicBool = AtomicBool::new(true);

/// Acts on what epoll reported: fd readiness wakes the fd's waiters, the wake-up eventfd is
/// drained. Outside any section.
fn dispatch(h: &Hub, events: &[libc::epoll_event]) {
    for ev in events {
        let (token, evs) = (ev.u64, ev.events);
        if token & crate::fd::TOKEN_FD != 0 {
            crate::fd::ready(token, evs);
        } else {
            with_wake_fd(h, |wf| {
                let mut v: u64 = 0;
                // SAFETY: draining our own non-blocking eventfd into a live u64.
                unsafe { sys::syscall3(libc::SYS_read, wf as usize, &mut v as *mut u64 as usize, 8) };
            });
            // Drained first, then cleared: cleared first, a push in between would write, the
            // drain would swallow its write and leave `wake_sent` set with nothing pending, and
            // every later push (offload workers' completions, say) would wake nobody: all
            // carriers idle in epoll with work queued (offload_pool hung on two carriers). In
            // this order a push in between skips its write, and its task is seen by this
            // carrier, which looks at the queues next.
            h.wake_sent.store(false, Ordering::SeqCst);
        }
    }
}

/// epoll_ctl on the hub's epoll instance for a program fd (token: TOKEN_FD | fd). Raw result.
pub fn epoll_ctl(op: i32, fd: i32, events: u32) -> isize {
    let h = hub();
    loop {
        let ep = fds(h).0;
        let mut ev = libc::epoll_event { events, u64: crate::fd::TOKEN_FD | fd as u32 as u64 };
        // SAFETY: ev is live; the kernel validates fd and op.
        let r = unsafe { sys::syscall6(libc::SYS_epoll_ctl, ep as usize, op as usize, fd as usize, &mut ev as *mut _ as usize, 0, 0) };
        // A failure because `vacate` moved the epoll fd meanwhile: again with its new number.
        if r >= 0 || h.epfd_cell.load(Ordering::Acquire) == ep {
            return r;
        }
    }
}

/// Nothing is ready, no timer is pending and no wake-up is queued. If no other OS thread exists
/// (which could post a semaphore, unlock a mutex, …) nothing can ever wake a green thread:
/// print what each one waits on and abort, like gevent's LoopExit, instead of hanging silently.
/// Process-shared waits poll on timers, so they never look dead here. Idle offload workers
/// wake nobody; a job in flight will. Other carriers count only when idle too.
#[cold]
fn check_deadlock() {
    // The cheap tests first: a server idling in epoll between requests must not pay for /proc.
    if crate::fd::io_waiting()
        || crate::offload::IN_FLIGHT.load(Ordering::Acquire) > 0
        || os_threads() != 1 + crate::offload::os_threads() + crate::watchdog::os_threads() + carrier::extra_os_threads()
    {
        return;
    }
    let mut busy = false;
    carrier::for_each(|c| busy |= !c.current.load(Ordering::Relaxed).is_null());
    if busy {
        return;
    }
    crate::green_warn!("deadlock: every green thread is waiting and nothing can wake one (GREEN_DEADLOCK=0 waits instead)");
    task::for_each(|t| {
        if t.park_state.load(Ordering::Acquire) == PARKED {
            let name = t.name.get();
            // SAFETY: a parked thread's name does not change while it is parked.
            let name = unsafe { &*name };
            let n = name.iter().position(|&b| b == 0).unwrap_or(16);
            let name = core::str::from_utf8(&name[..n]).unwrap_or("?");
            crate::green_warn!(
                "  thread {}{}{}{} waits in {} on {:#x}",
                t.id.get(),
                if t.is_main { " (main)" } else { "" },
                if n > 0 { " " } else { "" },
                name,
                t.reason.get().name(),
                park::waiting_on(t)
            );
        }
    });
    // SAFETY: abort never returns.
    unsafe { libc::abort() }
}

/// OS threads in this process, from /proc/self/stat (raw syscalls: no hooks, no allocation).
fn os_threads() -> usize {
    let mut buf = [0u8; 1024];
    let Some(s) = sys::read_small_file(c"/proc/self/stat", &mut buf) else { return 0 };
    // Field 20 (num_threads); fields after the ")" closing the command name.
    let Some(close) = s.iter().rposition(|&b| b == b')') else { return 0 };
    s[close + 2..].split(|&b| b == b' ').nth(17).and_then(|f| core::str::from_utf8(f).ok()).and_then(|f| f.parse().ok()).unwrap_or(0)
}

/// Main called pthread_exit: wait (running the other green threads) until they have all
/// finished, as a process whose main thread exits lives until its last thread does.
pub fn main_exit_wait() {
    let h = hub();
    let Some(t) = current() else { return };
    if !t.is_main {
        return;
    }
    loop {
        let locked = enter(h);
        if h.alive.get() == 0 {
            leave(h, locked);
            break;
        }
        h.main_exiting.store(true, Ordering::Relaxed);
        t.park_state.store(PARKED, Ordering::Release);
        switch_out(t, locked);
    }
    t.park_state.store(RUNNING, Ordering::Release);
}

/// What the watchdog sees of the hub: a snapshot taken from another OS thread.
pub struct HubView {
    /// A green thread is ready (run queue, a due timer, a foreign wake-up) but no carrier has
    /// picked it. Readiness of fds is not seen (edge-triggered epoll events cannot be peeked).
    pub work_waiting: bool,
    /// Carriers idle in epoll.
    pub idle: usize,
    /// Green threads other than main not yet finished.
    pub alive: usize,
}

/// The watchdog's snapshot (relaxed loads; callable from any thread once started).
pub fn view(now_ns: u64) -> HubView {
    let h = hub();
    HubView {
        work_waiting: work_queued(h) || crate::sigroute::ROUTE.load(Ordering::Relaxed) || h.inject_pending.load(Ordering::Relaxed) || h.next_due.load(Ordering::Relaxed) <= now_ns,
        idle: h.idle.load(Ordering::Relaxed),
        alive: h.alive.get(),
    }
}

/// For the watchdog: work waits but a carrier idles in epoll (a task made ready by a carrier
/// that kept running, which wakes nobody): wake the idle ones.
pub fn nudge_idle() {
    wake_idle(hub());
}

/// From a signal handler: wakes carriers idle in epoll so one routes what was captured. Only
/// writes the eventfd if it exists (creating it is not async-signal-safe; without it no carrier
/// has ever waited, and the next poll routes anyway).
pub fn nudge_idle_from_signal() {
    let h = hub();
    if h.idle.load(Ordering::Relaxed) > 0 {
        with_wake_fd(h, |wf| {
            if wf >= 0 {
                let one: u64 = 1;
                // SAFETY: writing 8 bytes from a live u64 to our eventfd; a raw syscall.
                unsafe { sys::syscall3(libc::SYS_write, wf as usize, &one as *const u64 as usize, 8) };
            }
        });
    }
}

/// Whether the calling green thread is the only one in the process (main with no others, or
/// the one thread of a child forked by a non-main thread): blocking the carrier in the kernel
/// then keeps no other green thread waiting.
pub fn lone_thread() -> bool {
    let h = hub();
    let alive = h.alive.get();
    alive == 0 || (alive == 1 && h.main_gone.get())
}

/// Whether the hub's epoll instance has events waiting (an fd a green thread waits on became
/// ready). For the watchdog: polling an epoll fd only looks at its ready list, it harvests
/// nothing, so the hub's edge-triggered events stay queued for it.
pub fn fds_ready() -> bool {
    // The epoll fd changes only in a fork child, before any watchdog of that child exists; none
    // yet: no fd was ever waited for.
    let ep = hub().epfd_cell.load(Ordering::Acquire);
    if ep < 0 {
        return false;
    }
    let mut p = libc::pollfd { fd: ep, events: libc::POLLIN, revents: 0 };
    // SAFETY: one live pollfd, zero timeout; a raw syscall, never our poll hook.
    unsafe { sys::syscall3(libc::SYS_poll, &mut p as *mut libc::pollfd as usize, 1, 0) > 0 }
}

/// Number of green threads (besides main) not yet finished.
pub fn alive() -> usize {
    if !started() {
        return 0;
    }
    hub().alive.get()
}
