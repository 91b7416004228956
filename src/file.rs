//! Regular files for green threads: epoll cannot wait for them (EPERM), so a call that would
//! wait for the device runs on the offload pool instead of blocking the hub.
//!
//! Policy (decided here, documented in README):
//! - **Reads** (`read`, `readv`, `pread`, `preadv`, `preadv2` and their 64 names) first try
//!   `preadv2(…, RWF_NOWAIT)`: data in the page cache is copied at once, for the cost of the
//!   plain call (one syscall); when the kernel would have to wait for the disk it answers
//!   EAGAIN instead (having started the read-ahead), and the rest of the read runs on the pool.
//!   A size threshold would guess; RWF_NOWAIT asks the page cache, which knows. A partial
//!   answer (some pages cached) continues the same way, so the caller gets what a blocking read
//!   returns: everything up to end of file. A filesystem that refuses RWF_NOWAIT (procfs…) is
//!   remembered per fd and read directly.
//! - **Writes** go directly to the page cache: a buffered write waits only when the kernel
//!   throttles dirty pages, and ext4 on this kernel refuses RWF_NOWAIT for buffered writes
//!   (EOPNOTSUPP), so there is no cheap way to tell that case in advance.
//! - Files opened **O_DIRECT, O_SYNC or O_DSYNC** wait for the device on every read and write:
//!   those calls always run on the pool.
//! - **fsync, fdatasync, sync_file_range, syncfs, sync** always run on the pool.
//! - With no other green thread alive, nothing could run meanwhile: the pool runs the call
//!   inline (see offload::run).
//!
//! Every function returns the raw kernel result (-errno).

use core::sync::atomic::{AtomicBool, Ordering};

use crate::fd;
use crate::lock::SpinLock;
use crate::offload;
use crate::sys;

/// The kernel's UIO_MAXIOV: longer vectors get its EINVAL from the direct call.
const IOV_MAX: usize = 1024;

/// preadv2 with flags; `offset` -1 reads at (and advances) the file position.
pub(crate) fn preadv2(fd: i32, iov: *const libc::iovec, n: usize, offset: i64, flags: i32) -> isize {
    // SAFETY: the caller's vector; the kernel validates it (x86-64 passes pos_l, pos_h = 0).
    unsafe { sys::syscall6(libc::SYS_preadv2, fd as usize, iov as usize, n, offset as usize, 0, flags as usize) }
}

/// pwritev2 with flags; `offset` -1 writes at the file position (or the end, O_APPEND).
pub(crate) fn pwritev2(fd: i32, iov: *const libc::iovec, n: usize, offset: i64, flags: i32) -> isize {
    // SAFETY: as preadv2.
    unsafe { sys::syscall6(libc::SYS_pwritev2, fd as usize, iov as usize, n, offset as usize, 0, flags as usize) }
}

/// Reads `iov[..n]` from a regular file at `offset` (-1: the file position) with the caller's
/// preadv2 `flags`, without blocking the hub on the disk.
pub fn read(fd: i32, iov: *const libc::iovec, n: usize, offset: i64, flags: i32) -> isize {
    let (device, no_nowait) = fd::file_flags(fd);
    if device {
        let iov = iov as usize;
        return offload::run(move || preadv2(fd, iov as *const libc::iovec, n, offset, flags));
    }
    // With no other green thread nothing could run while the disk is read: the plain call.
    if no_nowait || flags & libc::RWF_NOWAIT != 0 || n > IOV_MAX || crate::hub::alive() == 0 {
        return preadv2(fd, iov, n, offset, flags);
    }
    // The common case: all of it from the page cache, on the caller's own vector.
    let r = nowait_or_offload(fd, iov, n, offset, flags);
    // SAFETY: the caller's vector of n iovecs (n is at most IOV_MAX).
    let total: usize = (0..n).map(|i| unsafe { (*iov.add(i)).iov_len }).sum();
    if r <= 0 || r as usize >= total {
        return r;
    }
    // Part of it was cached: go on past what was read, as a blocking read would.
    // SAFETY: as above.
    let mut v: Vec<libc::iovec> = (0..n).map(|i| unsafe { *iov.add(i) }).collect();
    let mut first = 0usize;
    let mut done = 0usize;
    let mut r = r;
    loop {
        done += r as usize;
        fd::advance_iov(&mut v, &mut first, r as usize);
        if done >= total {
            return done as isize;
        }
        let at = if offset < 0 { -1 } else { offset + done as i64 };
        r = nowait_or_offload(fd, v[first..].as_ptr(), v.len() - first, at, flags);
        if r <= 0 {
            return done as isize; // end of file, or an error after some bytes: what was read
        }
    }
}

/// One RWF_NOWAIT attempt; when the disk has to be read (EAGAIN), the same call as one blocking
/// call on the pool; a filesystem that refuses RWF_NOWAIT is remembered and read directly.
fn nowait_or_offload(fd: i32, iov: *const libc::iovec, n: usize, offset: i64, flags: i32) -> isize {
    let r = preadv2(fd, iov, n, offset, flags | libc::RWF_NOWAIT);
    if r == -(libc::EAGAIN as isize) {
        let iov = iov as usize;
        return offload::run(move || preadv2(fd, iov as *const libc::iovec, n, offset, flags));
    }
    if r == -(libc::EOPNOTSUPP as isize) {
        fd::set_no_nowait(fd);
        return preadv2(fd, iov, n, offset, flags);
    }
    r
}

