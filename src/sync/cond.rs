//! pthread_cond_t, cooperative. Layout inside glibc's 48-byte pthread_cond_t (all-zero ==
//! PTHREAD_COND_INITIALIZER == CLOCK_REALTIME, no waiters):
//!
//! | offset | field | meaning |
//! | --- | --- | --- |
//! | 0 | u32 seq | bumped by every signal/broadcast; waiters sleep only while it is unchanged |
//! | 4 | u32 waiters | threads between registering and waking (signal skips parking work at 0) |
//! | 8 | i32 clock | clock of pthread_cond_timedwait (pthread_condattr_setclock) |
//! | 12 | i32 shared | PTHREAD_PROCESS_SHARED: waiters also poll, signals also wake the kernel |
//!
//! A waiter registers before it releases the mutex, so a signal sent by a thread holding the
//! mutex is never lost; spurious wake-ups (allowed by POSIX) happen only when a signal races a
//! waiter that has not parked yet.

use core::ffi::c_int;
use core::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use super::mutex::Mutex;
use super::field;
use crate::park::{self, Backoff, ParkResult};
use crate::task::ParkReason;

pub struct Cond(*mut libc::pthread_cond_t);

impl Cond {
    /// # Safety
    /// `c` points to a pthread_cond_t that stays valid while the view is used.
    pub unsafe fn from_ptr(c: *mut libc::pthread_cond_t) -> Cond {
        Cond(c)
    }
    fn seq(&self) -> &AtomicU32 {
        field(self.0, 0)
    }
    fn waiters(&self) -> &AtomicU32 {
        field(self.0, 4)
    }
    fn clock(&self) -> &AtomicI32 {
        field(self.0, 8)
    }
    fn key(&self) -> usize {
        self.0 as usize
    }

    /// pthread_cond_init.
    ///
    /// # Safety
    /// `attr` is null or an initialised condition attribute.
    pub unsafe fn init(&self, attr: *const libc::pthread_condattr_t) -> c_int {
        let mut clock = libc::CLOCK_REALTIME;
        let mut pshared = libc::PTHREAD_PROCESS_PRIVATE;
        if !attr.is_null() {
            // SAFETY: attr is initialised (contract); the getters only read it.
            unsafe {
                crate::glibc::pthread_condattr_getclock(attr, &mut clock);
                libc::pthread_condattr_getpshared(attr, &mut pshared);
            }
        }
        // SAFETY: (re)initialisation: nobody may use the object concurrently (POSIX).
        unsafe { core::ptr::write_bytes(self.0 as *mut u8, 0, core::mem::size_of::<libc::pthread_cond_t>()) };
        field::<_, AtomicI32>(self.0, 12).store(pshared, Ordering::Relaxed);
        self.clock().store(clock, Ordering::Release);
        0
    }

    fn shared(&self) -> bool {
        field::<_, AtomicI32>(self.0, 12).load(Ordering::Relaxed) == libc::PTHREAD_PROCESS_SHARED
    }

    /// The clock of pthread_cond_timedwait.
    pub fn timedwait_clock(&self) -> libc::clockid_t {
        self.clock().load(Ordering::Relaxed)
    }

    /// Waits until signalled or until `deadline` (CLOCK_MONOTONIC ns). Returns 0, ETIMEDOUT or
    /// the mutex's unlock error (EPERM for a checked mutex the caller does not own).
    pub fn wait(&self, m: &Mutex, deadline: Option<u64>) -> c_int {
        // A cancellation point: acts with the mutex held, before waiting and after re-locking.
        crate::thread::testcancel();
        let seq = self.seq().load(Ordering::SeqCst);
        self.waiters().fetch_add(1, Ordering::SeqCst);
        let r = m.unlock();
        if r != 0 {
            self.waiters().fetch_sub(1, Ordering::SeqCst);
            return r;
        }
        let mut backoff = Backoff::new(self.shared(), deadline);
        let res = loop {
            let r = park::park(self.key(), !0, || self.seq().load(Ordering::SeqCst) == seq, backoff.deadline(), ParkReason::Cond);
            // A poll tick of a shared condvar: keep waiting until signalled or really timed out.
            if self.seq().load(Ordering::SeqCst) != seq {
                break ParkResult::Unparked;
            }
            if r != ParkResult::TimedOut || backoff.expired() {
                break r;
            }
        };
        self.waiters().fetch_sub(1, Ordering::SeqCst);
        // Re-acquire without a deadline: a condition wait always returns with the mutex held.
        m.lock(None, false);
        crate::thread::testcancel();
        if res == ParkResult::TimedOut {
            libc::ETIMEDOUT
        } else {
            0
        }
    }

    pub fn signal(&self) -> c_int {
        if self.waiters().load(Ordering::SeqCst) == 0 {
            return 0;
        }
        self.seq().fetch_add(1, Ordering::SeqCst);
        park::unpark_one(self.key());
        if self.shared() {
            park::wake_kernel_shared(self.key(), 1);
        }
        0
    }

    pub fn broadcast(&self) -> c_int {
        if self.waiters().load(Ordering::SeqCst) == 0 {
            return 0;
        }
        self.seq().fetch_add(1, Ordering::SeqCst);
        park::unpark_all(self.key());
        if self.shared() {
            park::wake_kernel_shared(self.key(), i32::MAX);
        }
        0
    }
}
