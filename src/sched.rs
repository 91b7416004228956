//! Scheduling attributes of green threads: `pthread_setschedparam`, `pthread_setschedprio` and
//! `pthread_setaffinity_np` (and their getters) on a green thread other than main are checked as
//! the kernel checks them and then only recorded. Applied for real they would act on the
//! carrier running the caller, not on the green thread (which has no kernel thread of its own:
//! its TCB's tid names none, see tls::set_tid): a SCHED_FIFO worker would make the whole process
//! real-time, per-worker pinning would leave the carrier on the last CPU named. Main's calls
//! stay real: main runs on the carrier's own OS thread, and a program that pins or prioritises
//! main before starting threads means the whole process, as natively (threads inherit it).
//! A new green thread inherits its creator's recorded attributes, as native threads do.

use crate::lock::SpinLock;
use crate::sys;
use crate::task::Task;

/// Recorded attributes; the default (no record) is what the carrier has.
pub struct Sched {
    /// Policy and priority, if set.
    policy: Option<(i32, i32)>,
    /// Affinity bytes as the program gave them (trailing zero bytes trimmed), if set.
    affinity: Option<Vec<u8>>,
}

/// Per-task storage (a field of `Task`). Locked: any green thread may set or read another's
/// record, and with several carriers (`hub::multi()`) two of them do it at once (the affinity
/// is a Vec: an unlocked read beside a write would touch freed memory). Only these rare calls
/// and thread creation take the lock.
pub struct SchedCell(SpinLock<Sched>);

impl SchedCell {
    pub const fn new() -> SchedCell {
        SchedCell(SpinLock::new(Sched { policy: None, affinity: None }))
    }

    fn with<R>(&self, f: impl FnOnce(&mut Sched) -> R) -> R {
        f(&mut self.0.lock())
    }

    /// A new thread's attributes: its creator's.
    pub fn inherit(&self, from: Option<&Task>) {
        // One lock at a time (never both: no lock order to keep).
        let copied = from.map(|c| c.sched.with(|c| Sched { policy: c.policy, affinity: c.affinity.clone() }));
        let old = self.with(|s| core::mem::replace(s, copied.unwrap_or(Sched { policy: None, affinity: None })));
        drop(old); // a recycled task's old set is freed outside the lock
    }
}

impl Default for SchedCell {
    fn default() -> Self {
        Self::new()
    }
}

/// The kernel's answer to `sched_setscheduler(policy, prio)` for a thread of this process:
/// EINVAL for an unknown policy or a priority outside its range, EPERM for a real-time policy
/// without the privilege (root, or an RLIMIT_RTPRIO that allows the priority).
fn check_policy(policy: i32, prio: i32) -> i32 {
    let (lo, hi) = match policy {
        libc::SCHED_OTHER | libc::SCHED_BATCH | libc::SCHED_IDLE => (0, 0),
        libc::SCHED_FIFO | libc::SCHED_RR => (1, 99),
        _ => return libc::EINVAL,
    };
    if prio < lo || prio > hi {
        return libc::EINVAL;
    }
    if hi > 0 {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let mut rl = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: rl is a live out-buffer.
        let allowed = unsafe { libc::getrlimit(libc::RLIMIT_RTPRIO, &mut rl) } == 0 && rl.rlim_cur >= prio as u64;
        if !root && !allowed {
            return libc::EPERM;
        }
    }
    0
}

/// pthread_setschedparam on green thread `t`.
pub fn set_param(t: &Task, policy: i32, prio: i32) -> i32 {
    let r = check_policy(policy, prio);
    if r == 0 {
        t.sched.with(|s| s.policy = Some((policy, prio)));
    }
    r
}

/// pthread_setschedprio on green thread `t`: a new priority within its current policy.
pub fn set_prio(t: &Task, prio: i32, carrier_policy: i32) -> i32 {
    let policy = t.sched.with(|s| s.policy).map_or(carrier_policy, |p| p.0);
    set_param(t, policy, prio)
}

/// pthread_getschedparam on green thread `t`: the recorded policy and priority, if any (else
/// the carrier's, which the thread inherited, are the answer: [`carrier_param`]).
pub fn get_param(t: &Task) -> Option<(i32, i32)> {
    t.sched.with(|s| s.policy)
}

