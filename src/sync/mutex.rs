//! pthread_mutex_t, cooperative: contended lockers park instead of blocking the hub.
//!
//! Our layout inside glibc's 40-byte pthread_mutex_t (the whole family is replaced, so only
//! glibc's static initializers constrain it, and they only set `__kind` at offset 16):
//!
//! | offset | field | meaning |
//! | --- | --- | --- |
//! | 0  | u32 state | bits 0-1: 0 unlocked, 1 locked, 2 locked with (possible) waiters; OWNER_DIED, NOT_RECOVERABLE (robust) |
//! | 4  | u32 count | extra recursive lock depth |
//! | 8  | usize owner | TCB of the owner (pthread_self), 0 when unlocked |
//! | 16 | i32 kind | glibc `__kind`: type in bits 0-1, ROBUST, PRIO_INHERIT, PRIO_PROTECT, PSHARED; -1 after destroy |
//! | 20 | i32 ceiling | priority ceiling (PRIO_PROTECT) |
//! | 24 | usize prev, 32 usize next | list of robust mutexes held by a green thread |
//!
//! The lock word is Drepper's futex mutex ("Futexes are tricky", mutex 2), so a process-shared
//! NORMAL mutex also interoperates with a native glibc process on the same word. Waiting goes
//! through park.rs, so green threads and OS threads can share one mutex. Robust mutexes held by
//! a green thread that exits are marked OWNER_DIED and handed to the next locker (EOWNERDEAD).

use core::ffi::c_int;
use core::sync::atomic::{AtomicI32, AtomicU32, AtomicUsize, Ordering};

use crate::hub;
use super::field;
use crate::park::{self, Backoff, ParkResult};
use crate::task::{ParkReason, Task};
use crate::tls;

pub const NORMAL: i32 = libc::PTHREAD_MUTEX_NORMAL;
pub const RECURSIVE: i32 = libc::PTHREAD_MUTEX_RECURSIVE;
pub const ERRORCHECK: i32 = libc::PTHREAD_MUTEX_ERRORCHECK;
const TYPE_MASK: i32 = 3;
const ROBUST: i32 = 16;
const PRIO_INHERIT: i32 = 32;
const PRIO_PROTECT: i32 = 64;
const PSHARED: i32 = 128;
const DESTROYED: i32 = -1;

const LOCK_MASK: u32 = 3;
const OWNER_DIED: u32 = 1 << 30;
const NOT_RECOVERABLE: u32 = 1 << 29;

extern "C" {
    fn pthread_mutexattr_getrobust(attr: *const libc::pthread_mutexattr_t, robust: *mut c_int) -> c_int;
    fn pthread_mutexattr_getprotocol(attr: *const libc::pthread_mutexattr_t, protocol: *mut c_int) -> c_int;
    fn pthread_mutexattr_getprioceiling(attr: *const libc::pthread_mutexattr_t, ceiling: *mut c_int) -> c_int;
    fn pthread_mutexattr_getpshared(attr: *const libc::pthread_mutexattr_t, pshared: *mut c_int) -> c_int;
}

/// A view of a pthread_mutex_t with our field layout.
pub struct Mutex(*mut libc::pthread_mutex_t);

impl Mutex {
    /// # Safety
    /// `m` points to a pthread_mutex_t that stays valid while the view is used.
    pub unsafe fn from_ptr(m: *mut libc::pthread_mutex_t) -> Mutex {
        Mutex(m)
    }
    fn state(&self) -> &AtomicU32 {
        field(self.0, 0)
    }
    fn count(&self) -> &AtomicU32 {
        field(self.0, 4)
    }
    fn owner(&self) -> &AtomicUsize {
        field(self.0, 8)
    }
    fn kind(&self) -> &AtomicI32 {
        field(self.0, 16)
    }
    fn ceiling(&self) -> &AtomicI32 {
        field(self.0, 20)
    }
    fn link_prev(&self) -> &AtomicUsize {
        field(self.0, 24)
    }
    fn link_next(&self) -> &AtomicUsize {
        field(self.0, 32)
    }
    fn key(&self) -> usize {
        self.0 as usize
    }

