//! Cooperative I/O for green threads, first step: read/write (and recv/send) on pipes, FIFOs
//! and sockets park the caller until the fd is ready instead of blocking the hub (green_rt::fd
//! has the policy); everything else, and every caller that is not green, takes the real call.
//! close/dup2/dup3/fcntl(F_SETFL)/ioctl(FIONBIO) keep the fd table true. A green thread's
//! pass-through read/write/readv/writev (files, ttys) is marked for the watchdog while it runs.

use core::ffi::{c_int, c_uint, c_ulong, c_void};
use core::ptr::{null, null_mut};

use green_rt::fd::{self, Kind};
use green_rt::{file, filelock};
use green_rt::{hub, sys};
use green_rt::watchdog::{Call, InCall};

use crate::{real, set_errno};

/// Runs a green wait with `mask` (if given) as the thread's signal mask, restored after
/// (green_rt::sigmask::wait_with): a signal the mask lets in wakes the wait, its handler runs,
/// and the call fails with EINTR.
fn with_mask(t: &'static green_rt::task::Task, mask: *const libc::sigset_t, wait: impl FnOnce() -> isize) -> isize {
    // SAFETY: mask is null or a sigset_t (contract).
    match unsafe { green_rt::sigmask::read_set(mask) } {
        Some(m) => green_rt::sigmask::wait_with(t, m, wait),
        None => wait(),
    }
}

/// Maps a raw syscall result (-errno) to the libc convention.
pub(crate) fn ret(r: isize) -> isize {
    if r < 0 {
        set_errno((-r) as c_int);
        -1
    } else {
        r
    }
}

/// A green thread parked in a socket read keeps every frame between the program's call and the
/// switch on its stack, and touches each of their cache lines again when it resumes: with
/// thousands of threads those lines are cache misses (bench/NOTES.md). So the hooks of the hot
/// socket calls take a known socket first, with nothing to keep across the call (no frame of
/// their own), and leave every other case to an out-of-line twin.
#[no_mangle]
pub unsafe extern "C-unwind" fn read(fd: c_int, buf: *mut c_void, n: usize) -> isize {
    if hub::current().is_some() && fd::known_socket(fd) {
        return ret(fd::recv_socket(fd, buf as *mut u8, n, 0, null_mut(), null_mut()));
    }
    // SAFETY: same contract.
    unsafe { read_any(fd, buf, n) }
}

/// `read` for every fd, classifying it first.
#[inline(never)]
unsafe fn read_any(fd: c_int, buf: *mut c_void, n: usize) -> isize {
    if let Some(t) = hub::current() {
        match fd::kind(fd) {
            Kind::Pipe => return ret(fd::read_pipe(fd, buf as *mut u8, n)),
            Kind::Tty if fd::tty_read_waits(fd) => return ret(fd::read_pipe(fd, buf as *mut u8, n)),
            Kind::Socket => return ret(fd::recv_socket(fd, buf as *mut u8, n, 0, null_mut(), null_mut())),
            Kind::File => return ret(file::read(fd, &libc::iovec { iov_base: buf, iov_len: n }, 1, -1, 0)),
            Kind::Pass | Kind::Tty => {
                let _in_call = InCall::enter(t, Call::Read, fd as i64);
                // SAFETY: forwarded unchanged.
                return unsafe { real::read()(fd, buf, n) };
            }
        }
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::read()(fd, buf, n) }
}

