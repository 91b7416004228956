//! stdio input streams of green threads on pipes, FIFOs, sockets and terminals.
//!
//! glibc refills a FILE's buffer through the FILE's vtable and its internal `read`, which no
//! hook reaches: `fgets` on a pipe blocked the carrier. The reading functions a program calls
//! come here instead (preload/src/hooks/stdio.rs), and every refill glibc would make waits in
//! the hub first, until the fd polls readable, so glibc's own refill then reads without
//! blocking:
//! - `__uflow`/`__underflow` (what the inline `getc_unlocked` calls on an empty buffer) and
//!   getc's family wait, then call glibc's;
//! - fgets and getdelim are glibc 2.36's `_IO_getline` and `__getdelim` re-done on the FILE's
//!   public buffer fields, with that wait before each refill (their refills are internal calls);
//! - fread is cut into glibc `fread_unlocked` calls that cannot block: what the buffer holds,
//!   then after each wait at most what FIONREAD says the fd has (so glibc still reads large
//!   requests straight into the caller's buffer).
//!
//! Before waiting, what glibc's refill does before its `read` is done first: a stream in put
//! mode flushes its output (a request written to a socket stream before reading the answer),
//! and a line-buffered or unbuffered input stream flushes a line-buffered stdout (a prompt).
//! The wait ends as the blocking read would fail: EINTR after a handler without SA_RESTART,
//! EAGAIN at a socket's SO_RCVTIMEO; the stream then gets its error flag, as glibc sets it.
//!
//! A green thread now waits holding the FILE's lock, as a native thread blocks in `read`
//! holding it, so these functions take the lock cooperatively: a thread that finds it taken
//! parks until our unlock wakes it (or a timer tick, for an unlock by glibc's own code) instead
//! of blocking its carrier in glibc's lock.
//!
//! Streams that never wait here: regular files and anything else `fd::kind` passes through, a
//! stream without an fd (fmemopen, fopencookie), one at EOF, with buffered or pushed-back
//! bytes, or opened write-only. scanf's family waits through these refills too (scanf.rs), and
//! the wide-character reading functions through the same wait (stdio_wide.rs).

use core::ffi::{c_int, c_void, CStr};
use core::mem::offset_of;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::fd::{self, Dir, Kind};
use crate::task::ParkReason;
use crate::turn::Turn;
use crate::{hub, park, sys};

pub const EOF: c_int = -1;

// glibc's `_flags` bits (libio.h).
pub(crate) const IO_UNBUFFERED: c_int = 0x2;
pub(crate) const IO_NO_READS: c_int = 0x4;
pub(crate) const IO_NO_WRITES: c_int = 0x8;
pub(crate) const IO_EOF_SEEN: c_int = 0x10;
pub(crate) const IO_ERR_SEEN: c_int = 0x20;
pub(crate) const IO_LINKED: c_int = 0x80;
pub(crate) const IO_IN_BACKUP: c_int = 0x100;
pub(crate) const IO_LINE_BUF: c_int = 0x200;
pub(crate) const IO_CURRENTLY_PUTTING: c_int = 0x800;
pub(crate) const IO_USER_LOCK: c_int = 0x8000;

/// `struct _IO_FILE` up to `_mode` (bits/types/struct_FILE.h: public, stable ABI).
#[repr(C)]
pub struct File {
    pub(crate) flags: c_int,
    pub(crate) read_ptr: *mut u8,
    pub(crate) read_end: *mut u8,
    pub(crate) read_base: *mut u8,
    pub(crate) write_base: *mut u8,
    pub(crate) write_ptr: *mut u8,
    pub(crate) write_end: *mut u8,
    pub(crate) buf_base: *mut u8,
    pub(crate) buf_end: *mut u8,
    pub(crate) save_base: *mut u8,
    pub(crate) backup_base: *mut u8,
    pub(crate) save_end: *mut u8,
    pub(crate) markers: *mut c_void,
    pub(crate) chain: *mut File,
    pub(crate) fileno: c_int,
    pub(crate) flags2: c_int,
    pub(crate) old_offset: i64,
    pub(crate) cur_column: u16,
    pub(crate) vtable_offset: i8,
    pub(crate) shortbuf: [u8; 1],
    pub(crate) lock: *mut IoLock,
    pub(crate) offset: i64,
    pub(crate) codecvt: *mut c_void,
    pub(crate) wide_data: *mut c_void,
    pub(crate) freeres_list: *mut File,
    pub(crate) freeres_buf: *mut c_void,
    pub(crate) pad5: usize,
    pub(crate) mode: c_int,
}