    /// pthread_mutex_init: type, robustness, protocol, ceiling and pshared from the attribute.
    ///
    /// # Safety
    /// `attr` is null or an initialised mutex attribute.
    pub unsafe fn init(&self, attr: *const libc::pthread_mutexattr_t) -> c_int {
        let (mut ty, mut robust, mut protocol, mut ceiling, mut pshared) =
            (NORMAL, libc::PTHREAD_MUTEX_STALLED, libc::PTHREAD_PRIO_NONE, 0, libc::PTHREAD_PROCESS_PRIVATE);
        if !attr.is_null() {
            // SAFETY: attr is initialised (contract); the getters only read it.
            unsafe {
                crate::glibc::pthread_mutexattr_gettype(attr, &mut ty);
                pthread_mutexattr_getrobust(attr, &mut robust);
                pthread_mutexattr_getprotocol(attr, &mut protocol);
                pthread_mutexattr_getprioceiling(attr, &mut ceiling);
                pthread_mutexattr_getpshared(attr, &mut pshared);
            }
        }
        let mut kind = ty & TYPE_MASK;
        if robust == libc::PTHREAD_MUTEX_ROBUST {
            kind |= ROBUST;
        }
        match protocol {
            libc::PTHREAD_PRIO_INHERIT => kind |= PRIO_INHERIT,
            libc::PTHREAD_PRIO_PROTECT => kind |= PRIO_PROTECT,
            _ => {}
        }
        if pshared == libc::PTHREAD_PROCESS_SHARED {
            kind |= PSHARED;
        }
        // SAFETY: the mutex is being (re)initialised: nobody may use it concurrently (POSIX).
        unsafe { core::ptr::write_bytes(self.0 as *mut u8, 0, core::mem::size_of::<libc::pthread_mutex_t>()) };
        self.ceiling().store(ceiling, Ordering::Relaxed);
        self.kind().store(kind, Ordering::Release);
        0
    }

    /// pthread_mutex_destroy: EBUSY while locked.
    pub fn destroy(&self) -> c_int {
        if self.state().load(Ordering::Acquire) & LOCK_MASK != 0 {
            return libc::EBUSY;
        }
        self.kind().store(DESTROYED, Ordering::Release);
        0
    }

