//! The hub: run queue, timers and epoll of one carrier OS thread, and the switch between green
//! threads.
//!
//! Shape: the main thread is green thread 0 and the carrier's root context. Other green threads
//! are corosensei coroutines resumed only from the root. When a green thread blocks it suspends
//! back to the root; when the main thread blocks, the scheduling loop runs inline on its stack
//! until the main thread is ready again. So every switch is coroutine → root → coroutine.
//!
//! Invariants:
//! - Hub state is reached through one pointer (`HUB`), never through TLS: every green TCB would
//!   carry its own copy of a `thread_local!`.
//! - The thread pointer is changed only here, and only when the next task's TCB differs from the
//!   one loaded (`loaded_tp`); hub code in between uses no TLS of its own.
//! - The hub never blocks except in `epoll_pwait2`, and only with an empty run queue.
//! - Tasks made ready by threads that are not green go through the `inject` queue and an
//!   eventfd; the run queue itself is touched only by the carrier thread.

use core::cell::{Cell, UnsafeCell};
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

use corosensei::CoroutineResult;

use crate::lock::SpinLock;
use crate::park;
use crate::stats;
use crate::sys;
use crate::task::{self, ParkReason, RunQueue, Task, EXITED, NOTIFIED, PARKED, RUNNING};
use crate::timer::TimerHeap;
use crate::tls;

/// How many dispatches may pass before timers and the inject queue are polled even though the
/// run queue is not empty (fairness towards sleepers and foreign wake-ups).
const POLL_EVERY: u64 = 64;

pub struct Hub {
    runq: RunQueue,
    main: &'static Task,
    /// The task running now (main when the root runs the loop). Atomic (relaxed: plain moves)
    /// because the watchdog thread reads it.
    current: AtomicPtr<Task>,
    /// The thread pointer currently loaded on the carrier.
    loaded_tp: Cell<usize>,
    /// The signal mask currently loaded on the carrier (sigmask.rs).
    loaded_mask: Cell<u64>,
    timers: UnsafeCell<TimerHeap>,
    inject: SpinLock<Vec<usize>>,
    inject_pending: AtomicBool,
    /// Scheduling decisions so far: the watchdog's "has the hub moved" word. Written only by
    /// the carrier with a relaxed load + store (plain moves), read by the watchdog.
    dispatches: AtomicU64,
    /// The earliest timer deadline (u64::MAX: none), kept for the watchdog: lowered when a
    /// timed park pushes an earlier one, refreshed whenever the hub fires timers.
    next_due: AtomicU64,
    /// Green threads other than main that have not finished (the watchdog reads it too).
    alive: SharedCell,
    /// Main called pthread_exit: run until every other thread is done, then let exit proceed.
    main_exiting: Cell<bool>,
    /// In a child forked by another green thread, main does not exist: the process ends with
    /// exit(0) when its last green thread finishes, as glibc's last thread does.
    main_gone: Cell<bool>,
    /// The epoll instance and the wake-up eventfd, created on first use (-1 before): a process
    /// that never waits has no runtime fd, so its descriptors number as natively (a program
    /// listing its open fds, like CPython's fd_status, sees only its own).
    epfd_cell: AtomicI32,
    wake_fd_cell: AtomicI32,
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

/// A value written only by the carrier that the watchdog thread also reads: relaxed loads and
/// stores, the same plain moves as a Cell.
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

// SAFETY: Cell fields are touched only by the carrier thread (module invariant); the inject
// queue is locked and its flag atomic.
unsafe impl Sync for Hub {}

static HUB_PTR: AtomicUsize = AtomicUsize::new(0);
/// GREEN_DEADLOCK: report and abort when nothing can ever wake any green thread.
pub static DEADLOCK_CHECK: AtomicBool = AtomicBool::new(true);
static READY: AtomicBool = AtomicBool::new(false);
/// Whether more than one carrier may run green threads at the same moment (GREEN_HUBS > 1, or
/// a hand-off happened). False: one OS thread touches hub state, and code may rely on that.
static MULTI: AtomicBool = AtomicBool::new(false);

/// Whether several carriers may run green threads at once (see `MULTI`): code that is correct
/// only with one carrier (plain load + store counters, wake-ups that rely on epoll being polled
/// only between switches) takes its concurrent path when this is true.
#[inline(always)]
pub fn multi() -> bool {
    MULTI.load(Ordering::Relaxed)
}

#[inline(always)]
fn hub() -> &'static Hub {
    // SAFETY: HUB_PTR is set once in start() to a leaked Hub before READY is published, and every
    // caller is a green thread (which exist only after start) or checked `started()`.
    unsafe { &*(HUB_PTR.load(Ordering::Relaxed) as *const Hub) }
}

