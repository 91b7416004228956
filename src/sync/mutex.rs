//! pthread_mutex_t, cooperative: contended lockers park instead of blocking the hub.
//!
//! Our layout inside glibc's 40-byte pthread_mutex_t (the whole family is replaced, so only
//! glibc's static initializers constrain it, and they only set `__kind` at offset 16):
//!
//! | offset | field | meaning |
//! | --- | --- | --- |
//! | 0  | u32 state | 0 unlocked, 1 locked, 2 locked with (possible) waiters |
//! | 4  | u32 count | extra recursive lock depth |
//! | 16 | i32 kind  | glibc `__kind`: type in bits 0-1; -1 after destroy |
//! | 24 | usize owner | TCB of the owner (pthread_self), 0 when unlocked |
//!
//! The state word is Drepper's futex mutex ("Futexes are tricky", mutex 2); waiting goes
//! through park.rs, so green threads and OS threads can share one mutex.

use core::ffi::c_int;
use core::sync::atomic::{AtomicI32, AtomicU32, AtomicUsize, Ordering};

use crate::park::{self, ParkResult};
use crate::task::ParkReason;
use crate::tls;

pub const NORMAL: i32 = libc::PTHREAD_MUTEX_NORMAL;
pub const RECURSIVE: i32 = libc::PTHREAD_MUTEX_RECURSIVE;
pub const ERRORCHECK: i32 = libc::PTHREAD_MUTEX_ERRORCHECK;
const TYPE_MASK: i32 = 3;
const DESTROYED: i32 = -1;

/// A view of a pthread_mutex_t with our field layout.
pub struct Mutex(*mut libc::pthread_mutex_t);

impl Mutex {
    /// # Safety
    /// `m` points to a pthread_mutex_t that stays valid while the view is used.
    pub unsafe fn from_ptr(m: *mut libc::pthread_mutex_t) -> Mutex {
        Mutex(m)
    }
    fn at<T>(&self, off: usize) -> &T {
        // SAFETY: every offset used below lies inside the 40-byte, 8-aligned pthread_mutex_t.
        unsafe { &*((self.0 as *mut u8).add(off) as *const T) }
    }
    fn state(&self) -> &AtomicU32 {
        self.at(0)
    }
    fn count(&self) -> &AtomicU32 {
        self.at(4)
    }
    fn kind(&self) -> &AtomicI32 {
        self.at(16)
    }
    fn owner(&self) -> &AtomicUsize {
        self.at(24)
    }
    fn key(&self) -> usize {
        self.0 as usize
    }

    /// pthread_mutex_init: type from the attribute (default NORMAL).
    ///
    /// # Safety
    /// `attr` is null or an initialised mutex attribute.
    pub unsafe fn init(&self, attr: *const libc::pthread_mutexattr_t) -> c_int {
        let mut ty = NORMAL;
        if !attr.is_null() {
            // SAFETY: attr is initialised (contract); the getter only reads it.
            unsafe { crate::glibc::pthread_mutexattr_gettype(attr, &mut ty) };
        }
        // SAFETY: the mutex is being (re)initialised: nobody may use it concurrently (POSIX).
        unsafe { core::ptr::write_bytes(self.0 as *mut u8, 0, core::mem::size_of::<libc::pthread_mutex_t>()) };
        self.kind().store(ty, Ordering::Release);
        0
    }

    /// pthread_mutex_destroy: EBUSY while locked.
    pub fn destroy(&self) -> c_int {
        if self.state().load(Ordering::Acquire) != 0 {
            return libc::EBUSY;
        }
        self.kind().store(DESTROYED, Ordering::Release);
        0
    }

    /// Lock; with `until` = (clock, absolute time), give up with ETIMEDOUT at that time. As in
    /// glibc, the timespec is only checked (EINVAL) when the lock is contended.
    pub fn lock(&self, until: Option<(libc::clockid_t, &libc::timespec)>) -> c_int {
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
            let r = self.lock_contended(deadline);
            if r != 0 {
                return r;
            }
        }
        self.owner().store(me, Ordering::Relaxed);
        0
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
    fn lock_contended(&self, deadline: Option<u64>) -> c_int {
        let state = self.state();
        loop {
            if state.swap(2, Ordering::Acquire) == 0 {
                return 0;
            }
            let r = park::park(self.key(), !0, || state.load(Ordering::Relaxed) == 2, deadline, ParkReason::Mutex);
            if r == ParkResult::TimedOut {
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
        if self.state().compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
            return libc::EBUSY;
        }
        self.owner().store(me, Ordering::Relaxed);
        0
    }

    /// pthread_mutex_unlock: EPERM for a non-owner of an error-checking or recursive mutex.
    pub fn unlock(&self) -> c_int {
        let kind = self.kind().load(Ordering::Relaxed);
        if kind == DESTROYED {
            return libc::EINVAL;
        }
        let ty = kind & TYPE_MASK;
        if ty == RECURSIVE || ty == ERRORCHECK {
            if self.owner().load(Ordering::Relaxed) != tls::thread_pointer() {
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
        self.owner().store(0, Ordering::Relaxed);
        if self.state().swap(0, Ordering::Release) == 2 {
            park::unpark_one(self.key(), |_, _| {});
        }
        0
    }
}
