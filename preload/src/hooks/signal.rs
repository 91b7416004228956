//! Signals: per-thread masks (green_rt::sigmask), the program's handlers behind the runtime's
//! trampoline (green_rt::sigroute), raise, and the sigwait family (green_rt::sigwait). Callers
//! that are not green use glibc's functions; sigaction goes through the runtime for everyone,
//! as a disposition belongs to the process.

use core::ffi::c_int;
use core::sync::atomic::{AtomicU64, Ordering};

use green_rt::sigmask::{self, bit};
use green_rt::{hub, sigroute, sigwait};

use crate::{real, set_errno};

/// The calling green thread, unless this is a vfork child (which shares our memory but must
/// change only its own kernel state: see hub::in_vfork_child).
fn green_caller() -> Option<&'static green_rt::task::Task> {
    hub::current().filter(|_| !hub::in_vfork_child())
}

/// The kernel's flag for the signal-return trampoline glibc sets (not in the libc crate).
const SA_RESTORER: c_int = 0x0400_0000;

fn ret(r: isize) -> c_int {
    if r < 0 {
        set_errno((-r) as c_int);
        -1
    } else {
        r as c_int
    }
}

#[no_mangle]
pub unsafe extern "C" fn pthread_sigmask(how: c_int, set: *const libc::sigset_t, old: *mut libc::sigset_t) -> c_int {
    let Some(t) = green_caller() else {
        // SAFETY: forwarded unchanged.
        return unsafe { real::pthread_sigmask()(how, set, old) };
    };
    // SAFETY: set is null or a sigset_t (contract).
    match sigmask::change(t, how, unsafe { sigmask::read_set(set) }) {
        Ok(prev) => {
            // SAFETY: old is null or writable (contract).
            unsafe { sigmask::write_set(old, prev) };
            0
        }
        Err(e) => e,
    }
}

