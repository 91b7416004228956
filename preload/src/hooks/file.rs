//! Regular files: the positioned read/write family and the fsync family of green threads go
//! through green_rt::file (page cache first, the offload pool when the call would wait for the
//! device); other fds and callers that are not green take the real call.

use core::ffi::{c_int, c_uint, c_void};

use green_rt::fd::{self, Kind};
use green_rt::{file, hub, thread};

use super::io::ret;
use crate::real;

/// Whether a positioned call on `fd` goes through green_rt::file (a negative offset or vector
/// length gets glibc's EINVAL from the real call).
fn green_file(fd: c_int, offset: libc::off_t, iovcnt: c_int) -> bool {
    offset >= 0 && iovcnt >= 0 && hub::current().is_some() && fd::kind(fd) == Kind::File
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pread(fd: c_int, buf: *mut c_void, n: usize, offset: libc::off_t) -> isize {
    if green_file(fd, offset, 1) {
        return ret(file::read(fd, &libc::iovec { iov_base: buf, iov_len: n }, 1, offset, 0));
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::pread()(fd, buf, n, offset) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pread64(fd: c_int, buf: *mut c_void, n: usize, offset: libc::off_t) -> isize {
    // SAFETY: the same function on x86-64 (off_t is 64-bit).
    unsafe { pread(fd, buf, n, offset) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pwrite(fd: c_int, buf: *const c_void, n: usize, offset: libc::off_t) -> isize {
    if green_file(fd, offset, 1) {
        return ret(file::write(fd, &libc::iovec { iov_base: buf as *mut c_void, iov_len: n }, 1, offset, 0));
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::pwrite()(fd, buf, n, offset) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pwrite64(fd: c_int, buf: *const c_void, n: usize, offset: libc::off_t) -> isize {
    // SAFETY: the same function on x86-64.
    unsafe { pwrite(fd, buf, n, offset) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn preadv(fd: c_int, iov: *const libc::iovec, n: c_int, offset: libc::off_t) -> isize {
    if green_file(fd, offset, n) {
        return ret(file::read(fd, iov, n as usize, offset, 0));
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::preadv()(fd, iov, n, offset) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn preadv64(fd: c_int, iov: *const libc::iovec, n: c_int, offset: libc::off_t) -> isize {
    // SAFETY: the same function on x86-64.
    unsafe { preadv(fd, iov, n, offset) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pwritev(fd: c_int, iov: *const libc::iovec, n: c_int, offset: libc::off_t) -> isize {
    if green_file(fd, offset, n) {
        return ret(file::write(fd, iov, n as usize, offset, 0));
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::pwritev()(fd, iov, n, offset) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pwritev64(fd: c_int, iov: *const libc::iovec, n: c_int, offset: libc::off_t) -> isize {
    // SAFETY: the same function on x86-64.
    unsafe { pwritev(fd, iov, n, offset) }
}

/// preadv2: offset -1 means the file position, as for the kernel.
#[no_mangle]
pub unsafe extern "C-unwind" fn preadv2(fd: c_int, iov: *const libc::iovec, n: c_int, offset: libc::off_t, flags: c_int) -> isize {
    if green_file(fd, offset.max(0), n) && offset >= -1 {
        return ret(file::read(fd, iov, n as usize, offset, flags));
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::preadv2()(fd, iov, n, offset, flags) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn preadv64v2(fd: c_int, iov: *const libc::iovec, n: c_int, offset: libc::off_t, flags: c_int) -> isize {
    // SAFETY: the same function on x86-64.
    unsafe { preadv2(fd, iov, n, offset, flags) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pwritev2(fd: c_int, iov: *const libc::iovec, n: c_int, offset: libc::off_t, flags: c_int) -> isize {
    if green_file(fd, offset.max(0), n) && offset >= -1 {
        return ret(file::write(fd, iov, n as usize, offset, flags));
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::pwritev2()(fd, iov, n, offset, flags) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn pwritev64v2(fd: c_int, iov: *const libc::iovec, n: c_int, offset: libc::off_t, flags: c_int) -> isize {
    // SAFETY: the same function on x86-64.
    unsafe { pwritev2(fd, iov, n, offset, flags) }
}

/// fsync and fdatasync are cancellation points: a pending request acts before and after.
fn sync_point(nr: i64, fd: c_int) -> c_int {
    thread::testcancel();
    let r = file::sync_call(nr, fd as usize, 0, 0, 0);
    thread::testcancel();
    ret(r) as c_int
}

#[no_mangle]
pub unsafe extern "C-unwind" fn fsync(fd: c_int) -> c_int {
    if hub::current().is_some() {
        return sync_point(libc::SYS_fsync, fd);
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::fsync()(fd) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn fdatasync(fd: c_int) -> c_int {
    if hub::current().is_some() {
        return sync_point(libc::SYS_fdatasync, fd);
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::fdatasync()(fd) }
}

#[no_mangle]
pub unsafe extern "C" fn sync_file_range(fd: c_int, offset: libc::off64_t, n: libc::off64_t, flags: c_uint) -> c_int {
    if hub::current().is_some() {
        return ret(file::sync_call(libc::SYS_sync_file_range, fd as usize, offset as usize, n as usize, flags as usize)) as c_int;
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::sync_file_range()(fd, offset, n, flags) }
}

#[no_mangle]
pub unsafe extern "C" fn syncfs(fd: c_int) -> c_int {
    if hub::current().is_some() {
        return ret(file::sync_call(libc::SYS_syncfs, fd as usize, 0, 0, 0)) as c_int;
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::syncfs()(fd) }
}

#[no_mangle]
pub unsafe extern "C" fn sync() {
    if hub::current().is_some() {
        file::sync_call(libc::SYS_sync, 0, 0, 0, 0);
        return;
    }
    // SAFETY: no arguments.
    unsafe { real::sync()() }
}