const _: () = assert!(offset_of!(File, fileno) == 112 && offset_of!(File, lock) == 136 && offset_of!(File, mode) == 192);

/// glibc's `_IO_lock_t`: a recursive lock (futex word, depth, owner TCB).
#[repr(C)]
pub(crate) struct IoLock {
    lock: c_int,
    cnt: c_int,
    owner: *mut c_void,
}

extern "C" {
    static mut stdout: *mut File;
    fn ftrylockfile(fp: *mut File) -> c_int;
    fn funlockfile(fp: *mut File);
    fn fflush(fp: *mut File) -> c_int;
    fn fflush_unlocked(fp: *mut File) -> c_int;
    pub(crate) fn fwide(fp: *mut File, mode: c_int) -> c_int;
}

type Refill = unsafe extern "C" fn(*mut File) -> c_int;
type FreadUnlocked = unsafe extern "C" fn(*mut c_void, usize, usize, *mut File) -> usize;

/// glibc's `name` (libgreen interposes it), resolved once.
pub(crate) fn glibc_fn(slot: &AtomicUsize, name: &CStr) -> usize {
    let p = slot.load(Ordering::Relaxed);
    if p != 0 {
        return p;
    }
    let p = crate::osthread::next_symbol(name).unwrap_or_else(|| crate::log::fatal(format_args!("cannot find glibc's {}", name.to_string_lossy())));
    slot.store(p, Ordering::Relaxed);
    p
}

/// `fn $name() -> $ty`: glibc's function `$sym`, which libgreen interposes.
macro_rules! glibc {
    ($($name:ident: $ty:ty = $sym:literal;)*) => {$(
        fn $name() -> $ty {
            static SLOT: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);
            // SAFETY: glibc's function of this name has this type.
            unsafe { core::mem::transmute::<usize, $ty>($crate::stdio::glibc_fn(&SLOT, $sym)) }
        }
    )*};
}
pub(crate) use glibc;

glibc! {
    real_uflow: Refill = c"__uflow";
    real_underflow: Refill = c"__underflow";
    real_fgetc: Refill = c"fgetc";
    real_fread_unlocked: FreadUnlocked = c"fread_unlocked";
}

pub(crate) fn set_errno(e: c_int) {
    // SAFETY: the calling thread's errno.
    unsafe { *libc::__errno_location() = e };
}

/// Bytes buffered for reading (negative in put mode never happens: glibc keeps them equal).
///
/// # Safety
/// `fp` is a live FILE whose lock the caller holds (or an unlocked call's caller owns it).
pub(crate) unsafe fn buffered(fp: *mut File) -> usize {
    // SAFETY: the caller's contract.
    unsafe { ((*fp).read_end as usize).saturating_sub((*fp).read_ptr as usize) }
}

/// What glibc's refill of `fp` does before its `read`, then the wait in the hub until the fd
/// polls readable. None: no wait is needed (not green, bytes buffered, not an fd that waits…);
/// Some(Ok(turn)): refill now, holding the turn; Some(Err(errno)): the blocking read would have
/// failed with errno.
///
/// # Safety
/// As [`buffered`].
pub(crate) unsafe fn wait_for_refill(fp: *mut File) -> Option<Result<Turn, c_int>> {
    hub::current()?;
    // SAFETY (whole body): the caller's contract; `stdout` is glibc's variable.
    unsafe {
        let flags = (*fp).flags;
        if flags & (IO_NO_READS | IO_EOF_SEEN | IO_IN_BACKUP) != 0 || (*fp).fileno < 0 {
            return None;
        }
        let putting = flags & IO_CURRENTLY_PUTTING != 0;
        if !putting && buffered(fp) > 0 {
            return None;
        }
        let fd = (*fp).fileno;
        let kind = fd::kind(fd);
        let deadline = match kind {
            Kind::Pipe => None,
            Kind::Tty if fd::tty_read_waits(fd) => None,
            Kind::Socket => fd::timeout_deadline(fd, Dir::Read),
            _ => return None,
        };
        // In glibc's order: the stream's own output (its switch to get mode), then stdout.
        if putting {
            if (*fp).write_ptr > (*fp).write_base && fflush_unlocked(fp) != 0 {
                return None; // glibc's refill fails the same way
            }
            // The switch reads from write_ptr up to the old read_end.
            if (*fp).read_end > (*fp).write_ptr {
                return None;
            }
        }
        // A terminal's first refill allocates its buffer and marks the stream line-buffered
        // before the check.
        let line_buffered = flags & (IO_LINE_BUF | IO_UNBUFFERED) != 0 || ((*fp).buf_base.is_null() && kind == Kind::Tty);
        if line_buffered {
            let out = stdout;
            if !out.is_null() && out != fp && (*out).flags & (IO_LINKED | IO_NO_WRITES | IO_LINE_BUF) == IO_LINKED | IO_LINE_BUF {
                fflush(out);
            }
        }
        Some(fd::wait_ready_until(fd, Dir::Read, deadline).map_err(|e| (-e) as c_int))
    }
}

