//! stdio output streams of green threads on pipes, FIFOs and sockets.
//!
//! glibc writes a FILE's buffer out through its vtable and its internal `write`, which no hook
//! reaches: a `printf` to a pipe whose reader is slow (or is another green thread of this
//! process) blocked the carrier while the pipe was full. The writing functions a program calls
//! come here instead (preload/src/hooks/stdio.rs; the printf family through csrc/printf.c,
//! which formats first and writes the result here), and every write glibc would make is made
//! by this module, with the cooperative write of the fd (`fd::write_pipe`, `fd::send_socket`:
//! the thread parks while the pipe is full, a signal without SA_RESTART gives EINTR).
//!
//! What glibc 2.36 does with the FILE is re-done on its public fields, in glibc's order and
//! with glibc's results (`_IO_new_file_xsputn`, `_IO_default_xsputn`, `_IO_new_file_overflow`,
//! `new_do_write`, `_IO_new_file_write`): the same bytes reach the fd in the same order, a
//! line-buffered stream writes through its last newline, a write error sets the stream's error
//! flag and drops what was buffered, as glibc's does. Only a stream in put mode with a buffer is
//! handled here; the first write after opening (or after reading) lets glibc set the stream up
//! with one byte, after waiting until the fd polls writable, so that glibc's own write of that
//! byte (an unbuffered or line-buffered stream) cannot block.
//!
//! Streams that take glibc's functions unchanged: a caller that is not green, an fd that is not
//! a pipe, FIFO or socket (files, terminals: their writes do not wait for a reader), wide
//! streams, and streams glibc refuses to write (it reports the error itself).

use core::ffi::{c_int, c_void};

use crate::fd::{self, Dir, Kind};
use crate::hub;
use crate::stdio::{self, File, EOF, IO_CURRENTLY_PUTTING, IO_ERR_SEEN, IO_LINE_BUF, IO_NO_WRITES, IO_UNBUFFERED};

/// `_IO_IS_APPENDING` (libio.h): a stream opened with "a".
const IO_IS_APPENDING: c_int = 0x1000;

type Overflow = unsafe extern "C" fn(*mut File, c_int) -> c_int;
type Flush = unsafe extern "C" fn(*mut File) -> c_int;

stdio::glibc! {
    real_overflow: Overflow = c"__overflow";
    real_fflush_unlocked: Flush = c"fflush_unlocked";
}

/// Whether writes to `fp` by the calling thread go through this module: a green caller and a
/// narrow, writable stream on a pipe, FIFO or socket.
///
/// # Safety
/// `fp` is a live FILE.
#[inline]
pub unsafe fn handles(fp: *mut File) -> bool {
    if fp.is_null() || hub::current().is_none() {
        return false;
    }
    // SAFETY: the caller's contract.
    unsafe {
        let f = &*fp;
        // Not `_vtable_offset`: glibc 2.36 leaves it uninitialised in the FILEs it mallocs
        // (its `_IO_vtable_offset` is the constant 0 outside the old-libio build).
        if f.fileno < 0 || f.mode > 0 || f.cur_column != 0 || f.flags & IO_NO_WRITES != 0 {
            return false;
        }
        matches!(fd::kind(f.fileno), Kind::Pipe | Kind::Socket)
    }
}

/// Whether glibc's own functions are set up to write `fp` (put mode, a buffer): otherwise the
/// first byte goes through glibc (`start`).
///
/// # Safety
/// `fp` is a live FILE the caller holds.
unsafe fn putting(fp: *mut File) -> bool {
    // SAFETY: the caller's contract.
    unsafe { (*fp).flags & IO_CURRENTLY_PUTTING != 0 && !(*fp).write_base.is_null() }
}

/// `_IO_new_file_write`: all of `data` to the fd, cooperatively; the count written. An error
/// sets the stream's error flag (errno says which).
///
/// # Safety
/// As [`putting`]; `data` holds `n` bytes.
unsafe fn sys_write(fp: *mut File, data: *const u8, n: usize) -> usize {
    // SAFETY (whole body): the caller's contract.
    unsafe {
        let (done, err) = write_all((*fp).fileno, data, n);
        if err {
            (*fp).flags |= IO_ERR_SEEN;
        }
        if (*fp).offset >= 0 {
            (*fp).offset += done as i64;
        }
        done
    }
}

