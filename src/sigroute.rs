//! Process-directed signals (kill, a terminal's SIGINT, alarm, a child's SIGCHLD) and the
//! program's signal handlers.
//!
//! The kernel delivers a process-directed signal to a thread that does not block it; with one
//! carrier that is the carrier, and what runs on it may be a green thread or the hub between
//! threads (idle in epoll, or choosing the next one). So for every signal the program gives a
//! handler, the kernel gets ours (`trampoline`, with the program's flags and mask, SA_SIGINFO
//! added and SA_RESETHAND emulated), the program's handler is kept here, and:
//! - while a green thread runs, the program's handler is called at once: the kernel chose the
//!   carrier because that thread's mask (loaded on the carrier) lets the signal in, and a
//!   running thread that does not block a process-directed signal takes it itself on its way
//!   back from the kernel (a thread that kill()s its own process runs the handler natively
//!   too); a call the thread is in gets EINTR from the kernel as natively. Except when that
//!   thread is not main and main takes the signal: the kernel would have chosen main (the
//!   thread-group leader) for a process-directed signal, so it is captured and routed to main
//!   like one landing in the hub (`leader_takes_instead`); tgkill's (SI_TKILL) and the
//!   process's own kill/sigqueue stay with the running thread, as Linux lets the sender take them.
//!   Also routed: one landing on a thread that blocks it (the carrier still had the previous
//!   thread's mask: a switch loads the next one's after naming it), on a thread that is parked
//!   and switching out, or on one on its way into a wait with its own mask (`not_for_running`).
//! - in the hub, the signal and its siginfo are kept process-pending (`PENDING`, one slot per
//!   signal: a second standard one arriving before the first is delivered merges with it, as
//!   in the kernel; real-time ones queue behind the slot, `BACKLOGS`) and the hub routes it at
//!   its next poll. **Routing decision**, the kernel's own (complete_signal tries the thread-group
//!   leader first, then any thread that wants the signal): the main thread if it does not block
//!   it, otherwise the oldest live green thread that does not block it or waits for it in
//!   sigwait. The signal becomes the target's. The target is woken from its wait (so its call
//!   fails with EINTR where the native call would), or kicked if it runs on another carrier
//!   (`kick`), and once it runs the signal is sent to its carrier again with its original
//!   siginfo (rt_tgsigqueueinfo), so its handler runs on the target's stack and TCB. A signal
//!   no thread takes stays process-pending until a thread unblocks it or sigwaits for it.
//! - while idle, the hub waits in epoll with these signals unblocked (the epoll_pwait2 mask:
//!   no extra syscall), so one blocked by the last thread to run but not by another still
//!   wakes the hub.
//! Synchronous faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS raised by the kernel for
//! an instruction) always run their handler where they happen.
//!
//! Everything the trampoline touches is an atomic or a slot owned by the signal being captured:
//! it is async-signal-safe and never allocates.

use core::cell::UnsafeCell;
use core::ffi::{c_int, c_void};
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::hub;
use crate::lock::SpinLock;
use crate::sigmask::bit;
use crate::signal;
use crate::sys;
use crate::task::{self, Task};
use crate::tls;

const NSIG: usize = 64;

/// The program's handler (sa_sigaction) and flags for each signal we hold a handler for.
static HANDLER: [AtomicUsize; NSIG + 1] = [const { AtomicUsize::new(0) }; NSIG + 1];
static FLAGS: [AtomicUsize; NSIG + 1] = [const { AtomicUsize::new(0) }; NSIG + 1];
/// Signals whose kernel action is our trampoline.
pub static TRAMPOLINED: AtomicU64 = AtomicU64::new(0);
/// Captured in the hub, not yet given to a thread (process-pending).
static PENDING: AtomicU64 = AtomicU64::new(0);
/// Signals whose siginfo slot is in use (captured, until delivered or taken by sigwait).
static BUSY: AtomicU64 = AtomicU64::new(0);
/// Something was captured: the hub routes at its next poll.
pub static ROUTE: AtomicBool = AtomicBool::new(false);

struct Slots([UnsafeCell<libc::siginfo_t>; NSIG + 1]);
// SAFETY: slot `sig` is written only by the capture that set BUSY's bit and read only by the
// one delivery or sigwait that clears it.
unsafe impl Sync for Slots {}
// SAFETY: siginfo_t is plain data; all-zero is a valid value.
static INFO: Slots = Slots([const { UnsafeCell::new(unsafe { core::mem::zeroed() }) }; NSIG + 1]);

/// The first real-time signal number (the kernel's SIGRTMIN; glibc keeps 32 and 33).
const FIRST_RT: c_int = 32;
/// Real-time signals captured behind the one in `INFO`'s slot, per signal: the kernel queues
/// every send of a real-time signal (up to RLIMIT_SIGPENDING) where a standard one pending
/// twice merges, so those captured while the slot is busy wait here, in order, and each moves
/// into the slot when the one before it is taken (`take_info`). Beyond `BACKLOG` a capture is
/// dropped (the kernel had accepted it: documented).
const BACKLOG: usize = 63;

