//! pthread_barrier_t: the last of `count` arrivals releases the round and gets
//! PTHREAD_BARRIER_SERIAL_THREAD. Layout inside glibc's 32 bytes: u32 count @0, u32 arrived @4,
//! u32 round @8, i32 shared @12.

use core::ffi::c_int;
use core::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use super::field;
use crate::park::{self, Backoff};
use crate::task::ParkReason;

pub struct Barrier(*mut libc::pthread_barrier_t);

impl Barrier {
    /// # Safety
    /// `b` points to a pthread_barrier_t that stays valid while the view is used.
    pub unsafe fn from_ptr(b: *mut libc::pthread_barrier_t) -> Barrier {
        Barrier(b)
    }
    fn count(&self) -> &AtomicU32 {
        field(self.0, 0)
    }
    fn arrived(&self) -> &AtomicU32 {
        field(self.0, 4)
    }
    fn round(&self) -> &AtomicU32 {
        field(self.0, 8)
    }

    /// pthread_barrier_init: EINVAL for a count of 0.
    pub fn init(&self, count: u32, pshared: c_int) -> c_int {
        if count == 0 || count > i32::MAX as u32 {
            return libc::EINVAL;
        }
        self.count().store(count, Ordering::Relaxed);
        self.arrived().store(0, Ordering::Relaxed);
        self.round().store(0, Ordering::Relaxed);
        field::<_, AtomicI32>(self.0, 12).store(pshared, Ordering::Release);
        0
    }

    pub fn wait(&self) -> c_int {
        let round = self.round().load(Ordering::SeqCst);
        let n = self.arrived().fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.count().load(Ordering::Relaxed) {
            self.arrived().store(0, Ordering::SeqCst);
            self.round().fetch_add(1, Ordering::SeqCst);
            park::unpark_all(self.0 as usize);
            if self.shared() {
                park::wake_kernel_shared(self.0 as usize + 8, i32::MAX);
            }
            return libc::PTHREAD_BARRIER_SERIAL_THREAD;
        }
        let mut backoff = Backoff::new(self.shared(), None);
        let r = self.round();
        // Cancelled while waiting (asynchronous cancellation), it takes back its arrival unless
        // the round is over.
        let leave = || {
            let arrived = self.arrived();
            let mut a = arrived.load(Ordering::SeqCst);
            while r.load(Ordering::SeqCst) == round && a > 0 {
                match arrived.compare_exchange(a, a - 1, Ordering::SeqCst, Ordering::SeqCst) {
                    Ok(_) => break,
                    Err(now) => a = now,
                }
            }
        };
        crate::thread::async_cancel_point(
            true,
            || {
                while r.load(Ordering::SeqCst) == round {
                    park::park(self.0 as usize, !0, || r.load(Ordering::SeqCst) == round, backoff.deadline(), ParkReason::Barrier);
                }
            },
            leave,
        );
        0
    }

    fn shared(&self) -> bool {
        field::<_, AtomicI32>(self.0, 12).load(Ordering::Relaxed) == libc::PTHREAD_PROCESS_SHARED
    }
}
