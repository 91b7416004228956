//! The synchronisation families (mutex, condvar, semaphore, rwlock, barrier, spinlock),
//! replaced as wholes for every caller (green or not): glibc's versions call each other
//! internally, and objects are shared between green threads and threads that are not green,
//! so all of them must speak one protocol.

use core::ffi::{c_int, c_uint};

use green_rt::sync::barrier::Barrier;
use green_rt::sync::cond::Cond;
use green_rt::sync::mutex::Mutex;
use green_rt::sync::rwlock::RwLock;
use green_rt::sync::sem::Sem;
use green_rt::sync::spin;

use crate::set_errno;

fn mutex(m: *mut libc::pthread_mutex_t) -> Mutex {
    // SAFETY: the caller passes a pthread_mutex_t it keeps valid during the call.
    unsafe { Mutex::from_ptr(m) }
}

fn cond(c: *mut libc::pthread_cond_t) -> Cond {
    // SAFETY: the caller passes a pthread_cond_t it keeps valid during the call.
    unsafe { Cond::from_ptr(c) }
}

fn valid_clock(clock: libc::clockid_t) -> bool {
    clock == libc::CLOCK_REALTIME || clock == libc::CLOCK_MONOTONIC
}

#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_init(m: *mut libc::pthread_mutex_t, attr: *const libc::pthread_mutexattr_t) -> c_int {
    // SAFETY: attr is null or initialised (contract).
    unsafe { mutex(m).init(attr) }
}

#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_destroy(m: *mut libc::pthread_mutex_t) -> c_int {
    mutex(m).destroy()
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pthread_mutex_lock(m: *mut libc::pthread_mutex_t) -> c_int {
    mutex(m).lock(None, true)
}

#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_trylock(m: *mut libc::pthread_mutex_t) -> c_int {
    mutex(m).trylock()
}

#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_unlock(m: *mut libc::pthread_mutex_t) -> c_int {
    mutex(m).unlock()
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pthread_mutex_timedlock(m: *mut libc::pthread_mutex_t, abstime: *const libc::timespec) -> c_int {
    // SAFETY: abstime points to a timespec (contract).
    mutex(m).lock(Some((libc::CLOCK_REALTIME, unsafe { &*abstime })), true)
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pthread_mutex_clocklock(m: *mut libc::pthread_mutex_t, clock: libc::clockid_t, abstime: *const libc::timespec) -> c_int {
    if !valid_clock(clock) {
        return libc::EINVAL;
    }
    // SAFETY: abstime points to a timespec (contract).
    mutex(m).lock(Some((clock, unsafe { &*abstime })), true)
}

#[no_mangle]
pub unsafe extern "C" fn pthread_cond_init(c: *mut libc::pthread_cond_t, attr: *const libc::pthread_condattr_t) -> c_int {
    // SAFETY: attr is null or initialised (contract).
    unsafe { cond(c).init(attr) }
}

#[no_mangle]
pub unsafe extern "C" fn pthread_cond_destroy(_c: *mut libc::pthread_cond_t) -> c_int {
    0
}

#[no_mangle]
pub unsafe extern "C" fn pthread_cond_signal(c: *mut libc::pthread_cond_t) -> c_int {
    cond(c).signal()
}

#[no_mangle]
pub unsafe extern "C" fn pthread_cond_broadcast(c: *mut libc::pthread_cond_t) -> c_int {
    cond(c).broadcast()
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pthread_cond_wait(c: *mut libc::pthread_cond_t, m: *mut libc::pthread_mutex_t) -> c_int {
    cond(c).wait(&mutex(m), None)
}

fn timed_wait(c: *mut libc::pthread_cond_t, m: *mut libc::pthread_mutex_t, clock: libc::clockid_t, abstime: *const libc::timespec) -> c_int {
    // SAFETY: abstime points to a timespec (contract).
    let ts = unsafe { &*abstime };
    if !green_rt::sys::timespec_valid(ts) {
        return libc::EINVAL;
    }
    let Some(deadline) = green_rt::sys::abs_to_monotonic(clock, ts) else {
        return libc::EINVAL;
    };
    cond(c).wait(&mutex(m), Some(deadline))
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pthread_cond_timedwait(c: *mut libc::pthread_cond_t, m: *mut libc::pthread_mutex_t, abstime: *const libc::timespec) -> c_int {
    timed_wait(c, m, cond(c).timedwait_clock(), abstime)
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pthread_cond_clockwait(
    c: *mut libc::pthread_cond_t,
    m: *mut libc::pthread_mutex_t,
    clock: libc::clockid_t,
    abstime: *const libc::timespec,
) -> c_int {
    if !valid_clock(clock) {
        return libc::EINVAL;
    }
    timed_wait(c, m, clock, abstime)
}

#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_consistent(m: *mut libc::pthread_mutex_t) -> c_int {
    mutex(m).consistent()
}

#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_consistent_np(m: *mut libc::pthread_mutex_t) -> c_int {
    mutex(m).consistent()
}

#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_getprioceiling(m: *const libc::pthread_mutex_t, ceiling: *mut c_int) -> c_int {
    match mutex(m as *mut _).prioceiling() {
        Ok(c) => {
            // SAFETY: ceiling is the caller's out-pointer.
            unsafe { *ceiling = c };
            0
        }
        Err(e) => e,
    }
}

#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_setprioceiling(m: *mut libc::pthread_mutex_t, ceiling: c_int, old: *mut c_int) -> c_int {
    match mutex(m).set_prioceiling(ceiling) {
        Ok(o) => {
            if !old.is_null() {
                // SAFETY: old is the caller's out-pointer.
                unsafe { *old = o };
            }
            0
        }
        Err(e) => e,
    }
}

