//! Runtime counters (`GREEN_STATS`). Tests read them to prove that the cooperative path was
//! taken, not just that the output matched.
//!
//! One line per process, `libgreen: stats key=value …`, printed at exit (`exit` and also
//! `_exit`/`_Exit`, which forked workers such as stress-ng's use), and on SIGUSR2. With
//! `GREEN_STATS=/abs/path` the line is appended to that file instead of stderr (O_APPEND, one
//! write per line, so the lines of several processes never interleave). Counters are per
//! process: a fork child starts from zero.
//!
//! SIGUSR2: installed only when GREEN_STATS is set and only when SIGUSR2 is at its default
//! action at start-up (an inherited SIG_IGN is kept). A program that installs its own SIGUSR2
//! handler replaces ours (no chaining: the program's handler wins, as it would natively); the
//! counters still print at exit.
//!
//! The hot counters (switches, parks, epoll waits, receive skips) are bumped with a relaxed
//! load + store while one carrier runs (only it writes them: ≈10 ns less per switch than a
//! locked read-modify-write), and with `fetch_add` once `hub::multi()` is true (several writers;
//! a load + store would lose counts). With GREEN_HUBS > 1 the flag is on before a second
//! carrier runs, so counts are exact; at a hand-off, a carrier that has not yet seen the flag
//! turn on could lose an increment at that instant (a diagnostic, never a decision input).

use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicU8, AtomicUsize, Ordering::Relaxed};

use crate::config::StatsTo;
use crate::sys;
use crate::task::ParkReason;

pub static THREADS_CREATED: AtomicU64 = AtomicU64::new(0);
pub static PEAK_ALIVE: AtomicU64 = AtomicU64::new(0);
pub static SWITCHES: AtomicU64 = AtomicU64::new(0);
pub static EPOLL_WAITS: AtomicU64 = AtomicU64::new(0);
/// Stream receives that parked at once because the socket was known to be drained (fd.rs).
pub static RECV_SKIPS: AtomicU64 = AtomicU64::new(0);
/// Parks in a word of their own instead of the park table (park.rs `park_in_word`: an fd
/// direction's one waiter).
pub static WORD_PARKS: AtomicU64 = AtomicU64::new(0);
/// Parks per reason, indexed by `ParkReason as usize`.
pub static PARKS: [AtomicU64; 13] = [const { AtomicU64::new(0) }; 13];
/// Calls handed to the offload pool (src/offload.rs).
pub static OFFLOAD_JOBS: AtomicU64 = AtomicU64::new(0);
/// The longest time the watchdog saw ready green threads wait for a hub that did not switch
/// (its resolution is the watchdog's tick; 0 when the watchdog is off).
pub static LONGEST_STALL_NS: AtomicU64 = AtomicU64::new(0);
/// Hand-offs: carriers started or woken because one was stuck (watchdog.rs).
pub static HANDOFFS: AtomicU64 = AtomicU64::new(0);
/// Returns to one carrier's unlocked sections after a hand-off was over (hub.rs `end_multi`).
pub static ONE_CARRIER_AGAIN: AtomicU64 = AtomicU64::new(0);
/// With several carriers: tasks a carrier ran from its own queue (made ready by a green thread
/// it was running: the wake-up stayed on the waker's carrier) and tasks it took from another
/// carrier's queue (work stealing). Counted inside hub sections.
pub static LOCAL_RUNS: AtomicU64 = AtomicU64::new(0);
pub static STEALS: AtomicU64 = AtomicU64::new(0);
/// Carrier OS threads started (GREEN_HUBS home carriers and hand-off ones; a hand-off that
/// wakes a spare carrier starts none), like `watchdog`: tests tell them from program threads.
pub static CARRIER_THREADS: AtomicU64 = AtomicU64::new(0);
/// OS threads the runtime itself started in this process (the watchdog): tests subtract them
/// from the strace count of threads, which must otherwise be zero.
pub static WATCHDOG_THREADS: AtomicU64 = AtomicU64::new(0);

/// 0 off, 1 stderr, 2 file (`PATH`).
static DEST: AtomicU8 = AtomicU8::new(0);
/// NUL-terminated path of the file destination (a leaked CString).
static PATH: AtomicUsize = AtomicUsize::new(0);
/// The process whose counters these are; a vfork child (same memory, other pid) must not
/// print the parent's counters or take its one exit report.
static PID: AtomicI32 = AtomicI32::new(0);
static EXIT_PRINTED: AtomicBool = AtomicBool::new(false);

pub fn thread_started(alive: usize) {
    // SeqCst: the watchdog's exit handshake relies on this RMW ordering the hub's `alive`
    // update before its own check of the watchdog state (watchdog::maybe_start). A locked add
    // either way on x86.
    THREADS_CREATED.fetch_add(1, core::sync::atomic::Ordering::SeqCst);
    PEAK_ALIVE.fetch_max(alive as u64, Relaxed);
}

/// Adds one to a hot counter: a plain load + store while only one carrier writes it.
#[inline(always)]
fn bump(c: &AtomicU64) {
    if crate::hub::multi() {
        c.fetch_add(1, Relaxed);
    } else {
        c.store(c.load(Relaxed) + 1, Relaxed);
    }
}

#[inline]
pub fn switched() {
    bump(&SWITCHES);
}

/// A carrier ran a task from its own queue (`stolen`: from another carrier's).
#[inline]
pub fn ran_queued(stolen: bool) {
    bump(if stolen { &STEALS } else { &LOCAL_RUNS });
}

#[inline]
pub fn parked(r: ParkReason) {
    bump(&PARKS[r as usize]);
}

pub fn offloaded() {
    OFFLOAD_JOBS.fetch_add(1, Relaxed);
}

