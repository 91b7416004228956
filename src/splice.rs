//! sendfile and splice of green threads where a side is a pipe or a socket.
//!
//! What the kernel offers (measured on this kernel): SPLICE_F_NONBLOCK makes only the *pipe*
//! side non-blocking; a splice or sendfile into a socket whose buffer is full blocks anyway, and
//! so does a splice out of an empty TCP socket. So:
//! - a pipe side is handled with SPLICE_F_NONBLOCK and a readiness wait on EAGAIN (sendfile into
//!   a pipe is the same operation as splice from the file with its offset, and is made so);
//! - a socket read side is waited for (readable) before the call, which then finds data;
//! - a socket write side gets at most half the room its send buffer has left (SO_MEMINFO: send
//!   buffer size minus what is allocated/queued), waiting for writability when there is none, so
//!   the kernel never has to wait for space inside the call.
//! sendfile into a socket loops until `count` bytes are sent, as a blocking sendfile does;
//! splice, and sendfile into a pipe, return after moving some bytes, as the kernel's do. The file
//! side is read inside the call, so pages of a regular file that are not in the page cache are
//! read on the offload pool first (`file::warm`, asking cachestat(2)): the call then copies
//! from memory.
//! Every function returns the raw kernel result (-errno).

use crate::fd::{self, Dir, Kind};
use crate::sys;

/// linux/sock_diag.h: SO_MEMINFO indexes.
const SK_MEMINFO_SNDBUF: usize = 3;
const SK_MEMINFO_WMEM_ALLOC: usize = 2;
const SK_MEMINFO_WMEM_QUEUED: usize = 5;
const SK_MEMINFO_VARS: usize = 9;

/// Bytes that can be written to stream socket `fd` now without the kernel waiting for space:
/// half of what its send buffer has left (margin for per-packet overhead). None when unknown.
fn socket_room(fd: i32) -> Option<usize> {
    let mut mi = [0u32; SK_MEMINFO_VARS];
    let mut len = core::mem::size_of_val(&mi) as libc::socklen_t;
    // SAFETY: live out-buffers of the right sizes.
    let r = unsafe {
        sys::syscall6(libc::SYS_getsockopt, fd as usize, libc::SOL_SOCKET as usize, libc::SO_MEMINFO as usize, mi.as_mut_ptr() as usize, &mut len as *mut libc::socklen_t as usize, 0)
    };
    if r < 0 {
        return None;
    }
    let used = mi[SK_MEMINFO_WMEM_ALLOC].max(mi[SK_MEMINFO_WMEM_QUEUED]);
    Some((mi[SK_MEMINFO_SNDBUF].saturating_sub(used) / 2) as usize)
}

/// How much a call writing to `out` may be handed now.
enum Room {
    Len(usize),
    /// The socket's room cannot be read: make the call as is.
    Unknown,
    /// A handler without SA_RESTART ran while waiting for room: the call fails with EINTR.
    Interrupted,
}

/// `want`, capped for a socket by its room; parks until there is some.
fn writable_len(out: i32, kind: Kind, want: usize) -> Room {
    if kind != Kind::Socket {
        return Room::Len(want);
    }
    loop {
        let armed = fd::arm(out, Dir::Write);
        let Some(room) = socket_room(out) else { return Room::Unknown };
        if room > 0 {
            return Room::Len(want.min(room));
        }
        // TCP announces write space (the EPOLLOUT edge) only to a socket marked SOCK_NOSPACE
        // (tcp_check_space), which a send that found the buffer full or a poll that found the
        // socket unwritable sets. Calls capped by the room never fill the buffer, so this poll
        // marks it, or the wait would never end (CPython's socket.sendfile stalled).
        if fd::poll_now(out, Dir::Write) {
            // The kernel counts it writable (its own measure, less strict than ours): a call
            // of a page does not wait.
            return Room::Len(want.min(4096));
        }
        if !fd::wait(out, Dir::Write, armed) {
            return Room::Unknown;
        }
        if crate::signal::interrupted(true) {
            return Room::Interrupted;
        }
    }
}

/// -EINTR: the call's wait was cut short by a handler (pipe and socket waits are restarted
/// under SA_RESTART).
const EINTR: isize = -(libc::EINTR as isize);

