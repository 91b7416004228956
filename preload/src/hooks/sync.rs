//! The mutex and condition-variable family, replaced as a whole for every caller (green or
//! not): glibc's versions call each other internally, and objects are shared between green
//! threads and threads that are not green, so all of them must speak one protocol.

use core::ffi::c_int;

use green_rt::sync::cond::Cond;
use green_rt::sync::mutex::Mutex;

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
pub unsafe extern "C" fn pthread_mutex_lock(m: *mut libc::pthread_mutex_t) -> c_int {
    mutex(m).lock(None)
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
pub unsafe extern "C" fn pthread_mutex_timedlock(m: *mut libc::pthread_mutex_t, abstime: *const libc::timespec) -> c_int {
    // SAFETY: abstime points to a timespec (contract).
    mutex(m).lock(Some((libc::CLOCK_REALTIME, unsafe { &*abstime })))
}

#[no_mangle]
pub unsafe extern "C" fn pthread_mutex_clocklock(m: *mut libc::pthread_mutex_t, clock: libc::clockid_t, abstime: *const libc::timespec) -> c_int {
    if !valid_clock(clock) {
        return libc::EINVAL;
    }
    // SAFETY: abstime points to a timespec (contract).
    mutex(m).lock(Some((clock, unsafe { &*abstime })))
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
pub unsafe extern "C" fn pthread_cond_wait(c: *mut libc::pthread_cond_t, m: *mut libc::pthread_mutex_t) -> c_int {
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
pub unsafe extern "C" fn pthread_cond_timedwait(c: *mut libc::pthread_cond_t, m: *mut libc::pthread_mutex_t, abstime: *const libc::timespec) -> c_int {
    timed_wait(c, m, cond(c).timedwait_clock(), abstime)
}

#[no_mangle]
pub unsafe extern "C" fn pthread_cond_clockwait(
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
