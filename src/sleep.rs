//! The sleep family for green threads: every sleep is a timer park on the hub, so the other
//! green threads keep running. Deadlines are kept on CLOCK_MONOTONIC; an absolute
//! CLOCK_REALTIME sleep is converted when it starts (a later jump of the wall clock does not
//! move it — documented in README).

use core::ffi::c_int;

use crate::hub;
use crate::sys;
use crate::task::Task;

/// Sleeps `t` for a relative time. EINVAL for a timespec out of range; EINTR when a signal
/// handler ran meanwhile, with the time left written to `rem` (if given).
pub fn sleep_for(t: &'static Task, req: &libc::timespec, rem: Option<&mut libc::timespec>) -> c_int {
    if !sys::timespec_valid(req) || req.tv_sec < 0 {
        return libc::EINVAL;
    }
    let deadline = sys::now_ns().saturating_add(sys::timespec_ns(req));
    if hub::sleep_until(t, deadline) {
        if let Some(r) = rem {
            *r = sys::ns_to_timespec(deadline.saturating_sub(sys::now_ns()));
        }
        return libc::EINTR;
    }
    0
}

/// clock_nanosleep for a green thread. `None`: a clock the hub cannot time (process CPU
/// clocks); the caller uses the real call.
pub fn clock_sleep(t: &'static Task, clock: libc::clockid_t, flags: c_int, req: &libc::timespec, rem: Option<&mut libc::timespec>) -> Option<c_int> {
    match clock {
        libc::CLOCK_REALTIME | libc::CLOCK_MONOTONIC | libc::CLOCK_BOOTTIME | libc::CLOCK_TAI => {}
        libc::CLOCK_THREAD_CPUTIME_ID => return Some(libc::EINVAL),
        _ => return None,
    }
    if !sys::timespec_valid(req) {
        return Some(libc::EINVAL);
    }
    if flags & libc::TIMER_ABSTIME == 0 {
        if req.tv_sec < 0 {
            return Some(libc::EINVAL);
        }
        return Some(sleep_for(t, req, rem));
    }
    let deadline = sys::abs_to_monotonic(clock, req)?;
    // An absolute sleep reports no remaining time (POSIX).
    Some(if hub::sleep_until(t, deadline) { libc::EINTR } else { 0 })
}
