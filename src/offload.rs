//! The offload pool: a few real OS threads that make the calls the hub cannot make cooperative
//! (the fsync family, reads of regular files that miss the page cache, the resolver, blocking
//! FIFO opens, waits for file locks and System V IPC). A green thread hands a job to the pool and parks; the worker runs it, marks it
//! done and unparks the caller, which reaches the hub through its inject queue and eventfd.
//!
//! Policy:
//! - Threads start lazily, one per job that finds no idle worker, up to GREEN_OFFLOAD_THREADS
//!   (default 4); further jobs queue. A worker idle for [`IDLE_NS`] exits (as glibc's POSIX AIO
//!   helpers do after their idle time).
//! - A wait that only another thread can end (a file lock, a System V message or semaphore, a
//!   FIFO's other end: [`run_interruptible`]) never queues behind the bound: it starts a worker
//!   of its own, up to [`MAX_WORKERS`], and workers held by such waits do not count against
//!   GREEN_OFFLOAD_THREADS; so does a join of a thread that is not green ([`run_waiting`]).
//!   Otherwise waits filling the pool would keep their wakers' jobs (or
//!   other waits' wakers) queued behind them for good, where native threads would each have
//!   blocked on their own. Decision: 4096, not unbounded: natively each of these waits holds
//!   an OS thread too, and a program with more than 4096 threads in file-lock, FIFO-open or
//!   System V waits at once is past what this bound is for (README limits); the slot table
//!   stays a static array, scanned only up to its highest slot used.
//! - Workers are plain glibc threads created with the real `pthread_create` (found with
//!   `dlsym(RTLD_NEXT)`, so the runtime's own call never reaches libgreen's hook). Their TCBs
//!   carry no green task, so every hook they reach takes the real path; they are not green
//!   threads and are not counted as such. They run with every signal blocked but SIGSETXID
//!   (setuid() must still reach them), so process-directed signals keep going to the hub, where
//!   green threads run their handlers; SIGCANCEL is unblocked only around an interruptible call.
//! - The first worker makes the process multi-threaded: glibc's single-thread shortcuts
//!   (`header.multiple_threads` in each TCB, e.g. malloc's fastbins without atomics) are turned
//!   off in every green TCB at that moment ([`crate::tls::mark_multithreaded`]).
//! - An offload wait is not a cancellation point and survives signals: the job reads the
//!   caller's stack, so the caller waits until it is done. A handler runs on the waiting thread
//!   meanwhile (its park is interrupted, then resumed). A wait a handler ends natively
//!   ([`run_interruptible`]: System V IPC always, as it is never restarted, signal(7); file locks
//!   and FIFO opens when the handler lacks SA_RESTART) ends so here: once such a handler has
//!   run, the worker's call is interrupted with glibc's SIGCANCEL sent as SI_QUEUE, again every
//!   [`KICK_EVERY_NS`] until the job is done, since a kick that lands before the call enters the
//!   kernel is lost. The kick's handler does nothing and lacks SA_RESTART, so even a call the
//!   kernel would restart ends with EINTR ([`ensure_kick_handler`]). A kick that arrives late
//!   finds SIGCANCEL blocked (it is delivered, harmlessly, when the worker next unblocks it), or
//!   lands in a later interruptible job of the same worker, which retries an EINTR it did not
//!   ask for.
//! - If no worker can be created, the job runs on the caller (blocking the hub, as before).
//! - fork: the child has no workers; its pool starts empty ([`after_fork_child`]).

use core::cell::Cell;
use core::ffi::{c_int, c_void};
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicUsize, Ordering};

use crate::glibc;
use crate::hub;
use crate::lock::SpinLock;
use crate::park;
use crate::stats;
use crate::sys;
use crate::task::ParkReason;

/// Upper bound of GREEN_OFFLOAD_THREADS.
pub const MAX_THREADS: usize = 64;
/// Workers at once, waits included (module policy).
pub const MAX_WORKERS: usize = 4096;
/// Default of GREEN_OFFLOAD_THREADS.
pub const DEFAULT_THREADS: usize = 4;
/// A worker with nothing to do for this long exits.
pub const IDLE_NS: u64 = 2_000_000_000;

/// GREEN_OFFLOAD_THREADS.
pub static MAX: AtomicUsize = AtomicUsize::new(DEFAULT_THREADS);

/// How a job waits (module policy).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// A call that ends by itself (fsync, a read, the resolver).
    Bounded,
    /// A wait only another thread can end, which a handler run on the waiting thread ends with
    /// EINTR: always, or unless the handler has SA_RESTART (`restartable`; [`run_interruptible`]).
    Interruptible { restartable: bool },
    /// A wait only another thread can end, which no handler ends ([`run_waiting`]).
    Uninterruptible,
}

