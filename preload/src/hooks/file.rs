//! Regular files: the positioned read/write family and the fsync family of green threads go
//! through green_rt::file (page cache first, the offload pool when the call would wait for the
//! device); other fds and callers that are not green take the real call. open/openat of a FIFO,
//! which waits for the other end, runs on the pool (green_rt::fifo), and so does fopen of one
//! (glibc's fopen opens through an internal call our open hook never sees).

use core::ffi::{c_char, c_int, c_uint, c_void};

use green_rt::fd::{self, Kind};
use green_rt::{fifo, file, hub, thread};

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

/// The fortified pread: glibc's size check, then pread.
#[no_mangle]
pub unsafe extern "C-unwind" fn __pread_chk(fd: c_int, buf: *mut c_void, n: usize, offset: libc::off_t, buflen: usize) -> isize {
    if n > buflen || hub::current().is_none() {
        // SAFETY: forwarded unchanged (glibc reports the overflow).
        return unsafe { real::__pread_chk()(fd, buf, n, offset, buflen) };
    }
    // SAFETY: same contract as pread.
    unsafe { pread(fd, buf, n, offset) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn __pread64_chk(fd: c_int, buf: *mut c_void, n: usize, offset: libc::off_t, buflen: usize) -> isize {
    // SAFETY: the same function on x86-64 (off_t is 64-bit).
    unsafe { __pread_chk(fd, buf, n, offset, buflen) }
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

/// Whether a preadv2/pwritev2 at the file position (`offset` -1) of a green caller reads or writes
/// a pipe or socket the way readv/writev does, cooperatively: not when it asked for RWF_NOWAIT
/// itself (it cannot wait then), and on a socket only without flags (they mean nothing there).
fn green_stream(fd: c_int, offset: libc::off_t, iovcnt: c_int, flags: c_int) -> Option<Kind> {
    if offset != -1 || iovcnt < 0 || flags & libc::RWF_NOWAIT != 0 || hub::current().is_none() {
        return None;
    }
    match fd::kind(fd) {
        Kind::Pipe => Some(Kind::Pipe),
        Kind::Socket if flags == 0 => Some(Kind::Socket),
        _ => None,
    }
}

/// preadv2: offset -1 means the file position, as for the kernel.
#[no_mangle]
pub unsafe extern "C-unwind" fn preadv2(fd: c_int, iov: *const libc::iovec, n: c_int, offset: libc::off_t, flags: c_int) -> isize {
    if green_file(fd, offset.max(0), n) && offset >= -1 {
        return ret(file::read(fd, iov, n as usize, offset, flags));
    }
    match green_stream(fd, offset, n, flags) {
        Some(Kind::Pipe) => return ret(fd::readv_pipe(fd, iov, n as usize, flags)),
        // SAFETY: the caller's vector, as readv takes it.
        Some(_) => return unsafe { super::io::readv(fd, iov, n) },
        None => {}
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
    match green_stream(fd, offset, n, flags) {
        Some(Kind::Pipe) => return ret(fd::writev_pipe(fd, iov, n as usize, flags)),
        // SAFETY: the caller's vector, as writev takes it.
        Some(_) => return unsafe { super::io::writev(fd, iov, n) },
        None => {}
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

/// A green thread's open of a FIFO on the pool; None: make the real call.
fn green_open(dirfd: c_int, path: *const c_char, flags: c_int, mode: c_uint) -> Option<c_int> {
    if hub::current().is_none() {
        return None;
    }
    fifo::openat(dirfd, path, flags, mode).map(|r| ret(r) as c_int)
}

/// open is variadic; its mode argument (read only with O_CREAT/O_TMPFILE) travels in the same
/// register as a fixed third argument on x86-64, so a fixed-arity stand-in forwards it intact.
#[no_mangle]
pub unsafe extern "C-unwind" fn open(path: *const c_char, flags: c_int, mode: c_uint) -> c_int {
    if let Some(r) = green_open(libc::AT_FDCWD, path, flags, mode) {
        return r;
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::open()(path, flags, mode) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn open64(path: *const c_char, flags: c_int, mode: c_uint) -> c_int {
    // SAFETY: the same function on x86-64.
    unsafe { open(path, flags, mode) }
}

/// openat is variadic like open (mode in the fourth register).
#[no_mangle]
pub unsafe extern "C-unwind" fn openat(dirfd: c_int, path: *const c_char, flags: c_int, mode: c_uint) -> c_int {
    if let Some(r) = green_open(dirfd, path, flags, mode) {
        return r;
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::openat()(dirfd, path, flags, mode) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn openat64(dirfd: c_int, path: *const c_char, flags: c_int, mode: c_uint) -> c_int {
    // SAFETY: the same function on x86-64.
    unsafe { openat(dirfd, path, flags, mode) }
}

/// The fortified open (`_FORTIFY_SOURCE` with flags unknown at compile time; no O_CREAT).
#[no_mangle]
pub unsafe extern "C-unwind" fn __open_2(path: *const c_char, flags: c_int) -> c_int {
    if let Some(r) = green_open(libc::AT_FDCWD, path, flags, 0) {
        return r;
    }
    // SAFETY: forwarded unchanged (glibc checks the flags).
    unsafe { real::__open_2()(path, flags) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn __open64_2(path: *const c_char, flags: c_int) -> c_int {
    // SAFETY: the same function on x86-64.
    unsafe { __open_2(path, flags) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn __openat_2(dirfd: c_int, path: *const c_char, flags: c_int) -> c_int {
    if let Some(r) = green_open(dirfd, path, flags, 0) {
        return r;
    }
    // SAFETY: forwarded unchanged (glibc checks the flags).
    unsafe { real::__openat_2()(dirfd, path, flags) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn __openat64_2(dirfd: c_int, path: *const c_char, flags: c_int) -> c_int {
    // SAFETY: the same function on x86-64.
    unsafe { __openat_2(dirfd, path, flags) }
}

/// The open flags of an fopen mode, as glibc's fopen reads it ('r', 'w' or 'a', then '+', 'x',
/// 'e'; 'b', 'm' and 'c' change nothing for a FIFO). None for what glibc's fopen should answer
/// itself: a bad mode (EINVAL), or a ",ccs=" conversion, which only fopen sets up.
fn fopen_flags(mode: &[u8]) -> Option<c_int> {
    let mut flags = match mode.first()? {
        b'r' => libc::O_RDONLY,
        b'w' => libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
        b'a' => libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND,
        _ => return None,
    };
    for &c in mode[1..].iter().take(6) {
        match c {
            b'+' => flags = (flags & !libc::O_ACCMODE) | libc::O_RDWR,
            b'x' => flags |= libc::O_EXCL,
            b'e' => flags |= libc::O_CLOEXEC,
            b',' => return None,
            _ => {}
        }
    }
    Some(flags)
}

/// A green thread's fopen of a FIFO that waits for its other end: opened on the pool, then
/// wrapped by fdopen with the same mode. Anything else is glibc's fopen.
#[no_mangle]
pub unsafe extern "C-unwind" fn fopen(path: *const c_char, mode: *const c_char) -> *mut libc::FILE {
    if hub::current().is_some() && !mode.is_null() {
        // SAFETY: a non-null mode is a NUL-terminated string (fopen's contract).
        let m = unsafe { core::ffi::CStr::from_ptr(mode) }.to_bytes();
        if let Some(r) = fopen_flags(m).and_then(|flags| fifo::openat(libc::AT_FDCWD, path, flags, 0o666)) {
            if r < 0 {
                crate::set_errno(-r as c_int);
                return core::ptr::null_mut();
            }
            // SAFETY: a fresh fd of ours and the caller's mode string.
            let fp = unsafe { libc::fdopen(r as c_int, mode) };
            if fp.is_null() {
                // SAFETY: __errno_location is the calling thread's errno slot.
                let e = unsafe { *libc::__errno_location() };
                // SAFETY: the fd opened above, not handed out; our close keeps the fd table true.
                unsafe { super::io::close(r as c_int) };
                crate::set_errno(e);
            }
            return fp;
        }
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::fopen()(path, mode) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn fopen64(path: *const c_char, mode: *const c_char) -> *mut libc::FILE {
    // SAFETY: the same function on x86-64.
    unsafe { fopen(path, mode) }
}
