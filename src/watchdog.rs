//! Watchdog: a real OS thread that samples every carrier. When one has not switched for
//! `GREEN_HANDOFF_MS` (default 10 ms) while green threads are ready, it hands their work to
//! another carrier (a spare, or a new one: carrier.rs); when a stall keeps work waiting for
//! `GREEN_BLOCK_WARN_MS` (default 100 ms) because no hand-off was possible (or it is off), it
//! prints one line per episode naming the green thread that holds the carrier and the call it
//! is in. A call we cannot make cooperative (glibc-internal reads in `fgets` on a pipe, a
//! library's raw `syscall(SYS_read)`, a tty read) or
//! a thread computing is thus never silent, and with hand-off never stops the others.
//!
//! How it knows:
//! - "Has the carrier moved": its dispatch counter, bumped with a relaxed load + store (plain
//!   moves) at every dispatch; the switch path pays nothing else.
//! - "Is someone ready": the run queue's head, the foreign wake-up flag, the earliest timer
//!   deadline the hub publishes when it pushes or fires timers (`hub::view`), and, only while
//!   the hub has not moved, whether its epoll instance has events queued (`hub::fds_ready`: a
//!   zero-timeout poll of the epoll fd, which harvests nothing), or whether the kernel holds a
//!   handled signal for the process (`sigroute::held_by_kernel`: every carrier runs a thread
//!   that blocks it, and the thread that would take it is parked; a hand-off carrier's idle
//!   wait lets it in).
//! - "Which call": the running task's `call` word, set by hooks around pass-through calls that
//!   may block in the kernel (read/write/readv/writev that pass through: ttys, character
//!   devices…; `syscall()` numbers we pass through), and the kernel's own view, `/proc/self/task/<carrier>/syscall`, which also
//!   names calls no hook sees (glibc-internal ones) or says the thread is computing.
//!
//! The thread: started lazily when the second green thread is created (a process that never
//! has two green threads never pays for it), gone again after a second with only main left
//! (so /proc/self/task counts what it counts natively once the threads are done), restarted
//! by the next thread created, and in a fork child. It is created with glibc's plain `clone()`
//! wrapper, not `pthread_create`, so glibc keeps believing it is single-threaded (no stdio or
//! malloc locking appears because of us); in exchange it uses no
//! glibc state: only raw syscalls, the vDSO clock and a stack buffer, on its own TCB (so a
//! stray errno write is its own) with every signal blocked (process-directed signals keep
//! going to the carrier, whose green threads run the program's handlers). It is one
//! CLONE_THREAD in strace without CLONE_PARENT_SETTID (glibc's pthread_create always passes
//! it), and the stats line counts the starts (`watchdog=N`), so tests can tell it from a
//! thread of the program.

use core::fmt::Write;
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering::{Relaxed, SeqCst}};

use crate::hub;
use crate::stats;
use crate::sys;
use crate::task::Task;

/// GREEN_BLOCK_WARN_MS and GREEN_HANDOFF_MS, set at start-up (both 0: no watchdog).
pub static WARN_MS: AtomicU64 = AtomicU64::new(0);
pub static HANDOFF_MS: AtomicU64 = AtomicU64::new(0);
/// NONE or RUNNING: whether a watchdog thread is (or is about to be) watching. One CAS from
/// NONE to RUNNING decides who starts it; see `try_retire` for the exit handshake.
static STATE: AtomicU8 = AtomicU8::new(NONE);
const NONE: u8 = 0;
const RUNNING: u8 = 1;
/// Non-zero while the thread exists: set before clone, then the kernel writes the tid into it
/// (CLONE_CHILD_SETTID) and clears it with a futex wake when the thread has exited
/// (CLONE_CHILD_CLEARTID), after which its stack and TCB may be reused.
static TID_WORD: AtomicU32 = AtomicU32::new(0);
/// The thread's stack and TCB, made once per process and reused by each restart.
static STACK: AtomicUsize = AtomicUsize::new(0);
static TCB: AtomicUsize = AtomicUsize::new(0);
/// The thread exits after seeing no green thread but main for this long (so a process whose
/// threads are all gone shows one OS thread again, as natively); the next one created starts
/// it again.
const IDLE_EXIT_NS: u64 = 1_000_000_000;

const STACK_SIZE: usize = 64 * 1024;

/// A call a green thread may be blocked in, as recorded in `Task::call` (low 16 bits; the
/// argument, an fd or a syscall number, in the upper bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Call {
    None = 0,
    Read,
    Write,
    Readv,
    Writev,
    /// `syscall(nr, …)` passed through to the kernel.
    Syscall,
}