/// Whether the runtime is up (hooks use the real libc path until then).
#[inline(always)]
pub fn started() -> bool {
    READY.load(Ordering::Relaxed)
}

/// The calling green thread, or None for threads that are not green.
#[inline(always)]
pub fn current() -> Option<&'static Task> {
    let w = tls::current_task_word();
    // SAFETY: a non-zero task word in a TCB is always a live pooled Task (set by tls::tag).
    (w != 0).then(|| unsafe { &*(w as *const Task) })
}

/// The green thread running on the carrier now, or None in the hub (the scheduling loop runs
/// on main's stack while main is parked). For signal handlers (sigroute.rs): no store is added
/// to the switch path for it.
pub fn running() -> Option<&'static Task> {
    if !started() {
        return None;
    }
    // SAFETY: `current` always holds a pooled (never freed) task.
    let c: &'static Task = unsafe { &*hub().current.load(Ordering::Relaxed) };
    (!c.is_main || c.park_state.load(Ordering::Relaxed) == RUNNING).then_some(c)
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

/// Moves a runtime fd to the top of the fd range (just below the soft RLIMIT_NOFILE), so the
/// program's own open() calls get the numbers they get natively. Keeps `fd` if that fails.
fn move_high(fd: isize) -> isize {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: a live rlimit out-buffer.
    if fd < 0 || unsafe { sys::syscall3(libc::SYS_getrlimit, libc::RLIMIT_NOFILE as usize, &mut lim as *mut _ as usize, 0) } < 0 {
        return fd;
    }
    let low = lim.rlim_cur.min(1 << 20).saturating_sub(16).max(3) as usize;
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
/// native threads' stacks do), every waiter, timer and queued wake-up, and get an epoll instance
/// and eventfd of our own (the parent's are shared with it).
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
        (*h.timers.get()) = TimerHeap::new();
        h.next_due.store(u64::MAX, Ordering::Relaxed);
        EPOLL_INIT.force_unlock_after_fork();
        for fd in [h.epfd_cell.swap(-1, Ordering::AcqRel), h.wake_fd_cell.swap(-1, Ordering::AcqRel)] {
            if fd >= 0 {
                sys::syscall3(libc::SYS_close, fd as usize, 0, 0);
            }
        }
    }
    // SAFETY: as above: the child's only thread takes over the pools' locks.
    unsafe {
        crate::stack::after_fork_child();
        crate::tls::after_fork_child();
        task::after_fork_child();
        crate::offload::after_fork_child();
    }
    h.inject.lock().clear();
    h.inject_pending.store(false, Ordering::Relaxed);
    while h.runq.pop().is_some() {}
    task::for_each(|t| {
        if !me.is_some_and(|m| core::ptr::eq(m, t)) {
            // A thread that does not exist here: never parked, never scheduled.
            t.park_state.store(RUNNING, Ordering::Relaxed);
        }
    });
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

/// Makes the main thread green thread 0. Called once from the constructor.
pub fn start() -> Result<(), &'static str> {
    let main: &'static Task = Box::leak(Box::new(Task::new(true)));
    task::register(main);
    let tp = tls::thread_pointer();
    main.tcb.set(tp);
    let mask = crate::sigmask::carrier_mask();
    main.sigmask.set(mask);
    let hub = Box::leak(Box::new(Hub {
        runq: RunQueue::new(),
        main,
        current: AtomicPtr::new(main as *const Task as *mut Task),
        loaded_tp: Cell::new(tp),
        loaded_mask: Cell::new(mask),
        timers: UnsafeCell::new(TimerHeap::new()),
        inject: SpinLock::new(Vec::new()),
        inject_pending: AtomicBool::new(false),
        dispatches: AtomicU64::new(0),
        next_due: AtomicU64::new(u64::MAX),
        alive: SharedCell(AtomicUsize::new(0)),
        main_exiting: Cell::new(false),
        main_gone: Cell::new(false),
        epfd_cell: AtomicI32::new(-1),
        wake_fd_cell: AtomicI32::new(-1),
    }));
    HUB_PTR.store(hub as *const Hub as usize, Ordering::Release);
    OWNER_PID.store(getpid(), Ordering::Relaxed);
    // SAFETY: tagging the calling (main) thread's own TCB.
    unsafe { tls::tag(tp, main as *const Task as usize) };
    READY.store(true, Ordering::Release);
    Ok(())
}