struct Backlog {
    /// Held (with the signal blocked on the holder's thread: no capture of it can interrupt the
    /// holder there) by the one capture or take touching `head`, `len` and `infos`.
    lock: AtomicBool,
    head: UnsafeCell<usize>,
    len: UnsafeCell<usize>,
    infos: [UnsafeCell<libc::siginfo_t>; BACKLOG],
}
// SAFETY: every field but the lock is touched only while holding it.
unsafe impl Sync for Backlog {}

/// Signals FIRST_RT..=NSIG.
static BACKLOGS: [Backlog; NSIG + 1 - FIRST_RT as usize] = [const {
    Backlog {
        lock: AtomicBool::new(false),
        head: UnsafeCell::new(0),
        len: UnsafeCell::new(0),
        // SAFETY: siginfo_t is plain data; all-zero is a valid value.
        infos: [const { UnsafeCell::new(unsafe { core::mem::zeroed() }) }; BACKLOG],
    }
}; NSIG + 1 - FIRST_RT as usize];

/// Runs `f` on real-time signal `sig`'s backlog: `sig` blocked on this thread, its lock held.
fn with_backlog<R>(sig: c_int, f: impl FnOnce(&mut usize, &mut usize, &[UnsafeCell<libc::siginfo_t>; BACKLOG]) -> R) -> R {
    let q = &BACKLOGS[(sig - FIRST_RT) as usize];
    let set = bit(sig);
    let mut old: u64 = 0;
    // SAFETY: live 8-byte sets; blocks one signal on this thread for the section.
    unsafe { sys::syscall6(libc::SYS_rt_sigprocmask, libc::SIG_BLOCK as usize, &set as *const u64 as usize, &mut old as *mut u64 as usize, 8, 0, 0) };
    while q.lock.swap(true, Ordering::Acquire) {
        core::hint::spin_loop();
    }
    // SAFETY: the lock is held and `sig` is blocked here: nobody else touches head and len.
    let r = unsafe { f(&mut *q.head.get(), &mut *q.len.get(), &q.infos) };
    q.lock.store(false, Ordering::Release);
    if old & set == 0 {
        crate::sigmask::set_carrier(old);
    }
    r
}

/// Signals whose handler is the runtime's own (GREEN_STATS's SIGUSR2 report): the program sees
/// SIG_DFL there, as natively, until it installs its own.
static RUNTIME_OWNED: AtomicU64 = AtomicU64::new(0);

/// Marks the handler just installed for `sig` as the runtime's (see RUNTIME_OWNED).
pub fn runtime_owned(sig: c_int) {
    RUNTIME_OWNED.fetch_or(bit(sig), Ordering::AcqRel);
}

/// The program's action for `sig`, if our trampoline stands in for it: (handler, flags);
/// SIG_DFL with no flags for the runtime's own handlers.
pub fn program_action(sig: c_int) -> Option<(usize, c_int)> {
    if !(1..=NSIG as c_int).contains(&sig) || TRAMPOLINED.load(Ordering::Acquire) & bit(sig) == 0 {
        return None;
    }
    if RUNTIME_OWNED.load(Ordering::Acquire) & bit(sig) != 0 {
        return Some((libc::SIG_DFL, 0));
    }
    Some((HANDLER[sig as usize].load(Ordering::Acquire), FLAGS[sig as usize].load(Ordering::Acquire) as c_int))
}

/// Whether a handler for `sig` is routed through the trampoline: not for glibc's internal
/// signals (32, 33) or those that cannot be caught.
pub fn routable(sig: c_int) -> bool {
    (1..=NSIG as c_int).contains(&sig) && !matches!(sig, 32 | 33 | libc::SIGKILL | libc::SIGSTOP)
}

/// Serialises the program's sigaction calls, as the kernel serialises native ones: a call's
/// record here (handler, flags) and its change of the kernel's action (our trampoline with the
/// program's mask) happen together, and a query reports one call's whole action. Taken with
/// every signal blocked on the caller's OS thread (a handler may call sigaction).
static ACTIONS: SpinLock<()> = SpinLock::new(());
/// Odd while a holder of `ACTIONS` changes a handler and its flags: the trampoline, which
/// cannot take the lock, reads the pair again until it sees one whole (a sequence lock).
static ACTIONS_SEQ: AtomicU64 = AtomicU64::new(0);

/// Runs `f` (the program's sigaction: our record and the kernel call) with `ACTIONS` held.
pub fn with_actions_locked<R>(f: impl FnOnce() -> R) -> R {
    crate::sigmask::with_all_blocked(|| {
        let _held = ACTIONS.lock();
        f()
    })
}

/// The forking thread's mask while it holds `ACTIONS` across fork (written under the lock).
static FORK_MASK: AtomicU64 = AtomicU64::new(0);

/// fork.rs's prepare handler: `ACTIONS` held across the fork (a sigaction on another carrier
/// half-done would leave the child a torn record), with every signal blocked on the forking
/// thread until `release_actions_after_fork` (a handler there calling sigaction would wait for
/// its own thread).
pub fn hold_actions_for_fork() {
    let old = crate::sigmask::block_all();
    ACTIONS.lock_raw();
    FORK_MASK.store(old, Ordering::Relaxed);
}