/// All of `data` to `fd`, cooperatively: the count written, and whether an error stopped it
/// (errno set).
///
/// # Safety
/// `data` holds `n` bytes.
unsafe fn write_all(fd: c_int, data: *const u8, n: usize) -> (usize, bool) {
    let mut done = 0;
    while done < n {
        // SAFETY: the caller's buffer; done < n.
        let r = unsafe {
            match fd::kind(fd) {
                Kind::Socket => fd::send_socket(fd, data.add(done), n - done, 0, core::ptr::null(), 0),
                Kind::Pipe => fd::write_pipe(fd, data.add(done), n - done),
                // The fd was closed and reused behind the caller's back: the blocking call.
                _ => sys_write_raw(fd, data.add(done), n - done),
            }
        };
        if r < 0 {
            stdio::set_errno((-r) as c_int);
            return (done, true);
        }
        done += r as usize;
    }
    (done, false)
}

fn sys_write_raw(fd: c_int, data: *const u8, n: usize) -> isize {
    // SAFETY: the caller's buffer of n bytes.
    unsafe { crate::sys::syscall3(libc::SYS_write, fd as usize, data as usize, n) }
}

/// glibc's `new_do_write`: `data` out, then the buffer empty in put mode.
///
/// # Safety
/// As [`sys_write`].
unsafe fn do_write(fp: *mut File, data: *const u8, n: usize) -> usize {
    // SAFETY (whole body): the caller's contract.
    unsafe {
        let f = &mut *fp;
        if f.flags & IO_IS_APPENDING != 0 {
            f.offset = -1;
        } else if f.read_end != f.write_base {
            // Unread input before the output: glibc seeks back over it first (a pipe or socket
            // refuses, and glibc's write fails the same way, writing nothing).
            let back = (f.write_base as isize).wrapping_sub(f.read_end as isize);
            let pos = crate::sys::syscall3(libc::SYS_lseek, f.fileno as usize, back as usize, libc::SEEK_CUR as usize);
            if pos < 0 {
                stdio::set_errno((-pos) as c_int);
                return 0;
            }
            f.offset = pos as i64;
        }
        let count = sys_write(fp, data, n);
        let f = &mut *fp;
        f.read_base = f.buf_base;
        f.read_ptr = f.buf_base;
        f.read_end = f.buf_base;
        f.write_base = f.buf_base;
        f.write_ptr = f.buf_base;
        f.write_end = if f.flags & (IO_LINE_BUF | IO_UNBUFFERED) != 0 { f.buf_base } else { f.buf_end };
        count
    }
}

/// `_IO_do_flush`: the buffered output written; false on error.
///
/// # Safety
/// As [`putting`], which holds.
unsafe fn flush_buffer(fp: *mut File) -> bool {
    // SAFETY: the caller's contract; [write_base, write_ptr) is the buffered output.
    unsafe {
        let n = (*fp).write_ptr as usize - (*fp).write_base as usize;
        n == 0 || do_write(fp, (*fp).write_base, n) == n
    }
}

/// `_IO_new_file_overflow(fp, ch)` in put mode: `ch` into the buffer (written out first if
/// full), and the buffer out after a line-buffered newline or on an unbuffered stream.
///
/// # Safety
/// As [`flush_buffer`].
unsafe fn overflow(fp: *mut File, ch: u8) -> c_int {
    // SAFETY (whole body): the caller's contract; write_ptr < buf_end after the flush.
    unsafe {
        if (*fp).write_ptr == (*fp).buf_end && !flush_buffer(fp) {
            return EOF;
        }
        *(*fp).write_ptr = ch;
        (*fp).write_ptr = (*fp).write_ptr.add(1);
        let flags = (*fp).flags;
        if (flags & IO_UNBUFFERED != 0 || (flags & IO_LINE_BUF != 0 && ch == b'\n')) && !flush_buffer(fp) {
            return EOF;
        }
        ch as c_int
    }
}

/// `_IO_default_xsputn`: what fits between write_ptr and write_end, then byte by byte through
/// [`overflow`]. The count taken.
///
/// # Safety
/// As [`flush_buffer`]; `s` holds `n` bytes.
unsafe fn default_xsputn(fp: *mut File, mut s: *const u8, n: usize) -> usize {
    // SAFETY (whole body): the caller's contract; copies stay inside [write_ptr, write_end).
    unsafe {
        let mut more = n;
        while more > 0 {
            let space = ((*fp).write_end as usize).saturating_sub((*fp).write_ptr as usize);
            let count = space.min(more);
            core::ptr::copy_nonoverlapping(s, (*fp).write_ptr, count);
            (*fp).write_ptr = (*fp).write_ptr.add(count);
            s = s.add(count);
            more -= count;
            if more == 0 || overflow(fp, *s) == EOF {
                break;
            }
            s = s.add(1);
            more -= 1;
        }
        n - more
    }
}