fn splice_raw(fd_in: i32, off_in: *mut i64, fd_out: i32, off_out: *mut i64, len: usize, flags: u32) -> isize {
    // SAFETY: the caller's offsets (null or live), as the real splice would receive them.
    unsafe { sys::syscall6(libc::SYS_splice, fd_in as usize, off_in as usize, fd_out as usize, off_out as usize, len, flags as usize) }
}

/// Warms the `len` bytes a call is about to read from file `fd` at `*off` (null: the file
/// position). An offset pointer the kernel would refuse (EFAULT, from the call itself) is not
/// read here.
fn warm_file(fd: i32, off: *const i64, len: usize) {
    if off.is_null() {
        crate::file::warm(fd, None, len);
    } else if let Some(o) = sys::read_program_i64(off) {
        crate::file::warm(fd, Some(o), len);
    }
}

/// splice for a green thread when a side is a pipe or socket (see the module doc).
pub fn splice(fd_in: i32, off_in: *mut i64, fd_out: i32, off_out: *mut i64, len: usize, flags: u32) -> isize {
    let (kin, kout) = (fd::kind(fd_in), fd::kind(fd_out));
    loop {
        if kin == Kind::Socket && fd::wait_unless_ready(fd_in, Dir::Read) {
            if crate::signal::interrupted(true) {
                return EINTR;
            }
            continue;
        }
        let n = match writable_len(fd_out, kout, len) {
            Room::Len(n) => n,
            Room::Unknown => return splice_raw(fd_in, off_in, fd_out, off_out, len, flags),
            Room::Interrupted => return EINTR,
        };
        if kin == Kind::File {
            warm_file(fd_in, off_in, n);
        }
        let r = splice_raw(fd_in, off_in, fd_out, off_out, n, flags | libc::SPLICE_F_NONBLOCK);
        if r != -(libc::EAGAIN as isize) {
            return r;
        }
        // A pipe side is empty or full (or a Unix socket read side is empty): wait for it.
        let (armed_in, armed_out) = (fd::arm(fd_in, Dir::Read), fd::arm(fd_out, Dir::Write));
        let waited = if kin != Kind::Pass && !fd::poll_now(fd_in, Dir::Read) {
            fd::wait(fd_in, Dir::Read, armed_in)
        } else if kout == Kind::Pipe && !fd::poll_now(fd_out, Dir::Write) {
            fd::wait(fd_out, Dir::Write, armed_out)
        } else {
            false
        };
        if !waited {
            // Both sides poll ready and the kernel still says EAGAIN (a pipe with one free
            // slot and a range spanning two pages): the blocking call, which will not wait long.
            return splice_raw(fd_in, off_in, fd_out, off_out, len, flags);
        }
        if crate::signal::interrupted(true) {
            return EINTR;
        }
    }
}

/// sendfile for a green thread whose `out` is a pipe or socket: into a socket all `count` bytes
/// (or up to the end of the input), into a pipe what fits, as a blocking sendfile returns.
pub fn sendfile(out: i32, in_fd: i32, offset: *mut i64, count: usize) -> isize {
    let kout = fd::kind(out);
    let from_file = fd::kind(in_fd) == Kind::File;
    let mut done = 0usize;
    while done < count {
        let left = count - done;
        let r = if kout == Kind::Pipe {
            // The same operation as splice from the file (at *offset, or its position), and
            // like the kernel's it returns once it has filled the pipe.
            return splice(in_fd, offset, out, core::ptr::null_mut(), left, 0);
        } else {
            let n = match writable_len(out, kout, left) {
                Room::Len(n) => n,
                Room::Unknown => left,
                Room::Interrupted => return if done > 0 { done as isize } else { EINTR },
            };
            if from_file {
                warm_file(in_fd, offset, n);
            }
            // SAFETY: the caller's offset (null or live).
            unsafe { sys::syscall6(libc::SYS_sendfile, out as usize, in_fd as usize, offset as usize, n, 0, 0) }
        };
        if r < 0 {
            return if done > 0 { done as isize } else { r };
        }
        if r == 0 {
            break; // end of the input
        }
        done += r as usize;
    }
    done as isize
}
