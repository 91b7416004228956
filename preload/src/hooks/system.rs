//! system(), popen() and pclose() without stalling the other green threads for the child's
//! lifetime. glibc's system() and pclose() wait for the child inside libc (an internal waitpid
//! that no interposer sees), so for a green caller:
//! - system() is glibc 2.36's do_system re-done here step by step, with a cooperative wait
//!   (green_rt::process::wait_child: a pidfd in the hub's epoll): SIGINT and SIGQUIT ignored
//!   while any system() runs (reference-counted: the first in saves and ignores them, the last
//!   out restores them and its mask), SIGCHLD blocked in the calling thread, `/bin/sh -c LINE`
//!   spawned with posix_spawn with the caller's previous mask and SIGINT/SIGQUIT back to default
//!   unless they were ignored, `127 << 8` (errno set) when the shell cannot be spawned, -1 when
//!   the wait fails; `system(NULL)` is `system("exit 0") == 0`. A cancelled system() kills
//!   and reaps the child and restores the dispositions, as glibc's cleanup handler does.
//! - pclose() flushes the stream, closes the pipe's end (by putting /dev/null on its descriptor,
//!   so that glibc's own close afterwards still succeeds), waits cooperatively until the child
//!   has exited without reaping it (waitid WNOWAIT), then calls glibc's pclose, which reaps it
//!   at once and reports the status exactly as natively. The child's pid is read from glibc
//!   2.36's popen stream (struct _IO_proc_file: the pid follows the FILE and its vtable
//!   pointer); popen() records that vtable, so only popen's own streams are recognised.
//!   Flushing uses glibc's internal write, which can still block on a full pipe (README).
//! Callers that are not green use glibc's functions.

use core::ffi::{c_char, c_int};
use core::sync::atomic::{AtomicUsize, Ordering};

use green_rt::hub;
use green_rt::lock::SpinLock;
use green_rt::process::wait_child;
use green_rt::sigmask::{self, bit};
use green_rt::sys;

use super::signal::sigaction;
use crate::{real, set_errno};

extern "C" {
    fn pthread_setcancelstate(state: c_int, old: *mut c_int) -> c_int;
}
const PTHREAD_CANCEL_DISABLE: c_int = 1;

/// wait_child, repeated when a signal handler interrupts it (glibc's TEMP_FAILURE_RETRY).
fn wait_retrying(pid: libc::pid_t, mut try_once: impl FnMut() -> isize) -> isize {
    loop {
        let r = wait_child(pid, &mut try_once);
        if r != -(libc::EINTR as isize) {
            return r;
        }
    }
}

/// Runs `f` with cancellation disabled (glibc's own state, on the caller's TCB), as glibc waits
/// in pclose and in system's cancellation handler.
fn without_cancel(f: impl FnOnce()) {
    let mut state = 0;
    // SAFETY: glibc's pthread_setcancelstate on the calling thread; state is a live int.
    unsafe { pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &mut state) };
    f();
    // SAFETY: as above, restoring the previous state.
    unsafe { pthread_setcancelstate(state, &mut state) };
}

/// Dispositions of SIGINT and SIGQUIT saved by the first of concurrent system() calls.
struct Saved {
    refs: usize,
    intr: libc::sigaction,
    quit: libc::sigaction,
}

// SAFETY: sigaction structs are plain data.
unsafe impl Send for Saved {}

static SAVED: SpinLock<Option<Saved>> = SpinLock::new(None);

fn ignore_action() -> libc::sigaction {
    // SAFETY: all-zero is a valid sigaction (SIG_DFL, no flags, empty mask); then SIG_IGN.
    let mut sa: libc::sigaction = unsafe { core::mem::zeroed() };
    sa.sa_sigaction = libc::SIG_IGN;
    sa
}

/// First in: save SIGINT/SIGQUIT and ignore them. Returns the saved pair.
fn enter() -> (libc::sigaction, libc::sigaction) {
    let mut g = SAVED.lock();
    if g.is_none() {
        let ign = ignore_action();
        let (mut intr, mut quit) = (ign, ign);
        // SAFETY: live sigaction structs; SIGINT/SIGQUIT with SIG_IGN cannot fail.
        unsafe {
            sigaction(libc::SIGINT, &ign, &mut intr);
            sigaction(libc::SIGQUIT, &ign, &mut quit);
        }
        *g = Some(Saved { refs: 0, intr, quit });
    }
    let s = g.as_mut().expect("set above");
    s.refs += 1;
    (s.intr, s.quit)
}

