//! recvmmsg/sendmmsg of green threads on blocking sockets: the batch calls with MSG_DONTWAIT,
//! parking on the socket's readiness in between (fd::socket_call), with a blocking call's
//! results: recvmmsg waits for the first message and then for more until `vlen` arrived, the
//! timeout passed (checked after each message, as the kernel does, and written back with the
//! time left) or MSG_WAITFORONE says one is enough; sendmmsg sends every message in full (a
//! message a stream socket took only part of is finished before the next).
//! Every function returns the raw kernel result (-errno).

use crate::fd::{self, Dir};
use crate::sys;

/// The kernel's UIO_MAXIOV: at most this many messages per call.
const MAX_VLEN: usize = 1024;

pub fn recvmmsg(fd: i32, vec: *mut libc::mmsghdr, vlen: u32, flags: i32, timeout: *mut libc::timespec) -> isize {
    let deadline = if timeout.is_null() {
        None
    } else {
        // SAFETY: a non-null timeout points to a timespec (the kernel would fault otherwise).
        let t = unsafe { &*timeout };
        if !sys::timespec_valid(t) || t.tv_sec < 0 {
            return -(libc::EINVAL as isize);
        }
        Some(sys::now_ns() + sys::timespec_ns(t))
    };
    let vlen = (vlen as usize).min(MAX_VLEN);
    let mut got = 0usize;
    let r = loop {
        let r = fd::socket_call(fd, Dir::Read, flags, 0, |f| {
            // SAFETY: the rest of the caller's array; no kernel timeout (ours is kept here).
            unsafe { sys::syscall6(libc::SYS_recvmmsg, fd as usize, vec.wrapping_add(got) as usize, vlen - got, f as usize, 0, 0) }
        });
        if r <= 0 {
            break if got > 0 { got as isize } else { r };
        }
        got += r as usize;
        if got >= vlen || flags & (libc::MSG_WAITFORONE | libc::MSG_DONTWAIT) != 0 || deadline.is_some_and(|d| sys::now_ns() >= d) {
            break got as isize;
        }
    };
    if let Some(d) = deadline {
        // SAFETY: as above; the kernel writes the time left back.
        unsafe { *timeout = sys::ns_to_timespec(d.saturating_sub(sys::now_ns())) };
    }
    r
}

pub fn sendmmsg(fd: i32, vec: *mut libc::mmsghdr, vlen: u32, flags: i32) -> isize {
    let vlen = (vlen as usize).min(MAX_VLEN);
    let mut sent = 0usize;
    while sent < vlen {
        let r = fd::socket_call(fd, Dir::Write, flags, 0, |f| {
            // SAFETY: the rest of the caller's array.
            unsafe { sys::syscall6(libc::SYS_sendmmsg, fd as usize, vec.wrapping_add(sent) as usize, vlen - sent, f as usize, 0, 0) }
        });
        if r < 0 {
            return if sent > 0 { sent as isize } else { r };
        }
        sent += r as usize;
        if flags & libc::MSG_DONTWAIT != 0 {
            break;
        }
        // SAFETY: the kernel filled message sent-1 (r >= 1 on success).
        let last = unsafe { &mut *vec.add(sent - 1) };
        let hdr = &last.msg_hdr;
        // SAFETY: the caller's vector of msg_iovlen iovecs.
        let total: usize = (0..hdr.msg_iovlen).map(|i| unsafe { (*hdr.msg_iov.add(i)).iov_len }).sum();
        if (last.msg_len as usize) < total {
            // A stream socket took part of it: send the rest, as a blocking sendmmsg would.
            // SAFETY: as above.
            let mut v: Vec<libc::iovec> = (0..hdr.msg_iovlen).map(|i| unsafe { *hdr.msg_iov.add(i) }).collect();
            let mut first = 0usize;
            fd::advance_iov(&mut v, &mut first, last.msg_len as usize);
            let more = fd::writev_socket(fd, v[first..].as_ptr(), v.len() - first);
            if more < 0 {
                return sent as isize;
            }
            last.msg_len += more as u32;
        }
    }
    sent as isize
}
