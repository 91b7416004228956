//! Opening a FIFO: without O_NONBLOCK, open() of a FIFO waits until the other end is opened
//! (by another thread or process), and the kernel offers no readiness to wait for ("a writer
//! has opened" is not a poll event). So a green thread's blocking open of a path that is a FIFO
//! runs on the offload pool. Telling a FIFO apart costs one fstatat before each open that could
//! wait (read-only or write-only, blocking); anything else takes the real call. A handler
//! without SA_RESTART run on the waiting thread ends the open with EINTR, as natively.

use crate::offload;
use crate::sys;

/// openat for a green thread: Some(raw result) when the path is a FIFO that the open may wait
/// for (the open ran on the offload pool), None when the caller should make the real call.
pub fn openat(dirfd: i32, path: *const libc::c_char, flags: i32, mode: u32) -> Option<isize> {
    // Opens that cannot wait for a FIFO's other end: non-blocking or path-only ones, O_RDWR
    // (Linux opens a FIFO read-write at once), directories, and exclusive creation.
    let never_waits = flags & (libc::O_NONBLOCK | libc::O_PATH | libc::O_DIRECTORY) != 0
        || flags & libc::O_ACCMODE == libc::O_RDWR
        || flags & (libc::O_CREAT | libc::O_EXCL) == libc::O_CREAT | libc::O_EXCL;
    if never_waits || path.is_null() {
        return None;
    }
    // SAFETY: st is a live out-buffer; the kernel validates the path.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    let at = if flags & libc::O_NOFOLLOW != 0 { libc::AT_SYMLINK_NOFOLLOW } else { 0 };
    // SAFETY: as above.
    let r = unsafe { sys::syscall6(libc::SYS_newfstatat, dirfd as usize, path as usize, &mut st as *mut libc::stat as usize, at as usize, 0, 0) };
    if r < 0 || st.st_mode & libc::S_IFMT != libc::S_IFIFO {
        return None;
    }
    let path = path as usize;
    // SAFETY: the caller's path, which stays alive while it waits for the job.
    Some(offload::run_interruptible(true, move || unsafe { sys::syscall6(libc::SYS_openat, dirfd as usize, path, flags as usize, mode as usize, 0, 0) }))
}
