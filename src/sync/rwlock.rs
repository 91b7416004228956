//! pthread_rwlock_t, cooperative. Layout inside glibc's 56-byte object (only glibc's static
//! initializers constrain it: PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP sets `__flags`
//! at offset 48 to 2):
//!
//! | offset | field | meaning |
//! | --- | --- | --- |
//! | 0 | u32 state | readers holding it, or WRITER |
//! | 4 | u32 waiting writers | |
//! | 8 | u32 waiting readers | |
//! | 28 | i32 shared | PTHREAD_PROCESS_SHARED |
//! | 40 | usize writer | TCB of the write owner (EDEADLK on relock) |
//! | 48 | u32 kind | PTHREAD_RWLOCK_PREFER_* (glibc: only WRITER_NONRECURSIVE prefers writers) |
//!
//! Readers wait on the object's address, writers on address + 4, so a write unlock can wake
//! all readers or one writer as the preference says.

use core::ffi::c_int;
use core::sync::atomic::{AtomicI32, AtomicU32, AtomicUsize, Ordering};

use super::field;
use crate::park::{self, Backoff, ParkResult};
use crate::task::ParkReason;
use crate::tls;

const WRITER: u32 = 1 << 31;
const MAX_READERS: u32 = WRITER - 1;
const PREFER_WRITER_NONRECURSIVE: u32 = 2;

pub struct RwLock(*mut libc::pthread_rwlock_t);

impl RwLock {
    /// # Safety
    /// `l` points to a pthread_rwlock_t that stays valid while the view is used.
    pub unsafe fn from_ptr(l: *mut libc::pthread_rwlock_t) -> RwLock {
        RwLock(l)
    }
    fn state(&self) -> &AtomicU32 {
        field(self.0, 0)
    }
    fn wwait(&self) -> &AtomicU32 {
        field(self.0, 4)
    }
    fn rwait(&self) -> &AtomicU32 {
        field(self.0, 8)
    }
    fn shared(&self) -> bool {
        field::<_, AtomicI32>(self.0, 28).load(Ordering::Relaxed) == libc::PTHREAD_PROCESS_SHARED
    }
    fn writer(&self) -> &AtomicUsize {
        field(self.0, 40)
    }
    fn prefer_writers(&self) -> bool {
        field::<_, AtomicU32>(self.0, 48).load(Ordering::Relaxed) == PREFER_WRITER_NONRECURSIVE
    }
    fn rkey(&self) -> usize {
        self.0 as usize
    }
    fn wkey(&self) -> usize {
        self.0 as usize + 4
    }

    /// pthread_rwlock_init with the attribute's kind and pshared.
    pub fn init(&self, kind: c_int, pshared: c_int) -> c_int {
        // SAFETY: (re)initialisation: nobody may use the object concurrently (POSIX).
        unsafe { core::ptr::write_bytes(self.0 as *mut u8, 0, core::mem::size_of::<libc::pthread_rwlock_t>()) };
        field::<_, AtomicI32>(self.0, 28).store(pshared, Ordering::Relaxed);
        field::<_, AtomicU32>(self.0, 48).store(kind as u32, Ordering::Release);
        0
    }

    fn try_read(&self) -> c_int {
        let s = self.state();
        let mut cur = s.load(Ordering::Relaxed);
        loop {
            if cur & WRITER != 0 || (self.prefer_writers() && self.wwait().load(Ordering::Relaxed) > 0) {
                return libc::EBUSY;
            }
            if cur == MAX_READERS {
                return libc::EAGAIN;
            }
            match s.compare_exchange_weak(cur, cur + 1, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return 0,
                Err(x) => cur = x,
            }
        }
    }

    fn try_write(&self) -> c_int {
        match self.state().compare_exchange(0, WRITER, Ordering::Acquire, Ordering::Relaxed) {
            Ok(_) => {
                self.writer().store(tls::thread_pointer(), Ordering::Relaxed);
                0
            }
            Err(_) => libc::EBUSY,
        }
    }

    pub fn tryrdlock(&self) -> c_int {
        self.try_read()
    }