impl Call {
    const ALL: [Call; 6] = [Call::None, Call::Read, Call::Write, Call::Readv, Call::Writev, Call::Syscall];

    fn name(self) -> &'static str {
        match self {
            Call::None => "",
            Call::Read => "read",
            Call::Write => "write",
            Call::Readv => "readv",
            Call::Writev => "writev",
            Call::Syscall => "syscall",
        }
    }
}

/// Marks a green thread as inside a call that may block the carrier, until dropped (also on
/// unwinding, e.g. a cancelled read). Two relaxed stores: nothing measurable next to the call.
pub struct InCall<'a>(&'a Task);

impl<'a> InCall<'a> {
    #[inline]
    pub fn enter(t: &'a Task, call: Call, arg: i64) -> Self {
        t.call.store(call as u64 | ((arg as u32 as u64) << 16), Relaxed);
        InCall(t)
    }
}

impl Drop for InCall<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0.call.store(0, Relaxed);
    }
}

/// Reads GREEN_BLOCK_WARN_MS and GREEN_HANDOFF_MS at start-up.
pub fn configure(warn_ms: u64, handoff_ms: u64) {
    WARN_MS.store(warn_ms, Relaxed);
    HANDOFF_MS.store(handoff_ms, Relaxed);
}

/// Called by the hub whenever a green thread is created (after `stats::thread_started`, whose
/// SeqCst add orders the new `alive` count before this load): starts the watchdog unless one
/// is watching.
#[inline]
pub fn maybe_start() {
    if STATE.load(SeqCst) == NONE && (WARN_MS.load(Relaxed) != 0 || HANDOFF_MS.load(Relaxed) != 0) && STATE.compare_exchange(NONE, RUNNING, SeqCst, SeqCst).is_ok() {
        start();
    }
}

/// OS threads the watchdog adds to this process now (0 or 1), for the deadlock check.
pub fn os_threads() -> usize {
    (TID_WORD.load(Relaxed) != 0) as usize
}

/// In a fork child: the thread was not copied; the next green thread created starts another.
pub fn after_fork_child() {
    STATE.store(NONE, Relaxed);
    TID_WORD.store(0, Relaxed);
}

/// The stack and TCB, made on first use.
fn resources() -> Option<(usize, usize)> {
    if STACK.load(Relaxed) == 0 {
        let prot = libc::PROT_READ | libc::PROT_WRITE;
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK | libc::MAP_NORESERVE;
        // SAFETY: a fresh anonymous mapping; the kernel picks the address.
        let stack = unsafe { sys::syscall6(libc::SYS_mmap, 0, STACK_SIZE, prot as usize, flags as usize, usize::MAX, 0) };
        if stack < 0 {
            return None;
        }
        STACK.store(stack as usize, Relaxed);
    }
    if TCB.load(Relaxed) == 0 {
        TCB.store(crate::tls::alloc(crate::tls::thread_pointer())?, Relaxed);
    }
    Some((STACK.load(Relaxed), TCB.load(Relaxed)))
}

/// Starts the thread (we won the NONE → RUNNING transition).
#[cold]
fn start() {
    // A previous watchdog that decided to exit may still be on its way out: wait until the
    // kernel has cleared its tid word before reusing its stack (microseconds at most).
    loop {
        let w = TID_WORD.load(SeqCst);
        if w == 0 {
            break;
        }
        // The kernel's wake at thread exit is a shared futex wake: wait the same way (and
        // never longer than 1 ms per round).
        let ts = sys::ns_to_timespec(1_000_000);
        // SAFETY: TID_WORD is a live u32; ts is a live relative timeout.
        unsafe { sys::syscall6(libc::SYS_futex, TID_WORD.as_ptr() as usize, libc::FUTEX_WAIT as usize, w as usize, &ts as *const _ as usize, 0, 0) };
    }
    let Some((stack, tp)) = resources() else {
        crate::green_warn!("watchdog: no stack or TCB for its thread; GREEN_BLOCK_WARN_MS stays inactive");
        return;
    };
    let clone_flags = libc::CLONE_VM
        | libc::CLONE_FS
        | libc::CLONE_FILES
        | libc::CLONE_SIGHAND
        | libc::CLONE_THREAD
        | libc::CLONE_SYSVSEM
        | libc::CLONE_SETTLS
        | libc::CLONE_CHILD_SETTID
        | libc::CLONE_CHILD_CLEARTID;
    TID_WORD.store(u32::MAX, SeqCst);
    let all: u64 = !0;
    let mut old: u64 = 0;
    // SAFETY: blocking every signal around clone so the new thread starts with all of them
    // blocked (it inherits the mask); the old mask is restored right after. Raw syscalls: the
    // program's view of its mask is never changed. The stack and TCB are unused (TID_WORD 0).
    let r = unsafe {
        sys::syscall6(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK as usize, &all as *const u64 as usize, &mut old as *mut u64 as usize, 8, 0, 0);
        let r = libc::clone(
            watchdog_main,
            (stack + STACK_SIZE) as *mut libc::c_void,
            clone_flags,
            core::ptr::null_mut(),
            core::ptr::null_mut::<libc::pid_t>(),
            tp as *mut libc::c_void,
            TID_WORD.as_ptr() as *mut libc::pid_t,
        );
        sys::syscall6(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK as usize, &old as *const u64 as usize, 0, 8, 0, 0);
        r
    };
    if r < 0 {
        TID_WORD.store(0, SeqCst);
        crate::green_warn!("watchdog: clone failed; GREEN_BLOCK_WARN_MS stays inactive");
        return;
    }
    stats::WATCHDOG_THREADS.fetch_add(1, Relaxed);
}

