//! The sleep family. glibc's sleep() and usleep() call its internal __nanosleep, which never
//! reaches an interposed nanosleep, so each entry point is interposed on its own.

use core::ffi::{c_int, c_uint};

use green_rt::hub;
use green_rt::sleep::{clock_sleep, sleep_for};

use crate::{real, set_errno};

#[no_mangle]
pub unsafe extern "C-unwind" fn nanosleep(req: *const libc::timespec, rem: *mut libc::timespec) -> c_int {
    let Some(t) = hub::current() else {
        // SAFETY: forwarded unchanged.
        return unsafe { real::nanosleep()(req, rem) };
    };
    if req.is_null() {
        set_errno(libc::EFAULT);
        return -1;
    }
    // SAFETY: non-null req points to a timespec; rem is null or the caller's out-pointer.
    match sleep_for(t, unsafe { &*req }, unsafe { rem.as_mut() }) {
        0 => 0,
        e => {
            set_errno(e);
            -1
        }
    }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn clock_nanosleep(clock: libc::clockid_t, flags: c_int, req: *const libc::timespec, rem: *mut libc::timespec) -> c_int {
    if let Some(t) = hub::current() {
        if req.is_null() {
            return libc::EFAULT;
        }
        // SAFETY: non-null req points to a timespec; rem is null or the caller's out-pointer.
        if let Some(r) = clock_sleep(t, clock, flags, unsafe { &*req }, unsafe { rem.as_mut() }) {
            return r;
        }
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::clock_nanosleep()(clock, flags, req, rem) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn sleep(secs: c_uint) -> c_uint {
    match hub::current() {
        Some(t) => {
            // Interrupted by a signal handler: the whole seconds left (glibc 2.36 truncates).
            let mut rem = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            if sleep_for(t, &libc::timespec { tv_sec: secs as i64, tv_nsec: 0 }, Some(&mut rem)) == libc::EINTR {
                return rem.tv_sec as c_uint;
            }
            0
        }
        // SAFETY: forwarded unchanged.
        None => unsafe { real::sleep()(secs) },
    }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn usleep(usec: libc::useconds_t) -> c_int {
    match hub::current() {
        Some(t) => {
            let ts = libc::timespec { tv_sec: (usec / 1_000_000) as i64, tv_nsec: (usec % 1_000_000) as i64 * 1000 };
            match sleep_for(t, &ts, None) {
                0 => 0,
                e => {
                    set_errno(e);
                    -1
                }
            }
        }
        // SAFETY: forwarded unchanged.
        None => unsafe { real::usleep()(usec) },
    }
}

/// C11 thrd_sleep: 0, -1 when interrupted, -2 on other errors (glibc's mapping).
#[no_mangle]
pub unsafe extern "C-unwind" fn thrd_sleep(dur: *const libc::timespec, rem: *mut libc::timespec) -> c_int {
    // SAFETY: same contract as clock_nanosleep.
    match unsafe { clock_nanosleep(libc::CLOCK_REALTIME, 0, dur, rem) } {
        0 => 0,
        libc::EINTR => -1,
        _ => -2,
    }
}