#[no_mangle]
pub unsafe extern "C" fn sigprocmask(how: c_int, set: *const libc::sigset_t, old: *mut libc::sigset_t) -> c_int {
    if green_caller().is_none() {
        // SAFETY: forwarded unchanged.
        return unsafe { real::sigprocmask()(how, set, old) };
    }
    // SAFETY: same contract as pthread_sigmask.
    match unsafe { pthread_sigmask(how, set, old) } {
        0 => 0,
        e => {
            set_errno(e);
            -1
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn raise(sig: c_int) -> c_int {
    match green_caller() {
        Some(t) => match green_rt::signal::raise(t, sig) {
            0 => 0,
            e => {
                set_errno(e);
                -1
            }
        },
        // SAFETY: forwarded unchanged.
        None => unsafe { real::raise()(sig) },
    }
}

/// kill: with several carriers, main sending its own process a signal it takes must run the
/// handler before kill returns, as natively (the kernel delivers to the thread-group leader,
/// which is main natively but another carrier here).
#[no_mangle]
pub unsafe extern "C" fn kill(pid: libc::pid_t, sig: c_int) -> c_int {
    if let Some(t) = green_caller() {
        if green_rt::signal::kill_self_here(t, pid, sig) {
            return 0;
        }
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::kill()(pid, sig) }
}

#[no_mangle]
pub unsafe extern "C" fn sigaction(sig: c_int, act: *const libc::sigaction, old: *mut libc::sigaction) -> c_int {
    if !hub::started() || !sigroute::routable(sig) || hub::in_vfork_child() {
        // SAFETY: forwarded unchanged.
        return unsafe { real::sigaction()(sig, act, old) };
    }
    // One whole call at a time (sigroute's ACTIONS): the record, the kernel's action, the old one.
    let (r, prev) = sigroute::with_actions_locked(|| {
        let prev = sigroute::program_action(sig);
        // SAFETY: forwarded contract.
        (unsafe { exchange_action(sig, act, old) }, prev)
    });
    if r == 0 {
        // SAFETY: old is null or writable (contract).
        if let (Some((h, f)), Some(o)) = (prev, unsafe { old.as_mut() }) {
            o.sa_sigaction = h;
            // The runtime's own handlers show as SIG_DFL, whose flags the kernel reports as 0.
            o.sa_flags = if h == libc::SIG_DFL { 0 } else { f | (o.sa_flags & SA_RESTORER) };
        }
    }
    r
}

/// The kernel call of our sigaction with the runtime's record kept in step (ACTIONS held).
unsafe fn exchange_action(sig: c_int, act: *const libc::sigaction, old: *mut libc::sigaction) -> c_int {
    // SAFETY: act is null or a sigaction (contract).
    match unsafe { act.as_ref() } {
        None => {
            // SAFETY: forwarded unchanged.
            unsafe { real::sigaction()(sig, act, old) }
        }
        Some(a) if a.sa_sigaction == libc::SIG_DFL || a.sa_sigaction == libc::SIG_IGN => {
            // SAFETY: forwarded unchanged.
            let r = unsafe { real::sigaction()(sig, act, old) };
            if r == 0 {
                sigroute::forget(sig);
            }
            r
        }
        Some(a) => {
            let mut k = *a;
            (k.sa_sigaction, k.sa_flags) = sigroute::record(sig, a.sa_sigaction, a.sa_flags);
            // SAFETY: a live copy of the caller's action with our handler; old as given.
            unsafe { real::sigaction()(sig, &k, old) }
        }
    }
}

/// Signals siginterrupt made interrupting (glibc's `_sigintr`, which signal() consults).
static SIGINTR: AtomicU64 = AtomicU64::new(0);

/// signal()/bsd_signal() with glibc's BSD semantics: the signal blocked in its handler and
/// SA_RESTART unless siginterrupt said otherwise. Through our sigaction (glibc's calls its
/// internal one).
#[no_mangle]
pub unsafe extern "C" fn signal(sig: c_int, handler: libc::sighandler_t) -> libc::sighandler_t {
    if handler == libc::SIG_ERR || !(1..=64).contains(&sig) || matches!(sig, 32 | 33) {
        set_errno(libc::EINVAL);
        return libc::SIG_ERR;
    }
    let flags = if SIGINTR.load(Ordering::Relaxed) & bit(sig) != 0 { 0 } else { libc::SA_RESTART };
    // SAFETY: forwarded to our sigaction with a complete action.
    unsafe { install(sig, handler, bit(sig), flags) }
}

#[no_mangle]
pub unsafe extern "C" fn bsd_signal(sig: c_int, handler: libc::sighandler_t) -> libc::sighandler_t {
    // SAFETY: same contract as signal.
    unsafe { signal(sig, handler) }
}

/// sysv_signal: one-shot, not blocked in its handler, no SA_RESTART (glibc's).
#[no_mangle]
pub unsafe extern "C" fn sysv_signal(sig: c_int, handler: libc::sighandler_t) -> libc::sighandler_t {
    if handler == libc::SIG_ERR || !(1..=64).contains(&sig) {
        set_errno(libc::EINVAL);
        return libc::SIG_ERR;
    }
    // SAFETY: as signal.
    unsafe { install(sig, handler, 0, libc::SA_RESETHAND | libc::SA_NODEFER) }
}

unsafe fn install(sig: c_int, handler: libc::sighandler_t, mask: u64, flags: c_int) -> libc::sighandler_t {
    // SAFETY: all-zero sigaction structs are valid; filled in below.
    let (mut a, mut o): (libc::sigaction, libc::sigaction) = unsafe { (core::mem::zeroed(), core::mem::zeroed()) };
    a.sa_sigaction = handler;
    a.sa_flags = flags;
    // SAFETY: a's mask is a live sigset_t.
    unsafe { sigmask::write_set(&mut a.sa_mask, mask) };
    // SAFETY: live structs.
    if unsafe { sigaction(sig, &a, &mut o) } < 0 {
        return libc::SIG_ERR;
    }
    o.sa_sigaction
}

/// siginterrupt as glibc's, through our sigaction.
#[no_mangle]
pub unsafe extern "C" fn siginterrupt(sig: c_int, interrupt: c_int) -> c_int {
    if !(1..=64).contains(&sig) {
        set_errno(libc::EINVAL);
        return -1;
    }
    // SAFETY: an all-zero sigaction is valid; filled by sigaction.
    let mut a: libc::sigaction = unsafe { core::mem::zeroed() };
    // SAFETY: live struct.
    if unsafe { sigaction(sig, core::ptr::null(), &mut a) } < 0 {
        return -1;
    }
    if interrupt != 0 {
        SIGINTR.fetch_or(bit(sig), Ordering::Relaxed);
        a.sa_flags &= !libc::SA_RESTART;
    } else {
        SIGINTR.fetch_and(!bit(sig), Ordering::Relaxed);
        a.sa_flags |= libc::SA_RESTART;
    }
    a.sa_flags &= !SA_RESTORER;
    // SAFETY: live struct.
    if unsafe { sigaction(sig, &a, core::ptr::null_mut()) } < 0 {
        return -1;
    }
    0
}

#[no_mangle]
pub unsafe extern "C-unwind" fn sigtimedwait(set: *const libc::sigset_t, info: *mut libc::siginfo_t, ts: *const libc::timespec) -> c_int {
    let Some(t) = hub::current() else {
        // SAFETY: forwarded unchanged.
        return unsafe { real::sigtimedwait()(set, info, ts) };
    };
    // SAFETY: ts is null or a timespec (contract).
    let deadline = match unsafe { super::io::timeout_deadline(ts) } {
        Ok(d) => d,
        Err(e) => return ret(e),
    };
    if set.is_null() {
        set_errno(libc::EFAULT);
        return -1;
    }
    green_rt::thread::testcancel();
    // SAFETY: set is a sigset_t; info is null or writable (contract).
    ret(sigwait::timedwait(t, unsafe { *(set as *const u64) }, unsafe { info.as_mut() }, deadline))
}

#[no_mangle]
pub unsafe extern "C-unwind" fn sigwaitinfo(set: *const libc::sigset_t, info: *mut libc::siginfo_t) -> c_int {
    // SAFETY: same contract, no timeout.
    unsafe { sigtimedwait(set, info, core::ptr::null()) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn sigwait(set: *const libc::sigset_t, sig: *mut c_int) -> c_int {
    if hub::current().is_none() {
        // SAFETY: forwarded unchanged.
        return unsafe { real::sigwait()(set, sig) };
    }
    // SAFETY: all-zero is a valid siginfo.
    let mut si: libc::siginfo_t = unsafe { core::mem::zeroed() };
    loop {
        // SAFETY: same contract as sigtimedwait.
        let r = unsafe { sigtimedwait(set, &mut si, core::ptr::null()) };
        if r >= 0 {
            // SAFETY: sig is writable (contract).
            unsafe { *sig = si.si_signo };
            return 0;
        }
        // SAFETY: reading our own errno.
        let e = unsafe { *libc::__errno_location() };
        // glibc's sigwait never returns EINTR.
        if e != libc::EINTR {
            return e;
        }
    }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn sigsuspend(mask: *const libc::sigset_t) -> c_int {
    let Some(t) = hub::current() else {
        // SAFETY: forwarded unchanged.
        return unsafe { real::sigsuspend()(mask) };
    };
    if mask.is_null() {
        set_errno(libc::EFAULT);
        return -1;
    }
    green_rt::thread::testcancel();
    // SAFETY: mask is a sigset_t (contract).
    ret(sigwait::suspend(t, unsafe { *(mask as *const u64) }))
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pause() -> c_int {
    match hub::current() {
        Some(t) => {
            green_rt::thread::testcancel();
            ret(sigwait::suspend(t, t.sigmask.get()))
        }
        // SAFETY: no arguments.
        None => unsafe { real::pause()() },
    }
}

/// sigpending of a green thread: its own pending signals, those held for the process, and the
/// kernel's for the carrier and the process, limited to the ones it blocks (as the kernel).
#[no_mangle]
pub unsafe extern "C" fn sigpending(set: *mut libc::sigset_t) -> c_int {
    // SAFETY: forwarded unchanged.
    let r = unsafe { real::sigpending()(set) };
    if let (0, Some(t)) = (r, hub::current()) {
        let own = t.pending_signals.load(Ordering::Acquire) | sigroute::process_pending();
        // SAFETY: set was just filled by sigpending.
        unsafe {
            let k = sigmask::read_set(set).unwrap_or(0);
            sigmask::write_set(set, (k | own) & t.sigmask.get());
        }
    }
    r
}