/// fork.rs's parent and child handlers: releases (in the child, takes over) `ACTIONS`; returns
/// the forking thread's mask, to give back (`sigmask::set_carrier`) once every lock held across
/// the fork is released.
///
/// # Safety
/// This OS thread took the lock with `hold_actions_for_fork` (or is the child of that fork).
pub unsafe fn release_actions_after_fork(child: bool) -> u64 {
    let mask = FORK_MASK.load(Ordering::Relaxed);
    if child {
        // SAFETY: forwarded contract (the child's only thread).
        unsafe { ACTIONS.force_unlock_after_fork() };
    } else {
        // SAFETY: forwarded contract.
        unsafe { ACTIONS.unlock_raw() };
    }
    mask
}

/// Changes the record of `sig` inside `ACTIONS`' sequence (the caller holds the lock).
fn change_record(f: impl FnOnce()) {
    ACTIONS_SEQ.fetch_add(1, Ordering::AcqRel);
    f();
    ACTIONS_SEQ.fetch_add(1, Ordering::Release);
}

/// The program's handler and flags for `sig` as one call set them, without the lock.
fn handler_and_flags(sig: c_int) -> (usize, c_int) {
    loop {
        let seq = ACTIONS_SEQ.load(Ordering::Acquire);
        if seq & 1 == 0 {
            let h = HANDLER[sig as usize].load(Ordering::Acquire);
            let flags = FLAGS[sig as usize].load(Ordering::Acquire) as c_int;
            if ACTIONS_SEQ.load(Ordering::Acquire) == seq {
                return (h, flags);
            }
        }
        core::hint::spin_loop();
    }
}

/// The program installs `handler` with `flags` for `sig`: record it and return the handler and
/// flags to give the kernel (the trampoline). Inside `with_actions_locked`.
pub fn record(sig: c_int, handler: usize, flags: c_int) -> (usize, c_int) {
    change_record(|| {
        RUNTIME_OWNED.fetch_and(!bit(sig), Ordering::AcqRel);
        HANDLER[sig as usize].store(handler, Ordering::Release);
        FLAGS[sig as usize].store(flags as usize, Ordering::Release);
        TRAMPOLINED.fetch_or(bit(sig), Ordering::AcqRel);
    });
    (trampoline as extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) as usize, (flags | libc::SA_SIGINFO) & !libc::SA_RESETHAND)
}

/// The program set SIG_DFL or SIG_IGN for `sig` (after the kernel has it). Inside
/// `with_actions_locked`.
pub fn forget(sig: c_int) {
    change_record(|| {
        RUNTIME_OWNED.fetch_and(!bit(sig), Ordering::AcqRel);
        TRAMPOLINED.fetch_and(!bit(sig), Ordering::AcqRel);
        HANDLER[sig as usize].store(0, Ordering::Release);
    });
}

fn synchronous(sig: c_int, info: *const libc::siginfo_t) -> bool {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let code = unsafe { (*info).si_code };
    code > 0 && matches!(sig, libc::SIGSEGV | libc::SIGBUS | libc::SIGFPE | libc::SIGILL | libc::SIGTRAP | libc::SIGSYS)
}

extern "C" fn trampoline(sig: c_int, info: *mut libc::siginfo_t, uctx: *mut c_void) {
    let own = own_delivery(info);
    if own {
        // SAFETY: the kernel's siginfo is ours to change while this handler runs.
        unmark_own(unsafe { &mut *info });
    }
    if let Some(target) = kicked(info) {
        take_kick(target, sig, info, uctx);
        return;
    }
    if !synchronous(sig, info) {
        // On the carrier (a green TCB is loaded) but no green thread running: the hub.
        if hub::in_root() {
            capture(sig, info);
            return;
        }
        if let Some(t) = hub::current() {
            if own {
                // The running thread's own delivery (or one held by the kernel until a handler
                // for it returned): its handler runs here, unless a kick ran it already.
                if !matches!(claim_self_send(t, sig), SelfSend::TakenAlready) {
                    call_program_handler(sig, info, uctx);
                }
                return;
            }
            if not_for_running(t, sig, info) {
                capture(sig, info);
                hub::nudge_idle_from_signal();
                return;
            }
        }
        if leader_takes_instead(sig, info) {
            capture(sig, info);
            hub::nudge_idle_from_signal();
            return;
        }
    }
    call_program_handler(sig, info, uctx);
}

/// Whether a signal that landed while `t` runs (not a kick, not `t`'s own delivery) is routed
/// like one landing in the hub instead of run here:
/// - `t` is on its way into a wait with its own mask (`Task::masked_wait`), or is parked and
///   switching out: routed to it, it wakes the wait and the call fails with EINTR, where a
///   handler run here would leave the wait parked;
/// - `t` blocks it: the kernel chose this carrier by the mask of the thread that ran before (a
///   switch names the next thread before it loads that thread's mask), so it goes to a thread
///   that takes it. A tgkill (SI_TKILL) names this OS thread and stays, as a mask changed
///   behind the thread's record (glibc's own abort) may have let it in;
/// - a real-time signal of which earlier ones are still queued here (captured, not delivered):
///   it queues behind them, as the kernel delivers a process's real-time signals in order.
fn not_for_running(t: &Task, sig: c_int, info: *const libc::siginfo_t) -> bool {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let code = unsafe { (*info).si_code };
    t.masked_wait.load(Ordering::SeqCst)
        || t.park_state.load(Ordering::Acquire) == task::PARKED
        || (code != libc::SI_TKILL && (t.sigmask.get() & bit(sig) != 0 || (sig >= FIRST_RT && BUSY.load(Ordering::Acquire) & bit(sig) != 0)))
}

