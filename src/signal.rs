//! Signals pending for one green thread: sent with pthread_kill, pthread_sigqueue (the values:
//! sigqueue.rs) or raise, or process-directed signals routed to it (sigroute.rs). The kernel
//! only knows the carrier thread, so the runtime keeps the signal pending on the target and
//! delivers it when that thread runs with the signal unblocked, by sending it to the carrier
//! again: the handler then runs on the target's own stack and TCB, as the kernel would run it on
//! the target thread. A target parked in a wait is woken for it; whether its call then fails
//! with EINTR is decided by the call (sleeps, sem_wait, poll always; read/write/waitpid… unless
//! the handler has SA_RESTART; mutex and condition waits never), from what its park recorded in
//! `Task::last_intr`.

use core::ffi::c_int;
use core::sync::atomic::Ordering;

use crate::park;
use crate::sigmask::bit;
use crate::sys;
use crate::task::Task;

const NSIG: c_int = 64;

/// `Task::last_intr` values: no handler ran during the park; handlers ran, all with
/// SA_RESTART; a handler without SA_RESTART ran.
pub const NONE: u8 = 0;
pub const RESTART: u8 = 1;
pub const NO_RESTART: u8 = 2;

/// Whether a call should fail with EINTR after a park: a handler ran meanwhile, and the call is
/// not one SA_RESTART restarts (`restartable`) or the handler lacked SA_RESTART.
pub fn eintr(t: &Task, restartable: bool) -> bool {
    match t.last_intr.get() {
        NONE => false,
        RESTART => !restartable,
        _ => true,
    }
}

/// Whether the calling green thread's last park was cut short by a handler such that its call
/// fails with EINTR (see [`eintr`]). Always false for threads that are not green.
pub fn interrupted(restartable: bool) -> bool {
    crate::hub::current().is_some_and(|t| eintr(t, restartable))
}

/// Marks `sig` pending for `target` and wakes it if it would take it now (unblocked, or waited
/// for in sigwait). EINVAL for a bad signal number; 0 only checks.
pub fn kill(target: &'static Task, sig: c_int) -> c_int {
    if !(0..=NSIG).contains(&sig) {
        return libc::EINVAL;
    }
    if sig == 0 {
        return 0;
    }
    target.plain_signals.fetch_or(bit(sig), Ordering::SeqCst);
    // SeqCst: the pending bit and park.rs's PARKED are the two sides of a Dekker check (see
    // park::recheck), so a target on another carrier that is on its way into a wait sees it.
    target.pending_signals.fetch_or(bit(sig), Ordering::SeqCst);
    wake_for(target, sig);
    kick_if_running(target, sig);
    0
}

/// Claims `t`'s plain send of `sig` (pthread_kill, raise), if one is pending. A pending bit
/// set by pthread_sigqueue stays set after a delivery that took that value along with an
/// earlier one (deliveries take every queued value), so a delivery that finds no queued value
/// delivers a plain signal only when this says one was sent.
pub fn take_plain(t: &Task, sig: c_int) -> bool {
    t.plain_signals.fetch_and(!bit(sig), Ordering::AcqRel) & bit(sig) != 0
}

/// `sig` was made pending for `target`: if it runs now (on another carrier, or seen from a
/// thread that is not green) with `sig` unblocked, the kernel would interrupt it now, not at its
/// next wait (which a computing thread never reaches).
pub fn kick_if_running(target: &Task, sig: c_int) {
    if target.sigmask.get() & bit(sig) == 0 {
        if let Some(tid) = crate::hub::carrier_running(target) {
            crate::sigroute::kick(tid, target, sig);
        }
    }
}

/// Wakes `target` from its wait if it takes `sig` now.
pub fn wake_for(target: &'static Task, sig: c_int) {
    if takes(target, sig) {
        park::interrupt(target);
    }
}

/// Whether `t` would take `sig` now: not blocked, or waited for in sigwait.
/// kill(getpid(), sig) by main while it takes `sig`, with several carriers: sent to main's own
/// carrier instead (true), so the handler runs before kill returns as it does natively, where
/// the kernel prefers the thread-group leader, main. False: the caller makes the real call.
pub fn kill_self_here(t: &Task, pid: libc::pid_t, sig: c_int) -> bool {
    if !t.is_main || !crate::hub::multi() || sig <= 0 || sig as usize > 64 || !takes(t, sig) {
        return false;
    }
    let (own, tid) = carrier_ids();
    if pid as usize != own {
        return false;
    }
    // The siginfo kill() would give: SI_USER (0), our pid and real uid.
    let info = sent_by_us(sig, libc::SI_USER, own);
    // SAFETY: a 128-byte siginfo to this process's calling OS thread; any si_code is allowed
    // towards our own process.
    unsafe { sys::syscall6(libc::SYS_rt_tgsigqueueinfo, own, tid, sig as usize, info.as_ptr() as usize, 0, 0) == 0 }
}

/// A siginfo (as 32 words, for rt_tgsigqueueinfo) of `sig` with `code`, sent by our process
/// `pid` and its real uid: what kill() or tgkill() from this process would give.
pub fn sent_by_us(sig: c_int, code: c_int, pid: usize) -> [u32; 32] {
    let mut info = [0u32; 32];
    info[0] = sig as u32;
    info[2] = code as u32;
    info[4] = pid as u32;
    // SAFETY: getuid takes no arguments.
    info[5] = unsafe { sys::syscall3(libc::SYS_getuid, 0, 0, 0) } as u32;
    info
}

