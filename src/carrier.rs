//! Carriers: the OS threads that run green threads. Carrier 0 is the process's original
//! thread; `GREEN_HUBS=N` adds N-1 "home" carriers when the first green thread is created, and
//! a hand-off (watchdog.rs) adds or wakes one more while a carrier is stuck.
//!
//! Per-carrier state lives here, reached from the running task (`Task::carrier`) or passed to
//! the root loop, never through `thread_local!` (every green TCB has its own copy of those).
//!
//! Lifecycle: a carrier is ACTIVE (running green threads, or idle in the hub's epoll) or SPARE
//! (parked on its `state` futex, waiting to be handed work). A carrier the watchdog found stuck
//! is marked `surplus`; when its green thread next parks, it leaves and becomes SPARE. A
//! hand-off carrier that finds a home carrier SPARE (when about to go idle, and every
//! POLL_EVERY dispatches while busy) wakes that one and leaves, handing it its queue, so a
//! program whose stall is over returns to its GREEN_HUBS active carriers (and with one, to one
//! carrier's unlocked sections: hub.rs `end_multi`); a hand-off
//! carrier SPARE for a second exits its thread (the next hand-off reuses a spare first).

use core::cell::Cell;
use core::ffi::c_void;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicIsize, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use crate::sys;
use crate::task::{RunQueue, Task};

/// Carriers at most (home + hand-off). Hand-offs beyond it are refused (the stall then lasts).
pub const MAX_CARRIERS: usize = 320;

/// `state` values.
pub const ACTIVE: u32 = 0;
pub const SPARE: u32 = 1;
/// A hand-off carrier whose thread has exited (its struct is reused by the next hand-off).
pub const GONE: u32 = 2;

pub struct Carrier {
    pub index: usize,
    /// The root context's saved stack pointer while a green thread runs (context.rs).
    pub root_sp: Cell<usize>,
    /// The green thread running now; null while the root runs. Read by the watchdog.
    pub current: AtomicPtr<Task>,
    /// The TCB the root runs on while several carriers run (so it never shares a green
    /// thread's glibc state with the carrier that runs that thread next): the carrier
    /// thread's own, or for carrier 0 one made when the process turns multi-carrier.
    pub root_tp: RootTp,
    /// The thread pointer and signal mask loaded on this OS thread. The thread pointer is
    /// atomic (relaxed) because any thread may compare it with its own (hub.rs `current`).
    pub loaded_tp: AtomicUsize,
    pub loaded_mask: Cell<u64>,
    /// Whether the hub section entered by the green thread that just switched out took the
    /// hub lock (hub.rs): the root releases what was taken.
    pub section_locked: Cell<bool>,
    /// Scheduling decisions made here: the watchdog's "has this carrier moved" word.
    pub dispatches: AtomicU64,
    /// Kernel tid (for /proc/self/task/<tid>/syscall and signal routing).
    pub tid: AtomicI32,
    /// ACTIVE, SPARE or GONE; a SPARE carrier sleeps on this word.
    pub state: AtomicU32,
    /// Found stuck by the watchdog: leave at the next scheduling point.
    pub surplus: AtomicBool,
    /// Tasks made ready by green threads running here (several carriers only): this carrier
    /// runs them next, cache-warm and without a cross-CPU wake-up, unless an idle carrier
    /// steals them first (hub.rs). Touched only inside hub sections.
    pub runq: RunQueue,
    /// Green threads that parked on fd readiness on this carrier, less those that resumed here
    /// from such a park (fd.rs `io_waiting`): written only by this carrier's OS thread, so a
    /// load and a store, not a locked instruction, on every I/O park and resume.
    pub io_waiters: AtomicIsize,
}

// SAFETY: Cell fields are touched only by the carrier's own OS thread (its root, or the green
// thread it runs), `runq` only inside hub sections (by thieves too); the rest are atomics.
unsafe impl Sync for Carrier {}

