//! System V message queues and semaphores: `msgrcv`, `msgsnd`, `semop`, `semtimedop`.
//!
//! The kernel offers no readiness for them (no fd), so a green thread first makes the call
//! with IPC_NOWAIT (a message that is there, room in the queue, a semaphore that allows the
//! operations: that one call) and, when it would wait, makes the caller's own call on an
//! offload worker while it parks (as file-lock waits do, filelock.rs). A queue or semaphore set
//! belongs to the system, not to a thread, and the worker shares the process's SEM_UNDO list
//! (glibc's threads are cloned with CLONE_SYSVSEM), so the worker's call is the caller's. The
//! kernel's answers stay its own: E2BIG, EIDRM for a queue or set removed during the wait,
//! EINVAL, EFAULT, EFBIG, and the caller's EAGAIN/ENOMSG when it asked for IPC_NOWAIT itself.
//! A handler run on the waiting thread ends the wait with EINTR, as natively (these calls are
//! never restarted, signal(7)): the worker's call is interrupted (offload.rs, `run_interruptible`).
//! Limits (README): cancellation acts before the call, not during the wait; the wait holds one
//! of the offload pool's workers. Threads that are not green make the call directly.

use core::ffi::{c_int, c_long, c_void};

use crate::{hub, offload, sys};

/// These calls are never restarted (signal(7)): any handler run during the wait ends it.
const NEVER_RESTARTED: bool = false;

fn msgrcv_raw(id: c_int, msg: usize, size: usize, typ: c_long, flags: c_int) -> isize {
    // SAFETY: the caller's buffer and size, as its own msgrcv passes them (the kernel checks).
    unsafe { sys::syscall6(libc::SYS_msgrcv, id as usize, msg, size, typ as usize, flags as usize, 0) }
}

fn msgsnd_raw(id: c_int, msg: usize, size: usize, flags: c_int) -> isize {
    // SAFETY: as msgrcv_raw.
    unsafe { sys::syscall6(libc::SYS_msgsnd, id as usize, msg, size, flags as usize, 0, 0) }
}

fn semtimedop_raw(id: c_int, sops: usize, n: usize, timeout: usize) -> isize {
    // SAFETY: the caller's operations and timeout (or our copy of them), as the kernel takes them.
    unsafe { sys::syscall6(libc::SYS_semtimedop, id as usize, sops, n, timeout, 0, 0) }
}

/// `msgrcv`, raw result (-errno).
pub fn msgrcv(id: c_int, msg: *mut c_void, size: usize, typ: c_long, flags: c_int) -> isize {
    let msg = msg as usize;
    if hub::current().is_none() || flags & libc::IPC_NOWAIT != 0 {
        return msgrcv_raw(id, msg, size, typ, flags);
    }
    crate::thread::testcancel();
    // ENOMSG is only "nothing to take" here: the caller did not ask for IPC_NOWAIT, and MSG_COPY
    // without it fails EINVAL on the try already.
    let r = msgrcv_raw(id, msg, size, typ, flags | libc::IPC_NOWAIT);
    if r != -(libc::ENOMSG as isize) {
        return r;
    }
    offload::run_interruptible(NEVER_RESTARTED, move || msgrcv_raw(id, msg, size, typ, flags))
}

/// `msgsnd`, raw result (-errno).
pub fn msgsnd(id: c_int, msg: *const c_void, size: usize, flags: c_int) -> isize {
    let msg = msg as usize;
    if hub::current().is_none() || flags & libc::IPC_NOWAIT != 0 {
        return msgsnd_raw(id, msg, size, flags);
    }
    crate::thread::testcancel();
    let r = msgsnd_raw(id, msg, size, flags | libc::IPC_NOWAIT);
    if r != -(libc::EAGAIN as isize) {
        return r;
    }
    offload::run_interruptible(NEVER_RESTARTED, move || msgsnd_raw(id, msg, size, flags))
}

/// The kernel's limit on operations per call (SEMOPM); more fail E2BIG on the direct call.
const SEMOPM: usize = 500;
/// `struct sembuf`: sem_num (u16), sem_op (i16), sem_flg (i16).
const SEMBUF: usize = 6;
const FLG_OFFSET: usize = 4;

/// `semtimedop` (`semop` when `timeout` is null), raw result (-errno).
pub fn semtimedop(id: c_int, sops: *mut c_void, n: usize, timeout: *const libc::timespec) -> isize {
    let (sops, timeout) = (sops as usize, timeout as usize);
    if hub::current().is_none() || n == 0 || n > SEMOPM {
        return semtimedop_raw(id, sops, n, timeout);
    }
    // The try: the caller's operations, each with IPC_NOWAIT, copied without trusting the
    // pointer (a bad one gets the kernel's EFAULT from the direct call). With the caller's
    // timeout, so the kernel checks it as it would (EINVAL, EFAULT) even when nothing waits.
    let mut copy = vec![0u8; n * SEMBUF];
    if !sys::read_program(sops as *const u8, &mut copy) {
        return semtimedop_raw(id, sops, n, timeout);
    }
    for op in copy.chunks_exact_mut(SEMBUF) {
        let flg = i16::from_ne_bytes([op[FLG_OFFSET], op[FLG_OFFSET + 1]]) | libc::IPC_NOWAIT as i16;
        op[FLG_OFFSET..].copy_from_slice(&flg.to_ne_bytes());
    }
    let r = semtimedop_raw(id, copy.as_ptr() as usize, n, timeout);
    if r != -(libc::EAGAIN as isize) {
        return r;
    }
    // Would wait (or one of the caller's own IPC_NOWAIT operations could not proceed: the
    // worker's call then says EAGAIN at once).
    offload::run_interruptible(NEVER_RESTARTED, move || semtimedop_raw(id, sops, n, timeout))
}