/// The refill failed as glibc's read failure makes it fail.
///
/// # Safety
/// As [`buffered`].
pub(crate) unsafe fn refill_failed(fp: *mut File, errno: c_int) -> c_int {
    // SAFETY: the caller's contract.
    unsafe { (*fp).flags |= IO_ERR_SEEN };
    set_errno(errno);
    EOF
}

/// `refill` (glibc's __uflow or __underflow) after the wait.
unsafe fn refill_with(fp: *mut File, refill: Refill) -> c_int {
    // SAFETY (both): the caller's contract, which is glibc's for these functions.
    match unsafe { wait_for_refill(fp) } {
        Some(Err(e)) => unsafe { refill_failed(fp, e) },
        Some(Ok(_turn)) => unsafe { refill(fp) },
        None => unsafe { refill(fp) },
    }
}

/// `__uflow`: the next byte, consumed, refilling the buffer first.
///
/// # Safety
/// `fp` is a live FILE the caller may read without its lock (glibc's contract).
pub unsafe fn uflow(fp: *mut File) -> c_int {
    // SAFETY: the caller's contract.
    unsafe { refill_with(fp, real_uflow()) }
}

/// `__underflow`: the next byte, left in the buffer.
///
/// # Safety
/// As [`uflow`].
pub unsafe fn underflow(fp: *mut File) -> c_int {
    // SAFETY: the caller's contract.
    unsafe { refill_with(fp, real_underflow()) }
}

/// Whether glibc's own locking of `fp` would not wait: the stream is locked by its caller
/// (FSETLOCKING_BYCALLER), or its lock is free or ours. With several carriers another thread may
/// take it between this look and glibc's lock: then glibc waits in the kernel while it holds it.
///
/// # Safety
/// `fp` is a live FILE.
pub(crate) unsafe fn lock_uncontended(fp: *mut File) -> bool {
    // SAFETY: the caller's contract; `_lock` points to glibc's lock while the FILE lives.
    unsafe {
        if (*fp).flags & IO_USER_LOCK != 0 {
            return true;
        }
        let l = (*fp).lock;
        l.is_null() || core::ptr::read_volatile(&(*l).lock) == 0 || core::ptr::read_volatile(&(*l).owner) as usize == crate::tls::thread_pointer()
    }
}

/// Green threads parked on a FILE lock (our unlocks skip the wake-up while none is).
static LOCK_WAITERS: AtomicUsize = AtomicUsize::new(0);

/// The FILE's lock, held until drop (nothing for a stream the program locks itself:
/// `__fsetlocking(FSETLOCKING_BYCALLER)`, as glibc's functions skip it then).
pub struct Locked(*mut File);

fn lock_key(fp: *mut File) -> usize {
    0xE000_0000_0000_0000 | fp as usize
}

/// Takes `fp`'s lock without blocking the carrier: its holder may be a green thread parked in
/// one of these functions.
///
/// # Safety
/// `fp` is a live FILE.
#[inline(never)]
pub unsafe fn lock(fp: *mut File) -> Locked {
    // SAFETY (whole body): `fp` is live; its `_lock` points to glibc's lock while it is.
    unsafe {
        if (*fp).flags & IO_USER_LOCK != 0 {
            return Locked(null_mut());
        }
        let mut backoff = park::Backoff::new(true, None);
        while ftrylockfile(fp) != 0 {
            let word = (*fp).lock;
            LOCK_WAITERS.fetch_add(1, Ordering::SeqCst);
            park::park(lock_key(fp), !0, || !word.is_null() && core::ptr::read_volatile(&(*word).lock) != 0, backoff.deadline(), ParkReason::Mutex);
            LOCK_WAITERS.fetch_sub(1, Ordering::SeqCst);
        }
        Locked(fp)
    }
}