/// The result of [`xsputn`] when the bytes went into the buffer but writing it out failed
/// (glibc's `(size_t) EOF`).
pub const XSPUTN_FAILED: usize = usize::MAX;

/// `_IO_new_file_xsputn` in put mode: `n` bytes of `s` through the buffer; the count taken, or
/// [`XSPUTN_FAILED`].
///
/// # Safety
/// As [`flush_buffer`]; `s` holds `n` bytes.
unsafe fn file_xsputn(fp: *mut File, s: *const u8, n: usize) -> usize {
    // SAFETY (whole body): the caller's contract; copies stay inside the buffer's free part.
    unsafe {
        let f = &mut *fp;
        let mut count = 0usize;
        let mut must_flush = false;
        if f.flags & IO_LINE_BUF != 0 {
            count = f.buf_end as usize - f.write_ptr as usize;
            if count >= n {
                let data = core::slice::from_raw_parts(s, n);
                if let Some(last) = data.iter().rposition(|&b| b == b'\n') {
                    count = last + 1;
                    must_flush = true;
                }
            }
        } else if f.write_end > f.write_ptr {
            count = f.write_end as usize - f.write_ptr as usize;
        }
        let count = count.min(n);
        core::ptr::copy_nonoverlapping(s, f.write_ptr, count);
        f.write_ptr = f.write_ptr.add(count);
        let mut to_do = n - count;
        let s = s.add(count);
        if to_do > 0 || must_flush {
            if !flush_buffer(fp) {
                return if to_do == 0 { XSPUTN_FAILED } else { n - to_do };
            }
            // Whole blocks straight from the caller's memory, as glibc keeps alignment.
            let block = (*fp).buf_end as usize - (*fp).buf_base as usize;
            let direct = to_do - if block >= 128 { to_do % block } else { 0 };
            if direct > 0 {
                let written = do_write(fp, s, direct);
                to_do -= written;
                if written < direct {
                    return n - to_do;
                }
            }
            if to_do > 0 {
                to_do -= default_xsputn(fp, s.add(direct), to_do);
            }
        }
        n - to_do
    }
}

/// Puts glibc's stream in put mode with its first byte (`*s`), after waiting until the fd
/// polls writable: glibc writes at most that byte now, which a writable pipe or socket takes
/// without blocking. False when glibc failed (errno and the stream's flags say why).
///
/// # Safety
/// `fp` is a live FILE the caller holds, [`handles`] it.
unsafe fn start(fp: *mut File, first: u8) -> bool {
    // SAFETY (whole body): the caller's contract.
    unsafe {
        let fd = (*fp).fileno;
        let deadline = if fd::kind(fd) == Kind::Socket { fd::timeout_deadline(fd, Dir::Write) } else { None };
        match fd::wait_ready_until(fd, Dir::Write, deadline) {
            Ok(_turn) => real_overflow()(fp, first as c_int) != EOF,
            Err(e) => {
                // The blocking write would have failed so: glibc's failed write sets the flag.
                (*fp).flags |= IO_ERR_SEEN;
                stdio::set_errno((-e) as c_int);
                false
            }
        }
    }
}

/// `_IO_sputn` on a stream [`handles`] takes: the count taken, or [`XSPUTN_FAILED`].
///
/// # Safety
/// `fp` is a live FILE the caller holds; `s` holds `n` bytes.
#[inline(never)]
pub unsafe fn sputn(fp: *mut File, s: *const u8, n: usize) -> usize {
    // SAFETY (whole body): the caller's contract.
    unsafe {
        if (*fp).mode == 0 {
            stdio::fwide(fp, -1);
        }
        if n == 0 {
            return 0;
        }
        if putting(fp) {
            return file_xsputn(fp, s, n);
        }
        if !start(fp, *s) {
            return 0;
        }
        if n == 1 {
            return 1;
        }
        match file_xsputn(fp, s.add(1), n - 1) {
            XSPUTN_FAILED => XSPUTN_FAILED,
            k => k + 1,
        }
    }
}

