//! The scanf family of green threads on pipes, FIFOs, sockets and terminals (csrc/scanf.c).
//!
//! glibc's vfscanf refills the stream through internal calls (`__uflow`), so a scanf that needs
//! more input than is buffered blocked the carrier. Which refills a conversion needs is only
//! known inside vfscanf, so glibc's vfscanf runs on a private cookie stream whose read function
//! (here) hands it the real stream's buffered bytes, refilling the real stream with the
//! cooperative wait of stdio.rs first when it is empty. The real stream stays locked meanwhile,
//! as glibc's vfscanf holds it. What vfscanf did not consume (read ahead, or pushed back with
//! ungetc) is still in the cookie stream's buffer afterwards: it is the tail of the last
//! hand-over, which came from the real stream's current buffer, so the real stream's read
//! pointer moves back over it. Conversions, counts, `%n`, EOF and error flags, errno and the
//! stream position then come out as glibc's call on the real stream would leave them.

use core::ffi::c_int;

use crate::fd::{self, Kind};
use crate::hub;
use crate::stdio::{self, File, EOF, IO_ERR_SEEN, IO_NO_READS};

/// The state shared with csrc/scanf.c for one call.
#[repr(C)]
pub struct ScanCtx {
    fp: *mut File,
    /// Bytes handed over by the last read.
    last_given: usize,
}

/// Whether a scanf on `fp` by the calling thread takes the cooperative path: a green thread
/// reading a stream on a pipe, FIFO, socket or terminal (any other stream's refills cannot
/// wait, so glibc's call is made as is).
///
/// # Safety
/// `fp` is a live FILE.
#[no_mangle]
pub unsafe extern "C" fn libgreen_scanf_waits(fp: *mut File) -> c_int {
    if hub::current().is_none() {
        return 0;
    }
    // SAFETY: the caller's contract.
    let (flags, fdn) = unsafe { ((*fp).flags, (*fp).fileno) };
    if flags & IO_NO_READS != 0 || fdn < 0 {
        return 0;
    }
    let waits = match fd::kind(fdn) {
        Kind::Pipe | Kind::Socket => true,
        Kind::Tty => fd::tty_read_waits(fdn),
        _ => false,
    };
    waits as c_int
}

/// Takes `fp`'s lock cooperatively for the call (released by [`libgreen_scan_unlock`]).
///
/// # Safety
/// `fp` is a live FILE.
#[no_mangle]
pub unsafe extern "C-unwind" fn libgreen_scan_lock(fp: *mut File) {
    // SAFETY: the caller's contract.
    unsafe { stdio::lock(fp) }.keep();
}

/// Releases the lock [`libgreen_scan_lock`] took.
///
/// # Safety
/// The calling thread took it with [`libgreen_scan_lock`].
#[no_mangle]
pub unsafe extern "C" fn libgreen_scan_unlock(fp: *mut File) {
    // SAFETY: the caller's contract; a FSETLOCKING_BYCALLER stream was not locked.
    unsafe {
        if (*fp).flags & stdio::IO_USER_LOCK == 0 {
            stdio::unlock(fp);
        }
    }
}

/// The cookie stream's read: the real stream's buffered bytes (at most `size`), after a
/// cooperative refill when it has none. 0 at end of file, -1 with errno on a read error.
///
/// # Safety
/// `ctx` is the call's live context, whose stream the caller holds; `buf` has `size` bytes.
#[no_mangle]
pub unsafe extern "C-unwind" fn libgreen_scan_read(ctx: *mut ScanCtx, buf: *mut u8, size: usize) -> isize {
    // SAFETY (whole body): the caller's contract; copies stay inside [read_ptr, read_end).
    unsafe {
        let fp = (*ctx).fp;
        (*ctx).last_given = 0;
        if stdio::buffered(fp) == 0 && stdio::underflow(fp) == EOF {
            return if (*fp).flags & IO_ERR_SEEN != 0 { -1 } else { 0 };
        }
        let n = stdio::buffered(fp).min(size);
        core::ptr::copy_nonoverlapping((*fp).read_ptr, buf, n);
        (*fp).read_ptr = (*fp).read_ptr.add(n);
        (*ctx).last_given = n;
        n as isize
    }
}

/// After glibc's vfscanf: gives the `left` bytes it did not consume back to the real stream.
///
/// # Safety
/// As [`libgreen_scan_read`].
#[no_mangle]
pub unsafe extern "C" fn libgreen_scan_restore(ctx: *mut ScanCtx, left: usize) {
    // SAFETY: the unconsumed bytes are the tail of the last hand-over, still in the real
    // stream's buffer just below its read pointer (module doc).
    unsafe {
        // (A read that found end of file handed over nothing, and left the cookie stream's
        // buffer empty: the stream's EOF flag and bytes to give back never come together.)
        let fp = (*ctx).fp;
        (*fp).read_ptr = (*fp).read_ptr.sub(left.min((*ctx).last_given));
    }
}
