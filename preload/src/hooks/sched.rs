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
    let answer = match green_target(th) {
        // No record: the carrier's values, which the thread inherited.
        Some(t) => sched::get_param(t).map_or_else(sched::carrier_param, Ok),
        // SAFETY: forwarded unchanged.
        None => return unsafe { real::pthread_getschedparam()(th, policy, param) },
    };
    match answer {
        Ok((p, prio)) => {
            // SAFETY: out-pointers to an int and a sched_param (contract).
            unsafe {
                *policy = p;
                (*param).sched_priority = prio;
            }
            0
        }
        Err(e) => e,
    }
}

#[no_mangle]
pub unsafe extern "C" fn pthread_setschedprio(th: libc::pthread_t, prio: c_int) -> c_int {
    match green_target(th) {
        // SAFETY: the real sched_getscheduler(0) asks about the calling OS thread, the carrier
        // (the libc name would reach our own hook, which answers for the green thread).
        Some(t) => sched::set_prio(t, prio, unsafe { real::sched_getscheduler()(0) }),
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
    // SAFETY: set holds `size` bytes (contract).
    sched::set_affinity(t, unsafe { core::slice::from_raw_parts(set as *const u8, size) })
}

#[no_mangle]
pub unsafe extern "C" fn pthread_getaffinity_np(th: libc::pthread_t, size: usize, set: *mut libc::cpu_set_t) -> c_int {
    let Some(t) = green_target(th) else {
        // SAFETY: forwarded unchanged.
        return unsafe { real::pthread_getaffinity_np()(th, size, set) };
    };
    // The carrier's mask (size checked as the kernel does), then the thread's record narrows it.
    // SAFETY: set holds `size` bytes (contract); the kernel validates them.
    let r = unsafe { sched::carrier_affinity(size, set as *mut u8) };
    if r == 0 {
        // SAFETY: set holds `size` bytes (contract), just written by the kernel.
        sched::get_affinity(t, unsafe { core::slice::from_raw_parts_mut(set as *mut u8, size) });
    }
    r
}

// The `sched_*` calls by pid: 0 from a green thread, or a green thread's gettid() value, name
// that green thread (recorded as above); any other pid is the kernel's business.

/// Sets errno to `e` and returns -1 (0 stays 0): the syscall wrappers' convention.
fn errno_ret(e: c_int) -> c_int {
    if e != 0 {
        // SAFETY: errno of this thread.
        unsafe { *libc::__errno_location() = e };
        return -1;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn sched_setscheduler(pid: libc::pid_t, policy: c_int, param: *const libc::sched_param) -> c_int {
    match sched::green_by_pid(pid) {
        // SAFETY: param points to a sched_param (contract).
        Some(t) => errno_ret(sched::set_param(t, policy, unsafe { (*param).sched_priority })),
        // SAFETY: forwarded unchanged.
        None => unsafe { real::sched_setscheduler()(pid, policy, param) },
    }
}

#[no_mangle]
pub unsafe extern "C" fn sched_getscheduler(pid: libc::pid_t) -> c_int {
    match sched::green_by_pid(pid) {
        Some(t) => match sched::get_param(t) {
            Some((policy, _)) => policy,
            // SAFETY: pid 0: the carrier, whose policy the thread inherited.
            None => unsafe { real::sched_getscheduler()(0) },
        },
        // SAFETY: forwarded unchanged.
        None => unsafe { real::sched_getscheduler()(pid) },
    }
}

#[no_mangle]
pub unsafe extern "C" fn sched_setparam(pid: libc::pid_t, param: *const libc::sched_param) -> c_int {
    match sched::green_by_pid(pid) {
        // SAFETY: param points to a sched_param (contract); pid 0 asks about the carrier.
        Some(t) => errno_ret(sched::set_prio(t, unsafe { (*param).sched_priority }, unsafe { real::sched_getscheduler()(0) })),
        // SAFETY: forwarded unchanged.
        None => unsafe { real::sched_setparam()(pid, param) },
    }
}

#[no_mangle]
pub unsafe extern "C" fn sched_getparam(pid: libc::pid_t, param: *mut libc::sched_param) -> c_int {
    match sched::green_by_pid(pid) {
        Some(t) => match sched::get_param(t) {
            Some((_, prio)) => {
                // SAFETY: param points to a sched_param (contract).
                unsafe { (*param).sched_priority = prio };
                0
            }
            // SAFETY: pid 0: the carrier's, which the thread inherited.
            None => unsafe { real::sched_getparam()(0, param) },
        },
        // SAFETY: forwarded unchanged.
        None => unsafe { real::sched_getparam()(pid, param) },
    }
}

#[no_mangle]
pub unsafe extern "C" fn sched_setaffinity(pid: libc::pid_t, size: usize, set: *const libc::cpu_set_t) -> c_int {
    match sched::green_by_pid(pid) {
        // SAFETY: the green thread's pthread_t is its TCB; the same checks and record.
        Some(t) => errno_ret(unsafe { pthread_setaffinity_np(t.tcb.get() as libc::pthread_t, size, set) }),
        // SAFETY: forwarded unchanged.
        None => unsafe { real::sched_setaffinity()(pid, size, set) },
    }
}

#[no_mangle]
pub unsafe extern "C" fn sched_getaffinity(pid: libc::pid_t, size: usize, set: *mut libc::cpu_set_t) -> c_int {
    match sched::green_by_pid(pid) {
        // SAFETY: as pthread_getaffinity_np on the thread's pthread_t.
        Some(t) => errno_ret(unsafe { pthread_getaffinity_np(t.tcb.get() as libc::pthread_t, size, set) }),
        // SAFETY: forwarded unchanged.
        None => unsafe { real::sched_getaffinity()(pid, size, set) },
    }
}
