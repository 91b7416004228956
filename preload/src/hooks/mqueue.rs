//! POSIX message queues: a green thread's blocking receive or send parks until the queue polls
//! ready (green_rt::mqueue). mq_receive/mq_send are the timed calls without a deadline, as in
//! glibc.

use core::ffi::{c_char, c_int, c_uint};
use core::ptr::null;

use green_rt::fd::Dir;
use green_rt::{hub, mqueue};

use super::io::ret;
use crate::real;

#[no_mangle]
pub unsafe extern "C-unwind" fn mq_timedreceive(mqd: libc::mqd_t, buf: *mut c_char, len: usize, prio: *mut c_uint, abs: *const libc::timespec) -> isize {
    if hub::current().is_some() {
        if let Some(r) = mqueue::transfer(mqd, Dir::Read, buf as usize, len, prio as usize, abs) {
            return ret(r);
        }
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::mq_timedreceive()(mqd, buf, len, prio, abs) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn mq_receive(mqd: libc::mqd_t, buf: *mut c_char, len: usize, prio: *mut c_uint) -> isize {
    // SAFETY: same contract, no deadline.
    unsafe { mq_timedreceive(mqd, buf, len, prio, null()) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn mq_timedsend(mqd: libc::mqd_t, buf: *const c_char, len: usize, prio: c_uint, abs: *const libc::timespec) -> c_int {
    if hub::current().is_some() {
        if let Some(r) = mqueue::transfer(mqd, Dir::Write, buf as usize, len, prio as usize, abs) {
            return ret(r) as c_int;
        }
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::mq_timedsend()(mqd, buf, len, prio, abs) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn mq_send(mqd: libc::mqd_t, buf: *const c_char, len: usize, prio: c_uint) -> c_int {
    // SAFETY: same contract, no deadline.
    unsafe { mq_timedsend(mqd, buf, len, prio, null()) }
}