/// One call to run on a worker; lives on the stack of the green thread waiting for it.
struct Job {
    call: *mut (dyn FnMut() + 'static),
    kind: Wait,
    /// The kernel tid of the worker running it (0 until one does), for [`kick`].
    tid: AtomicI32,
    /// 1 once `call` has returned; the waiter parks on its address.
    done: AtomicU32,
    next: Cell<*const Job>,
}

struct Queue {
    head: *const Job,
    tail: *const Job,
    len: usize,
    /// Workers waiting for a job.
    idle: usize,
    /// Workers running a job.
    busy: usize,
    /// Workers started and not exited.
    live: usize,
    /// Workers running a job that waits on other threads (not `Wait::Bounded`).
    waiting: usize,
}

// SAFETY: the job pointers are only followed under the queue lock or by the one worker that
// popped the job, while its submitter waits.
unsafe impl Send for Queue {}

static QUEUE: SpinLock<Queue> = SpinLock::new(Queue::EMPTY);

impl Queue {
    const EMPTY: Queue = Queue { head: core::ptr::null(), tail: core::ptr::null(), len: 0, idle: 0, busy: 0, live: 0, waiting: 0 };
}
/// Idle workers wait on this word; a submitter bumps it and wakes one.
static SEQ: AtomicU32 = AtomicU32::new(0);
/// Jobs submitted and not yet completed (the deadlock check must not fire while any is).
pub static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
/// The pthread_t of each started, not yet joined worker (0: free slot).
static THREADS: [AtomicUsize; MAX_WORKERS] = [const { AtomicUsize::new(0) }; MAX_WORKERS];
/// Set by a worker that is exiting; the next spawn joins it and frees the slot.
static EXITED: [AtomicBool; MAX_WORKERS] = [const { AtomicBool::new(false) }; MAX_WORKERS];
/// One more than the highest slot ever claimed: scans of THREADS stop there (a fork child
/// resets only those, and touches none of the table's untouched pages).
static SLOTS_USED: AtomicUsize = AtomicUsize::new(0);

/// The slots ever used, with their flags.
fn used_slots() -> impl Iterator<Item = (usize, &'static AtomicUsize, &'static AtomicBool)> {
    let n = SLOTS_USED.load(Ordering::Acquire);
    THREADS[..n].iter().zip(EXITED[..n].iter()).enumerate().map(|(i, (t, e))| (i, t, e))
}

/// Runs `f` on an offload worker while the calling green thread parks, and returns its result.
/// Threads that are not green run `f` directly, and so does a green thread with no other green
/// thread alive (nothing could run meanwhile: the round trip would only add latency), and one
/// whose pool cannot start a worker.
pub fn run<R>(f: impl FnOnce() -> R) -> R {
    run_job(|_| f(), Wait::Bounded)
}

/// Makes `call`, a system call that waits for another thread or process (raw result, -errno),
/// on a worker while the calling green thread parks (module policy): it gets a worker even when
/// GREEN_OFFLOAD_THREADS are busy, and a handler run on the caller meanwhile ends it with EINTR
/// as natively: always, or when `restartable` only if the handler lacks SA_RESTART (one with it
/// lets the wait go on, as the kernel would restart the call). An EINTR the caller did not ask
/// for (a late kick meant for an earlier job of the worker) makes the call again.
pub fn run_interruptible(restartable: bool, call: impl Fn() -> isize) -> isize {
    run_job(
        |kicked: &AtomicBool| loop {
            let r = call();
            if r != -(libc::EINTR as isize) || kicked.load(Ordering::SeqCst) {
                return r;
            }
        },
        Wait::Interruptible { restartable },
    )
}

/// Makes `call`, a wait that only another thread can end and that no signal handler ends (a join
/// of a thread that is not green: glibc's join goes on waiting after a handler), on a worker
/// while the calling green thread parks. Like [`run_interruptible`]'s waits it gets a worker of
/// its own beyond GREEN_OFFLOAD_THREADS; it is never kicked.
pub fn run_waiting<R>(call: impl FnOnce() -> R) -> R {
    run_job(|_| call(), Wait::Uninterruptible)
}

/// While a job is being interrupted, how often the worker is kicked again.
pub const KICK_EVERY_NS: u64 = 1_000_000;

fn run_job<R>(f: impl FnOnce(&AtomicBool) -> R, kind: Wait) -> R {
    // Run here, the call is the caller's own: any EINTR it sees is a handler's.
    if hub::current().is_none() || hub::alive() == 0 {
        return f(&AtomicBool::new(true));
    }
    let kicked = AtomicBool::new(false);
    let kicked_ref = &kicked;
    let mut f = Some(f);
    let mut out: Option<R> = None;
    let out_ptr: *mut Option<R> = &mut out;
    let mut call = || {
        let f = f.take().expect("an offload job runs once");
        // SAFETY: out lives in the submitter's frame, which waits until the job is done.
        unsafe { *out_ptr = Some(f(kicked_ref)) };
    };
    let call: &mut dyn FnMut() = &mut call;
    // SAFETY: only the lifetime is erased: the job completes before this frame returns (the
    // caller waits for `done` below, and no worker touches the job after setting it).
    let call: *mut (dyn FnMut() + 'static) = unsafe { core::mem::transmute(call) };
    let job = Job { call, kind, tid: AtomicI32::new(0), done: AtomicU32::new(0), next: Cell::new(core::ptr::null()) };
    stats::offloaded();
    if !submit(&job) {
        kicked.store(true, Ordering::SeqCst);
        // SAFETY: no worker exists to run it; we run it ourselves, once.
        unsafe { (*job.call)() };
    } else {
        let key = &job.done as *const AtomicU32 as usize;
        let mut kicking = false;
        while job.done.load(Ordering::Acquire) == 0 {
            let deadline = kicking.then(|| sys::now_ns() + KICK_EVERY_NS);
            park::park(key, !0, || job.done.load(Ordering::Acquire) == 0, deadline, ParkReason::Offload);
            // A handler has run on the way out of the park, and the native call would end.
            if let Wait::Interruptible { restartable } = kind {
                kicking |= crate::signal::interrupted(restartable);
            }
            if kicking && job.done.load(Ordering::Acquire) == 0 {
                kicked.store(true, Ordering::SeqCst);
                kick(job.tid.load(Ordering::Acquire));
            }
        }
    }
    out.expect("the job ran")
}

/// Interrupts the call worker `tid` is making (module policy); 0: no worker has the job yet.
fn kick(tid: i32) {
    if tid == 0 {
        return;
    }
    ensure_kick_handler();
    // SAFETY: siginfo_t is plain data; all-zero is a valid value.
    let mut info: libc::siginfo_t = unsafe { core::mem::zeroed() };
    info.si_signo = glibc::SIGCANCEL;
    info.si_code = libc::SI_QUEUE;
    // SAFETY: getpid takes no arguments; rt_tgsigqueueinfo reads the live `info`, to a thread of
    // this process.
    unsafe {
        let pid = sys::syscall3(libc::SYS_getpid, 0, 0, 0) as usize;
        sys::syscall6(libc::SYS_rt_tgsigqueueinfo, pid, tid as usize, glibc::SIGCANCEL as usize, &info as *const libc::siginfo_t as usize, 0, 0);
    }
}

/// SIGCANCEL's action for kicks: a handler that does nothing, without SA_RESTART. Until glibc
/// installs its own (at the first real pthread_cancel) the default action would end the
/// process, and an inherited SIG_IGN would drop the kick.
extern "C" fn kick_handler(_sig: c_int, _info: *mut libc::siginfo_t, _uctx: *mut c_void) {}

/// The return from a handler installed with the raw syscall: rt_sigreturn (glibc's own
/// `__restore_rt` is not exported).
#[unsafe(naked)]
extern "C" fn restore_rt() {
    core::arch::naked_asm!("mov rax, 15", "syscall")
}

/// Makes SIGCANCEL's action one that interrupts even a call the kernel restarts: ours
/// ([`kick_handler`]) unless a handler is there, and glibc's (installed by a real
/// pthread_cancel, ignoring anything but its own SI_TKILL) without its SA_RESTART. Checked at
/// every kick, as glibc may install its handler at any time. Decision: glibc sets SA_RESTART so
/// that its cancellation signal cannot end a call of a thread it was not meant for; here it
/// reaches the workers, which block it outside interruptible calls, and otherwise only a
/// thread that is not green cancelled with glibc's own pthread_cancel (green threads are
/// cancelled without signals), whose restartable call may then end with EINTR (README limits).
fn ensure_kick_handler() {
    const SA_RESTORER: usize = 0x0400_0000;
    let mut old = [0usize; 4]; // kernel struct sigaction: handler, flags, restorer, mask
    // SAFETY: reading SIGCANCEL's action into a live buffer of the kernel's struct size.
    unsafe { sys::syscall6(libc::SYS_rt_sigaction, glibc::SIGCANCEL as usize, 0, old.as_mut_ptr() as usize, 8, 0, 0) };
    // SIG_IGN too: a process can inherit SIGCANCEL ignored (GNU make 4.3 runs its recipes with
    // signals 32 and 33 ignored), and an ignored kick does not interrupt anything.
    let new = if old[0] == libc::SIG_DFL || old[0] == libc::SIG_IGN {
        [kick_handler as *const () as usize, libc::SA_SIGINFO as usize | SA_RESTORER, restore_rt as *const () as usize, 0]
    } else if old[1] & libc::SA_RESTART as usize != 0 {
        [old[0], old[1] & !(libc::SA_RESTART as usize), old[2], old[3]]
    } else {
        return;
    };
    // SAFETY: a complete kernel struct sigaction: ours (a handler that touches nothing and the
    // rt_sigreturn restorer) or the one read above with one flag less; glibc's sigaction
    // refuses SIGCANCEL, hence the raw call.
    unsafe { sys::syscall6(libc::SYS_rt_sigaction, glibc::SIGCANCEL as usize, new.as_ptr() as usize, 0, 8, 0, 0) };
}

/// Blocks (SIG_BLOCK) or unblocks (SIG_UNBLOCK) SIGCANCEL on the calling worker.
fn mask_kicks(how: c_int) {
    let set: u64 = 1 << (glibc::SIGCANCEL - 1);
    // SAFETY: rt_sigprocmask on the calling OS thread with a live 8-byte set (the raw call:
    // glibc's refuses to block SIGCANCEL).
    unsafe { sys::syscall6(libc::SYS_rt_sigprocmask, how as usize, &set as *const u64 as usize, 0, 8, 0, 0) };
}

/// Queues `job` and makes sure a worker will take it. False when no worker exists or can start.
fn submit(job: &Job) -> bool {
    let spawn;
    let wake;
    {
        let mut q = QUEUE.lock();
        job.next.set(core::ptr::null());
        if q.tail.is_null() {
            q.head = job;
        } else {
            // SAFETY: queued jobs are live (their submitters wait).
            unsafe { (*q.tail).next.set(job) };
        }
        q.tail = job;
        q.len += 1;
        IN_FLIGHT.fetch_add(1, Ordering::AcqRel);
        // Every worker not running a job looks at the queue before it sleeps.
        let enough = q.len <= q.live - q.busy;
        wake = enough && q.idle > 0;
        let bound = if job.kind != Wait::Bounded { MAX_WORKERS } else { (MAX.load(Ordering::Relaxed) + q.waiting).min(MAX_WORKERS) };
        spawn = !enough && q.live < bound;
        if spawn {
            q.live += 1;
        }
    }
    if wake {
        SEQ.fetch_add(1, Ordering::Release);
        sys::futex_wake_os(SEQ.as_ptr(), 1);
    }
    if !spawn || spawn_worker() {
        return true;
    }
    // No new worker: if none exists at all, take the job back and run it here.
    let mut q = QUEUE.lock();
    q.live -= 1;
    if q.live > 0 {
        return true;
    }
    let taken = pop(&mut q);
    debug_assert!(taken.is_some_and(|j| core::ptr::eq(j, job)), "with no worker, ours is the only queued job");
    IN_FLIGHT.fetch_sub(1, Ordering::AcqRel);
    false
}

fn pop(q: &mut Queue) -> Option<&'static Job> {
    if q.head.is_null() {
        return None;
    }
    // SAFETY: queued jobs are live until done; 'static only within this module's protocol.
    let j: &'static Job = unsafe { &*q.head };
    q.head = j.next.get();
    if q.head.is_null() {
        q.tail = core::ptr::null();
    }
    q.len -= 1;
    Some(j)
}

/// Starts one worker with the real pthread_create, signals blocked. False on failure.
fn spawn_worker() -> bool {
    let Some(join) = crate::osthread::real_join() else { return false };
    // Join workers that have exited, and claim a free slot. Green threads on several carriers
    // may spawn at once: the EXITED swap gives each exited worker to one joiner, and the slot
    // is claimed with a compare-exchange (usize::MAX: claimed, not started yet), before the
    // worker can run (its exit marks the slot).
    let mut slot = None;
    for (i, th, exited) in used_slots() {
        let t = th.load(Ordering::Acquire);
        if t != 0 && t != usize::MAX && exited.swap(false, Ordering::AcqRel) {
            // SAFETY: a joinable worker that has announced its exit; joined once, by the one
            // spawner that took its EXITED flag.
            unsafe { join(t as libc::pthread_t, core::ptr::null_mut()) };
            th.store(0, Ordering::Release);
        }
        if slot.is_none() && th.compare_exchange(0, usize::MAX, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            slot = Some(i);
        }
    }
    let Some(slot) = slot.or_else(new_slot) else { return false };
    let th = crate::osthread::spawn(worker, slot as *mut c_void);
    THREADS[slot].store(th.map_or(0, |t| t as usize), Ordering::Release);
    if th.is_some() {
        crate::green_debug!("offload: worker {slot} started");
    }
    th.is_some()
}

/// Claims a slot past the ones used so far (None: all MAX_WORKERS are taken).
fn new_slot() -> Option<usize> {
    loop {
        let n = SLOTS_USED.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < MAX_WORKERS).then_some(n + 1)).ok()?;
        // A scan that saw the raised count may have claimed it first: then the next one.
        if THREADS[n].compare_exchange(0, usize::MAX, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            return Some(n);
        }
    }
}