/// A process-directed signal landed while a green thread other than main runs, and main takes
/// it: the kernel would have given it to main (complete_signal tries the thread-group leader
/// first), so it is routed there instead of run here. A program whose main waits in `pause()`
/// for an `alarm()` while threads work (stress-ng's stressors do) would otherwise wait for a
/// signal its worker swallowed. Staying with the running thread: thread-directed signals
/// (tgkill: SI_TKILL); a kill or sigqueue from this process itself, which Linux lets the
/// sending thread take when it can (CPython's test_threadsignals counts on a worker's
/// `os.kill` being handled at once, not at the hub's next poll); and redeliveries of routed
/// signals (their target was chosen already: main first, so a redelivery to another thread
/// means main did not take the signal then).
fn leader_takes_instead(sig: c_int, info: *const libc::siginfo_t) -> bool {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler; si_pid is valid
    // for SI_USER and SI_QUEUE.
    let (code, from) = unsafe { ((*info).si_code, if matches!((*info).si_code, libc::SI_USER | libc::SI_QUEUE) { (*info).si_pid() } else { 0 }) };
    if code == libc::SI_TKILL || (from != 0 && from as usize == hub_pid()) {
        return false;
    }
    let Some(main) = hub::leader() else { return false };
    signal::takes(main, sig) && hub::running().is_some_and(|t| !t.is_main)
}

/// Words 8 to 10 of a kick's siginfo (after si_pid, si_uid and the two words a tgkill leaves
/// 0): this marker, then the target task's address, low half first.
const KICK_MARK: u32 = 0x6b69_636b; // "kick"
const KICK_WORD: usize = 8;
/// The marker of a green thread's own delivery to its carrier (`send_own`): the high half of
/// word 3, the padding between si_code and the union (no layout uses it, and the kernel keeps
/// it: it copies the first 48 bytes of a queued siginfo and drops the rest), whose low half
/// holds the original si_code.
const OWN_MARK: u32 = 0x6f77_0000; // "ow"
const OWN_WORD: usize = 3;

/// pthread_kill of a green thread running on carrier `tid` (another carrier, or the only one
/// when the sender is not green) with `sig` unblocked, or a process-directed signal routed to
/// a thread running on another carrier:
/// the signal goes to that carrier now, as the kernel interrupts a running thread at once, with
/// a siginfo that names its target, so that the trampoline there runs the handler only if the
/// target is still the one running and the signal still pending for it (the pending bit is the
/// claim: whichever of the kick and the target's own next delivery clears it runs the handler,
/// once). Anywhere else the kick is dropped and the target takes the signal when it next runs.
/// A signal without a program handler (default action or ignored) acts on the whole process:
/// it is sent plainly and its pending bit dropped.
pub fn kick(tid: i32, target: &Task, sig: c_int) {
    let b = bit(sig);
    let pid = hub_pid();
    if TRAMPOLINED.load(Ordering::Acquire) & b == 0 {
        if target.pending_signals.fetch_and(!b, Ordering::AcqRel) & b != 0 {
            if target.routed_signals.fetch_and(!b, Ordering::AcqRel) & b != 0 {
                take_info(sig); // its handler was reset meanwhile: the slot is free again
            }
            // SAFETY: tgkill takes no pointers; the carrier is a thread of our process.
            unsafe { sys::syscall3(libc::SYS_tgkill, pid, tid as usize, sig as usize) };
        }
        return;
    }
    // What tgkill gives, plus the marker and target. SI_QUEUE: the kernel lets a thread send
    // SI_TKILL only to itself; take_kick makes it SI_TKILL again.
    let mut info = signal::sent_by_us(sig, libc::SI_QUEUE, pid);
    let t = target as *const Task as usize;
    info[KICK_WORD] = KICK_MARK;
    info[KICK_WORD + 1] = t as u32;
    info[KICK_WORD + 2] = (t >> 32) as u32;
    // SAFETY: a live 128-byte siginfo to a thread of our own process (any si_code is allowed
    // there).
    unsafe { sys::syscall6(libc::SYS_rt_tgsigqueueinfo, pid, tid as usize, sig as usize, info.as_ptr() as usize, 0, 0) };
}

/// An own delivery (see `send_own`): its original siginfo again.
fn unmark_own(info: &mut libc::siginfo_t) {
    let w = info as *mut libc::siginfo_t as *mut u32;
    // SAFETY: siginfo_t is 128 bytes of plain data: word OWN_WORD is inside it.
    unsafe {
        info.si_code = *w.add(OWN_WORD) as u16 as i16 as c_int;
        *w.add(OWN_WORD) = 0;
    }
}