impl Carrier {
    fn new(index: usize) -> Carrier {
        Carrier {
            index,
            root_sp: Cell::new(0),
            root_tp: RootTp(AtomicUsize::new(0)),
            current: AtomicPtr::new(core::ptr::null_mut()),
            loaded_tp: AtomicUsize::new(0),
            loaded_mask: Cell::new(0),
            section_locked: Cell::new(false),
            dispatches: AtomicU64::new(0),
            tid: AtomicI32::new(0),
            state: AtomicU32::new(ACTIVE),
            surplus: AtomicBool::new(false),
            runq: RunQueue::new(),
            io_waiters: AtomicIsize::new(0),
        }
    }

    /// Whether this is one of the GREEN_HUBS home carriers (carrier 0 included).
    pub fn is_home(&self) -> bool {
        self.index < HOME.load(Ordering::Relaxed)
    }
}

/// A TCB address set once, possibly by another thread before the process turns multi-carrier.
pub struct RootTp(AtomicUsize);

impl RootTp {
    pub fn get(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }
    pub fn set(&self, tp: usize) {
        self.0.store(tp, Ordering::Release)
    }
    /// Sets it unless already set; false if another thread set it first.
    pub fn set_if_unset(&self, tp: usize) -> bool {
        self.0.compare_exchange(0, tp, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }
}

static CARRIERS: [AtomicPtr<Carrier>; MAX_CARRIERS] = [const { AtomicPtr::new(core::ptr::null_mut()) }; MAX_CARRIERS];
/// Carrier structs made so far (slots below it are non-null).
static MADE: AtomicUsize = AtomicUsize::new(0);
/// GREEN_HUBS: the home carriers.
static HOME: AtomicUsize = AtomicUsize::new(1);
/// Carriers currently ACTIVE.
pub static ACTIVE_COUNT: AtomicUsize = AtomicUsize::new(1);

/// Sets GREEN_HUBS (0: auto, the CPUs in the affinity mask).
pub fn configure(hubs: usize) {
    let n = if hubs == 0 { cpus_allowed() } else { hubs };
    HOME.store(n.clamp(1, crate::config::MAX_HUBS), Ordering::Relaxed);
}

pub fn home_count() -> usize {
    HOME.load(Ordering::Relaxed)
}

fn cpus_allowed() -> usize {
    let mut set = [0u64; 16];
    // SAFETY: a live 128-byte mask buffer for the calling thread.
    let n = unsafe { sys::syscall3(libc::SYS_sched_getaffinity, 0, core::mem::size_of_val(&set), set.as_mut_ptr() as usize) };
    if n <= 0 {
        return 1;
    }
    set.iter().map(|w| w.count_ones() as usize).sum::<usize>().max(1)
}

/// Carrier 0, made at start-up for the original thread.
pub fn init_original(tp: usize, mask: u64) -> &'static Carrier {
    let c = get_or_make(0);
    c.loaded_tp.store(tp, Ordering::Relaxed);
    c.loaded_mask.set(mask);
    c.tid.store(gettid(), Ordering::Relaxed);
    c
}

fn get_or_make(i: usize) -> &'static Carrier {
    let p = CARRIERS[i].load(Ordering::Acquire);
    if !p.is_null() {
        // SAFETY: carrier structs are leaked, never freed.
        return unsafe { &*p };
    }
    let c: &'static Carrier = Box::leak(Box::new(Carrier::new(i)));
    CARRIERS[i].store(c as *const Carrier as *mut Carrier, Ordering::Release);
    MADE.fetch_max(i + 1, Ordering::AcqRel);
    c
}

/// The carrier at `i`, if made.
pub fn get(i: usize) -> Option<&'static Carrier> {
    let p = CARRIERS[i].load(Ordering::Acquire);
    // SAFETY: carrier structs are leaked, never freed.
    (!p.is_null()).then(|| unsafe { &*p })
}

/// How many carrier structs exist (indices below it are made).
pub fn made() -> usize {
    MADE.load(Ordering::Acquire)
}