    pub fn trywrlock(&self) -> c_int {
        self.try_write()
    }

    fn held_for_write_by_me(&self) -> bool {
        self.state().load(Ordering::Relaxed) & WRITER != 0 && self.writer().load(Ordering::Relaxed) == tls::thread_pointer()
    }

    /// Read lock, until `deadline` if given: 0, EDEADLK, EAGAIN or ETIMEDOUT.
    pub fn rdlock(&self, deadline: Option<u64>) -> c_int {
        if self.held_for_write_by_me() {
            return libc::EDEADLK;
        }
        let mut backoff = Backoff::new(self.shared(), deadline);
        loop {
            match self.try_read() {
                libc::EBUSY => {}
                r => return r,
            }
            self.rwait().fetch_add(1, Ordering::SeqCst);
            let s = self.state();
            let blocked = || s.load(Ordering::SeqCst) & WRITER != 0 || (self.prefer_writers() && self.wwait().load(Ordering::SeqCst) > 0);
            let park = || park::park(self.rkey(), !0, blocked, backoff.deadline(), ParkReason::RwLock);
            let r = crate::thread::async_cancel_point(true, park, || {
                self.rwait().fetch_sub(1, Ordering::SeqCst);
            });
            self.rwait().fetch_sub(1, Ordering::SeqCst);
            if r == ParkResult::TimedOut && backoff.expired() {
                return match self.try_read() {
                    libc::EBUSY => libc::ETIMEDOUT,
                    r => r,
                };
            }
        }
    }

    /// Write lock, until `deadline` if given: 0, EDEADLK or ETIMEDOUT.
    pub fn wrlock(&self, deadline: Option<u64>) -> c_int {
        if self.held_for_write_by_me() {
            return libc::EDEADLK;
        }
        let mut backoff = Backoff::new(self.shared(), deadline);
        loop {
            if self.try_write() == 0 {
                return 0;
            }
            self.wwait().fetch_add(1, Ordering::SeqCst);
            let s = self.state();
            let park = || park::park(self.wkey(), !0, || s.load(Ordering::SeqCst) != 0, backoff.deadline(), ParkReason::RwLock);
            let r = crate::thread::async_cancel_point(true, park, || {
                // Readers held back for this writer may go.
                if self.wwait().fetch_sub(1, Ordering::SeqCst) == 1 && self.prefer_writers() {
                    self.wake_readers();
                }
            });
            let left = self.wwait().fetch_sub(1, Ordering::SeqCst) - 1;
            if r == ParkResult::TimedOut && backoff.expired() {
                if self.try_write() == 0 {
                    return 0;
                }
                // Readers held back for this writer may go now.
                if left == 0 && self.prefer_writers() {
                    self.wake_readers();
                }
                return libc::ETIMEDOUT;
            }
        }
    }

    fn wake_readers(&self) {
        if self.rwait().load(Ordering::SeqCst) > 0 {
            park::unpark_all(self.rkey());
            if self.shared() {
                park::wake_kernel_shared(self.rkey(), i32::MAX);
            }
        }
    }

    fn wake_writer(&self) -> bool {
        if self.wwait().load(Ordering::SeqCst) > 0 {
            let woke = park::unpark_one(self.wkey());
            if self.shared() {
                park::wake_kernel_shared(self.wkey(), 1);
            }
            return woke || self.shared();
        }
        false
    }

    /// pthread_rwlock_unlock (of a read or the write lock). EPERM when not locked.
    pub fn unlock(&self) -> c_int {
        let s = self.state();
        let cur = s.load(Ordering::Relaxed);
        if cur & WRITER != 0 {
            self.writer().store(0, Ordering::Relaxed);
            s.store(0, Ordering::SeqCst);
            if self.prefer_writers() {
                if !self.wake_writer() {
                    self.wake_readers();
                }
            } else {
                self.wake_readers();
                self.wake_writer();
            }
            return 0;
        }
        if cur == 0 {
            return libc::EPERM;
        }
        if s.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.wake_writer();
        }
        0
    }
}