/// Whether `info` is a thread's own delivery (`send_own`).
fn own_delivery(info: *const libc::siginfo_t) -> bool {
    // SAFETY: the kernel passes a valid 128-byte siginfo to an SA_SIGINFO handler.
    unsafe { (*info).si_code == libc::SI_QUEUE && *(info as *const u32).add(OWN_WORD) & 0xffff_0000 == OWN_MARK }
}

/// Whether `info` is one of ours carrying `mark` at `word` (SI_QUEUE, sent to our own process).
fn marked(info: *const libc::siginfo_t, word: usize, mark: u32) -> bool {
    // SAFETY: the kernel passes a valid 128-byte siginfo to an SA_SIGINFO handler.
    unsafe { (*info).si_code == libc::SI_QUEUE && *(info as *const u32).add(word) == mark }
}

/// The target of a kick (see `kick`), if `info` is one.
fn kicked(info: *const libc::siginfo_t) -> Option<&'static Task> {
    let w = info as *const u32;
    if !marked(info, KICK_WORD, KICK_MARK) {
        return None;
    }
    // SAFETY: as in `marked`.
    unsafe {
        let t = *w.add(KICK_WORD + 1) as usize | (*w.add(KICK_WORD + 2) as usize) << 32;
        // SAFETY: kicks name pooled tasks, which are never freed.
        Some(&*(t as *const Task))
    }
}

/// A kick landed: the handler runs if its target is running here, lets the signal in, and
/// still has it pending. The handler sees the siginfo of a tgkill, or for a process-directed
/// signal routed to the target (`route`) the signal's own, or for values queued with
/// pthread_sigqueue each value's, in order.
fn take_kick(target: &'static Task, sig: c_int, info: *mut libc::siginfo_t, uctx: *mut c_void) {
    let b = bit(sig);
    if !hub::running().is_some_and(|t| core::ptr::eq(t, target)) || target.sigmask.get() & b != 0 {
        return;
    }
    if target.park_state.load(Ordering::Acquire) == task::PARKED {
        // Switching out of a wait: the signal stays pending and ends the wait (the sender woke
        // the target, or the target's recheck will: park.rs), where a handler run here would
        // leave the wait parked.
        return;
    }
    if sig >= libc::SIGRTMIN() && target.self_send.load(Ordering::SeqCst) == sig as u32 {
        // The target is sending itself this real-time signal: its send queues behind the kick
        // instead of merging into it (see `SelfSend`), and runs the handler itself.
        return;
    }
    let self_send = claim_self_send(target, sig);
    let run = match self_send {
        SelfSend::Claimed => {
            // Landed before the target's own delivery of `sig` (which the kernel merged into
            // it, or which finds the claim taken): that delivery runs here, with its siginfo.
            let mut w = [0u32; 32];
            w[..12].copy_from_slice(&target.self_send_info.get());
            // SAFETY: the kernel's 128-byte siginfo is ours to change while this handler runs.
            unsafe { *info = core::mem::transmute::<[u32; 32], libc::siginfo_t>(w) };
            call_program_handler(sig, info, uctx);
            return;
        }
        SelfSend::TakenAlready => false,
        // In a wait with its own mask, the pending bit wakes the park (`Task::masked_wait`).
        SelfSend::NotSending => !target.masked_wait.load(Ordering::SeqCst) && target.pending_signals.fetch_and(!b, Ordering::AcqRel) & b != 0,
    };
    if !run {
        return;
    }
    if target.routed_signals.fetch_and(!b, Ordering::AcqRel) & b != 0 {
        // SAFETY: the kernel's siginfo is ours to change while this handler runs; the routed
        // signal's slot is ours to take (its routed bit, cleared here, was the claim).
        unsafe { *info = take_info(sig) };
        call_program_handler(sig, info, uctx);
        return;
    }
    // Values queued with pthread_sigqueue: each delivered with its own siginfo, in order, as the
    // kernel delivers a thread's queue; then a plain send (pthread_kill), once more for a
    // real-time signal (they queue), merged into the values' delivery for a standard one. A
    // pending bit behind neither is a pthread_sigqueue wake-up whose value an earlier delivery
    // took: nothing runs.
    let mut queued = crate::sigqueue::take(target, sig);
    let mut delivered = false;
    loop {
        match queued {
            Some((value, more)) => {
                // SAFETY: the kernel's 128-byte siginfo is ours to change while this handler
                // runs; `value` is a siginfo as 32 words.
                unsafe { *info = core::mem::transmute::<[u32; 32], libc::siginfo_t>(value) };
                call_program_handler(sig, info, uctx);
                delivered = true;
                queued = if more { crate::sigqueue::take(target, sig) } else { None };
            }
            None => {
                let plain = signal::take_plain(target, sig);
                if plain && (!delivered || sig >= libc::SIGRTMIN()) {
                    // SAFETY: the kernel's siginfo is ours to change while this handler runs.
                    unsafe {
                        (*info).si_code = libc::SI_TKILL;
                        core::ptr::write_bytes((info as *mut u32).add(KICK_WORD), 0, 3);
                    }
                    call_program_handler(sig, info, uctx);
                }
                return;
            }
        }
    }
}