pub fn takes(t: &Task, sig: c_int) -> bool {
    t.sigmask.get() & bit(sig) == 0 || t.sigwait_set.get() & bit(sig) != 0
}

/// Whether a signal pending for the calling thread `t` should cut its wait short (one it takes
/// now, see [`takes`]): park.rs asks on the way into a wait when several carriers run, where
/// `kill` may have found `t` still running and woken nobody.
pub fn wakes(t: &Task) -> bool {
    t.pending_signals.load(Ordering::Relaxed) & (!t.sigmask.get() | t.sigwait_set.get()) != 0
}

/// raise() from the calling green thread: delivered now when unblocked (the handler runs before
/// raise returns, as natively), otherwise pending on this thread until it unblocks or waits
/// for it. Returns 0 or an errno.
pub fn raise(t: &'static Task, sig: c_int) -> c_int {
    if !(1..=NSIG).contains(&sig) {
        return libc::EINVAL;
    }
    t.plain_signals.fetch_or(bit(sig), Ordering::AcqRel);
    t.pending_signals.fetch_or(bit(sig), Ordering::AcqRel);
    deliver_pending(t);
    0
}

/// The carrier's ids, for sending a signal to it.
fn carrier_ids() -> (usize, usize) {
    // SAFETY: getpid/gettid take no arguments.
    unsafe { (sys::syscall3(libc::SYS_getpid, 0, 0, 0) as usize, sys::syscall3(libc::SYS_gettid, 0, 0, 0) as usize) }
}

/// What delivering `sig` does to an interrupted call: NONE when no handler runs (ignored or
/// default action), RESTART or NO_RESTART from the handler's SA_RESTART (the kernel's record:
/// siginterrupt changes it behind sigaction).
pub fn handler_kind(sig: c_int) -> u8 {
    let mut k = [0usize; 4]; // kernel struct sigaction: handler, flags, restorer, mask
    // SAFETY: reading the action into a live buffer of the kernel's struct size.
    let r = unsafe { sys::syscall6(libc::SYS_rt_sigaction, sig as usize, 0, k.as_mut_ptr() as usize, 8, 0, 0) };
    if r < 0 || k[0] == libc::SIG_DFL || k[0] == libc::SIG_IGN {
        return NONE;
    }
    if k[1] as c_int & libc::SA_RESTART != 0 { RESTART } else { NO_RESTART }
}

/// Delivers the signals pending for the calling green thread that its mask lets through (each
/// handler runs now, on this thread). Returns what that means for an interrupted call (NONE,
/// RESTART, NO_RESTART).
#[inline]
pub fn deliver_pending(t: &Task) -> u8 {
    // A plain load first: this runs at every switch back into a thread, and a locked swap
    // would cost ≈5 ns there for the rare case.
    let p = t.pending_signals.load(Ordering::Relaxed);
    if p == 0 || p & !t.sigmask.get() == 0 {
        return NONE;
    }
    deliver_slow(t)
}

#[cold]
fn deliver_slow(t: &Task) -> u8 {
    let open = !t.sigmask.get();
    let bits = t.pending_signals.fetch_and(!open, Ordering::AcqRel) & open;
    let routed = t.routed_signals.fetch_and(!bits, Ordering::AcqRel) & bits;
    let (pid, tid) = carrier_ids();
    let mut kind = NONE;
    for sig in 1..=NSIG {
        if bits & bit(sig) == 0 {
            continue;
        }
        // Sent to this carrier with `sig` unblocked: delivered before the call returns. A kick
        // for `sig` (sigroute::kick) queued on this carrier meanwhile makes the kernel drop
        // this send (a standard signal is pending once), and the kick finds the pending bit
        // cleared above: `self_send` lets whichever arrives first run the handler, once.
        let mut sent = routed & bit(sig) != 0;
        if sent {
            crate::sigroute::redeliver(t, pid, tid, sig);
        }
        // Values queued with pthread_sigqueue, each with its siginfo (the kernel queues the
        // real-time ones and runs the handler for each before the send returns).
        while let Some((info, _)) = crate::sigqueue::take(t, sig) {
            crate::sigroute::send_own(t, pid, tid, sig, info); // each send is a delivery to claim
            sent = true;
        }
        // A plain send too: once more for a real-time signal (they queue), merged into the
        // delivery above for a standard one.
        if take_plain(t, sig) && (!sent || sig >= libc::SIGRTMIN()) {
            crate::sigroute::send_own(t, pid, tid, sig, sent_by_us(sig, libc::SI_TKILL, pid));
            sent = true;
        }
        t.self_send.store(0, Ordering::SeqCst);
        if sent {
            kind = kind.max(handler_kind(sig));
        }
    }
    kind
}

/// The calling thread's mask just changed: deliver what it now lets through (its own pending
/// signals and process-directed ones no thread could take so far).
pub fn mask_unblocked(t: &'static Task) {
    crate::sigroute::claim_process_pending(t);
    deliver_pending(t);
}