    /// Lock; with `until` = (clock, absolute time), give up with ETIMEDOUT at that time. As in
    /// glibc, the timespec is only checked (EINVAL) when the lock is contended. Robust mutexes
    /// may return EOWNERDEAD (locked) or ENOTRECOVERABLE.
    /// `program`: called by the program (pthread_mutex_lock & co.), where asynchronous
    /// cancellation acts on the wait; false for the runtime's own (a condition wait's re-lock).
    pub fn lock(&self, until: Option<(libc::clockid_t, &libc::timespec)>, program: bool) -> c_int {
        let kind = self.kind().load(Ordering::Relaxed);
        if kind == DESTROYED {
            return libc::EINVAL;
        }
        let ty = kind & TYPE_MASK;
        let me = tls::thread_pointer();
        if (ty == RECURSIVE || ty == ERRORCHECK) && self.owner().load(Ordering::Relaxed) == me {
            if ty == ERRORCHECK {
                return libc::EDEADLK;
            }
            return self.recurse();
        }
        let mut r = 0;
        if self.state().compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
            let deadline = match until {
                None => None,
                Some((clock, ts)) => {
                    if !crate::sys::timespec_valid(ts) {
                        return libc::EINVAL;
                    }
                    match crate::sys::abs_to_monotonic(clock, ts) {
                        Some(d) => Some(d),
                        None => return libc::EINVAL,
                    }
                }
            };
            r = self.lock_contended(kind, deadline, program);
            if r != 0 && r != libc::EOWNERDEAD {
                return r;
            }
        }
        self.acquired(kind, me);
        r
    }

    fn acquired(&self, kind: i32, me: usize) {
        self.owner().store(me, Ordering::Relaxed);
        if kind & ROBUST != 0 {
            if let Some(t) = hub::current() {
                self.link(t);
            }
        }
    }

    fn recurse(&self) -> c_int {
        let c = self.count().load(Ordering::Relaxed);
        if c == u32::MAX {
            return libc::EAGAIN;
        }
        self.count().store(c + 1, Ordering::Relaxed);
        0
    }

    #[cold]
    fn lock_contended(&self, kind: i32, deadline: Option<u64>, program: bool) -> c_int {
        let state = self.state();
        let mut backoff = Backoff::new(kind & PSHARED != 0, deadline);
        loop {
            let cur = state.load(Ordering::Relaxed);
            if cur & NOT_RECOVERABLE != 0 {
                return libc::ENOTRECOVERABLE;
            }
            if cur & LOCK_MASK == 0 {
                // Free (perhaps after its owner died): take it, assuming others still wait.
                if state.compare_exchange(cur, (cur & !LOCK_MASK) | 2, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                    return if cur & OWNER_DIED != 0 { libc::EOWNERDEAD } else { 0 };
                }
                continue;
            }
            let waiting = (cur & !LOCK_MASK) | 2;
            if cur != waiting && state.compare_exchange(cur, waiting, Ordering::Relaxed, Ordering::Relaxed).is_err() {
                continue;
            }
            // Cancelled there, it leaves the contended mark: the owner's unlock wakes nobody.
            let park = || park::park(self.key(), !0, || state.load(Ordering::Relaxed) == waiting, backoff.deadline(), ParkReason::Mutex);
            let r = crate::thread::async_cancel_point(program, park, || {});
            if r == ParkResult::TimedOut && backoff.expired() {
                return libc::ETIMEDOUT;
            }
        }
    }

    /// pthread_mutex_trylock.
    pub fn trylock(&self) -> c_int {
        let kind = self.kind().load(Ordering::Relaxed);
        if kind == DESTROYED {
            return libc::EINVAL;
        }
        let me = tls::thread_pointer();
        if kind & TYPE_MASK == RECURSIVE && self.owner().load(Ordering::Relaxed) == me {
            return self.recurse();
        }
        let state = self.state();
        let cur = state.load(Ordering::Relaxed);
        if cur & NOT_RECOVERABLE != 0 {
            return libc::ENOTRECOVERABLE;
        }
        if cur & LOCK_MASK != 0 || state.compare_exchange(cur, cur | 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
            return libc::EBUSY;
        }
        self.acquired(kind, me);
        if cur & OWNER_DIED != 0 { libc::EOWNERDEAD } else { 0 }
    }

    /// pthread_mutex_unlock: EPERM for a non-owner of an error-checking, recursive or robust
    /// mutex. Unlocking a robust mutex still marked OWNER_DIED makes it unrecoverable.
    pub fn unlock(&self) -> c_int {
        let kind = self.kind().load(Ordering::Relaxed);
        if kind == DESTROYED {
            return libc::EINVAL;
        }
        let ty = kind & TYPE_MASK;
        let robust = kind & ROBUST != 0;
        if ty == RECURSIVE || ty == ERRORCHECK || robust {
            if self.owner().load(Ordering::Relaxed) != tls::thread_pointer() || self.state().load(Ordering::Relaxed) & LOCK_MASK == 0 {
                return libc::EPERM;
            }
            if ty == RECURSIVE {
                let c = self.count().load(Ordering::Relaxed);
                if c > 0 {
                    self.count().store(c - 1, Ordering::Relaxed);
                    return 0;
                }
            }
        }
        if robust {
            if let Some(t) = hub::current() {
                self.unlink(t);
            }
            if self.state().load(Ordering::Relaxed) & OWNER_DIED != 0 {
                self.owner().store(0, Ordering::Relaxed);
                self.state().store(NOT_RECOVERABLE, Ordering::Release);
                self.wake(kind, true);
                return 0;
            }
        }
        self.owner().store(0, Ordering::Relaxed);
        if self.state().swap(0, Ordering::Release) & LOCK_MASK == 2 {
            self.wake(kind, false);
        }
        0
    }

    fn wake(&self, kind: i32, all: bool) {
        if all {
            park::unpark_all(self.key());
        } else {
            park::unpark_one(self.key());
        }
        if kind & PSHARED != 0 {
            park::wake_kernel_shared(self.key(), if all { i32::MAX } else { 1 });
        }
    }

    /// pthread_mutex_consistent: EINVAL unless a robust mutex the caller holds after EOWNERDEAD.
    pub fn consistent(&self) -> c_int {
        let kind = self.kind().load(Ordering::Relaxed);
        let s = self.state().load(Ordering::Relaxed);
        if kind == DESTROYED || kind & ROBUST == 0 || s & OWNER_DIED == 0 || self.owner().load(Ordering::Relaxed) != tls::thread_pointer() {
            return libc::EINVAL;
        }
        self.state().fetch_and(!OWNER_DIED, Ordering::Relaxed);
        0
    }

    /// pthread_mutex_getprioceiling: EINVAL unless PTHREAD_PRIO_PROTECT.
    pub fn prioceiling(&self) -> Result<c_int, c_int> {
        if self.kind().load(Ordering::Relaxed) & PRIO_PROTECT == 0 {
            return Err(libc::EINVAL);
        }
        Ok(self.ceiling().load(Ordering::Relaxed))
    }

    /// pthread_mutex_setprioceiling: returns the old ceiling. Priorities have no effect on one
    /// hub; the value is kept for the program to read back.
    pub fn set_prioceiling(&self, ceiling: c_int) -> Result<c_int, c_int> {
        let old = self.prioceiling()?;
        // SAFETY: plain libc queries.
        let (min, max) = unsafe { (libc::sched_get_priority_min(libc::SCHED_FIFO), libc::sched_get_priority_max(libc::SCHED_FIFO)) };
        if ceiling < min || ceiling > max {
            return Err(libc::EINVAL);
        }
        self.ceiling().store(ceiling, Ordering::Relaxed);
        Ok(old)
    }

    fn link(&self, t: &Task) {
        let head = t.robust_head.get();
        self.link_prev().store(0, Ordering::Relaxed);
        self.link_next().store(head, Ordering::Relaxed);
        if head != 0 {
            // SAFETY: list members are robust mutexes this task holds, hence live.
            unsafe { Mutex::from_ptr(head as *mut libc::pthread_mutex_t) }.link_prev().store(self.key(), Ordering::Relaxed);
        }
        t.robust_head.set(self.key());
    }

    fn unlink(&self, t: &Task) {
        let (p, n) = (self.link_prev().load(Ordering::Relaxed), self.link_next().load(Ordering::Relaxed));
        // SAFETY: neighbours are robust mutexes this task holds, hence live.
        unsafe {
            if p == 0 {
                t.robust_head.set(n);
            } else {
                Mutex::from_ptr(p as *mut libc::pthread_mutex_t).link_next().store(n, Ordering::Relaxed);
            }
            if n != 0 {
                Mutex::from_ptr(n as *mut libc::pthread_mutex_t).link_prev().store(p, Ordering::Relaxed);
            }
        }
    }
}

/// Called on a green thread's way out: every robust mutex it still holds is marked OWNER_DIED,
/// released, and one waiter woken (it will get EOWNERDEAD).
pub fn release_robust_held(t: &Task) {
    let mut cur = t.robust_head.get();
    t.robust_head.set(0);
    while cur != 0 {
        // SAFETY: list members are robust mutexes this task holds, hence live.
        let m = unsafe { Mutex::from_ptr(cur as *mut libc::pthread_mutex_t) };
        cur = m.link_next().load(Ordering::Relaxed);
        let kind = m.kind().load(Ordering::Relaxed);
        m.owner().store(0, Ordering::Relaxed);
        m.count().store(0, Ordering::Relaxed);
        let prev = m.state().swap(OWNER_DIED, Ordering::Release);
        if prev & LOCK_MASK == 2 {
            m.wake(kind, false);
        }
    }
}