/// `Task::self_send`'s mark: the handler for the signal being sent has run.
const SELF_SEND_CLAIMED: u32 = 0x100;

/// What a signal landing on running thread `t` is to `t`'s own delivery of it (signal.rs
/// `deliver_slow`, which sends `t`'s pending signals to its carrier). While `t` sends itself
/// `sig` the kernel delivers that send or, when a kick was queued here first and the send
/// merged into it (a standard signal is pending once), only the kick: the first of them to
/// arrive claims the delivery and runs the handler, a later one is dropped.
enum SelfSend {
    Claimed,
    TakenAlready,
    NotSending,
}

fn claim_self_send(t: &Task, sig: c_int) -> SelfSend {
    let s = sig as u32;
    match t.self_send.compare_exchange(s, s | SELF_SEND_CLAIMED, Ordering::SeqCst, Ordering::SeqCst) {
        Ok(_) => SelfSend::Claimed,
        Err(v) if v == s | SELF_SEND_CLAIMED => SelfSend::TakenAlready,
        Err(_) => SelfSend::NotSending,
    }
}

fn call_program_handler(sig: c_int, info: *mut libc::siginfo_t, uctx: *mut c_void) {
    let (h, flags) = handler_and_flags(sig);
    if h == 0 || h == libc::SIG_IGN || h == libc::SIG_DFL {
        return; // changed to SIG_DFL/SIG_IGN while this one was on its way
    }
    if flags & libc::SA_RESETHAND != 0 {
        // SA_RESETHAND: the action goes back to SIG_DFL as the handler is entered (unless a
        // sigaction on another thread changed it meanwhile: the kernel resets at delivery).
        // The lock cannot be held by an interrupted holder here: holders block every signal.
        with_actions_locked(|| {
            if handler_and_flags(sig) == (h, flags) {
                let dfl = [libc::SIG_DFL, 0usize, 0, 0];
                // SAFETY: a kernel struct sigaction with SIG_DFL; no old action.
                unsafe { sys::syscall6(libc::SYS_rt_sigaction, sig as usize, dfl.as_ptr() as usize, 0, 8, 0, 0) };
                forget(sig);
            }
        });
    }
    if let Some(t) = hub::running() {
        let k = if flags & libc::SA_RESTART != 0 { signal::RESTART } else { signal::NO_RESTART };
        t.handler_ran.set(t.handler_ran.get().max(k));
        // The handler ends a wait with its own mask (and may longjmp out of it).
        t.masked_wait.store(false, Ordering::SeqCst);
    }
    if flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the program registered a three-argument handler for this signal.
        let f: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) = unsafe { core::mem::transmute(h) };
        f(sig, info, uctx);
    } else {
        // SAFETY: the program registered a one-argument handler for this signal.
        let f: extern "C" fn(c_int) = unsafe { core::mem::transmute(h) };
        f(sig);
    }
}

fn capture(sig: c_int, info: *const libc::siginfo_t) {
    let b = bit(sig);
    if sig >= FIRST_RT {
        let in_slot = with_backlog(sig, |head, len, infos| {
            if BUSY.fetch_or(b, Ordering::AcqRel) & b == 0 {
                // SAFETY: we own slot `sig` (we set its BUSY bit); info is the kernel's siginfo.
                unsafe { *INFO.0[sig as usize].get() = *info };
                return true;
            }
            if *len < BACKLOG {
                // SAFETY: entry head + len is free and ours under the lock.
                unsafe { *infos[(*head + *len) % BACKLOG].get() = *info };
                *len += 1;
            }
            false
        });
        if in_slot {
            PENDING.fetch_or(b, Ordering::AcqRel);
            ROUTE.store(true, Ordering::Release);
        }
        return;
    }
    if BUSY.fetch_or(b, Ordering::AcqRel) & b != 0 {
        return; // one is already pending: merged, as the kernel merges a standard signal
    }
    // SAFETY: we own slot `sig` (we set its BUSY bit); info is the kernel's siginfo.
    unsafe { *INFO.0[sig as usize].get() = *info };
    PENDING.fetch_or(b, Ordering::AcqRel);
    ROUTE.store(true, Ordering::Release);
}

/// Whether `t` is a green thread that can still take a signal: main, or one that has started
/// (its TCB names it) and not finished. From atomics and the TCB's tag only: with several
/// carriers another one may be starting or finishing `t` right now (its stack slot is that
/// carrier's to touch).
fn live(t: &Task) -> bool {
    if t.is_main {
        return true;
    }
    // SAFETY: task TCBs, live or pooled, are the runtime's and stay mapped.
    t.join_flags.load(Ordering::Acquire) & task::EXITED == 0 && unsafe { tls::task_word_of(t.tcb.get()) } == t as *const Task as usize
}