/// Queues a new green thread (created by the calling green thread).
pub fn spawn(t: &'static Task) {
    let h = hub();
    h.alive.set(h.alive.get() + 1);
    stats::thread_started(h.alive.get());
    h.runq.push(t);
    crate::watchdog::maybe_start();
}

/// Makes a parked task runnable. Safe from any thread.
pub fn make_ready(t: &'static Task) {
    let h = hub();
    if tls::current_task_word() != 0 {
        // On the carrier (a green thread or the hub between switches).
        h.runq.push(t);
    } else {
        let mut q = h.inject.lock();
        let was_empty = q.is_empty();
        q.push(t as *const Task as usize);
        h.inject_pending.store(true, Ordering::Release);
        drop(q);
        if was_empty {
            let one: u64 = 1;
            // SAFETY: writing 8 bytes from a live u64 to our eventfd.
            unsafe { sys::syscall3(libc::SYS_write, fds(h).1 as usize, &one as *const u64 as usize, 8) };
        }
    }
}

/// Blocks the current task until something makes it ready: its wait node and `park_state` were
/// set up by the caller (park.rs); `deadline` adds a timer. Returns whether a signal sent to the
/// thread meanwhile was delivered (its handler has run) on the way back.
pub fn park_current(t: &'static Task, deadline: Option<u64>, reason: ParkReason) -> bool {
    let h = hub();
    // Only the task itself writes its generation; timers read it on the same carrier.
    let gen = t.park_gen.load(Ordering::Relaxed) + 1;
    t.park_gen.store(gen, Ordering::Release);
    if let Some(d) = deadline {
        // SAFETY: timers are touched only on the carrier thread.
        unsafe { (*h.timers.get()).push(d, t as *const Task as usize, gen) };
        if d < h.next_due.load(Ordering::Relaxed) {
            h.next_due.store(d, Ordering::Relaxed);
        }
    }
    t.reason.set(reason);
    stats::parked(reason);
    switch_out(t);
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
    poll(h, false);
    if h.runq.is_empty() {
        return;
    }
    stats::parked(ParkReason::Yield);
    t.park_state.store(NOTIFIED, Ordering::Release);
    h.runq.push(t);
    switch_out(t);
    t.park_state.store(RUNNING, Ordering::Release);
    crate::signal::deliver_pending(t);
}

/// Leaves the current task: a coroutine suspends to the root; main runs the loop inline.
fn switch_out(t: &'static Task) {
    if t.is_main {
        run_until_main_ready();
    } else {
        let y = t.yielder.get();
        debug_assert!(!y.is_null());
        // SAFETY: the yielder belongs to this running coroutine and outlives it.
        unsafe { (*y).suspend(()) };
    }
}

/// The scheduling loop, run on the main thread's stack while main is not ready.
fn run_until_main_ready() {
    let h = hub();
    loop {
        let t = next_ready(h);
        if t.is_main {
            load_tp(h, t.tcb.get());
            set_current(h, t);
            load_mask(h, t.sigmask.get());
            return;
        }
        run(h, t);
    }
}

#[inline(always)]
fn set_current(h: &Hub, t: &'static Task) {
    h.current.store(t as *const Task as *mut Task, Ordering::Relaxed);
}

#[inline(always)]
fn load_tp(h: &Hub, tp: usize) {
    if h.loaded_tp.get() != tp {
        // SAFETY: tp is a live green TCB; the hub keeps no TLS addresses across the switch.
        unsafe { tls::set_thread_pointer(tp) };
        h.loaded_tp.set(tp);
    }
}

/// Loads a green thread's signal mask into the carrier: one compare per switch, a syscall only
/// when the next thread's mask differs from the loaded one.
#[inline(always)]
fn load_mask(h: &Hub, mask: u64) {
    if h.loaded_mask.get() != mask {
        set_carrier_mask(h, mask);
    }
}

#[cold]
fn set_carrier_mask(h: &Hub, mask: u64) {
    crate::sigmask::set_carrier(mask);
    h.loaded_mask.set(mask);
}

/// The calling green thread changed its own mask: load it now, as the native call does.
pub fn mask_changed(t: &Task) {
    load_mask(hub(), t.sigmask.get());
}