/// Last out: restore SIGINT/SIGQUIT. Returns whether this was the last.
fn leave() -> bool {
    let mut g = SAVED.lock();
    let Some(s) = g.as_mut() else { return false };
    s.refs -= 1;
    if s.refs > 0 {
        return false;
    }
    let s = g.take().expect("checked above");
    // SAFETY: restoring the dispositions saved by enter().
    unsafe {
        sigaction(libc::SIGINT, &s.intr, core::ptr::null_mut());
        sigaction(libc::SIGQUIT, &s.quit, core::ptr::null_mut());
    }
    true
}

/// Runs while a green system() waits for its child; on cancellation (unwinding) it kills and
/// reaps the child and leaves, as glibc's cancel_handler.
struct ChildGuard {
    pid: libc::pid_t,
    armed: bool,
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let pid = self.pid;
        // SAFETY: kill on our own child.
        unsafe { sys::syscall3(libc::SYS_kill, pid as usize, libc::SIGKILL as usize, 0) };
        without_cancel(|| {
            // SAFETY: reaping our own child, no status wanted.
            wait_retrying(pid, || unsafe { sys::syscall6(libc::SYS_wait4, pid as usize, 0, libc::WNOHANG as usize, 0, 0, 0) });
        });
        leave();
    }
}

fn do_system(t: &'static green_rt::task::Task, line: *const c_char) -> c_int {
    let (intr, quit) = enter();
    let omask = sigmask::change(t, libc::SIG_BLOCK, Some(bit(libc::SIGCHLD))).unwrap_or(0);
    let mut reset = 0u64;
    if intr.sa_sigaction != libc::SIG_IGN {
        reset |= bit(libc::SIGINT);
    }
    if quit.sa_sigaction != libc::SIG_IGN {
        reset |= bit(libc::SIGQUIT);
    }
    let mut pid: libc::pid_t = 0;
    // SAFETY: a zeroed attr initialised by posix_spawnattr_init; the sets are plain sigset_t
    // whose first 8 bytes carry the 64 signals; argv is NUL-terminated strings and a null;
    // environ is the process environment.
    let ret = unsafe {
        let mut attr: libc::posix_spawnattr_t = core::mem::zeroed();
        libc::posix_spawnattr_init(&mut attr);
        let mut m: libc::sigset_t = core::mem::zeroed();
        sigmask::write_set(&mut m, omask);
        let mut d: libc::sigset_t = core::mem::zeroed();
        sigmask::write_set(&mut d, reset);
        libc::posix_spawnattr_setsigmask(&mut attr, &m);
        libc::posix_spawnattr_setsigdefault(&mut attr, &d);
        libc::posix_spawnattr_setflags(&mut attr, (libc::POSIX_SPAWN_SETSIGDEF | libc::POSIX_SPAWN_SETSIGMASK) as _);
        let argv: [*const c_char; 4] = [c"sh".as_ptr(), c"-c".as_ptr(), line, core::ptr::null()];
        let r = libc::posix_spawn(&mut pid, c"/bin/sh".as_ptr(), core::ptr::null(), &attr, argv.as_ptr() as *const *mut c_char, libc::environ as *const *mut c_char);
        libc::posix_spawnattr_destroy(&mut attr);
        r
    };
    let status = if ret == 0 {
        let mut guard = ChildGuard { pid, armed: true };
        let mut st: c_int = 0;
        let r = wait_retrying(pid, || {
            // SAFETY: st is a live int for the status.
            unsafe { sys::syscall6(libc::SYS_wait4, pid as usize, &mut st as *mut c_int as usize, libc::WNOHANG as usize, 0, 0, 0) }
        });
        guard.armed = false;
        if r == pid as isize { st } else { -1 }
    } else {
        // POSIX: as if the shell had terminated with _exit(127).
        127 << 8
    };
    if leave() {
        sigmask::set_mask(t, omask);
    }
    if ret != 0 {
        set_errno(ret);
    }
    status
}

