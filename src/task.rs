//! A green thread: its TCB, saved context, join state and the wait node it parks with.
//!
//! Invariants:
//! - Task structs are pooled and never freed, so a stale pointer held by a timer entry or a
//!   parked waiter list stays dereferenceable; the park generation tells stale from current.
//! - Non-atomic fields are touched only by the task itself, by a carrier's root inside a hub
//!   section while the task is not running (`on_cpu` orders the hand-over between carriers),
//!   or under the lock of the park bucket the task waits in.

use core::cell::{Cell, UnsafeCell};
use core::ffi::c_void;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering};

use crate::lock::SpinLock;
use crate::park::WaitNode;
use crate::stack::Stack;

pub type StartRoutine = unsafe extern "C" fn(*mut c_void) -> *mut c_void;

/// `join_flags` bits.
pub const DETACHED: u32 = 1;
pub const JOIN_CLAIMED: u32 = 2;
pub const EXITED: u32 = 4;

/// `park_state` values: one waker wins the PARKED → NOTIFIED transition.
pub const RUNNING: u32 = 0;
pub const PARKED: u32 = 1;
pub const NOTIFIED: u32 = 2;

/// Why a task is parked (for stats and diagnostics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ParkReason {
    None,
    Sleep,
    Yield,
    Mutex,
    Cond,
    Futex,
    Join,
    Once,
    Sem,
    RwLock,
    Barrier,
    Io,
    /// Waiting for a job on the offload pool (src/offload.rs).
    Offload,
}

/// Laid out by hand (`repr(C)`), cache-line aligned, with the fields every park, wake-up and
/// switch touches first (`HOT_BYTES`): with a thousand threads each waking once per request, a
/// line of this struct is a cache miss, and Rust's own order spread these over five lines (then
/// four, then three; the saved context is one word since the threads switch with context.rs).
#[repr(C, align(64))]
pub struct Task {
    /// First: its address is the task's (park.rs `WaitNode::task`).
    pub wait: WaitNode,
    /// Bumped at every park; timers carry it to recognise stale entries.
    pub park_gen: AtomicU64,
    pub park_state: AtomicU32,
    pub is_main: bool,
    /// Running on a carrier (set by the carrier that resumes it, cleared by that carrier's root
    /// once it has switched out): another carrier that pops it meanwhile waits.
    pub on_cpu: AtomicBool,
    pub reason: Cell<ParkReason>,
    /// What its last park saw of signal handlers: signal::NONE, RESTART or NO_RESTART.
    pub last_intr: Cell<u8>,
    /// Set by the handler trampoline when a program handler runs on this thread (same values);
    /// sigsuspend clears and reads it.
    pub handler_ran: Cell<u8>,
    /// In a call that applies its own signal mask for a wait (sigsuspend, ppoll, pselect,
    /// epoll_pwait: sigmask.rs `wait_with`), until a handler runs: signals reach the thread
    /// through its pending bits and its park, not by running the handler on its way into the
    /// park (sigroute.rs), so that a handler always ends the wait.
    pub masked_wait: AtomicBool,
    /// Its stack is carved without a guard: the stack's canary is checked at every switch-out.
    pub canaried: Cell<bool>,
    /// The TCB (== pthread_t).
    pub tcb: Cell<usize>,
    /// The carrier it runs on (valid while it runs).
    pub carrier: Cell<*const crate::carrier::Carrier>,
    /// Its saved context (context.rs) while it does not run; 0 once it has finished.
    pub ctx_sp: Cell<usize>,
    /// Intrusive link of the hub's run queue.
    pub next_ready: Cell<*mut Task>,
    /// Signals pending for this thread (pthread_kill, raise, or a process-directed signal
    /// routed to it), delivered when it next runs with them unblocked.
    pub pending_signals: AtomicU64,
    /// The thread's signal mask (bit `sig - 1`), applied to the carrier when it runs.
    pub sigmask: Cell<u64>,
    /// Its stack (None for main, which runs on the process's), recycled when it finishes.
    pub stack: UnsafeCell<Option<Stack>>,
    /// 0 for the main thread, then 1, 2, … in creation order.
    pub id: Cell<u64>,
    pub start: Cell<Option<StartRoutine>>,
    pub arg: Cell<*mut c_void>,
    /// The value returned by the start routine or passed to pthread_exit.
    pub result: Cell<*mut c_void>,
    /// DETACHED | JOIN_CLAIMED | EXITED; joiners park on its address.
    pub join_flags: AtomicU32,
    /// The signal this thread is sending itself right now to deliver it (signal.rs
    /// `deliver_slow`), or 0; `SELF_SEND_CLAIMED` is or-ed in once the trampoline has run its
    /// handler for it (sigroute.rs `claim_self_send`). Only this thread's carrier touches it.
    pub self_send: AtomicU32,
    /// The siginfo (its first 48 bytes, all the kernel keeps) of the delivery `self_send` names:
    /// a kick that lands first runs that delivery with it (sigroute.rs `take_kick`).
    pub self_send_info: Cell<[u32; 12]>,
    /// Usable stack bounds as reported by pthread_getattr_np.
    pub stack_lo: Cell<usize>,
    pub stack_size: Cell<usize>,
    pub guard_size: Cell<usize>,
    /// Which of `pending_signals` are routed process-directed signals (their siginfo is kept
    /// in signal.rs until delivery).
    pub routed_signals: AtomicU64,
    /// Which of `pending_signals` were sent plainly (pthread_kill, raise), each delivered once
    /// as a tgkill would be. A pending bit with no plain send, routed signal or queued value
    /// behind it is a wake-up whose value a delivery has already taken (signal.rs `take_plain`).
    pub plain_signals: AtomicU64,
    /// Signals this thread waits for in sigwait/sigtimedwait (they count as unblocked for
    /// routing, as the kernel treats a thread in sigtimedwait).
    pub sigwait_set: Cell<u64>,
    /// Robust mutexes held (an intrusive list through the mutexes), released at exit.
    pub robust_head: Cell<usize>,
    /// pthread_setname_np name, NUL-terminated.
    pub name: UnsafeCell<[u8; 16]>,
    /// Recorded scheduling policy/priority and affinity (sched.rs).
    pub sched: crate::sched::SchedCell,
    /// What the thread is doing in the kernel right now, for the watchdog (see
    /// `watchdog::Call`): set by hooks around calls that may block the carrier.
    pub call: AtomicU64,
    /// In a wait the program asked for that is not a cancellation point (a mutex, rwlock or
    /// barrier wait): asynchronous cancellation acts there (thread.rs `async_cancel_point`).
    pub async_cancel_point: Cell<bool>,
}

