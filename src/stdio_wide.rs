//! Wide-character stdio input of green threads (`fgetwc`'s family, `fgetws`): glibc converts
//! wide characters from the stream's byte buffer and refills that buffer through its internal
//! read, as for the narrow functions (stdio.rs), so a green `fgetws` on a pipe blocked the
//! carrier. When neither the wide nor the byte buffer holds anything, the thread first waits in
//! the hub until the fd polls readable (stdio.rs `wait_for_refill`: the same flushes, EINTR and
//! SO_RCVTIMEO answers), and glibc's `fgetwc_unlocked` then converts what arrived without
//! blocking. The FILE's lock is taken cooperatively (stdio.rs `lock`).
//!
//! Still glibc's own wait: the rest of a multibyte character that arrives in two pieces (glibc
//! reads again for it), a stream switching from writing to reading (its wide output is
//! converted by glibc's refill) and the wide scanf family.

use core::ffi::c_int;
use core::ptr::null_mut;

use crate::stdio::{self, File, IO_CURRENTLY_PUTTING, IO_ERR_SEEN};

/// WEOF (wint_t -1).
pub const WEOF: u32 = u32::MAX;

/// The first fields of glibc's `struct _IO_wide_data` (libio.h): the wide read buffer.
#[repr(C)]
struct WideData {
    read_ptr: *const u32,
    read_end: *const u32,
}

type GetWc = unsafe extern "C" fn(*mut File) -> u32;

stdio::glibc! {
    real_fgetwc_unlocked: GetWc = c"fgetwc_unlocked";
}

/// The next wide character of `fp`, whose lock the caller holds or owns.
///
/// # Safety
/// `fp` is a live FILE the caller may read without taking its lock.
unsafe fn getwc_held(fp: *mut File) -> u32 {
    // SAFETY (whole body): the caller's contract; `_wide_data` is glibc's while the FILE lives.
    unsafe {
        let w = (*fp).wide_data as *const WideData;
        let wide_buffered = !w.is_null() && (*w).read_ptr < (*w).read_end;
        // A byte-oriented stream gets WEOF at once from glibc; one writing converts its wide
        // output in glibc's refill.
        let waits = !wide_buffered && (*fp).mode >= 0 && (*fp).flags & IO_CURRENTLY_PUTTING == 0;
        match if waits { stdio::wait_for_refill(fp) } else { None } {
            Some(Err(e)) => {
                stdio::refill_failed(fp, e);
                WEOF
            }
            Some(Ok(_turn)) => real_fgetwc_unlocked()(fp),
            None => real_fgetwc_unlocked()(fp),
        }
    }
}

/// fgetwc (`locked` false: fgetwc_unlocked): the next wide character, WEOF at end or on error.
///
/// # Safety
/// `fp` is a live FILE; with `locked` false the caller owns it.
pub unsafe fn getwc(fp: *mut File, locked: bool) -> u32 {
    // SAFETY: the caller's contract; we hold the lock when asked to.
    unsafe {
        let _l = locked.then(|| stdio::lock(fp));
        getwc_held(fp)
    }
}

/// fgetws (glibc 2.36's, over [`getwc_held`]): up to `n - 1` wide characters through the first
/// newline, NUL-terminated; NULL if none was read, or on an error other than EAGAIN.
///
/// # Safety
/// `fp` is a live FILE (owned by the caller when `locked` is false); `buf` has room for `n`.
pub unsafe fn fgetws(buf: *mut u32, n: c_int, fp: *mut File, locked: bool) -> *mut u32 {
    if n <= 0 {
        return null_mut();
    }
    // SAFETY (whole body): the caller's contract.
    unsafe {
        if n == 1 {
            *buf = 0;
            return buf;
        }
        let _l = locked.then(|| stdio::lock(fp));
        let old_error = (*fp).flags & IO_ERR_SEEN;
        (*fp).flags &= !IO_ERR_SEEN;
        let mut count = 0usize;
        while count < n as usize - 1 {
            let c = getwc_held(fp);
            if c == WEOF {
                break;
            }
            *buf.add(count) = c;
            count += 1;
            if c == '\n' as u32 {
                break;
            }
        }
        let failed = (*fp).flags & IO_ERR_SEEN != 0 && *libc::__errno_location() != libc::EAGAIN;
        let result = if count == 0 || failed {
            null_mut()
        } else {
            *buf.add(count) = 0;
            buf
        };
        (*fp).flags |= old_error;
        result
    }
}