impl Locked {
    /// Keeps the lock past this guard's life, for a caller in C that releases it with
    /// [`unlock`].
    pub(crate) fn keep(self) {
        core::mem::forget(self);
    }
}

impl Drop for Locked {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: we hold this live FILE's lock.
            unsafe { unlock(self.0) };
        }
    }
}

/// Releases `fp`'s lock taken with [`lock`] and wakes green threads parked on it.
///
/// # Safety
/// The caller holds the lock of the live FILE `fp` (not a FSETLOCKING_BYCALLER stream).
pub(crate) unsafe fn unlock(fp: *mut File) {
    // SAFETY: the caller's contract.
    unsafe { funlockfile(fp) };
    if LOCK_WAITERS.load(Ordering::SeqCst) != 0 {
        park::unpark_all(lock_key(fp));
    }
}

/// getc: the next byte (EOF at end of file or on error).
///
/// # Safety
/// `fp` is a live FILE; with `locked` false the caller owns it (the `_unlocked` functions).
pub unsafe fn getc(fp: *mut File, locked: bool) -> c_int {
    // SAFETY (whole body): the caller's contract; we hold the lock when asked to.
    unsafe {
        if locked && buffered(fp) > 0 && lock_uncontended(fp) {
            // No refill and nobody to wait for: glibc's own getc (a lock of our own costs two
            // calls into glibc per byte).
            return real_fgetc()(fp);
        }
        let _l = locked.then(|| lock(fp));
        if buffered(fp) > 0 {
            let c = *(*fp).read_ptr;
            (*fp).read_ptr = (*fp).read_ptr.add(1);
            return c as c_int;
        }
        uflow(fp)
    }
}

/// glibc's `_IO_getline(fp, buf, n, delim, 1)`: up to `n` bytes, through the first `delim`.
///
/// # Safety
/// `fp` is a live FILE the caller holds; `buf` has room for `n` bytes.
unsafe fn get_line(fp: *mut File, buf: *mut u8, mut n: usize, delim: c_int) -> usize {
    // SAFETY (whole body): the caller's contract; copies stay inside [read_ptr, read_end) and
    // the `n` bytes of `buf`.
    unsafe {
        let mut out = buf;
        if (*fp).mode == 0 {
            fwide(fp, -1);
        }
        while n != 0 {
            let len = buffered(fp);
            if len == 0 {
                let c = uflow(fp);
                if c == EOF {
                    break;
                }
                *out = c as u8;
                out = out.add(1);
                if c == delim {
                    break;
                }
                n -= 1;
            } else {
                let len = len.min(n);
                let src = (*fp).read_ptr;
                let hit = libc::memchr(src as *const c_void, delim, len) as *mut u8;
                let take = if hit.is_null() { len } else { hit.offset_from(src) as usize + 1 };
                core::ptr::copy_nonoverlapping(src, out, take);
                (*fp).read_ptr = src.add(take);
                out = out.add(take);
                if !hit.is_null() {
                    break;
                }
                n -= take;
            }
        }
        out.offset_from(buf) as usize
    }
}

/// fgets (glibc 2.36's `_IO_fgets`; `locked` false: fgets_unlocked).
///
/// # Safety
/// `fp` is a live FILE; `buf` has room for `n` bytes.
pub unsafe fn fgets(buf: *mut u8, n: c_int, fp: *mut File, locked: bool) -> *mut u8 {
    if n <= 0 {
        return null_mut();
    }
    // SAFETY (whole body): the caller's contract.
    unsafe {
        if n == 1 {
            *buf = 0;
            return buf;
        }
        let _l = locked.then(|| lock(fp));
        // As glibc: an error is reported only when this call makes a new one.
        let old_error = (*fp).flags & IO_ERR_SEEN;
        (*fp).flags &= !IO_ERR_SEEN;
        let count = get_line(fp, buf, n as usize - 1, b'\n' as c_int);
        let result = if count == 0 || ((*fp).flags & IO_ERR_SEEN != 0 && *libc::__errno_location() != libc::EAGAIN) {
            null_mut()
        } else {
            *buf.add(count) = 0;
            buf
        };
        (*fp).flags |= old_error;
        result
    }
}