/// The hub routes what was captured (see the module doc for the decision).
pub fn route() {
    ROUTE.store(false, Ordering::Release);
    let p = PENDING.load(Ordering::Acquire);
    for sig in 1..=NSIG as c_int {
        if p & bit(sig) == 0 {
            continue;
        }
        let mut target = hub::main_task().filter(|m| signal::takes(m, sig));
        if target.is_none() {
            task::for_each(|t| {
                if target.is_none() && !t.is_main && live(t) && signal::takes(t, sig) {
                    target = Some(t);
                }
            });
        }
        if let Some(t) = target {
            if !give(t, sig) {
                continue;
            }
            signal::wake_for(t, sig);
            // Running on another carrier: kicked there, as a thread-directed signal is, and the
            // signal stays the target's until one of them delivers it. Not sent to that carrier
            // itself: by the time it landed the carrier might run another thread that blocks
            // it, and it would wait there, the target's for nobody (the rare lost signal of
            // session 10's kill_suspend).
            signal::kick_if_running(t, sig);
        }
    }
}

fn give(t: &Task, sig: c_int) -> bool {
    let b = bit(sig);
    if PENDING.fetch_and(!b, Ordering::AcqRel) & b == 0 {
        return false;
    }
    t.routed_signals.fetch_or(b, Ordering::AcqRel);
    // SeqCst: pairs with park.rs's recheck (see signal::kill).
    t.pending_signals.fetch_or(b, Ordering::SeqCst);
    true
}

/// The running thread `t` now takes signals it did not (mask change, sigwait): process-pending
/// ones become its own.
pub fn claim_process_pending(t: &Task) {
    let p = PENDING.load(Ordering::Acquire);
    if p == 0 {
        return;
    }
    let takes = !t.sigmask.get() | t.sigwait_set.get();
    for sig in 1..=NSIG as c_int {
        if p & takes & bit(sig) != 0 {
            give(t, sig);
        }
    }
}

/// Takes the siginfo of a routed `sig` (frees its slot, or fills it with the next queued
/// real-time one, which is then routed in turn).
pub fn take_info(sig: c_int) -> libc::siginfo_t {
    let info = slot_info(sig);
    release_slot(sig);
    info
}

/// The siginfo in a routed `sig`'s slot, which stays taken.
fn slot_info(sig: c_int) -> libc::siginfo_t {
    // SAFETY: the slot's BUSY bit is set until its taker clears it; nobody writes it meanwhile.
    unsafe { *INFO.0[sig as usize].get() }
}

/// Frees a routed `sig`'s slot, or fills it with the next queued real-time one and routes that.
fn release_slot(sig: c_int) {
    let b = bit(sig);
    if sig < FIRST_RT {
        BUSY.fetch_and(!b, Ordering::AcqRel);
        return;
    }
    let next = with_backlog(sig, |head, len, infos| {
        if *len == 0 {
            BUSY.fetch_and(!b, Ordering::AcqRel);
            return false;
        }
        // SAFETY: the slot is still ours (BUSY stays set) and the head entry is, under the lock.
        unsafe { *INFO.0[sig as usize].get() = *infos[*head].get() };
        *head = (*head + 1) % BACKLOG;
        *len -= 1;
        true
    });
    if next {
        PENDING.fetch_or(b, Ordering::AcqRel);
        ROUTE.store(true, Ordering::Release);
        hub::nudge_idle_from_signal();
    }
}

fn hub_pid() -> usize {
    // SAFETY: getpid takes no arguments.
    unsafe { sys::syscall3(libc::SYS_getpid, 0, 0, 0) as usize }
}

/// Sends a routed signal to the carrier again while its target runs there (`send_own`): its
/// handler runs before the send returns. If the kernel merges it with the same signal already
/// pending on that carrier, one delivery is lost, as the kernel merges a standard signal
/// pending twice. If it cannot be sent it is routed again.
///
/// A standard signal's slot is freed before the send. Its handler may let the program send the
/// next one before the send returns (kill_mask_switch's sender waits for each handler), and a
/// capture that found the slot still taken merged that new signal into the one already
/// delivered: it was lost (1 run in 40 under load).
///
/// A real-time signal's slot stays taken until the send is done: one of the same number that
/// lands on this thread meanwhile (once the mask is restored around the backlog's lock, say)
/// then queues behind it (`not_for_running`, the backlog) instead of running its handler first
/// (the values of a `sigqueue` burst reached the handler out of order, 1 run in 30 or so under
/// load).
pub fn redeliver(t: &Task, pid: usize, tid: usize, sig: c_int) {
    let original = slot_info(sig);
    if sig < FIRST_RT {
        release_slot(sig);
    }
    // SAFETY: siginfo_t is 128 bytes of plain data, as is [u32; 32].
    if send_own(t, pid, tid, sig, unsafe { core::mem::transmute::<libc::siginfo_t, [u32; 32]>(original) }) < 0 {
        if sig < FIRST_RT {
            capture(sig, &original); // merged if another one was captured meanwhile
        } else {
            // Still in its slot: routed again.
            PENDING.fetch_or(bit(sig), Ordering::AcqRel);
            ROUTE.store(true, Ordering::Release);
        }
        return;
    }
    if sig >= FIRST_RT {
        release_slot(sig);
    }
}

