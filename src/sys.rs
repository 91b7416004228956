//! Raw Linux syscalls and clocks for the runtime's own use.
//!
//! Invariant: the runtime never calls a libc symbol that libgreen.so interposes (the preload is
//! first in the lookup scope, so `write`, `syscall`, `nanosleep`, `epoll_wait`… would bind to our
//! own hooks and could try to park the hub). Everything the runtime needs from the kernel goes
//! through the inline-asm `syscall` instruction here. `clock_gettime` is not interposed and is
//! served by the vDSO, so it is used directly.

use core::arch::asm;

/// One raw syscall with up to six arguments. Returns the kernel's value: `-errno` on failure.
///
/// # Safety
/// The caller passes arguments valid for syscall `nr` (pointers to live memory of the right size).
#[inline(always)]
pub unsafe fn syscall6(nr: i64, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize, a6: usize) -> isize {
    let ret: isize;
    // SAFETY: the x86-64 syscall ABI: nr in rax, args in rdi rsi rdx r10 r8 r9; rcx/r11 clobbered.
    unsafe {
        asm!("syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a1, in("rsi") a2, in("rdx") a3, in("r10") a4, in("r8") a5, in("r9") a6,
            lateout("rcx") _, lateout("r11") _,
            options(nostack));
    }
    ret
}

/// # Safety
/// As [`syscall6`].
#[inline(always)]
pub unsafe fn syscall3(nr: i64, a1: usize, a2: usize, a3: usize) -> isize {
    // SAFETY: forwarded contract.
    unsafe { syscall6(nr, a1, a2, a3, 0, 0, 0) }
}

/// Reads up to `buf.len()` bytes of a small file (a /proc entry) with raw syscalls (no hook,
/// no allocation): the bytes read, None if it cannot be opened or read.
pub fn read_small_file<'a>(path: &core::ffi::CStr, buf: &'a mut [u8]) -> Option<&'a [u8]> {
    // SAFETY: NUL-terminated path and a live buffer whose length is passed; the fd is ours.
    let n = unsafe {
        let fd = syscall6(libc::SYS_openat, libc::AT_FDCWD as usize, path.as_ptr() as usize, (libc::O_RDONLY | libc::O_CLOEXEC) as usize, 0, 0, 0);
        if fd < 0 {
            return None;
        }
        let n = syscall3(libc::SYS_read, fd as usize, buf.as_mut_ptr() as usize, buf.len());
        syscall3(libc::SYS_close, fd as usize, 0, 0);
        n
    };
    buf.get(..usize::try_from(n).ok()?)
}

/// Copies `out.len()` bytes a program passed at `p` without trusting the pointer: false where
/// the kernel would fail the program's own call with EFAULT (process_vm_readv on ourselves
/// copies like a syscall argument does, instead of faulting), or where a seccomp filter refuses
/// the call.
pub fn read_program(p: *const u8, out: &mut [u8]) -> bool {
    let local = libc::iovec { iov_base: out.as_mut_ptr() as *mut libc::c_void, iov_len: out.len() };
    let remote = libc::iovec { iov_base: p as *mut libc::c_void, iov_len: out.len() };
    // SAFETY: getpid takes no arguments; the local iovec names the live `out`, the remote one is
    // only read by the kernel, which checks it.
    let r = unsafe {
        let pid = syscall3(libc::SYS_getpid, 0, 0, 0) as usize;
        syscall6(libc::SYS_process_vm_readv, pid, &local as *const libc::iovec as usize, 1, &remote as *const libc::iovec as usize, 1, 0)
    };
    r == out.len() as isize
}

/// Reads the 8 bytes a program passed at `p` ([`read_program`]).
pub fn read_program_i64(p: *const i64) -> Option<i64> {
    let mut v = [0u8; 8];
    read_program(p as *const u8, &mut v).then(|| i64::from_ne_bytes(v))
}

/// Writes all of `buf` to fd 2, ignoring errors (diagnostics only).
pub fn write_stderr(mut buf: &[u8]) {
    while !buf.is_empty() {
        // SAFETY: buf is a live slice; write(2) reads at most buf.len() bytes from it.
        let n = unsafe { syscall3(libc::SYS_write, 2, buf.as_ptr() as usize, buf.len()) };
        if n == -(libc::EINTR as isize) {
            continue;
        }
        if n <= 0 {
            return;
        }
        buf = &buf[n as usize..];
    }
}

/// The current value of `clock`, in nanoseconds. Invalid clocks read as `None`.
pub fn clock_ns(clock: libc::clockid_t) -> Option<u64> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid out-pointer; clock_gettime is the vDSO call, never interposed.
    let r = unsafe { libc::clock_gettime(clock, &mut ts) };
    if r != 0 {
        return None;
    }
    Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

/// CLOCK_MONOTONIC in nanoseconds: the clock every hub deadline is kept in.
#[inline]
pub fn now_ns() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC).unwrap_or(0)
}

/// A timespec is valid for POSIX sleeps and timed waits when 0 <= tv_nsec < 1e9.
#[inline]
pub fn timespec_valid(ts: &libc::timespec) -> bool {
    ts.tv_nsec >= 0 && ts.tv_nsec < 1_000_000_000
}

/// Nanoseconds of a non-negative timespec, saturating.
#[inline]
pub fn timespec_ns(ts: &libc::timespec) -> u64 {
    if ts.tv_sec < 0 {
        return 0;
    }
    (ts.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(ts.tv_nsec as u64)
}

/// Converts an absolute time on `clock` to a CLOCK_MONOTONIC deadline (ns). A time in the past
/// gives "now". `None` for a clock we cannot read.
pub fn abs_to_monotonic(clock: libc::clockid_t, abs: &libc::timespec) -> Option<u64> {
    let now_clock = clock_ns(clock)?;
    let now = now_ns();
    let target = if abs.tv_sec < 0 { 0 } else { timespec_ns(abs) };
    Some(now + target.saturating_sub(now_clock))
}

/// A timespec for a duration or an absolute time in nanoseconds.
pub fn ns_to_timespec(ns: u64) -> libc::timespec {
    libc::timespec { tv_sec: (ns / 1_000_000_000) as i64, tv_nsec: (ns % 1_000_000_000) as i64 }
}

/// Blocks the calling OS thread on a futex word (private), with an optional absolute
/// CLOCK_MONOTONIC deadline. Used only by threads that are not green.
pub fn futex_wait_os(word: &core::sync::atomic::AtomicU32, expected: u32, deadline_ns: Option<u64>) -> isize {
    let ts;
    let tsp = match deadline_ns {
        Some(d) => {
            ts = ns_to_timespec(d);
            &ts as *const libc::timespec as usize
        }
        None => 0,
    };
    let op = libc::FUTEX_WAIT_BITSET | libc::FUTEX_PRIVATE_FLAG;
    // SAFETY: word is a live u32; tsp is null or a live timespec; bitset !0 matches every wake.
    unsafe { syscall6(libc::SYS_futex, word.as_ptr() as usize, op as usize, expected as usize, tsp, 0, !0u32 as usize) }
}

/// Wakes up to `n` OS threads blocked on `word` (private futex).
pub fn futex_wake_os(word: *const u32, n: i32) -> isize {
    // SAFETY: FUTEX_WAKE only uses the address as a key; it does not dereference beyond it.
    unsafe { syscall3(libc::SYS_futex, word as usize, (libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG) as usize, n as usize) }
}