// ---- semaphores (sem_open/sem_close/sem_unlink stay glibc's: the layout is glibc's own) ----

fn sem(s: *mut libc::sem_t) -> Sem {
    // SAFETY: the caller passes a sem_t it keeps valid during the call.
    unsafe { Sem::from_ptr(s) }
}

/// Maps an errno result to the -1/errno convention of the sem_* functions.
fn errno_ret(r: c_int) -> c_int {
    if r == 0 {
        0
    } else {
        set_errno(r);
        -1
    }
}

#[no_mangle]
pub unsafe extern "C" fn sem_init(s: *mut libc::sem_t, pshared: c_int, value: c_uint) -> c_int {
    errno_ret(sem(s).init(pshared != 0, value))
}

#[no_mangle]
pub unsafe extern "C" fn sem_destroy(_s: *mut libc::sem_t) -> c_int {
    0
}

#[no_mangle]
pub unsafe extern "C-unwind" fn sem_wait(s: *mut libc::sem_t) -> c_int {
    errno_ret(sem(s).wait(None))
}

#[no_mangle]
pub unsafe extern "C" fn sem_trywait(s: *mut libc::sem_t) -> c_int {
    errno_ret(sem(s).trywait())
}

fn sem_wait_until(s: *mut libc::sem_t, clock: libc::clockid_t, abstime: *const libc::timespec) -> c_int {
    // SAFETY: abstime points to a timespec (contract).
    let ts = unsafe { &*abstime };
    // glibc checks the timespec before trying, unlike mutexes.
    if !green_rt::sys::timespec_valid(ts) {
        return errno_ret(libc::EINVAL);
    }
    match green_rt::sys::abs_to_monotonic(clock, ts) {
        Some(d) => errno_ret(sem(s).wait(Some(d))),
        None => errno_ret(libc::EINVAL),
    }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn sem_timedwait(s: *mut libc::sem_t, abstime: *const libc::timespec) -> c_int {
    sem_wait_until(s, libc::CLOCK_REALTIME, abstime)
}

#[no_mangle]
pub unsafe extern "C-unwind" fn sem_clockwait(s: *mut libc::sem_t, clock: libc::clockid_t, abstime: *const libc::timespec) -> c_int {
    if !valid_clock(clock) {
        return errno_ret(libc::EINVAL);
    }
    sem_wait_until(s, clock, abstime)
}

#[no_mangle]
pub unsafe extern "C" fn sem_post(s: *mut libc::sem_t) -> c_int {
    errno_ret(sem(s).post())
}

#[no_mangle]
pub unsafe extern "C" fn sem_getvalue(s: *mut libc::sem_t, value: *mut c_int) -> c_int {
    // SAFETY: value is the caller's out-pointer.
    unsafe { *value = sem(s).getvalue() };
    0
}

// ---- rwlocks ----------------------------------------------------------------------------

extern "C" {
    fn pthread_rwlockattr_getkind_np(attr: *const libc::pthread_rwlockattr_t, kind: *mut c_int) -> c_int;
    fn pthread_rwlockattr_getpshared(attr: *const libc::pthread_rwlockattr_t, pshared: *mut c_int) -> c_int;
    fn pthread_barrierattr_getpshared(attr: *const libc::pthread_barrierattr_t, pshared: *mut c_int) -> c_int;
}

fn rwlock(l: *mut libc::pthread_rwlock_t) -> RwLock {
    // SAFETY: the caller passes a pthread_rwlock_t it keeps valid during the call.
    unsafe { RwLock::from_ptr(l) }
}

#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_init(l: *mut libc::pthread_rwlock_t, attr: *const libc::pthread_rwlockattr_t) -> c_int {
    let (mut kind, mut pshared) = (0, libc::PTHREAD_PROCESS_PRIVATE);
    if !attr.is_null() {
        // SAFETY: attr is initialised (contract); the getters only read it.
        unsafe {
            pthread_rwlockattr_getkind_np(attr, &mut kind);
            pthread_rwlockattr_getpshared(attr, &mut pshared);
        }
    }
    rwlock(l).init(kind, pshared)
}