/// The fortified read (`_FORTIFY_SOURCE`): same, after glibc's buffer-size check.
#[no_mangle]
pub unsafe extern "C-unwind" fn __read_chk(fd: c_int, buf: *mut c_void, n: usize, buflen: usize) -> isize {
    if n > buflen || hub::current().is_none() {
        // SAFETY: forwarded unchanged (glibc reports the overflow).
        return unsafe { real::__read_chk()(fd, buf, n, buflen) };
    }
    // SAFETY: same contract as read.
    unsafe { read(fd, buf, n) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn write(fd: c_int, buf: *const c_void, n: usize) -> isize {
    if hub::current().is_some() && fd::known_socket(fd) {
        return ret(fd::send_socket(fd, buf as *const u8, n, 0, null(), 0));
    }
    // SAFETY: same contract.
    unsafe { write_any(fd, buf, n) }
}

/// `write` for every fd, classifying it first (see `read`).
#[inline(never)]
unsafe fn write_any(fd: c_int, buf: *const c_void, n: usize) -> isize {
    if let Some(t) = hub::current() {
        match fd::kind(fd) {
            Kind::Pipe => return ret(fd::write_pipe(fd, buf as *const u8, n)),
            Kind::Socket => return ret(fd::send_socket(fd, buf as *const u8, n, 0, null(), 0)),
            Kind::File => return ret(file::write(fd, &libc::iovec { iov_base: buf as *mut c_void, iov_len: n }, 1, -1, 0)),
            Kind::Pass | Kind::Tty => {
                let _in_call = InCall::enter(t, Call::Write, fd as i64);
                // SAFETY: forwarded unchanged.
                return unsafe { real::write()(fd, buf, n) };
            }
        }
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::write()(fd, buf, n) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn recv(fd: c_int, buf: *mut c_void, n: usize, flags: c_int) -> isize {
    if hub::current().is_some() && fd::kind(fd) == Kind::Socket {
        return ret(fd::recv_socket(fd, buf as *mut u8, n, flags, null_mut(), null_mut()));
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::recv()(fd, buf, n, flags) }
}

/// The fortified recv (`_FORTIFY_SOURCE`, a length not known at compile time): glibc's size
/// check, then recv (glibc's own calls its internal recv, out of our reach).
#[no_mangle]
pub unsafe extern "C-unwind" fn __recv_chk(fd: c_int, buf: *mut c_void, n: usize, buflen: usize, flags: c_int) -> isize {
    if n > buflen || hub::current().is_none() {
        // SAFETY: forwarded unchanged (glibc reports the overflow).
        return unsafe { real::__recv_chk()(fd, buf, n, buflen, flags) };
    }
    // SAFETY: same contract as recv.
    unsafe { recv(fd, buf, n, flags) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn send(fd: c_int, buf: *const c_void, n: usize, flags: c_int) -> isize {
    if hub::current().is_some() && fd::kind(fd) == Kind::Socket {
        return ret(fd::send_socket(fd, buf as *const u8, n, flags, null(), 0));
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::send()(fd, buf, n, flags) }
}

#[no_mangle]
pub unsafe extern "C" fn close(fd: c_int) -> c_int {
    if not_open(fd) {
        return -1;
    }
    fd::forget(fd);
    // SAFETY: forwarded unchanged.
    unsafe { real::close()(fd) }
}

/// The program's fds from `first` to `last`: at most three ranges around the runtime's own fds
/// (hub::own_fds, ascending), which natively are not open.
fn program_ranges(first: u32, last: u32) -> ([(u32, u32); 3], usize) {
    let mut out = [(0, 0); 3];
    let mut n = 0;
    let mut from = first as u64;
    for own in hub::own_fds() {
        let Ok(own) = u64::try_from(own) else { continue };
        if own < from || own > last as u64 {
            continue;
        }
        if own > from {
            out[n] = (from as u32, (own - 1) as u32);
            n += 1;
        }
        from = own + 1;
    }
    if from <= last as u64 {
        out[n] = (from as u32, last);
        n += 1;
    }
    (out, n)
}

/// close_range: the program's fds in the range, never the runtime's own.
#[no_mangle]
pub unsafe extern "C" fn close_range(first: c_uint, last: c_uint, flags: c_int) -> c_int {
    if flags & CLOSE_RANGE_CLOEXEC != 0 {
        // SAFETY: forwarded unchanged (marking our fds close-on-exec changes nothing: they are).
        return unsafe { real::close_range()(first, last, flags) };
    }
    fd::forget_range(first, last);
    let mut result = 0;
    let (ranges, n) = program_ranges(first, last);
    for &(a, b) in &ranges[..n] {
        // SAFETY: the program's own range, split around ours.
        if unsafe { real::close_range()(a, b, flags) } != 0 {
            result = -1; // errno set by glibc
        }
    }
    result
}

/// closefrom: the program's fds from `low` up, never the runtime's own.
#[no_mangle]
pub unsafe extern "C" fn closefrom(low: c_int) {
    let low = low.max(0) as u32;
    fd::forget_range(low, u32::MAX);
    let (ranges, n) = program_ranges(low, u32::MAX);
    for &(a, b) in &ranges[..n] {
        if b == u32::MAX {
            // SAFETY: the program's own fds from `a` up (glibc falls back to /proc/self/fd).
            unsafe { real::closefrom()(a as c_int) };
        // SAFETY: a bounded range below one of ours.
        } else if unsafe { real::close_range()(a, b, 0) } != 0 {
            for fd in a..=b {
                // SAFETY: closing the program's fd (EBADF for one that is not open).
                unsafe { sys::syscall3(libc::SYS_close, fd as usize, 0, 0) };
            }
        }
    }
}

/// CLOSE_RANGE_CLOEXEC (linux/close_range.h).
const CLOSE_RANGE_CLOEXEC: c_int = 4;

/// EBADF for one of the runtime's own fds, which natively are not open.
fn not_open(fd: c_int) -> bool {
    if hub::is_own_fd(fd) {
        set_errno(libc::EBADF);
        return true;
    }
    false
}

/// dup2/dup3 onto one of the runtime's fds moves the runtime's away first (natively that number
/// is free); -1 (errno set) if it cannot move.
fn make_room(new: c_int) -> bool {
    let r = hub::vacate(new);
    if r < 0 {
        set_errno(-r as c_int);
        return false;
    }
    true
}

#[no_mangle]
pub unsafe extern "C" fn dup(old: c_int) -> c_int {
    if not_open(old) {
        return -1;
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::dup()(old) }
}

#[no_mangle]
pub unsafe extern "C" fn dup2(old: c_int, new: c_int) -> c_int {
    if not_open(old) || !make_room(new) {
        return -1;
    }
    if old != new {
        fd::forget(new);
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::dup2()(old, new) }
}

#[no_mangle]
pub unsafe extern "C" fn dup3(old: c_int, new: c_int, flags: c_int) -> c_int {
    // old == new: EINVAL, from the kernel.
    if old != new && (not_open(old) || !make_room(new)) {
        return -1;
    }
    fd::forget(new);
    // SAFETY: forwarded unchanged.
    unsafe { real::dup3()(old, new, flags) }
}

/// fcntl is variadic; its one optional argument is an int or a pointer, passed in the same
/// register as a fixed third argument on x86-64, so a fixed-arity stand-in forwards it intact.
#[no_mangle]
pub unsafe extern "C" fn fcntl(fd: c_int, cmd: c_int, arg: usize) -> c_int {
    if not_open(fd) {
        return -1;
    }
    if cmd == libc::F_SETFL {
        fd::forget(fd);
    }
    if filelock::waits(cmd) {
        return ret(filelock::fcntl_wait(fd, cmd, arg as *mut libc::flock)) as c_int;
    }
    // SAFETY: forwarded unchanged.
    let r = unsafe { real::fcntl()(fd, cmd, arg) };
    if r >= 0 && (cmd == libc::F_DUPFD || cmd == libc::F_DUPFD_CLOEXEC) {
        return native_dup_number(r, arg as c_int, cmd == libc::F_DUPFD_CLOEXEC);
    }
    r
}

/// F_DUPFD gave `got`, the lowest free number at or above `min`; natively the runtime's own fds
/// are free, so if one lies between, that is the native answer: the runtime's fd moves out of
/// the way and the duplicate takes its number (else `got` stays).
fn native_dup_number(got: c_int, min: c_int, cloexec: bool) -> c_int {
    for own in hub::own_fds() {
        if own < min.max(0) || own >= got || hub::vacate(own) < 0 {
            continue;
        }
        let flags = if cloexec { libc::O_CLOEXEC } else { 0 };
        // SAFETY: `own` is free of the runtime's fd now; `got` is the program's new duplicate.
        if unsafe { real::dup3()(got, own, flags) } == own {
            // SAFETY: closing the duplicate we just moved.
            unsafe { sys::syscall3(libc::SYS_close, got as usize, 0, 0) };
            return own;
        }
    }
    got
}

/// glibc ≥ 2.28 binaries may call fcntl64 (the same function on x86-64).
#[no_mangle]
pub unsafe extern "C" fn fcntl64(fd: c_int, cmd: c_int, arg: usize) -> c_int {
    // SAFETY: same contract as fcntl.
    unsafe { fcntl(fd, cmd, arg) }
}

/// flock: a green thread's wait for a held lock runs on an offload worker (green_rt::filelock).
#[no_mangle]
pub extern "C" fn flock(fd: c_int, op: c_int) -> c_int {
    ret(filelock::flock(fd, op)) as c_int
}

/// lockf: F_LOCK waits like fcntl's F_SETLKW (glibc's makes that call internally); the other
/// commands are glibc's.
#[no_mangle]
pub unsafe extern "C" fn lockf(fd: c_int, cmd: c_int, len: libc::off_t) -> c_int {
    if cmd == libc::F_LOCK {
        return ret(filelock::lockf_lock(fd, len)) as c_int;
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::lockf()(fd, cmd, len) }
}

/// lockf64 is lockf on x86-64.
#[no_mangle]
pub unsafe extern "C" fn lockf64(fd: c_int, cmd: c_int, len: libc::off_t) -> c_int {
    // SAFETY: same contract as lockf.
    unsafe { lockf(fd, cmd, len) }
}

/// ioctl is variadic like fcntl (see there); FIONBIO changes O_NONBLOCK.
#[no_mangle]
pub unsafe extern "C" fn ioctl(fd: c_int, request: c_ulong, arg: usize) -> c_int {
    if request == libc::FIONBIO {
        fd::forget(fd);
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::ioctl()(fd, request, arg) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn accept(fd: c_int, addr: *mut libc::sockaddr, len: *mut libc::socklen_t) -> c_int {
    // SAFETY: same contract as accept4 with no flags.
    unsafe { accept4(fd, addr, len, 0) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn accept4(fd: c_int, addr: *mut libc::sockaddr, len: *mut libc::socklen_t, flags: c_int) -> c_int {
    if hub::current().is_some() && fd::kind(fd) == Kind::Socket {
        return ret(fd::accept_socket(fd, addr, len, flags)) as c_int;
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::accept4()(fd, addr, len, flags) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn connect(fd: c_int, addr: *const libc::sockaddr, len: libc::socklen_t) -> c_int {
    if hub::current().is_some() && fd::kind(fd) == Kind::Socket {
        return ret(fd::connect_socket(fd, addr, len)) as c_int;
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::connect()(fd, addr, len) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn poll(fds: *mut libc::pollfd, n: libc::nfds_t, timeout_ms: c_int) -> c_int {
    if hub::current().is_some() && timeout_ms != 0 {
        return ret(fd::poll_green(fds, n, fd::deadline_after_ms(timeout_ms))) as c_int;
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::poll()(fds, n, timeout_ms) }
}

/// The fortified poll: glibc's check that `fdslen` bytes hold `n` pollfds, then poll.
#[no_mangle]
pub unsafe extern "C-unwind" fn __poll_chk(fds: *mut libc::pollfd, n: libc::nfds_t, timeout_ms: c_int, fdslen: usize) -> c_int {
    if fdslen / core::mem::size_of::<libc::pollfd>() < n as usize || hub::current().is_none() {
        // SAFETY: forwarded unchanged (glibc reports the overflow).
        return unsafe { real::__poll_chk()(fds, n, timeout_ms, fdslen) };
    }
    // SAFETY: same contract as poll.
    unsafe { poll(fds, n, timeout_ms) }
}

/// A relative timespec timeout (null: none) as a CLOCK_MONOTONIC deadline; Err(-EINVAL) for a
/// negative or malformed one, as the kernel answers.
///
/// # Safety
/// `ts` is null or points to a timespec.
pub(crate) unsafe fn timeout_deadline(ts: *const libc::timespec) -> Result<Option<u64>, isize> {
    if ts.is_null() {
        return Ok(None);
    }
    // SAFETY: non-null ts points to a timespec (contract).
    let t = unsafe { &*ts };
    if !green_rt::sys::timespec_valid(t) || t.tv_sec < 0 {
        return Err(-(libc::EINVAL as isize));
    }
    Ok(Some(green_rt::sys::now_ns() + green_rt::sys::timespec_ns(t)))
}

#[no_mangle]
pub unsafe extern "C-unwind" fn ppoll(fds: *mut libc::pollfd, n: libc::nfds_t, ts: *const libc::timespec, mask: *const libc::sigset_t) -> c_int {
    if let Some(t) = hub::current() {
        // SAFETY: ts is null or points to a timespec (ppoll's contract).
        return match unsafe { timeout_deadline(ts) } {
            Ok(deadline) => ret(with_mask(t, mask, || fd::poll_green(fds, n, deadline))) as c_int,
            Err(e) => ret(e) as c_int,
        };
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::ppoll()(fds, n, ts, mask) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn epoll_wait(epfd: c_int, events: *mut libc::epoll_event, max: c_int, timeout_ms: c_int) -> c_int {
    if hub::current().is_some() && timeout_ms != 0 && max > 0 {
        return ret(fd::epoll_wait_green(epfd, events, max, fd::deadline_after_ms(timeout_ms))) as c_int;
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::epoll_wait()(epfd, events, max, timeout_ms) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn epoll_pwait(epfd: c_int, events: *mut libc::epoll_event, max: c_int, timeout_ms: c_int, mask: *const libc::sigset_t) -> c_int {
    if let Some(t) = hub::current().filter(|_| timeout_ms != 0 && max > 0) {
        return ret(with_mask(t, mask, || fd::epoll_wait_green(epfd, events, max, fd::deadline_after_ms(timeout_ms)))) as c_int;
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::epoll_pwait()(epfd, events, max, timeout_ms, mask) }
}

/// epoll_pwait2: epoll_pwait with a timespec (null: forever).
#[no_mangle]
pub unsafe extern "C-unwind" fn epoll_pwait2(epfd: c_int, events: *mut libc::epoll_event, max: c_int, ts: *const libc::timespec, mask: *const libc::sigset_t) -> c_int {
    // SAFETY: a non-null ts points to a timespec.
    let zero = !ts.is_null() && unsafe { (*ts).tv_sec == 0 && (*ts).tv_nsec == 0 };
    if let Some(t) = hub::current().filter(|_| !zero && max > 0) {
        // SAFETY: as above.
        return match unsafe { timeout_deadline(ts) } {
            Ok(deadline) => ret(with_mask(t, mask, || fd::epoll_wait_green(epfd, events, max, deadline))) as c_int,
            Err(e) => ret(e) as c_int,
        };
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::epoll_pwait2()(epfd, events, max, ts, mask) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn recvmmsg(fd: c_int, vec: *mut libc::mmsghdr, vlen: c_uint, flags: c_int, timeout: *mut libc::timespec) -> c_int {
    if hub::current().is_some() && fd::kind(fd) == Kind::Socket {
        return ret(green_rt::mmsg::recvmmsg(fd, vec, vlen, flags, timeout)) as c_int;
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::recvmmsg()(fd, vec, vlen, flags, timeout) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn sendmmsg(fd: c_int, vec: *mut libc::mmsghdr, vlen: c_uint, flags: c_int) -> c_int {
    if hub::current().is_some() && fd::kind(fd) == Kind::Socket {
        return ret(green_rt::mmsg::sendmmsg(fd, vec, vlen, flags)) as c_int;
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::sendmmsg()(fd, vec, vlen, flags) }
}

/// The fortified ppoll: the same check as `__poll_chk`, then ppoll.
#[no_mangle]
pub unsafe extern "C-unwind" fn __ppoll_chk(fds: *mut libc::pollfd, n: libc::nfds_t, ts: *const libc::timespec, mask: *const libc::sigset_t, fdslen: usize) -> c_int {
    if fdslen / core::mem::size_of::<libc::pollfd>() < n as usize || hub::current().is_none() {
        // SAFETY: forwarded unchanged (glibc reports the overflow).
        return unsafe { real::__ppoll_chk()(fds, n, ts, mask, fdslen) };
    }
    // SAFETY: same contract as ppoll.
    unsafe { ppoll(fds, n, ts, mask) }
}

/// The fortified recvfrom: glibc's size check, then recvfrom.
#[no_mangle]
pub unsafe extern "C-unwind" fn __recvfrom_chk(
    fd: c_int,
    buf: *mut c_void,
    n: usize,
    buflen: usize,
    flags: c_int,
    addr: *mut libc::sockaddr,
    alen: *mut libc::socklen_t,
) -> isize {
    if n > buflen || hub::current().is_none() {
        // SAFETY: forwarded unchanged (glibc reports the overflow).
        return unsafe { real::__recvfrom_chk()(fd, buf, n, buflen, flags, addr, alen) };
    }
    // SAFETY: same contract as recvfrom.
    unsafe { recvfrom(fd, buf, n, flags, addr, alen) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn recvfrom(
    fd: c_int,
    buf: *mut c_void,
    n: usize,
    flags: c_int,
    addr: *mut libc::sockaddr,
    alen: *mut libc::socklen_t,
) -> isize {
    if hub::current().is_some() && fd::kind(fd) == Kind::Socket {
        return ret(fd::recv_socket(fd, buf as *mut u8, n, flags, addr, alen));
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::recvfrom()(fd, buf, n, flags, addr, alen) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn sendto(fd: c_int, buf: *const c_void, n: usize, flags: c_int, addr: *const libc::sockaddr, alen: libc::socklen_t) -> isize {
    if hub::current().is_some() && fd::kind(fd) == Kind::Socket {
        return ret(fd::send_socket(fd, buf as *const u8, n, flags, addr, alen));
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::sendto()(fd, buf, n, flags, addr, alen) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn recvmsg(fd: c_int, msg: *mut libc::msghdr, flags: c_int) -> isize {
    if hub::current().is_some() && fd::kind(fd) == Kind::Socket {
        return ret(fd::recvmsg_socket(fd, msg, flags));
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::recvmsg()(fd, msg, flags) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn sendmsg(fd: c_int, msg: *const libc::msghdr, flags: c_int) -> isize {
    if hub::current().is_some() && fd::kind(fd) == Kind::Socket {
        return ret(fd::sendmsg_socket(fd, msg, flags));
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::sendmsg()(fd, msg, flags) }
}

/// readv on a socket is recvmsg with the same vector; on a pipe, preadv2 with RWF_NOWAIT or a
/// readiness wait first (green_rt::fd::readv_pipe); on a terminal, a readiness wait first.
#[no_mangle]
pub unsafe extern "C-unwind" fn readv(fd: c_int, iov: *const libc::iovec, n: c_int) -> isize {
    if let Some(t) = hub::current() {
        // On a terminal the read is made holding its read turn (src/turn.rs).
        let _turn = match fd::kind(fd) {
            Kind::Socket => {
                // SAFETY: zeroed msghdr with the caller's vector; recvmsg only reads the iovecs.
                let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
                msg.msg_iov = iov as *mut libc::iovec;
                msg.msg_iovlen = n.max(0) as usize;
                return ret(fd::recvmsg_socket(fd, &mut msg, 0));
            }
            Kind::Pipe if n >= 0 => return ret(fd::readv_pipe(fd, iov, n as usize, 0)),
            Kind::Tty if !fd::tty_read_waits(fd) => None,
            Kind::Pipe | Kind::Tty => match fd::wait_ready(fd, fd::Dir::Read) {
                Ok(turn) => Some(turn),
                Err(e) => return ret(e),
            },
            Kind::File if n >= 0 => return ret(file::read(fd, iov, n as usize, -1, 0)),
            Kind::Pass | Kind::File => None,
        };
        let _in_call = InCall::enter(t, Call::Readv, fd as i64);
        // SAFETY: forwarded unchanged.
        return unsafe { real::readv()(fd, iov, n) };
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::readv()(fd, iov, n) }
}

/// writev on a socket sends the whole vector with sendmsg, as a blocking writev does; on a pipe,
/// until all is written (green_rt::fd::writev_pipe).
#[no_mangle]
pub unsafe extern "C-unwind" fn writev(fd: c_int, iov: *const libc::iovec, n: c_int) -> isize {
    if let Some(t) = hub::current() {
        match fd::kind(fd) {
            Kind::Socket => return ret(fd::writev_socket(fd, iov, n.max(0) as usize)),
            Kind::Pipe if n >= 0 => return ret(fd::writev_pipe(fd, iov, n as usize, 0)),
            Kind::File if n >= 0 => return ret(file::write(fd, iov, n as usize, -1, 0)),
            Kind::Pass | Kind::File | Kind::Pipe | Kind::Tty => {}
        }
        let _in_call = InCall::enter(t, Call::Writev, fd as i64);
        // SAFETY: forwarded unchanged.
        return unsafe { real::writev()(fd, iov, n) };
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::writev()(fd, iov, n) }
}

/// select: with a timeout, a cooperative wait (green_rt::fd::select_green); Linux writes the
/// time left back into the timeval.
#[no_mangle]
pub unsafe extern "C-unwind" fn select(nfds: c_int, r: *mut libc::fd_set, w: *mut libc::fd_set, e: *mut libc::fd_set, tv: *mut libc::timeval) -> c_int {
    let zero = !tv.is_null() && {
        // SAFETY: non-null tv points to a timeval.
        let t = unsafe { &*tv };
        t.tv_sec == 0 && t.tv_usec == 0
    };
    if hub::current().is_none() || zero {
        // SAFETY: forwarded unchanged.
        return unsafe { real::select()(nfds, r, w, e, tv) };
    }
    let deadline = if tv.is_null() {
        None
    } else {
        // SAFETY: non-null tv points to a timeval.
        let t = unsafe { &*tv };
        if t.tv_sec < 0 || t.tv_usec < 0 || t.tv_usec >= 1_000_000 {
            set_errno(libc::EINVAL);
            return -1;
        }
        Some(green_rt::sys::now_ns() + t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1000)
    };
    let res = fd::select_green(nfds, r, w, e, deadline);
    if let Some(d) = deadline {
        let left = d.saturating_sub(green_rt::sys::now_ns());
        // SAFETY: non-null tv (deadline came from it).
        unsafe { *tv = libc::timeval { tv_sec: (left / 1_000_000_000) as i64, tv_usec: ((left % 1_000_000_000) / 1000) as i64 } };
    }
    ret(res) as c_int
}

/// pselect: as select with a timespec (not updated), with its signal mask for the wait.
#[no_mangle]
pub unsafe extern "C-unwind" fn pselect(
    nfds: c_int,
    r: *mut libc::fd_set,
    w: *mut libc::fd_set,
    e: *mut libc::fd_set,
    ts: *const libc::timespec,
    mask: *const libc::sigset_t,
) -> c_int {
    let zero = !ts.is_null() && {
        // SAFETY: non-null ts points to a timespec.
        let t = unsafe { &*ts };
        t.tv_sec == 0 && t.tv_nsec == 0
    };
    let Some(t) = hub::current().filter(|_| !zero) else {
        // SAFETY: forwarded unchanged.
        return unsafe { real::pselect()(nfds, r, w, e, ts, mask) };
    };
    // SAFETY: ts is null or points to a timespec (pselect's contract).
    match unsafe { timeout_deadline(ts) } {
        Ok(deadline) => ret(with_mask(t, mask, || fd::select_green(nfds, r, w, e, deadline))) as c_int,
        Err(e) => ret(e) as c_int,
    }
}

/// setsockopt: a new SO_RCVTIMEO/SO_SNDTIMEO re-classifies the socket so its waits honour it.
#[no_mangle]
pub unsafe extern "C" fn setsockopt(fd: c_int, level: c_int, name: c_int, val: *const c_void, len: libc::socklen_t) -> c_int {
    // SAFETY: forwarded unchanged.
    let r = unsafe { real::setsockopt()(fd, level, name, val, len) };
    // The _NEW names (64-bit time) of asm-generic/socket.h, which libc does not export.
    const SO_RCVTIMEO_NEW: c_int = 66;
    const SO_SNDTIMEO_NEW: c_int = 67;
    if r == 0 && level == libc::SOL_SOCKET && matches!(name, libc::SO_RCVTIMEO | libc::SO_SNDTIMEO | SO_RCVTIMEO_NEW | SO_SNDTIMEO_NEW) {
        fd::forget(fd);
    }
    r
}

/// Whether a sendfile/splice side makes the call wait (a pipe or a socket that is not
/// user-non-blocking).
fn waits(fd: c_int) -> bool {
    matches!(fd::kind(fd), Kind::Pipe | Kind::Socket)
}

/// sendfile into a pipe or socket: green_rt::splice (the socket's room, or splice for a pipe).
#[no_mangle]
pub unsafe extern "C-unwind" fn sendfile(out: c_int, in_fd: c_int, offset: *mut libc::off_t, count: usize) -> isize {
    if hub::current().is_some() && count > 0 && waits(out) {
        return ret(green_rt::splice::sendfile(out, in_fd, offset, count));
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::sendfile()(out, in_fd, offset, count) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn sendfile64(out: c_int, in_fd: c_int, offset: *mut libc::off_t, count: usize) -> isize {
    // SAFETY: the same function on x86-64.
    unsafe { sendfile(out, in_fd, offset, count) }
}

/// splice with a pipe or socket side that could wait (unless the caller asked SPLICE_F_NONBLOCK).
#[no_mangle]
pub unsafe extern "C-unwind" fn splice(
    fd_in: c_int,
    off_in: *mut libc::loff_t,
    fd_out: c_int,
    off_out: *mut libc::loff_t,
    len: usize,
    flags: c_uint,
) -> isize {
    if hub::current().is_some() && len > 0 && flags & libc::SPLICE_F_NONBLOCK == 0 && (waits(fd_in) || waits(fd_out)) {
        return ret(green_rt::splice::splice(fd_in, off_in, fd_out, off_out, len, flags));
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::splice()(fd_in, off_in, fd_out, off_out, len, flags) }
}
