//! Signals queued to a green thread with `pthread_sigqueue`. glibc's own sends the value to the
//! TCB's kernel tid, which a green thread does not have; so the runtime keeps each queued value
//! until delivery, in order, as the kernel queues signals for a thread: every real-time signal
//! queued is delivered (or taken by sigwaitinfo) once with its value, while a standard signal
//! queued again before delivery is merged into the one pending, as natively. At delivery each
//! value is sent to the carrier as SI_QUEUE (signal.rs `deliver_slow`), so the handler sees
//! SI_QUEUE, the value, and our pid and uid.
//!
//! A fixed table (no allocation in a call that signal code may make): a send that finds it full
//! fails with EAGAIN, as sigqueue does at RLIMIT_SIGPENDING. Entries name the thread by task and
//! creation id, so those left by a thread that ended match no later thread and are reclaimed.

use core::ffi::c_int;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::lock::SpinLock;
use crate::sigmask::bit;
use crate::task::Task;

#[derive(Clone, Copy)]
struct Entry {
    task: usize,
    id: u64,
    sig: c_int,
    value: usize,
    /// Queue order.
    seq: u64,
}

const SLOTS: usize = 256;

struct Table {
    slots: [Option<Entry>; SLOTS],
    next_seq: u64,
}

static QUEUE: SpinLock<Table> = SpinLock::new(Table { slots: [None; SLOTS], next_seq: 0 });

/// Whether any value was ever queued: every delivered signal asks [`take`], and a program that
/// never calls pthread_sigqueue should not pay the table's lock and scan for it.
static USED: AtomicBool = AtomicBool::new(false);

/// glibc's SIGCANCEL (also SIGTIMER) and SIGSETXID, which pthread_sigqueue refuses.
const GLIBC_INTERNAL: [c_int; 2] = [crate::glibc::SIGCANCEL, crate::glibc::SIGSETXID];

fn owner(t: &Task) -> (usize, u64) {
    (t as *const Task as usize, t.id.get())
}

/// pthread_sigqueue of `sig` with `value` to green thread `target`: 0 or an errno (EINVAL for a
/// bad or glibc-internal signal, EAGAIN when the table is full; signal 0 only checks). The
/// target is woken if it takes `sig` now, or interrupted where it runs (a kick, as for
/// pthread_kill).
pub fn queue(target: &'static Task, sig: c_int, value: usize) -> c_int {
    if !(0..=64).contains(&sig) || GLIBC_INTERNAL.contains(&sig) {
        return libc::EINVAL;
    }
    if sig == 0 {
        return 0; // only checks that the thread exists
    }
    let (task, id) = owner(target);
    let queued = with_table(|q| {
        let mut free = None;
        for (i, s) in q.slots.iter_mut().enumerate() {
            if let Some(e) = s {
                // SAFETY: tasks are never freed (pooled), so the address reads a live Task.
                if unsafe { (*(e.task as *const Task)).id.get() } != e.id {
                    *s = None; // its thread ended
                } else if e.task == task && e.sig == sig && sig < libc::SIGRTMIN() {
                    return Err(0); // a standard signal already pending: merged, as natively
                }
            }
            if s.is_none() && free.is_none() {
                free = Some(i);
            }
        }
        let Some(i) = free else { return Err(libc::EAGAIN) };
        USED.store(true, Ordering::Relaxed); // under the lock: a take that sees it takes the lock too
        q.slots[i] = Some(Entry { task, id, sig, value, seq: q.next_seq });
        q.next_seq += 1;
        Ok(())
    });
    if let Err(r) = queued {
        return r;
    }
    target.pending_signals.fetch_or(bit(sig), Ordering::SeqCst);
    crate::signal::wake_for(target, sig);
    crate::signal::kick_if_running(target, sig);
    0
}

/// Takes the oldest value queued to `t` for `sig`, as the siginfo (32 words) it is delivered
/// with, and whether more remain. Also from a signal handler on `t`'s carrier (a kick,
/// sigroute.rs `take_kick`): the table's lock is never held by the code such a handler
/// interrupts (see `with_table`), so a holder is another OS thread, which it waits for.
pub fn take(t: &Task, sig: c_int) -> Option<([u32; 32], bool)> {
    if !USED.load(Ordering::Relaxed) {
        return None;
    }
    let entry = with_table(|q| oldest(q, t, sig))?;
    Some(as_siginfo(entry))
}

/// Runs `f` on the table with its lock held and every signal blocked on the calling OS thread
/// meanwhile. A kick's handler takes the lock too (sigroute.rs `take_kick`); if it could
/// interrupt its own carrier's holder (pthread_sigqueue or a delivery on the target, or the
/// handler of an earlier kick taking its value when a second signal's kick lands), it could
/// neither wait for the lock nor take its values, and a target that computes without switching
/// would never get them (kill_running "sigqueue foreign" hung in CI: the third SIGRTMIN value
/// stayed queued when its kick landed while the sending timer thread held the lock for
/// SIGUSR2's). Blocked here, a kick waits for the release and then finds the lock free.
fn with_table<R>(f: impl FnOnce(&mut Table) -> R) -> R {
    crate::sigmask::with_all_blocked(|| f(&mut QUEUE.lock()))
}

/// Removes the oldest entry of `t` for `sig` from the table; with whether more remain.
fn oldest(q: &mut Table, t: &Task, sig: c_int) -> Option<(Entry, bool)> {
    let (task, id) = owner(t);
    let mine = |e: &Entry| e.task == task && e.id == id && e.sig == sig;
    let i = (0..SLOTS).filter(|&i| q.slots[i].as_ref().is_some_and(mine)).min_by_key(|&i| q.slots[i].map_or(u64::MAX, |e| e.seq))?;
    let entry = q.slots[i].take()?;
    Some((entry, q.slots.iter().flatten().any(mine)))
}

fn as_siginfo((entry, more): (Entry, bool)) -> ([u32; 32], bool) {
    let sig = entry.sig;
    // SAFETY: getpid takes no arguments.
    let pid = unsafe { crate::sys::syscall3(libc::SYS_getpid, 0, 0, 0) } as usize;
    let mut info = crate::signal::sent_by_us(sig, libc::SI_QUEUE, pid);
    info[6] = entry.value as u32; // si_value, after si_pid and si_uid
    info[7] = (entry.value >> 32) as u32;
    (info, more)
}

/// fork child: its set of pending signals starts empty (POSIX), and the table's lock may have
/// been held by a thread that does not exist there.
pub fn after_fork_child() {
    // SAFETY: the child runs one thread; nobody else can hold the lock any more.
    unsafe { QUEUE.force_unlock_after_fork() };
    QUEUE.lock().slots = [None; SLOTS];
}