#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_destroy(_l: *mut libc::pthread_rwlock_t) -> c_int {
    0
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pthread_rwlock_rdlock(l: *mut libc::pthread_rwlock_t) -> c_int {
    rwlock(l).rdlock(None)
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pthread_rwlock_wrlock(l: *mut libc::pthread_rwlock_t) -> c_int {
    rwlock(l).wrlock(None)
}

#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_tryrdlock(l: *mut libc::pthread_rwlock_t) -> c_int {
    rwlock(l).tryrdlock()
}

#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_trywrlock(l: *mut libc::pthread_rwlock_t) -> c_int {
    rwlock(l).trywrlock()
}

#[no_mangle]
pub unsafe extern "C" fn pthread_rwlock_unlock(l: *mut libc::pthread_rwlock_t) -> c_int {
    rwlock(l).unlock()
}

/// glibc checks clock and timespec before trying to lock.
fn rw_deadline(clock: libc::clockid_t, abstime: *const libc::timespec) -> Result<u64, c_int> {
    if !valid_clock(clock) {
        return Err(libc::EINVAL);
    }
    // SAFETY: abstime points to a timespec (contract).
    let ts = unsafe { &*abstime };
    if !green_rt::sys::timespec_valid(ts) {
        return Err(libc::EINVAL);
    }
    green_rt::sys::abs_to_monotonic(clock, ts).ok_or(libc::EINVAL)
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pthread_rwlock_timedrdlock(l: *mut libc::pthread_rwlock_t, abstime: *const libc::timespec) -> c_int {
    rw_deadline(libc::CLOCK_REALTIME, abstime).map_or_else(|e| e, |d| rwlock(l).rdlock(Some(d)))
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pthread_rwlock_timedwrlock(l: *mut libc::pthread_rwlock_t, abstime: *const libc::timespec) -> c_int {
    rw_deadline(libc::CLOCK_REALTIME, abstime).map_or_else(|e| e, |d| rwlock(l).wrlock(Some(d)))
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pthread_rwlock_clockrdlock(l: *mut libc::pthread_rwlock_t, clock: libc::clockid_t, abstime: *const libc::timespec) -> c_int {
    rw_deadline(clock, abstime).map_or_else(|e| e, |d| rwlock(l).rdlock(Some(d)))
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pthread_rwlock_clockwrlock(l: *mut libc::pthread_rwlock_t, clock: libc::clockid_t, abstime: *const libc::timespec) -> c_int {
    rw_deadline(clock, abstime).map_or_else(|e| e, |d| rwlock(l).wrlock(Some(d)))
}

// ---- barriers and spinlocks ---------------------------------------------------------------

#[no_mangle]
pub unsafe extern "C" fn pthread_barrier_init(b: *mut libc::pthread_barrier_t, attr: *const libc::pthread_barrierattr_t, count: c_uint) -> c_int {
    let mut pshared = libc::PTHREAD_PROCESS_PRIVATE;
    if !attr.is_null() {
        // SAFETY: attr is initialised (contract); the getter only reads it.
        unsafe { pthread_barrierattr_getpshared(attr, &mut pshared) };
    }
    // SAFETY: the caller passes a barrier it keeps valid during the call.
    unsafe { Barrier::from_ptr(b) }.init(count, pshared)
}

#[no_mangle]
pub unsafe extern "C" fn pthread_barrier_destroy(_b: *mut libc::pthread_barrier_t) -> c_int {
    0
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pthread_barrier_wait(b: *mut libc::pthread_barrier_t) -> c_int {
    // SAFETY: the caller passes a barrier it keeps valid during the call.
    unsafe { Barrier::from_ptr(b) }.wait()
}

#[no_mangle]
pub unsafe extern "C" fn pthread_spin_init(l: *mut libc::pthread_spinlock_t, _pshared: c_int) -> c_int {
    // SAFETY: l points to a pthread_spinlock_t (contract).
    unsafe { *l = 0 };
    0
}

#[no_mangle]
pub unsafe extern "C" fn pthread_spin_destroy(_l: *mut libc::pthread_spinlock_t) -> c_int {
    0
}

#[no_mangle]
pub unsafe extern "C" fn pthread_spin_lock(l: *mut libc::pthread_spinlock_t) -> c_int {
    // SAFETY: l points to a pthread_spinlock_t (contract).
    unsafe { spin::lock(l) }
}

#[no_mangle]
pub unsafe extern "C" fn pthread_spin_trylock(l: *mut libc::pthread_spinlock_t) -> c_int {
    // SAFETY: l points to a pthread_spinlock_t (contract).
    unsafe { spin::trylock(l) }
}

#[no_mangle]
pub unsafe extern "C" fn pthread_spin_unlock(l: *mut libc::pthread_spinlock_t) -> c_int {
    // SAFETY: l points to a pthread_spinlock_t (contract).
    unsafe { spin::unlock(l) }
}