// SAFETY: see the module invariants; cross-thread access is through atomics or bucket locks.
unsafe impl Sync for Task {}
// SAFETY: as above.
unsafe impl Send for Task {}

impl Task {
    pub fn new(is_main: bool) -> Task {
        Task {
            id: Cell::new(0),
            tcb: Cell::new(0),
            is_main,
            stack: UnsafeCell::new(None),
            start: Cell::new(None),
            arg: Cell::new(core::ptr::null_mut()),
            result: Cell::new(core::ptr::null_mut()),
            join_flags: AtomicU32::new(0),
            park_state: AtomicU32::new(RUNNING),
            park_gen: AtomicU64::new(0),
            reason: Cell::new(ParkReason::None),
            wait: WaitNode::new(),
            next_ready: Cell::new(core::ptr::null_mut()),
            stack_lo: Cell::new(0),
            stack_size: Cell::new(0),
            guard_size: Cell::new(0),
            canaried: Cell::new(false),
            pending_signals: AtomicU64::new(0),
            routed_signals: AtomicU64::new(0),
            plain_signals: AtomicU64::new(0),
            self_send: AtomicU32::new(0),
            self_send_info: Cell::new([0; 12]),
            masked_wait: AtomicBool::new(false),
            sigmask: Cell::new(0),
            sigwait_set: Cell::new(0),
            last_intr: Cell::new(0),
            handler_ran: Cell::new(0),
            robust_head: Cell::new(0),
            name: UnsafeCell::new([0; 16]),
            sched: crate::sched::SchedCell::new(),
            call: AtomicU64::new(0),
            on_cpu: AtomicBool::new(false),
            carrier: Cell::new(core::ptr::null()),
            ctx_sp: Cell::new(0),
            async_cancel_point: Cell::new(false),
        }
    }

    pub fn detached(&self) -> bool {
        self.join_flags.load(Ordering::Acquire) & DETACHED != 0
    }
}

/// Pool of exited tasks ready for reuse (task structs are never freed).
pub(crate) static TASK_POOL: SpinLock<Vec<usize>> = SpinLock::new(Vec::new());
/// Every task struct ever made (bounded by the peak number of threads), for diagnostics.
pub(crate) static ALL_TASKS: SpinLock<Vec<usize>> = SpinLock::new(Vec::new());