/// `putc`'s slow path (`__overflow`) on a stream [`handles`] takes: `ch`, or EOF.
///
/// # Safety
/// `fp` is a live FILE the caller holds.
#[inline(never)]
pub unsafe fn putc(fp: *mut File, ch: c_int) -> c_int {
    // SAFETY (whole body): the caller's contract.
    unsafe {
        if (*fp).mode == 0 {
            stdio::fwide(fp, -1);
        }
        if !putting(fp) {
            return if start(fp, ch as u8) { ch & 0xff } else { EOF };
        }
        if (*fp).write_ptr < (*fp).write_end {
            *(*fp).write_ptr = ch as u8;
            (*fp).write_ptr = (*fp).write_ptr.add(1);
            return ch & 0xff;
        }
        overflow(fp, ch as u8)
    }
}

/// `__overflow(fp, ch)` (what the inline `putc_unlocked` calls on a full buffer; EOF: write the
/// buffer out); None: not a stream [`handles`] takes.
///
/// # Safety
/// `fp` is a live FILE the caller holds (glibc's contract).
pub unsafe fn overflow_call(fp: *mut File, ch: c_int) -> Option<c_int> {
    // SAFETY (whole body): the caller's contract.
    unsafe {
        if !handles(fp) {
            return None;
        }
        if ch != EOF {
            return Some(putc(fp, ch));
        }
        if !putting(fp) {
            return Some(real_overflow()(fp, EOF)); // sets the stream up; nothing to write
        }
        Some(if flush_buffer(fp) { 0 } else { EOF })
    }
}

/// fputc (`locked`) and its `_unlocked` form: [`putc`] under our lock; None: glibc's function
/// does it (as [`fwrite`]).
///
/// # Safety
/// `fp` is a live FILE; with `locked` false the caller holds it.
#[inline]
pub unsafe fn fputc(ch: c_int, fp: *mut File, locked: bool) -> Option<c_int> {
    // SAFETY (whole body): the caller's contract.
    unsafe {
        if !handles(fp) {
            return None;
        }
        if fits(fp, 1) {
            return None;
        }
        let _l = locked.then(|| stdio::lock(fp));
        Some(putc(fp, ch))
    }
}

/// fflush's part that writes, on a stream [`handles`] takes; glibc's fflush then does the rest
/// (nothing is left to write). EOF when the write failed.
///
/// # Safety
/// `fp` is a live FILE the caller holds.
pub unsafe fn flush(fp: *mut File) -> c_int {
    // SAFETY: the caller's contract.
    unsafe {
        if putting(fp) && !flush_buffer(fp) {
            return EOF;
        }
        real_fflush_unlocked()(fp)
    }
}

/// fclose's write of what is buffered, before glibc closes the stream: Err(errno) when it
/// failed (fclose then returns EOF, as glibc's own failed flush makes it).
///
/// # Safety
/// `fp` is a live FILE.
pub unsafe fn flush_before_close(fp: *mut File) -> Result<(), c_int> {
    // SAFETY (whole body): the caller's contract.
    unsafe {
        if !handles(fp) {
            return Ok(());
        }
        let _l = stdio::lock(fp);
        if putting(fp) && !flush_buffer(fp) {
            return Err(*libc::__errno_location());
        }
        Ok(())
    }
}

/// Writes `n` bytes of `s` to `fp` under its lock: the printf family's formatted output.
/// 0, or -1 with errno.
///
/// # Safety
/// `fp` is a live FILE [`handles`] takes; `s` holds `n` bytes.
pub unsafe fn write_locked(fp: *mut File, s: *const c_void, n: usize) -> c_int {
    // SAFETY: the caller's contract.
    unsafe {
        let _l = stdio::lock(fp);
        if sputn(fp, s as *const u8, n) == n { 0 } else { -1 }
    }
}

/// Whether glibc's own function puts `n` bytes into `fp` without a write and without waiting
/// for the lock: a fully buffered stream in put mode with room for them, its lock free or ours.
/// Then glibc's is cheaper than ours (a `fwrite` of 12 bytes to a pipe took 45 ns through ours
/// against 25 natively; 33 with this).
///
/// # Safety
/// `fp` is a live FILE.
#[inline]
unsafe fn fits(fp: *mut File, n: usize) -> bool {
    // SAFETY: the caller's contract; a look at the fields glibc's call will check again.
    unsafe {
        putting(fp)
            && (*fp).flags & (IO_LINE_BUF | IO_UNBUFFERED) == 0
            && ((*fp).write_end as usize).saturating_sub((*fp).write_ptr as usize) >= n
            && stdio::lock_uncontended(fp)
    }
}