/// Resumes one green thread until it parks or finishes.
fn run(h: &Hub, t: &'static Task) {
    load_tp(h, t.tcb.get());
    // current first: a signal the new mask lets in is then taken by `t` (sigroute.rs).
    set_current(h, t);
    load_mask(h, t.sigmask.get());
    stats::switched();
    // SAFETY: the coroutine is only touched by the carrier, and only here while not running.
    let co = unsafe { (*t.coroutine.get()).as_mut().expect("a queued green thread has a coroutine") };
    let result = co.resume(());
    set_current(h, h.main);
    match result {
        CoroutineResult::Yield(()) => check_stack(t),
        CoroutineResult::Return(()) => finish(h, t),
    }
}

#[inline]
fn check_stack(t: &Task) {
    if !crate::stack::canary_intact_at(t.canary.get()) {
        crate::log::fatal(format_args!(
            "green thread {} overflowed its {} KiB stack (raise GREEN_STACK_SIZE or use pthread_attr_setstacksize)",
            t.id.get(),
            t.stack_size.get() / 1024
        ));
    }
}

/// A green thread's coroutine returned: recycle its stack, publish the exit, and reclaim the
/// rest now (detached) or at join.
fn finish(h: &Hub, t: &'static Task) {
    // SAFETY: the coroutine has completed; we own it.
    let co = unsafe { (*t.coroutine.get()).take().expect("finished coroutine") };
    check_stack(t);
    crate::stack::release(co.into_stack());
    h.alive.set(h.alive.get() - 1);
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

/// Picks the next task to run, polling timers/wake-ups and blocking in epoll when idle.
fn next_ready(h: &Hub) -> &'static Task {
    loop {
        let d = h.dispatches.load(Ordering::Relaxed) + 1;
        h.dispatches.store(d, Ordering::Relaxed);
        if d % POLL_EVERY == 0 || h.runq.is_empty() {
            poll(h, false);
        }
        if let Some(t) = h.runq.pop() {
            return t;
        }
        if h.alive.get() == 0 {
            if h.main_gone.get() {
                // SAFETY: the last thread of a process whose main thread is gone: glibc's
                // start_thread calls exit(0) here.
                unsafe { libc::exit(0) };
            }
            if h.main_exiting.get() {
                return h.main;
            }
        }
        // SAFETY: timers are touched only on the carrier thread.
        if unsafe { (*h.timers.get()).is_empty() } && !h.inject_pending.load(Ordering::Acquire) && DEADLOCK_CHECK.load(Ordering::Relaxed) {
            check_deadlock();
        }
        poll(h, true);
        if let Some(t) = h.runq.pop() {
            return t;
        }
    }
}

/// Fires due timers and drains foreign wake-ups; with `block`, first waits in epoll until the
/// next deadline or a wake-up.
fn poll(h: &Hub, block: bool) {
    // SAFETY: timers are touched only on the carrier thread.
    let timers = unsafe { &mut *h.timers.get() };
    if block {
        let timeout = timers.next_deadline().map(|d| d.saturating_sub(sys::now_ns()));
        if timeout != Some(0) {
            epoll_wait(h, timeout);
        }
    }
    if !timers.is_empty() {
        let now = sys::now_ns();
        while let Some(e) = timers.pop_due(now) {
            // SAFETY: timer entries name pooled (never freed) tasks.
            let t: &'static Task = unsafe { &*(e.task as *const Task) };
            park::expire(t, e.gen);
        }
        h.next_due.store(timers.next_deadline().unwrap_or(u64::MAX), Ordering::Relaxed);
    }
    if crate::sigroute::ROUTE.load(Ordering::Acquire) {
        crate::sigroute::route();
    }
    if h.inject_pending.load(Ordering::Acquire) {
        let drained = core::mem::take(&mut *h.inject.lock());
        h.inject_pending.store(false, Ordering::Release);
        for p in drained {
            // SAFETY: inject holds pooled task pointers.
            h.runq.push(unsafe { &*(p as *const Task) });
        }
    }
}