/// Records a task struct for [`for_each`] (called once per struct, at creation).
pub fn register(t: &'static Task) {
    ALL_TASKS.lock().push(t as *const Task as usize);
}

/// Calls `f` on every task struct ever created (live or pooled).
pub fn for_each(mut f: impl FnMut(&'static Task)) {
    let all = core::mem::take(&mut *ALL_TASKS.lock());
    for &p in &all {
        // SAFETY: registered tasks are leaked boxes, never freed.
        f(unsafe { &*(p as *const Task) });
    }
    let mut g = ALL_TASKS.lock();
    let added = core::mem::replace(&mut *g, all);
    g.extend(added);
}

impl ParkReason {
    /// Waits that are POSIX cancellation points (sleeps, condition waits, joins, semaphores,
    /// I/O and process waits); mutex, rwlock, barrier, once and futex waits are not.
    pub fn is_cancellation_point(self) -> bool {
        matches!(self, ParkReason::Sleep | ParkReason::Cond | ParkReason::Join | ParkReason::Sem | ParkReason::Io)
    }

    pub const ALL: [ParkReason; 13] = [
        ParkReason::None,
        ParkReason::Sleep,
        ParkReason::Yield,
        ParkReason::Mutex,
        ParkReason::Cond,
        ParkReason::Futex,
        ParkReason::Join,
        ParkReason::Once,
        ParkReason::Sem,
        ParkReason::RwLock,
        ParkReason::Barrier,
        ParkReason::Io,
        ParkReason::Offload,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ParkReason::None => "none",
            ParkReason::Sleep => "sleep",
            ParkReason::Yield => "yield",
            ParkReason::Mutex => "mutex",
            ParkReason::Cond => "cond",
            ParkReason::Futex => "futex",
            ParkReason::Join => "join",
            ParkReason::Once => "once",
            ParkReason::Sem => "sem",
            ParkReason::RwLock => "rwlock",
            ParkReason::Barrier => "barrier",
            ParkReason::Io => "io",
            ParkReason::Offload => "offload",
        }
    }
}
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A task struct for a new green thread, reset to its initial state.
pub fn alloc() -> &'static Task {
    let recycled = TASK_POOL.lock().pop();
    let t: &'static Task = match recycled {
        // SAFETY: pooled words are leaked `Box<Task>` pointers of exited, reclaimed tasks.
        Some(p) => unsafe { &*(p as *const Task) },
        None => {
            let p = crate::arena::TASKS.lock().alloc(core::mem::size_of::<Task>(), core::mem::align_of::<Task>());
            let p = p.unwrap_or_else(|| crate::log::fatal(format_args!("out of memory for a task struct"))) as *mut Task;
            // SAFETY: fresh, aligned, never-freed arena memory of Task's size.
            let t: &'static Task = unsafe {
                p.write(Task::new(false));
                &*p
            };
            register(t);
            t
        }
    };
    t.id.set(NEXT_ID.fetch_add(1, Ordering::Relaxed));
    t.result.set(core::ptr::null_mut());
    t.join_flags.store(0, Ordering::Relaxed);
    t.pending_signals.store(0, Ordering::Relaxed);
    t.routed_signals.store(0, Ordering::Relaxed);
    t.plain_signals.store(0, Ordering::Relaxed);
    t.self_send.store(0, Ordering::Relaxed);
    t.masked_wait.store(false, Ordering::Relaxed);
    t.sigwait_set.set(0);
    t.last_intr.set(0);
    t.park_state.store(RUNNING, Ordering::Relaxed);
    t.reason.set(ParkReason::None);
    t.call.store(0, Ordering::Relaxed);
    t.next_ready.set(core::ptr::null_mut());
    // SAFETY: the task is not running; no one else references its name.
    unsafe { *t.name.get() = [0; 16] };
    t
}

/// Returns a reclaimed task to the pool.
pub fn release(t: &'static Task) {
    TASK_POOL.lock().push(t as *const Task as usize);
}

/// A FIFO of ready tasks linked through `Task::next_ready` (no allocation per push).
pub struct RunQueue {
    /// Atomic only so the watchdog thread may peek at emptiness: relaxed loads and stores are
    /// plain moves, the same code as a Cell.
    head: AtomicPtr<Task>,
    tail: Cell<*mut Task>,
}

impl RunQueue {
    pub const fn new() -> Self {
        RunQueue { head: AtomicPtr::new(core::ptr::null_mut()), tail: Cell::new(core::ptr::null_mut()) }
    }