pub fn epoll_waited() {
    bump(&EPOLL_WAITS);
}

#[inline]
pub fn recv_skipped() {
    bump(&RECV_SKIPS);
}

#[inline(always)]
pub fn parked_in_word() {
    bump(&WORD_PARKS);
}

fn getpid() -> i32 {
    // SAFETY: getpid has no arguments and cannot fail.
    unsafe { sys::syscall3(libc::SYS_getpid, 0, 0, 0) as i32 }
}

/// Applies GREEN_STATS at start-up: where to print, the exit report and the SIGUSR2 handler.
pub fn configure(to: StatsTo) {
    match to {
        StatsTo::Off => return,
        StatsTo::Stderr => DEST.store(1, Relaxed),
        StatsTo::File(p) => {
            let Ok(c) = std::ffi::CString::new(p) else { return };
            PATH.store(c.into_raw() as usize, Relaxed);
            DEST.store(2, Relaxed);
        }
    }
    PID.store(getpid(), Relaxed);
    extern "C" fn at_exit_handler() {
        at_exit();
    }
    extern "C" fn on_sigusr2(_: libc::c_int) {
        print();
    }
    // SAFETY: registering a plain extern "C" function with atexit.
    unsafe { libc::atexit(at_exit_handler) };
    // SAFETY: querying then setting SIGUSR2's disposition with zeroed, then filled, sigactions.
    unsafe {
        let mut old: libc::sigaction = core::mem::zeroed();
        if libc::sigaction(libc::SIGUSR2, core::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_DFL {
            let mut sa: libc::sigaction = core::mem::zeroed();
            sa.sa_sigaction = on_sigusr2 as extern "C" fn(libc::c_int) as usize;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigaction(libc::SIGUSR2, &sa, core::ptr::null_mut());
            // The program still sees SIG_DFL there (CPython restores what it saw at start).
            crate::sigroute::runtime_owned(libc::SIGUSR2);
        }
    }
}

/// The process is ending (atexit, or the `_exit`/`_Exit` hooks): print once, in the process the
/// counters belong to.
pub fn at_exit() {
    if DEST.load(Relaxed) == 0 || PID.load(Relaxed) != getpid() {
        return;
    }
    if !EXIT_PRINTED.swap(true, Relaxed) {
        if crate::hub::started() {
            crate::hub::freeze_handoffs_at_exit();
        }
        print();
    }
}

/// In a fork child: counters are per process, so start from zero (the forking thread, if not
/// main, is the one alive thread).
pub fn after_fork_child(alive: usize) {
    for c in [&THREADS_CREATED, &SWITCHES, &EPOLL_WAITS, &OFFLOAD_JOBS, &RECV_SKIPS, &WORD_PARKS, &LONGEST_STALL_NS, &WATCHDOG_THREADS, &CARRIER_THREADS, &HANDOFFS, &ONE_CARRIER_AGAIN, &LOCAL_RUNS, &STEALS] {
        c.store(0, Relaxed);
    }
    for c in &PARKS {
        c.store(0, Relaxed);
    }
    PEAK_ALIVE.store(alive as u64, Relaxed);
    EXIT_PRINTED.store(false, Relaxed);
    if DEST.load(Relaxed) != 0 {
        PID.store(getpid(), Relaxed);
    }
}

/// Writes the stats line to the GREEN_STATS destination. Async-signal-safe (stack buffer, raw
/// syscalls), so it serves the SIGUSR2 handler too.
pub fn print() {
    let mut line = crate::log::LineBuf::new();
    let _ = write!(
        line,
        "libgreen: stats threads_created={} peak_alive={} switches={} epoll_waits={} offload_jobs={} recv_skips={} word_parks={}",
        THREADS_CREATED.load(Relaxed),
        PEAK_ALIVE.load(Relaxed),
        SWITCHES.load(Relaxed),
        EPOLL_WAITS.load(Relaxed),
        OFFLOAD_JOBS.load(Relaxed),
        RECV_SKIPS.load(Relaxed),
        WORD_PARKS.load(Relaxed)
    );
    for r in ParkReason::ALL.iter().skip(1) {
        let _ = write!(line, " parks_{}={}", r.name(), PARKS[*r as usize].load(Relaxed));
    }
    let _ = write!(
        line,
        " longest_stall_ms={} watchdog={} carriers={} hubs={} handoffs={} one_carrier_again={} local_runs={} steals={} pid={}\n",
        LONGEST_STALL_NS.load(Relaxed) / 1_000_000,
        WATCHDOG_THREADS.load(Relaxed),
        CARRIER_THREADS.load(Relaxed),
        crate::carrier::home_count(),
        HANDOFFS.load(Relaxed),
        ONE_CARRIER_AGAIN.load(Relaxed),
        LOCAL_RUNS.load(Relaxed),
        STEALS.load(Relaxed),
        getpid()
    );
    let path = PATH.load(Relaxed);
    if DEST.load(Relaxed) != 2 || path == 0 {
        sys::write_stderr(line.as_bytes());
        return;
    }
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND | libc::O_CLOEXEC;
    // SAFETY: path is a leaked NUL-terminated CString; raw syscalls, no hooks.
    let fd = unsafe { sys::syscall6(libc::SYS_openat, libc::AT_FDCWD as usize, path, flags as usize, 0o644, 0, 0) };
    if fd < 0 {
        crate::green_warn!("GREEN_STATS: cannot open the stats file (errno {})", -fd);
        return;
    }
    let b = line.as_bytes();
    // SAFETY: b is a live slice; one write keeps the line whole under O_APPEND; fd is ours.
    unsafe {
        sys::syscall3(libc::SYS_write, fd as usize, b.as_ptr() as usize, b.len());
        sys::syscall3(libc::SYS_close, fd as usize, 0, 0);
    }
}