/// getdelim (glibc 2.36's `__getdelim`): a line through `delim` into the malloc'd `*line`.
///
/// # Safety
/// `fp` is a live FILE; `line` and `cap` are null or as getdelim(3) requires.
pub unsafe fn getdelim(line: *mut *mut u8, cap: *mut usize, delim: c_int, fp: *mut File) -> isize {
    if line.is_null() || cap.is_null() {
        set_errno(libc::EINVAL);
        return -1;
    }
    // SAFETY (whole body): the caller's contract; copies stay inside the buffered bytes and the
    // `*cap` bytes of `*line`, grown with the program's realloc as glibc grows it.
    unsafe {
        let _l = lock(fp);
        if (*fp).flags & IO_ERR_SEEN != 0 {
            return -1;
        }
        if (*line).is_null() || *cap == 0 {
            *cap = 120;
            *line = libc::malloc(*cap) as *mut u8;
            if (*line).is_null() {
                return -1;
            }
        }
        let mut len = buffered(fp);
        if len == 0 {
            if underflow(fp) == EOF {
                return -1;
            }
            len = buffered(fp);
        }
        let mut cur = 0usize;
        loop {
            let src = (*fp).read_ptr;
            let hit = libc::memchr(src as *const c_void, delim, len) as *mut u8;
            if !hit.is_null() {
                len = hit.offset_from(src) as usize + 1;
            }
            if len >= isize::MAX as usize - cur {
                set_errno(libc::EOVERFLOW);
                return -1;
            }
            let mut needed = cur + len + 1;
            if needed > *cap {
                needed = needed.max(cap.read().wrapping_mul(2));
                let grown = libc::realloc(*line as *mut c_void, needed) as *mut u8;
                if grown.is_null() {
                    return -1;
                }
                *line = grown;
                *cap = needed;
            }
            core::ptr::copy_nonoverlapping(src, (*line).add(cur), len);
            (*fp).read_ptr = src.add(len);
            cur += len;
            if !hit.is_null() || underflow(fp) == EOF {
                break;
            }
            len = buffered(fp);
        }
        *(*line).add(cur) = 0;
        cur as isize
    }
}

/// fread (`locked` false: fread_unlocked), in glibc calls that cannot block.
///
/// # Safety
/// `fp` is a live FILE; `buf` has room for `size * count` bytes.
pub unsafe fn fread(buf: *mut u8, size: usize, count: usize, fp: *mut File, locked: bool) -> usize {
    let bytes = size.wrapping_mul(count);
    if bytes == 0 {
        return 0;
    }
    let read = real_fread_unlocked();
    // SAFETY (whole body): the caller's contract; every call stays inside `buf`'s `bytes`.
    unsafe {
        let _l = locked.then(|| lock(fp));
        let mut done = 0;
        while done < bytes {
            let left = bytes - done;
            let have = buffered(fp);
            let mut _turn = Turn::NONE;
            let step = if have > 0 {
                have.min(left)
            } else {
                match wait_for_refill(fp) {
                    None => left, // nothing to wait for: glibc's fread does the rest
                    Some(Err(e)) => {
                        refill_failed(fp, e);
                        break;
                    }
                    Some(Ok(turn)) => {
                        _turn = turn;
                        left.min(readable_bytes((*fp).fileno).max(1))
                    }
                }
            };
            let got = read(buf.add(done) as *mut c_void, 1, step, fp);
            done += got;
            if got < step {
                break;
            }
        }
        if done == bytes { count } else { done / size }
    }
}

/// What a read of `fd` returns without waiting (FIONREAD; a terminal in canonical mode counts
/// whole lines only); 0 when unknown.
fn readable_bytes(fd: c_int) -> usize {
    let mut n: c_int = 0;
    // SAFETY: FIONREAD writes one int.
    let r = unsafe { sys::syscall3(libc::SYS_ioctl, fd as usize, libc::FIONREAD as usize, &mut n as *mut c_int as usize) };
    if r < 0 { 0 } else { n.max(0) as usize }
}

/// The program's `stdout`.
pub fn stdout_file() -> *mut File {
    // SAFETY: glibc's variable, read once.
    unsafe { stdout }
}

/// The program's `stdin`.
pub fn stdin() -> *mut File {
    extern "C" {
        static mut stdin: *mut File;
    }
    // SAFETY: glibc's variable, read once.
    unsafe { stdin }
}