#[no_mangle]
pub unsafe extern "C-unwind" fn system(line: *const c_char) -> c_int {
    let Some(t) = hub::current() else {
        // SAFETY: forwarded unchanged.
        return unsafe { real::system()(line) };
    };
    if line.is_null() {
        // A shell is available when one runs (glibc's check).
        return (do_system(t, c"exit 0".as_ptr()) == 0) as c_int;
    }
    do_system(t, line)
}

/// The vtable of glibc's popen streams, recorded from the first popen().
static POPEN_VTABLE: AtomicUsize = AtomicUsize::new(0);
/// glibc 2.36 x86-64: sizeof(FILE); the vtable pointer follows it, then the child's pid.
const OFF_VTABLE: usize = 216;
const OFF_PID: usize = 224;

#[no_mangle]
pub unsafe extern "C" fn popen(cmd: *const c_char, mode: *const c_char) -> *mut libc::FILE {
    // SAFETY: forwarded unchanged.
    let fp = unsafe { real::popen()(cmd, mode) };
    if !fp.is_null() {
        // SAFETY: a popen stream is a struct _IO_proc_file, larger than OFF_VTABLE + 8.
        POPEN_VTABLE.store(unsafe { *((fp as usize + OFF_VTABLE) as *const usize) }, Ordering::Relaxed);
    }
    fp
}

#[no_mangle]
pub unsafe extern "C" fn pclose(fp: *mut libc::FILE) -> c_int {
    let vt = POPEN_VTABLE.load(Ordering::Relaxed);
    // SAFETY: fp is a live FILE (contract); every FILE has its vtable pointer at OFF_VTABLE.
    if hub::current().is_some() && !fp.is_null() && vt != 0 && unsafe { *((fp as usize + OFF_VTABLE) as *const usize) } == vt {
        // SAFETY: a popen stream (its vtable says so): the pid field follows the vtable.
        let pid = unsafe { *((fp as usize + OFF_PID) as *const libc::pid_t) };
        // SAFETY: fp is a live stream.
        unsafe { wait_popen_child(fp, pid) };
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::pclose()(fp) }
}

/// Ends the parent's side of a popen pipe and waits cooperatively for the child to exit, leaving
/// it for glibc's pclose to reap.
///
/// # Safety
/// `fp` is a live popen stream of child `pid`.
unsafe fn wait_popen_child(fp: *mut libc::FILE, pid: libc::pid_t) {
    // SAFETY: fp is live (contract).
    let fd = unsafe {
        libc::fflush(fp);
        libc::fileno(fp)
    };
    // SAFETY: opening /dev/null (a new fd), putting it on the stream's fd (dup3 closes the pipe
    // end atomically), closing the spare.
    let null = unsafe { sys::syscall6(libc::SYS_openat, libc::AT_FDCWD as usize, c"/dev/null".as_ptr() as usize, (libc::O_RDWR | libc::O_CLOEXEC) as usize, 0, 0, 0) };
    if fd < 0 || null < 0 {
        return;
    }
    green_rt::fd::forget(fd);
    // SAFETY: as above.
    unsafe {
        sys::syscall3(libc::SYS_dup3, null as usize, fd as usize, libc::O_CLOEXEC as usize);
        sys::syscall3(libc::SYS_close, null as usize, 0, 0);
    }
    // glibc's pclose waits with cancellation disabled: not a cancellation point.
    without_cancel(|| {
        // SAFETY: all-zero is a valid siginfo; waitid fills it (WNOWAIT: the child stays).
        let mut info: libc::siginfo_t = unsafe { core::mem::zeroed() };
        wait_retrying(pid, || {
            info.si_signo = 0;
            // SAFETY: as above.
            let r = unsafe { sys::syscall6(libc::SYS_waitid, libc::P_PID as usize, pid as usize, &mut info as *mut _ as usize, (libc::WEXITED | libc::WNOWAIT | libc::WNOHANG) as usize, 0, 0) };
            // SAFETY: si_pid is read after waitid filled the struct.
            if r == 0 && unsafe { info.si_pid() } == 0 { 0 } else if r < 0 { r } else { 1 }
        });
    });
}