fn epoll_wait(h: &Hub, timeout_ns: Option<u64>) {
    let mut events = [libc::epoll_event { events: 0, u64: 0 }; 64];
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
    let idle_mask = h.loaded_mask.get() & !crate::sigroute::TRAMPOLINED.load(Ordering::Relaxed);
    let maskp = if idle_mask != h.loaded_mask.get() { &idle_mask as *const u64 as usize } else { 0 };
    // SAFETY: events is a live array of 64; tsp is null or a live timespec; maskp is null or a
    // live 8-byte mask.
    let n = unsafe {
        sys::syscall6(libc::SYS_epoll_pwait2, fds(h).0 as usize, events.as_mut_ptr() as usize, events.len(), tsp, maskp, 8)
    };
    for ev in events.iter().take(n.max(0) as usize) {
        let (token, evs) = (ev.u64, ev.events);
        if token & crate::fd::TOKEN_FD != 0 {
            crate::fd::ready(token, evs);
        } else {
            let mut v: u64 = 0;
            // SAFETY: draining our own non-blocking eventfd into a live u64.
            unsafe { sys::syscall3(libc::SYS_read, fds(h).1 as usize, &mut v as *mut u64 as usize, 8) };
        }
    }
}

/// epoll_ctl on the hub's epoll instance for a program fd (token: TOKEN_FD | fd). Raw result.
pub fn epoll_ctl(op: i32, fd: i32, events: u32) -> isize {
    let mut ev = libc::epoll_event { events, u64: crate::fd::TOKEN_FD | fd as u32 as u64 };
    // SAFETY: ev is live; the kernel validates fd and op.
    unsafe { sys::syscall6(libc::SYS_epoll_ctl, fds(hub()).0 as usize, op as usize, fd as usize, &mut ev as *mut _ as usize, 0, 0) }
}

/// Nothing is ready, no timer is pending and no wake-up is queued. If no other OS thread exists
/// (which could post a semaphore, unlock a mutex, …) nothing can ever wake a green thread:
/// print what each one waits on and abort, like gevent's LoopExit, instead of hanging silently.
/// Process-shared waits poll on timers, so they never look dead here. Idle offload workers
/// wake nobody; a job in flight will.
#[cold]
fn check_deadlock() {
    // The cheap tests first: a server idling in epoll between requests must not pay for /proc.
    if crate::fd::IO_WAITERS.load(Ordering::Relaxed) > 0
        || crate::offload::IN_FLIGHT.load(Ordering::Acquire) > 0
        || os_threads() != 1 + crate::offload::os_threads() + crate::watchdog::os_threads()
    {
        return;
    }
    crate::green_warn!("deadlock: every green thread is waiting and nothing can wake one (GREEN_DEADLOCK=0 waits instead)");
    task::for_each(|t| {
        if t.park_state.load(Ordering::Acquire) == PARKED {
            let name = t.name.get();
            // SAFETY: names are read and written only on the carrier thread.
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
    // SAFETY: NUL-terminated path; buf is live and its length passed.
    let n = unsafe {
        let fd = sys::syscall6(libc::SYS_openat, libc::AT_FDCWD as usize, c"/proc/self/stat".as_ptr() as usize, libc::O_RDONLY as usize, 0, 0, 0);
        if fd < 0 {
            return 0;
        }
        let n = sys::syscall3(libc::SYS_read, fd as usize, buf.as_mut_ptr() as usize, buf.len());
        sys::syscall3(libc::SYS_close, fd as usize, 0, 0);
        n
    };
    if n <= 0 {
        return 0;
    }
    // Field 20 (num_threads); fields after the ")" closing the command name.
    let s = &buf[..n as usize];
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
    h.main_exiting.set(true);
    t.park_state.store(PARKED, Ordering::Release);
    while h.alive.get() > 0 {
        run_until_main_ready();
    }
    t.park_state.store(RUNNING, Ordering::Release);
}

/// What the watchdog thread sees of the hub: a snapshot taken from another OS thread.
pub struct HubView {
    /// Scheduling decisions so far (changes whenever the hub moves).
    pub progress: u64,
    /// A green thread is ready (run queue, a due timer, a foreign wake-up) but the hub has not
    /// picked it. Readiness of fds is not seen (edge-triggered epoll events cannot be peeked).
    pub work_waiting: bool,
    /// The green thread the carrier runs now.
    pub running: &'static Task,
    /// Green threads other than main not yet finished.
    pub alive: usize,
}

/// The watchdog's snapshot (relaxed loads; callable from any thread once started).
pub fn view(now_ns: u64) -> HubView {
    let h = hub();
    let running = h.current.load(Ordering::Relaxed);
    HubView {
        progress: h.dispatches.load(Ordering::Relaxed),
        work_waiting: !h.runq.is_empty() || h.inject_pending.load(Ordering::Relaxed) || h.next_due.load(Ordering::Relaxed) <= now_ns,
        // SAFETY: current always holds a pooled (never freed) task.
        running: unsafe { &*running },
        alive: h.alive.get(),
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