/// The idle watchdog gives up its slot. Returns whether it may exit (false: a green thread
/// appeared meanwhile and it keeps watching).
///
/// Handshake with `maybe_start` (all SeqCst): we publish NONE, then look at `alive`. A spawn
/// whose state check saw RUNNING came before our store, so its `alive` increment (ordered by
/// the SeqCst add in `stats::thread_started`, which our load of THREADS_CREATED synchronises
/// with) is visible to us and we stay. A spawn after our store sees NONE and starts a new
/// thread; if we also try to stay, one CAS decides who watches.
fn try_retire() -> bool {
    STATE.store(NONE, SeqCst);
    let _ = stats::THREADS_CREATED.load(SeqCst);
    if hub::view(sys::now_ns()).alive == 0 {
        return true;
    }
    STATE.compare_exchange(NONE, RUNNING, SeqCst, SeqCst).is_err()
}

/// What the watchdog remembers of one carrier between ticks.
#[derive(Clone, Copy)]
struct Watch {
    /// The carrier's dispatch count at the last tick.
    last: u64,
    /// When it was last seen moving (or idle): a stall is counted from there, so a hand-off
    /// comes GREEN_HANDOFF_MS after the last switch, not a tick later.
    moved_at: u64,
    /// Since when it has not moved while work waited (None: it moved, or nothing waited).
    since: Option<u64>,
    reported: bool,
    /// Its work was handed to another carrier in this episode.
    handed: bool,
    /// The carrier's time on a CPU when the stall was first seen, and when that was.
    ran_at: u64,
    ran_since: u64,
}

const FRESH: Watch = Watch { last: 0, moved_at: 0, since: None, reported: false, handed: false, ran_at: 0, ran_since: 0 };