/// Writes to a regular file: on the pool for O_DIRECT/O_SYNC/O_DSYNC files, directly otherwise
/// (the page cache takes it).
pub fn write(fd: i32, iov: *const libc::iovec, n: usize, offset: i64, flags: i32) -> isize {
    if fd::file_flags(fd).0 {
        let iov = iov as usize;
        return offload::run(move || pwritev2(fd, iov as *const libc::iovec, n, offset, flags));
    }
    pwritev2(fd, iov, n, offset, flags)
}

/// cachestat(2) (Linux 6.5): page-cache counts of a file range, without mapping it.
const SYS_CACHESTAT: i64 = 451;
/// The most a warm-up reads on the pool at once, ahead of a call that asked for more.
const WARM_MAX: usize = 2 << 20;
/// The pool reads a range to warm in pieces of this size.
const WARM_PIECE: usize = 128 << 10;
/// cachestat answered ENOSYS (a kernel before 6.5, or a seccomp filter): no more warm-ups.
static NO_CACHESTAT: AtomicBool = AtomicBool::new(false);

/// The range `warm` last found or made cached: (fd, start, end, end is the end of the file).
/// A sequential sendfile or splice loop then asks the kernel again only when less than half of
/// WARM_MAX of it is left ahead, not at every call. A hint only: a stale one (the fd reused, pages evicted since) skips a warm-up, and the
/// call then reads the disk itself, as it would without one.
pub(crate) static WARMED: SpinLock<(i32, u64, u64, bool)> = SpinLock::new((-1, 0, 0, false));

fn warmed_covers(fd: i32, off: u64, end: u64) -> bool {
    let (wfd, ws, we, weof) = *WARMED.lock();
    wfd == fd && ws <= off && (end <= we || (weof && off < we))
}

/// Before a call that reads `len` bytes of regular file `fd` inside the kernel (sendfile, or
/// splice from a file) at `offset` (None: the file position): when cachestat(2) says some of
/// the next WARM_MAX bytes there are not in the page cache, the pool reads them first, so this
/// call and the next ones of a sequential loop copy from memory instead of waiting for the disk
/// on the hub (`WARMED` spares them the check). Best effort: pages evicted again in between are
/// read by the call itself, and without cachestat (before Linux 6.5) the call reads as before.
/// Files opened O_DIRECT are left alone (the call reads the device whatever the cache holds).
pub fn warm(fd: i32, offset: Option<i64>, len: usize) {
    if len == 0 || NO_CACHESTAT.load(Ordering::Relaxed) || crate::hub::alive() == 0 || fd::file_flags(fd).0 {
        return;
    }
    let off = match offset {
        Some(o) => o,
        // SAFETY: lseek takes integers only; SEEK_CUR with 0 only reads the position.
        None => (unsafe { sys::syscall3(libc::SYS_lseek, fd as usize, 0, libc::SEEK_CUR as usize) }) as i64,
    };
    if off < 0 || warmed_covers(fd, off as u64, (off as u64).saturating_add(len.min(WARM_MAX / 2) as u64)) {
        return;
    }
    // SAFETY: all-zero is a valid struct stat.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: a live struct stat to fill.
    if unsafe { sys::syscall3(libc::SYS_fstat, fd as usize, &mut st as *mut libc::stat as usize, 0) } < 0 || off >= st.st_size {
        return;
    }
    let size = st.st_size as u64;
    let off = off as u64;
    // The next WARM_MAX, not only this call's bytes: a sequential loop's next calls read them.
    let end = off.saturating_add(WARM_MAX as u64).min(size);
    let range = [off, end - off];
    // nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted
    let mut stat = [0u64; 5];
    // SAFETY: a live struct cachestat_range and struct cachestat; flags 0.
    let r = unsafe { sys::syscall6(SYS_CACHESTAT, fd as usize, range.as_ptr() as usize, stat.as_mut_ptr() as usize, 0, 0, 0) };
    if r == -(libc::ENOSYS as isize) {
        NO_CACHESTAT.store(true, Ordering::Relaxed);
    }
    if r < 0 {
        return;
    }
    let page = crate::stack::PAGE as u64;
    if stat[0] < (end - 1) / page - off / page + 1 {
        offload::run(move || read_into_cache(fd, off, end - off));
    }
    *WARMED.lock() = (fd, off, end, end == size);
}

/// Reads `len` bytes of `fd` at `off` into a scratch buffer (the pool's side of `warm`).
fn read_into_cache(fd: i32, mut off: u64, len: u64) {
    let mut buf = vec![0u8; WARM_PIECE];
    let end = off + len;
    while off < end {
        let n = ((end - off) as usize).min(WARM_PIECE);
        // SAFETY: a live buffer of at least n bytes.
        let r = unsafe { sys::syscall6(libc::SYS_pread64, fd as usize, buf.as_mut_ptr() as usize, n, off as usize, 0, 0) };
        if r <= 0 {
            return;
        }
        off += r as u64;
    }
}

/// A call of the fsync family (`nr` with up to four arguments) on the pool.
pub fn sync_call(nr: i64, a1: usize, a2: usize, a3: usize, a4: usize) -> isize {
    // SAFETY: the fsync family takes integers only.
    offload::run(move || unsafe { sys::syscall6(nr, a1, a2, a3, a4, 0, 0) })
}