/// Calls `f` on every carrier made so far.
pub fn for_each(mut f: impl FnMut(&'static Carrier)) {
    for i in 0..MADE.load(Ordering::Acquire) {
        if let Some(c) = get(i) {
            f(c);
        }
    }
}

/// Carrier 0 (the original thread).
pub fn original() -> &'static Carrier {
    get(0).expect("carrier 0 is made at start-up")
}

pub fn gettid() -> i32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { sys::syscall3(libc::SYS_gettid, 0, 0, 0) as i32 }
}

/// The carrier the calling OS thread is, found by its kernel tid (signal handlers and other
/// rare paths; the hot paths have their carrier at hand).
pub fn by_tid(tid: i32) -> Option<&'static Carrier> {
    let mut found = None;
    for_each(|c| {
        if found.is_none() && c.tid.load(Ordering::Relaxed) == tid && c.state.load(Ordering::Relaxed) != GONE {
            found = Some(c);
        }
    });
    found
}

/// OS threads carriers add to the process besides the one that runs its first carrier (for the
/// deadlock check). Not "every carrier but carrier 0": in a child forked from another carrier
/// that one is the only thread (counted as extra, the child's deadlock was never reported).
pub fn extra_os_threads() -> usize {
    let mut n = 0usize;
    for_each(|c| {
        if c.state.load(Ordering::Relaxed) != GONE {
            n += 1;
        }
    });
    n.saturating_sub(1)
}

/// Starts the home carriers 1..GREEN_HUBS (called once, on the first green thread's creation).
/// Returns how many started.
pub fn start_home(root: extern "C" fn(*mut c_void) -> *mut c_void) -> usize {
    let mut started = 0;
    for i in 1..home_count() {
        let c = get_or_make(i);
        ACTIVE_COUNT.fetch_add(1, Ordering::AcqRel);
        if start_thread(c, root) {
            started += 1;
        } else {
            ACTIVE_COUNT.fetch_sub(1, Ordering::AcqRel);
            c.state.store(GONE, Ordering::Release);
            crate::green_warn!("GREEN_HUBS: carrier {i} could not be started; running with fewer");
        }
    }
    started
}

/// Adds one ACTIVE carrier for a hand-off: wakes a SPARE one (home first), or starts a thread in
/// a GONE or new slot. False when none could be had.
pub fn add_one(root: extern "C" fn(*mut c_void) -> *mut c_void) -> bool {
    let mut woke = false;
    for_each(|c| {
        if !woke && c.state.compare_exchange(SPARE, ACTIVE, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
            ACTIVE_COUNT.fetch_add(1, Ordering::AcqRel);
            wake(c);
            woke = true;
        }
    });
    if woke {
        return true;
    }
    let home = home_count();
    for i in home..MAX_CARRIERS {
        let fresh = get(i).is_none();
        let c = get_or_make(i);
        if fresh || c.state.compare_exchange(GONE, ACTIVE, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
            c.state.store(ACTIVE, Ordering::Release);
            c.surplus.store(false, Ordering::Relaxed);
            ACTIVE_COUNT.fetch_add(1, Ordering::AcqRel);
            if start_thread(c, root) {
                return true;
            }
            ACTIVE_COUNT.fetch_sub(1, Ordering::AcqRel);
            c.state.store(GONE, Ordering::Release);
            return false;
        }
    }
    false
}

/// Starts `c`'s OS thread and waits until it has named itself (its first action): until then
/// it looks like a program thread to ps and strace, and a short program could end before.
fn start_thread(c: &Carrier, root: extern "C" fn(*mut c_void) -> *mut c_void) -> bool {
    c.tid.store(0, Ordering::Release);
    if crate::osthread::spawn(root, c as *const Carrier as *mut c_void).is_none() {
        return false;
    }
    crate::stats::CARRIER_THREADS.fetch_add(1, Ordering::Relaxed);
    while c.tid.load(Ordering::Acquire) == 0 {
        // SAFETY: sched_yield takes no arguments.
        unsafe { sys::syscall3(libc::SYS_sched_yield, 0, 0, 0) };
    }
    true
}