/// The calling carrier's policy and priority, or an errno: what pthread_getschedparam answers
/// for a green thread with no record. glibc's own function cannot be asked: it refuses a
/// descriptor whose tid is not a kernel thread's (ESRCH; tls::set_tid).
pub fn carrier_param() -> Result<(i32, i32), i32> {
    // SAFETY: pid 0 (the calling thread); a live sched_param out-buffer.
    unsafe {
        let policy = sys::syscall3(libc::SYS_sched_getscheduler, 0, 0, 0);
        if policy < 0 {
            return Err((-policy) as i32);
        }
        let mut p = libc::sched_param { sched_priority: 0 };
        let r = sys::syscall3(libc::SYS_sched_getparam, 0, &mut p as *mut libc::sched_param as usize, 0);
        if r < 0 {
            return Err((-r) as i32);
        }
        // The kernel may add SCHED_RESET_ON_FORK to the policy; glibc passes it on too.
        Ok((policy as i32, p.sched_priority))
    }
}

/// Online CPUs (0, 1, … get_nprocs()-1). Asked outside the record's lock: sysconf reads /sys
/// through hooks that may park.
fn online_cpus() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(1) as usize
}

/// Byte `i` of the mask of the first `online` CPUs.
fn online_byte(online: usize, i: usize) -> u8 {
    if online >= 8 * (i + 1) {
        0xff
    } else if online > 8 * i {
        (1u8 << (online % 8)) - 1
    } else {
        0
    }
}

/// pthread_setaffinity_np on green thread `t`. As the kernel does, a set with no online CPU is
/// EINVAL (any online CPU will do, not only the carrier's own: a thread of a process started
/// under `taskset -c 0` may move to CPU 1).
pub fn set_affinity(t: &Task, set: &[u8]) -> i32 {
    let online = online_cpus();
    if !set.iter().enumerate().any(|(i, b)| b & online_byte(online, i) != 0) {
        return libc::EINVAL;
    }
    let keep = set.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let new = set[..keep].to_vec();
    let old = t.sched.with(|s| s.affinity.replace(new));
    drop(old); // freed outside the lock
    0
}

/// pthread_getaffinity_np on green thread `t`: the recorded set replaces `out` (already filled
/// with the carrier's mask by the real call, which also checked the size), limited to online
/// CPUs as the kernel reports.
pub fn get_affinity(t: &Task, out: &mut [u8]) {
    let online = online_cpus();
    t.sched.with(|s| {
        if let Some(rec) = &s.affinity {
            for (i, o) in out.iter_mut().enumerate() {
                *o = rec.get(i).copied().unwrap_or(0) & online_byte(online, i);
            }
        }
    });
}

/// The kernel part of pthread_getaffinity_np for a green thread: the calling carrier's mask
/// (what glibc got with the tid 0 green TCBs had before; their tid names no kernel thread now,
/// tls::set_tid), with glibc's errno and zero fill past what the kernel wrote.
///
/// # Safety
/// `set` is valid for `size` bytes of writes, or the kernel reports EFAULT/EINVAL.
pub unsafe fn carrier_affinity(size: usize, set: *mut u8) -> i32 {
    // SAFETY: the kernel checks size and pointer; pid 0 is the calling thread.
    let r = unsafe { sys::syscall3(libc::SYS_sched_getaffinity, 0, size, set as usize) };
    if r < 0 {
        return (-r) as i32;
    }
    // SAFETY: the kernel accepted `size` bytes at `set` and wrote the first `r`.
    unsafe { core::ptr::write_bytes(set.add(r as usize), 0, size - r as usize) };
    0
}

/// The green thread (other than main) that a `sched_*` call's `pid` names: 0 from such a thread
/// means itself; its `gettid()` value names it while it has not exited. None: the call is about
/// a real thread or process (main included) and goes to the kernel unchanged.
pub fn green_by_pid(pid: i32) -> Option<&'static Task> {
    let me = crate::hub::current().filter(|t| !t.is_main);
    if pid == 0 {
        return me;
    }
    let id = (pid as i64).checked_sub(crate::thread::GREEN_TID_BASE).filter(|&i| i > 0)? as u64;
    let mut found = None;
    crate::task::for_each(|t| {
        if !t.is_main && t.id.get() == id && t.join_flags.load(core::sync::atomic::Ordering::Acquire) & crate::task::EXITED == 0 {
            found = Some(t);
        }
    });
    found
}