/// Sends `sig` with siginfo `w` to the carrier `tid` of the calling thread `t` (signal.rs
/// `deliver_slow`: a routed signal, a pthread_sigqueue value, a plain send), as the delivery
/// `t.self_send` names, marked as such so that only it, not a process-directed signal landing
/// meanwhile, claims that delivery (`SelfSend`). The kernel lets a thread queue a siginfo with
/// the code of a kill (SI_USER, si_code >= 0) or a tgkill only to itself (EPERM otherwise), so
/// it goes as SI_QUEUE with the marker and its own si_code in the padding word (OWN_MARK), which
/// the trampoline restores. Returns the syscall's result.
pub fn send_own(t: &Task, pid: usize, tid: usize, sig: c_int, mut w: [u32; 32]) -> isize {
    let mut first = [0u32; 12];
    first.copy_from_slice(&w[..12]);
    t.self_send_info.set(first);
    // Named before it is sent: a kick landing from here on may claim it (`take_kick`).
    t.self_send.store(sig as u32, Ordering::SeqCst);
    w[OWN_WORD] = OWN_MARK | (w[2] & 0xffff);
    w[2] = libc::SI_QUEUE as u32;
    // SAFETY: a live 128-byte siginfo to a thread of our own process.
    unsafe { sys::syscall6(libc::SYS_rt_tgsigqueueinfo, pid, tid, sig as usize, w.as_ptr() as usize, 0, 0) }
}

/// Process-directed signals the kernel holds because every carrier runs a thread that blocks
/// them, while a parked thread (in a wait with its own mask, say) would take them: taken off
/// the kernel's queue with their siginfo (rt_sigtimedwait, no wait) and routed as if they had
/// landed in a root. `blocked` is the carrier's mask. Only an idle carrier lets them in
/// otherwise, so a busy process checks now and then (hub.rs `Poll::Peek`). Left in the kernel:
/// signals without a program handler (their default action or SIG_IGN is the kernel's to apply
/// to the whole process). A stale kick for a thread that no longer runs here is dropped on the
/// way, as the trampoline would drop it.
pub fn take_stranded(blocked: u64) {
    if !may_strand(blocked) {
        return;
    }
    let handled = TRAMPOLINED.load(Ordering::Acquire);
    let mut pending: u64 = 0;
    // SAFETY: rt_sigpending writes 8 bytes into a live u64.
    unsafe { sys::syscall3(libc::SYS_rt_sigpending, &mut pending as *mut u64 as usize, 8, 0) };
    let stranded = pending & handled & blocked;
    for sig in 1..=NSIG as c_int {
        if stranded & bit(sig) == 0 {
            continue;
        }
        // A kick pending on this carrier comes out before a process-directed one: twice at most.
        for _ in 0..2 {
            let set = bit(sig);
            let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            // SAFETY: siginfo_t is plain data; all-zero is a valid value.
            let mut info: libc::siginfo_t = unsafe { core::mem::zeroed() };
            // SAFETY: a live 8-byte set, siginfo and zero timeout; the signal is blocked here.
            let r = unsafe {
                sys::syscall6(libc::SYS_rt_sigtimedwait, &set as *const u64 as usize, &mut info as *mut _ as usize, &zero as *const _ as usize, 8, 0, 0)
            };
            if r != sig as isize {
                break;
            }
            if kicked(&info).is_some() {
                continue;
            }
            if own_delivery(&info) {
                unmark_own(&mut info);
            }
            capture(sig, &info);
            break;
        }
    }
}

/// Whether a carrier with mask `blocked` blocks a signal the program handles (only then can
/// one be stranded: `take_stranded`). One load, no syscall.
#[inline]
pub fn may_strand(blocked: u64) -> bool {
    TRAMPOLINED.load(Ordering::Relaxed) & blocked != 0
}

/// Whether the kernel holds a handled signal for the process: asked by the watchdog, whose own
/// thread blocks every signal, so that rt_sigpending there shows the process's pending set (a
/// signal no running thread lets in, which a carrier's fairness turn never comes to take
/// while a thread computes).
pub fn held_by_kernel() -> bool {
    let handled = TRAMPOLINED.load(Ordering::Acquire);
    if handled == 0 {
        return false;
    }
    let mut pending: u64 = 0;
    // SAFETY: rt_sigpending writes 8 bytes into a live u64.
    unsafe { sys::syscall3(libc::SYS_rt_sigpending, &mut pending as *mut u64 as usize, 8, 0) };
    pending & handled != 0
}

/// Signals process-pending here (for sigpending).
pub fn process_pending() -> u64 {
    PENDING.load(Ordering::Acquire)
}

/// Fork child: pending signals are not inherited.
pub fn after_fork_child() {
    PENDING.store(0, Ordering::Relaxed);
    BUSY.store(0, Ordering::Relaxed);
    ROUTE.store(false, Ordering::Relaxed);
    for q in &BACKLOGS {
        q.lock.store(false, Ordering::Relaxed);
        // SAFETY: the child's only thread; no capture runs yet (its signals were not inherited).
        unsafe { *q.len.get() = 0 };
    }
}