/// The watchdog thread: sample every carrier each tick. An episode is a stretch in which work
/// is waiting and a carrier running a green thread has not moved; at GREEN_HANDOFF_MS another
/// carrier takes the work (the stuck one leaves when its thread next parks), and at
/// GREEN_BLOCK_WARN_MS the episode is reported once, unless it was handed off (then nobody
/// waits for it).
extern "C" fn watchdog_main(_: *mut libc::c_void) -> libc::c_int {
    // Named for top -H, ps -L and /proc/<pid>/task/*/comm.
    // SAFETY: PR_SET_NAME reads a NUL-terminated name of at most 16 bytes.
    unsafe { sys::syscall3(libc::SYS_prctl, libc::PR_SET_NAME as usize, c"green-watchdog".as_ptr() as usize, 0) };
    let warn_ns = WARN_MS.load(Relaxed) * 1_000_000;
    let handoff_ns = HANDOFF_MS.load(Relaxed) * 1_000_000;
    let shortest = match (warn_ns, handoff_ns) {
        (0, h) => h,
        (w, 0) => w,
        (w, h) => w.min(h),
    };
    let tick_ns = (shortest / 4).clamp(1_000_000, 50_000_000);
    let mut watch = [FRESH; crate::carrier::MAX_CARRIERS];
    let mut idle_since: Option<u64> = None;
    loop {
        let ts = sys::ns_to_timespec(tick_ns);
        // SAFETY: a relative CLOCK_MONOTONIC sleep with a live timespec; raw, never our hook.
        unsafe { sys::syscall6(libc::SYS_clock_nanosleep, libc::CLOCK_MONOTONIC as usize, 0, &ts as *const _ as usize, 0, 0, 0) };
        let now = sys::now_ns();
        let v = hub::view(now);
        if v.alive != 0 {
            idle_since = None;
        } else if now - *idle_since.get_or_insert(now) >= IDLE_EXIT_NS {
            if try_retire() {
                return 0; // the kernel clears TID_WORD once we are gone
            }
            idle_since = None;
        }
        // Polling the epoll fd is a syscall: only when some carrier has not moved.
        let mut fds_checked: Option<bool> = None;
        let mut waiting = |v: &hub::HubView| v.work_waiting || *fds_checked.get_or_insert_with(|| hub::fds_ready() || crate::sigroute::held_by_kernel());
        let mut nudged = false;
        crate::carrier::for_each(|c| {
            let w = &mut watch[c.index];
            let d = c.dispatches.load(Relaxed);
            let running = c.current.load(Relaxed);
            if d != w.last || running.is_null() || c.state.load(Relaxed) != crate::carrier::ACTIVE {
                *w = Watch { last: d, moved_at: now, ..FRESH };
                return;
            }
            if !w.handed && !waiting(&v) {
                w.since = None;
                w.reported = false;
                return;
            }
            if v.idle > 0 && !w.handed {
                // A carrier sleeps in epoll while work waits: it was not told; tell it.
                if !nudged {
                    hub::nudge_idle();
                    nudged = true;
                }
                return;
            }
            if w.moved_at == 0 {
                w.moved_at = now; // first sight of this carrier
            }
            if w.since.is_none() {
                w.ran_at = cpu_ran_ns(c).unwrap_or(0);
                w.ran_since = now;
            }
            let stalled = now - *w.since.get_or_insert(w.moved_at);
            stats::LONGEST_STALL_NS.fetch_max(stalled, Relaxed);
            let hand_now = handoff_ns != 0 && stalled >= handoff_ns && !w.handed;
            // Handed off, the stall keeps nobody waiting: nothing to warn about (a program whose
            // threads compute would otherwise warn on every run).
            let warn_now = warn_ns != 0 && stalled >= warn_ns && !w.reported && !w.handed;
            if hand_now || warn_now {
                // A carrier the kernel kept off the CPU for most of the stall (a loaded machine:
                // runnable, yet on a CPU for less than half the time since the stall was first
                // seen) is not stuck: its thread will switch once it runs. Count again from
                // now, neither handing off nor blaming the thread (a warning written into the
                // fd 2 a program had pointed at its own socket came out in its data:
                // dprintf_pipe under load). One blocked in a syscall does not run either, but
                // sleeps: that is the thread's stall.
                let window = now - w.ran_since;
                if let Some(ran) = cpu_ran_ns(c).filter(|_| window > 0) {
                    if ran.saturating_sub(w.ran_at) * 2 < window && runnable(c) {
                        w.since = Some(now);
                        w.moved_at = now;
                        w.ran_at = ran;
                        w.ran_since = now;
                        return;
                    }
                }
            }
            if hand_now {
                w.handed = hand_off(c);
            }
            if warn_now && !w.handed {
                w.reported = true;
                // SAFETY: `current` holds a pooled (never freed) task.
                report(unsafe { &*running }, c, stalled);
            }
        });
    }
}

/// Brings in another carrier for the work `stuck` keeps waiting; `stuck` leaves when its
/// green thread next parks. False when no carrier could be had.
fn hand_off(stuck: &crate::carrier::Carrier) -> bool {
    // Carrier 0 does not go back to one carrier's sections while a hand-off is under way.
    let _mode = hub::MODE_CHANGE.lock();
    if !hub::can_begin_multi() || !hub::begin_multi() {
        return false;
    }
    stuck.surplus.store(true, Relaxed);
    if !crate::carrier::add_one(hub::carrier_thread) {
        stuck.surplus.store(false, Relaxed);
        return false;
    }
    stats::HANDOFFS.fetch_add(1, Relaxed);
    true
}

/// Reads /proc/self/task/<carrier tid>/<file> into `buf` (raw syscalls, no allocation).
fn read_task_file<'a>(c: &crate::carrier::Carrier, file: &str, buf: &'a mut [u8]) -> Option<&'a str> {
    let mut path = crate::log::LineBuf::new();
    let _ = write!(path, "/proc/self/task/{}/{file}\0", c.tid.load(Relaxed));
    let path = core::ffi::CStr::from_bytes_with_nul(path.as_bytes()).ok()?;
    core::str::from_utf8(sys::read_small_file(path, buf)?).ok()
}