/// fwrite (`locked` false: fwrite_unlocked); None: glibc's function does it (not a stream
/// [`handles`] takes, or it [`fits`]).
///
/// # Safety
/// `fp` is a live FILE; `buf` holds `size * count` bytes.
#[inline]
pub unsafe fn fwrite(buf: *const c_void, size: usize, count: usize, fp: *mut File, locked: bool) -> Option<usize> {
    // SAFETY (whole body): the caller's contract.
    unsafe {
        let request = size.wrapping_mul(count);
        if !handles(fp) || fits(fp, request) {
            return None;
        }
        if request == 0 {
            return Some(0);
        }
        let _l = locked.then(|| stdio::lock(fp));
        let written = sputn(fp, buf as *const u8, request);
        // glibc's answer: the bytes are buffered even when writing the buffer out failed.
        Some(if written == request || written == XSPUTN_FAILED { count } else { written / size })
    }
}

/// fputs (`locked` false: fputs_unlocked): 1, or EOF; None: glibc's function does it (as
/// [`fwrite`]).
///
/// # Safety
/// `fp` is a live FILE; `s` is a NUL-terminated string.
#[inline]
pub unsafe fn fputs(s: *const core::ffi::c_char, fp: *mut File, locked: bool) -> Option<c_int> {
    // SAFETY (whole body): the caller's contract.
    unsafe {
        if !handles(fp) {
            return None;
        }
        let len = libc::strlen(s);
        if fits(fp, len) {
            return None;
        }
        let _l = locked.then(|| stdio::lock(fp));
        Some(if sputn(fp, s as *const u8, len) == len { 1 } else { EOF })
    }
}

/// puts: the string and a newline to stdout; None: stdout is not a stream [`handles`] takes.
///
/// # Safety
/// `s` is a NUL-terminated string.
#[inline]
pub unsafe fn puts(s: *const core::ffi::c_char) -> Option<c_int> {
    // SAFETY (whole body): the caller's contract; stdout is glibc's live stream.
    unsafe {
        let fp = stdio::stdout_file();
        if !handles(fp) {
            return None;
        }
        let len = libc::strlen(s);
        if fits(fp, len.saturating_add(1)) {
            return None;
        }
        let _l = stdio::lock(fp);
        Some(if sputn(fp, s as *const u8, len) == len && putc(fp, b'\n' as c_int) != EOF { len.saturating_add(1).min(c_int::MAX as usize) as c_int } else { EOF })
    }
}

/// csrc/printf.c's question: whether [`write_locked`] takes `fp` (1) or glibc's vfprintf does (0).
///
/// # Safety
/// `fp` is a live FILE or null.
#[no_mangle]
pub unsafe extern "C-unwind" fn libgreen_stdio_write_handles(fp: *mut File) -> c_int {
    // SAFETY: the caller's contract.
    unsafe { handles(fp) as c_int }
}

/// csrc/printf.c's write of formatted output: [`write_locked`]. "C-unwind": a cancellation
/// while the write waits unwinds from here through the C caller, releasing the stream's lock.
///
/// # Safety
/// As [`write_locked`].
#[no_mangle]
pub unsafe extern "C-unwind" fn libgreen_stdio_write(fp: *mut File, s: *const c_void, n: usize) -> c_int {
    // SAFETY: the caller's contract.
    unsafe { write_locked(fp, s, n) }
}

/// csrc/printf.c's question for dprintf/vdprintf: whether the calling thread's output to `fd`
/// goes through [`libgreen_fd_write`] (a green thread, a pipe, FIFO or socket) or glibc's
/// vdprintf (1 or 0).
#[no_mangle]
pub extern "C-unwind" fn libgreen_fd_write_handles(fd: c_int) -> c_int {
    (fd >= 0 && hub::current().is_some() && matches!(fd::kind(fd), Kind::Pipe | Kind::Socket)) as c_int
}

/// dprintf's formatted output, all of it, to `fd` with the cooperative write: 0, or -1 with
/// errno (what glibc's vdprintf reports when its flush fails). "C-unwind": a cancellation
/// while it waits unwinds through the C caller, which releases its sink.
///
/// # Safety
/// `s` holds `n` bytes.
#[no_mangle]
pub unsafe extern "C-unwind" fn libgreen_fd_write(fd: c_int, s: *const c_void, n: usize) -> c_int {
    // SAFETY: the caller's contract.
    if unsafe { write_all(fd, s as *const u8, n) }.1 { -1 } else { 0 }
}