fn wake(c: &Carrier) {
    // SAFETY: a futex wake on a live word of a leaked struct.
    unsafe { sys::syscall6(libc::SYS_futex, c.state.as_ptr() as usize, (libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG) as usize, 1, 0, 0, 0) };
}

/// How long a hand-off carrier waits as a spare before its thread exits (a program that
/// stalls again soon reuses it instead of starting a thread per stall).
const SPARE_LINGER_NS: u64 = 1_000_000_000;

/// The calling carrier leaves: SPARE until `add_one` wakes it (true). A hand-off carrier not
/// woken within SPARE_LINGER_NS becomes GONE instead (false: the caller lets its thread exit).
///
/// A spare blocks every signal while it waits: it runs no green thread, and with the mask of the
/// last one it ran the kernel would give it process-directed signals that thread let in, whose
/// handlers then ran on no green thread at all (a main waiting in sigwaitinfo for a signal it
/// blocks missed those sent after a hand-off while its old mask still let them in: rt_queue
/// hung under load). Its root loads the next thread's mask when it runs one again.
pub fn leave(c: &Carrier) -> bool {
    if c.loaded_mask.get() != crate::osthread::RUNTIME_MASK {
        crate::sigmask::set_carrier(crate::osthread::RUNTIME_MASK);
        c.loaded_mask.set(crate::osthread::RUNTIME_MASK);
    }
    c.surplus.store(false, Ordering::Relaxed);
    c.state.store(SPARE, Ordering::Release);
    ACTIVE_COUNT.fetch_sub(1, Ordering::AcqRel);
    let deadline = (!c.is_home()).then(|| sys::now_ns() + SPARE_LINGER_NS);
    while c.state.load(Ordering::Acquire) == SPARE {
        match deadline {
            Some(d) => {
                let now = sys::now_ns();
                if now >= d {
                    if c.state.compare_exchange(SPARE, GONE, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                        return false;
                    }
                    break; // woken meanwhile
                }
                let ts = sys::ns_to_timespec(d - now);
                // SAFETY: a futex wait with a live relative timeout on a leaked struct's word.
                unsafe { sys::syscall6(libc::SYS_futex, c.state.as_ptr() as usize, (libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG) as usize, SPARE as usize, &ts as *const _ as usize, 0, 0) };
            }
            // SAFETY: a futex wait on a live word of a leaked struct, for as long as it is SPARE.
            None => {
                unsafe { sys::syscall6(libc::SYS_futex, c.state.as_ptr() as usize, (libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG) as usize, SPARE as usize, 0, 0, 0) };
            }
        }
    }
    true
}

/// A SPARE home carrier, woken to take the place of the calling hand-off carrier.
pub fn wake_spare_home() -> bool {
    for i in 0..home_count() {
        if let Some(c) = get(i) {
            if c.state.compare_exchange(SPARE, ACTIVE, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
                ACTIVE_COUNT.fetch_add(1, Ordering::AcqRel);
                wake(c);
                return true;
            }
        }
    }
    false
}

/// In a fork child only the forking thread exists: it becomes the only carrier (the child does
/// not start home carriers again: GREEN_HUBS applies to a process image, and exec restores it).
pub fn after_fork_child(me: &'static Carrier) {
    for_each(|c| {
        if !core::ptr::eq(c, me) {
            c.state.store(GONE, Ordering::Relaxed);
            c.current.store(core::ptr::null_mut(), Ordering::Relaxed);
        }
    });
    me.state.store(ACTIVE, Ordering::Relaxed);
    me.surplus.store(false, Ordering::Relaxed);
    me.tid.store(gettid(), Ordering::Relaxed);
    ACTIVE_COUNT.store(1, Ordering::Relaxed);
}