/// A worker: runs queued jobs; exits after IDLE_NS without one.
extern "C" fn worker(arg: *mut c_void) -> *mut c_void {
    let slot = arg as usize;
    // Named for ps/top (and for tests/run.sh, which tells pool threads from program threads by
    // this prctl in strace).
    // SAFETY: PR_SET_NAME with a NUL-terminated name of at most 16 bytes, on this thread.
    unsafe { sys::syscall3(libc::SYS_prctl, libc::PR_SET_NAME as usize, c"green-offload".as_ptr() as usize, 0) };
    // SAFETY: gettid takes no arguments.
    let tid = unsafe { sys::syscall3(libc::SYS_gettid, 0, 0, 0) } as i32;
    mask_kicks(libc::SIG_BLOCK);
    let mut q = QUEUE.lock();
    loop {
        if let Some(job) = pop(&mut q) {
            q.busy += 1;
            let waits = job.kind != Wait::Bounded;
            q.waiting += waits as usize;
            job.tid.store(tid, Ordering::Release);
            drop(q);
            let kickable = matches!(job.kind, Wait::Interruptible { .. });
            if kickable {
                mask_kicks(libc::SIG_UNBLOCK);
            }
            // SAFETY: the submitter waits for `done` and keeps the job and closure alive.
            unsafe { (*job.call)() };
            if kickable {
                mask_kicks(libc::SIG_BLOCK);
            }
            // Available again before the submitter can see `done` and submit more: it must
            // not start a second worker for a job this one is about to take.
            {
                let mut q = QUEUE.lock();
                q.busy -= 1;
                q.waiting -= waits as usize;
            }
            let key = &job.done as *const AtomicU32 as usize;
            job.done.store(1, Ordering::Release);
            // From here on the job may be gone: the key is only a number.
            park::unpark_all(key);
            IN_FLIGHT.fetch_sub(1, Ordering::AcqRel);
            q = QUEUE.lock();
            continue;
        }
        q.idle += 1;
        let seen = SEQ.load(Ordering::Acquire);
        drop(q);
        let r = sys::futex_wait_os(&SEQ, seen, Some(sys::now_ns() + IDLE_NS));
        q = QUEUE.lock();
        q.idle -= 1;
        if q.len == 0 && r == -(libc::ETIMEDOUT as isize) {
            q.live -= 1;
            EXITED[slot].store(true, Ordering::Release);
            return core::ptr::null_mut();
        }
    }
}

/// Workers whose OS thread still exists (glibc's `tid` word is cleared by the kernel when the
/// thread is gone), for the deadlock check: they are not threads that could wake a green one.
pub fn os_threads() -> usize {
    used_slots()
        .filter(|(_, th, _)| {
            let t = th.load(Ordering::Acquire);
            // SAFETY: a joinable worker's struct pthread stays allocated until joined.
            t != 0 && (t == usize::MAX || unsafe { core::ptr::read_volatile((t + glibc::OFF_TID) as *const i32) } != 0)
        })
        .count()
}

/// The child side of fork: no worker exists there; queued jobs belonged to threads that do not
/// exist either.
///
/// # Safety
/// Only in the child of fork, on its only thread.
pub unsafe fn after_fork_child() {
    // SAFETY: forwarded contract.
    unsafe { QUEUE.force_unlock_after_fork() };
    let mut q = QUEUE.lock();
    *q = Queue::EMPTY;
    IN_FLIGHT.store(0, Ordering::Relaxed);
    for (_, th, ex) in used_slots() {
        th.store(0, Ordering::Relaxed);
        ex.store(false, Ordering::Relaxed);
    }
    SLOTS_USED.store(0, Ordering::Relaxed);
}
