//! Scheduling attributes of green threads (policy and rationale in green_rt::sched): recorded
//! for green threads other than main, real for main and for threads that are not green.

use core::ffi::c_int;

use green_rt::sched;

use super::thread::green_target;
use crate::real;

#[no_mangle]
pub unsafe extern "C" fn pthread_setschedparam(th: libc::pthread_t, policy: c_int, param: *const libc::sched_param) -> c_int {
    match green_target(th) {
        // SAFETY: param points to a sched_param (contract).
        Some(t) => sched::set_param(t, policy, unsafe { (*param).sched_priority }),
        // SAFETY: forwarded unchanged.
        None => unsafe { real::pthread_setschedparam()(th, policy, param) },
    }
}

#[no_mangle]
pub unsafe extern "C" fn pthread_getschedparam(th: libc::pthread_t, policy: *mut c_int, param: *mut libc::sched_param) -> c_int {
    match green_target(th).and_then(sched::get_param) {
        Some((p, prio)) => {
            // SAFETY: out-pointers to an int and a sched_param (contract).
            unsafe {
                *policy = p;
                (*param).sched_priority = prio;
            }
            0
        }
        // SAFETY: forwarded unchanged (a green thread with no record: the carrier's values).
        None => unsafe { real::pthread_getschedparam()(th, policy, param) },
    }
}

#[no_mangle]
pub unsafe extern "C" fn pthread_setschedprio(th: libc::pthread_t, prio: c_int) -> c_int {
    match green_target(th) {
        // SAFETY: sched_getscheduler(0) asks about the calling OS thread, the carrier.
        Some(t) => sched::set_prio(t, prio, unsafe { libc::sched_getscheduler(0) }),
        // SAFETY: forwarded unchanged.
        None => unsafe { real::pthread_setschedprio()(th, prio) },
    }
}

#[no_mangle]
pub unsafe extern "C" fn pthread_setaffinity_np(th: libc::pthread_t, size: usize, set: *const libc::cpu_set_t) -> c_int {
    let Some(t) = green_target(th) else {
        // SAFETY: forwarded unchanged.
        return unsafe { real::pthread_setaffinity_np()(th, size, set) };
    };
    // SAFETY: a live cpu_set_t out-buffer; pid 0 is the carrier.
    let mut allowed: libc::cpu_set_t = unsafe { core::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::sched_getaffinity(0, core::mem::size_of::<libc::cpu_set_t>(), &mut allowed) } != 0 {
        // SAFETY: errno of this thread, just set by the failed call.
        return unsafe { *libc::__errno_location() };
    }
    // SAFETY: set holds `size` bytes (contract); allowed is a live cpu_set_t.
    let (set, allowed) = unsafe {
        (core::slice::from_raw_parts(set as *const u8, size), core::slice::from_raw_parts(&allowed as *const _ as *const u8, core::mem::size_of::<libc::cpu_set_t>()))
    };
    sched::set_affinity(t, set, allowed)
}

#[no_mangle]
pub unsafe extern "C" fn pthread_getaffinity_np(th: libc::pthread_t, size: usize, set: *mut libc::cpu_set_t) -> c_int {
    // The real call checks the size and fills in the carrier's mask (a green TCB's tid is 0:
    // the calling OS thread); a green thread's record then narrows it.
    // SAFETY: forwarded unchanged.
    let r = unsafe { real::pthread_getaffinity_np()(th, size, set) };
    if r == 0 {
        if let Some(t) = green_target(th) {
            // SAFETY: set holds `size` bytes (contract), just written by the real call.
            sched::get_affinity(t, unsafe { core::slice::from_raw_parts_mut(set as *mut u8, size) });
        }
    }
    r
}