    pub fn push(&self, t: &Task) {
        let p = t as *const Task as *mut Task;
        t.next_ready.set(core::ptr::null_mut());
        let tail = self.tail.get();
        if tail.is_null() {
            self.head.store(p, Ordering::Relaxed);
        } else {
            // SAFETY: queued tasks are live (pooled, never freed).
            unsafe { (*tail).next_ready.set(p) };
        }
        self.tail.set(p);
    }

    pub fn pop(&self) -> Option<&'static Task> {
        let h = self.head.load(Ordering::Relaxed);
        if h.is_null() {
            return None;
        }
        // SAFETY: as in push.
        let t: &'static Task = unsafe { &*h };
        let next = t.next_ready.get();
        self.head.store(next, Ordering::Relaxed);
        if next.is_null() {
            self.tail.set(core::ptr::null_mut());
        }
        t.next_ready.set(core::ptr::null_mut());
        Some(t)
    }

    /// The task `pop` would return next, without taking it.
    pub fn peek(&self) -> *const Task {
        self.head.load(Ordering::Relaxed)
    }

    /// Also called by the watchdog thread, where it is a racy snapshot.
    pub fn is_empty(&self) -> bool {
        self.head.load(Ordering::Relaxed).is_null()
    }

    /// Empties the queue without reading it. For a fork child, whose queues another carrier may
    /// have been changing at the fork (a pop that had cleared `head` but not yet `tail`: popping
    /// until empty then left `tail` set, and the next push linked behind it was never found).
    pub fn forget_all(&self) {
        self.head.store(core::ptr::null_mut(), Ordering::Relaxed);
        self.tail.set(core::ptr::null_mut());
    }
}

impl Default for RunQueue {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_queue_is_fifo() {
        let tasks: Vec<&'static Task> = (0..5).map(|_| &*Box::leak(Box::new(Task::new(false)))).collect();
        for (i, t) in tasks.iter().enumerate() {
            t.id.set(i as u64);
        }
        let q = RunQueue::new();
        assert!(q.is_empty());
        for t in &tasks {
            q.push(t);
        }
        assert_eq!(q.pop().unwrap().id.get(), 0);
        q.push(tasks[0]);
        let rest: Vec<u64> = std::iter::from_fn(|| q.pop()).map(|t| t.id.get()).collect();
        assert_eq!(rest, vec![1, 2, 3, 4, 0]);
        assert!(q.is_empty());
        assert!(q.pop().is_none());
    }

    #[test]
    fn forget_all_clears_a_torn_queue() {
        let a: &'static Task = Box::leak(Box::new(Task::new(false)));
        let b: &'static Task = Box::leak(Box::new(Task::new(false)));
        let q = RunQueue::new();
        q.push(a);
        // A pop interrupted by fork after clearing `head`, before clearing `tail`.
        q.head.store(core::ptr::null_mut(), Ordering::Relaxed);
        assert!(q.pop().is_none());
        q.forget_all();
        q.push(b);
        assert!(core::ptr::eq(q.pop().expect("the task pushed after forget_all"), b));
        assert!(q.is_empty());
    }

    #[test]
    fn pooled_tasks_are_reset() {
        let t = alloc();
        t.join_flags.store(EXITED | DETACHED, Ordering::Relaxed);
        let id = t.id.get();
        release(t);
        let u = alloc();
        assert_eq!(u.join_flags.load(Ordering::Relaxed), 0);
        assert!(u.id.get() > id);
        release(u);
    }
}

/// The first bytes of a Task that hold every field a park, a wake-up and a switch touch.
pub const HOT_BYTES: usize = 128;

const _: () = assert!(core::mem::offset_of!(Task, wait) == 0, "a wait node's address is its task's");

#[cfg(test)]
mod layout_tests {
    use super::{Task, HOT_BYTES};
    use core::mem::offset_of;

    #[test]
    fn the_fields_of_a_switch_come_first() {
        assert_eq!(core::mem::align_of::<Task>(), 64);
        let hot = [
            offset_of!(Task, wait) + core::mem::size_of::<crate::park::WaitNode>(),
            offset_of!(Task, park_state) + 4,
            offset_of!(Task, tcb) + 8,
            offset_of!(Task, carrier) + 8,
            offset_of!(Task, ctx_sp) + 8,
            offset_of!(Task, park_gen) + 8,
            offset_of!(Task, next_ready) + 8,
            offset_of!(Task, canaried) + 1,
            offset_of!(Task, pending_signals) + 8,
            offset_of!(Task, sigmask) + 8,
        ];
        for end in hot {
            assert!(end <= HOT_BYTES, "a hot field ends at byte {end}");
        }
    }
}