/// How long the carrier's thread has run on a CPU, in ns: its CPU-time clock, which counts a
/// running thread up to now (schedstat's run time lags by up to a scheduler tick, and its wait
/// time is only added up when a wait ends); None if unreadable.
fn cpu_ran_ns(c: &crate::carrier::Carrier) -> Option<u64> {
    // The kernel's MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED).
    let clock = (!c.tid.load(Relaxed) << 3) | 6;
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one live timespec; raw, never our hook.
    let r = unsafe { sys::syscall3(libc::SYS_clock_gettime, clock as isize as usize, &mut ts as *mut libc::timespec as usize, 0) };
    (r == 0).then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

/// Whether the carrier's thread is running or waiting for a CPU (state R in /proc's stat), not
/// sleeping in the kernel.
fn runnable(c: &crate::carrier::Carrier) -> bool {
    let mut buf = [0u8; 512];
    read_task_file(c, "stat", &mut buf).and_then(|s| s.rsplit_once(") ")).is_some_and(|(_, rest)| rest.starts_with('R'))
}

/// What the kernel says the carrier is doing: Some((syscall number, first argument)), or None
/// when it is running in user space (or /proc cannot tell).
fn kernel_call(c: &crate::carrier::Carrier) -> Option<(i64, u64)> {
    let mut buf = [0u8; 256];
    let mut fields = read_task_file(c, "syscall", &mut buf)?.split_ascii_whitespace();
    let nr: i64 = fields.next()?.parse().ok()?; // "running" fails to parse: computing.
    let arg = u64::from_str_radix(fields.next()?.trim_start_matches("0x"), 16).ok()?;
    (nr >= 0).then_some((nr, arg))
}

/// Names of the syscalls a thread may block in, and whether their first argument is an fd.
const SYSCALL_NAMES: &[(i64, &str, bool)] = &[
    (libc::SYS_read, "read", true),
    (libc::SYS_write, "write", true),
    (libc::SYS_readv, "readv", true),
    (libc::SYS_writev, "writev", true),
    (libc::SYS_pread64, "pread64", true),
    (libc::SYS_pwrite64, "pwrite64", true),
    (libc::SYS_preadv, "preadv", true),
    (libc::SYS_pwritev, "pwritev", true),
    (libc::SYS_recvfrom, "recvfrom", true),
    (libc::SYS_sendto, "sendto", true),
    (libc::SYS_recvmsg, "recvmsg", true),
    (libc::SYS_sendmsg, "sendmsg", true),
    (libc::SYS_recvmmsg, "recvmmsg", true),
    (libc::SYS_sendmmsg, "sendmmsg", true),
    (libc::SYS_accept, "accept", true),
    (libc::SYS_accept4, "accept4", true),
    (libc::SYS_connect, "connect", true),
    (libc::SYS_poll, "poll", false),
    (libc::SYS_ppoll, "ppoll", false),
    (libc::SYS_select, "select", false),
    (libc::SYS_pselect6, "pselect6", false),
    (libc::SYS_epoll_wait, "epoll_wait", true),
    (libc::SYS_epoll_pwait, "epoll_pwait", true),
    (libc::SYS_epoll_pwait2, "epoll_pwait2", true),
    (libc::SYS_nanosleep, "nanosleep", false),
    (libc::SYS_clock_nanosleep, "clock_nanosleep", false),
    (libc::SYS_futex, "futex", false),
    (libc::SYS_wait4, "wait4", false),
    (libc::SYS_waitid, "waitid", false),
    (libc::SYS_fsync, "fsync", true),
    (libc::SYS_fdatasync, "fdatasync", true),
    (libc::SYS_sync_file_range, "sync_file_range", true),
    (libc::SYS_flock, "flock", true),
    (libc::SYS_fcntl, "fcntl", true),
    (libc::SYS_sendfile, "sendfile", true),
    (libc::SYS_splice, "splice", true),
    (libc::SYS_tee, "tee", true),
    (libc::SYS_pause, "pause", false),
    (libc::SYS_rt_sigsuspend, "rt_sigsuspend", false),
    (libc::SYS_rt_sigtimedwait, "rt_sigtimedwait", false),
    (libc::SYS_msgrcv, "msgrcv", false),
    (libc::SYS_msgsnd, "msgsnd", false),
    (libc::SYS_semop, "semop", false),
    (libc::SYS_semtimedop, "semtimedop", false),
    (libc::SYS_openat, "openat", false),
    (libc::SYS_open, "open", false),
    (libc::SYS_ioctl, "ioctl", true),
];

/// Writes `SYS_read` (or the bare number), and ` on fd N` when the first argument is an fd.
fn write_syscall(line: &mut crate::log::LineBuf, nr: i64, first_arg: Option<u64>) {
    let _ = match SYSCALL_NAMES.iter().find(|(n, _, _)| *n == nr) {
        Some((_, name, takes_fd)) => {
            let _ = write!(line, "SYS_{name}");
            match first_arg {
                Some(fd) if *takes_fd => write!(line, " on fd {fd}"),
                _ => Ok(()),
            }
        }
        None => write!(line, "syscall {nr}"),
    };
}

/// Prints the one line of an episode.
#[cold]
fn report(t: &Task, c: &crate::carrier::Carrier, stalled_ns: u64) {
    // The task runs on the carrier while we read: its id and name are stable while it runs
    // (set before it first ran); read them as plain racy snapshots (diagnostics only).
    // SAFETY: the Cell and UnsafeCell point into a pooled, never-freed Task.
    let (id, name) = unsafe { (core::ptr::read_volatile(t.id.as_ptr()), core::ptr::read_volatile(t.name.get())) };
    let n = name.iter().position(|&b| b == 0).unwrap_or(16);
    let name = core::str::from_utf8(&name[..n]).unwrap_or("?");
    let mut line = crate::log::LineBuf::new();
    let _ = write!(line, "libgreen: watchdog: green thread {id}");
    if t.is_main {
        let _ = line.write_str(" (main)");
    } else {
        let _ = write!(line, " (tid {})", crate::thread::green_tid(t));
    }
    if n > 0 {
        let _ = write!(line, " \"{name}\"");
    }
    let _ = write!(line, " has blocked the hub for {} ms while other work waits: ", stalled_ns / 1_000_000);
    let word = t.call.load(Relaxed);
    let call = Call::ALL.iter().copied().find(|c| *c as u64 == word & 0xffff).unwrap_or(Call::None);
    let arg = (word >> 16) as u32;
    let kernel = kernel_call(c);
    match call {
        Call::None => match kernel {
            Some((nr, a)) => {
                let _ = line.write_str("in ");
                write_syscall(&mut line, nr, Some(a));
                let _ = line.write_str(", a call libgreen does not see (glibc-internal or not interposed)");
            }
            None => {
                let _ = line.write_str("it is computing without a call that yields (no preemption: it must block or sched_yield)");
            }
        },
        Call::Syscall => {
            let _ = line.write_str("in syscall(");
            write_syscall(&mut line, arg as i64, None);
            let _ = line.write_str(")");
        }
        c => {
            let _ = write!(line, "in {}(fd {arg})", c.name());
        }
    }
    if call != Call::None {
        match kernel {
            Some((nr, a)) => {
                let _ = line.write_str(" [kernel: ");
                write_syscall(&mut line, nr, Some(a));
                let _ = line.write_str("]");
            }
            None => {
                let _ = line.write_str(" [kernel: running]");
            }
        }
    }
    let _ = line.write_str("\n");
    sys::write_stderr(line.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syscall_text(nr: i64, arg: Option<u64>) -> String {
        let mut line = crate::log::LineBuf::new();
        write_syscall(&mut line, nr, arg);
        String::from_utf8(line.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn syscalls_are_named_with_their_fd() {
        assert_eq!(syscall_text(libc::SYS_read, Some(5)), "SYS_read on fd 5");
        assert_eq!(syscall_text(libc::SYS_read, None), "SYS_read");
        assert_eq!(syscall_text(libc::SYS_pause, Some(77)), "SYS_pause");
        assert_eq!(syscall_text(999, Some(1)), "syscall 999");
    }

    #[test]
    fn call_word_is_set_for_the_call_only() {
        let t = crate::task::Task::new(false);
        {
            let _c = InCall::enter(&t, Call::Syscall, libc::SYS_read);
            let w = t.call.load(Relaxed);
            assert_eq!(w & 0xffff, Call::Syscall as u64);
            assert_eq!(w >> 16, libc::SYS_read as u64);
        }
        assert_eq!(t.call.load(Relaxed), 0);
    }
}
