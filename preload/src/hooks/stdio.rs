//! stdio input: the reading functions a program calls on a FILE, so that a green thread reading
//! a pipe, FIFO, socket or terminal stream waits in the hub (green_rt::stdio) instead of in
//! glibc's internal read. `__uflow`/`__underflow` are what the inline `getc_unlocked` and
//! `fgetc_unlocked` call on an empty buffer. Callers that are not green take glibc's functions.
//! fclose and freopen close the stream's fd through glibc's internal close, which our `close`
//! never sees: they forget the fd first (its epoll registration and kind would otherwise be
//! taken for the next fd that gets its number).

use core::ffi::{c_char, c_int, c_void};

use green_rt::{fd, hub};
use green_rt::stdio::{self, File};
use green_rt::stdio_write;
use green_rt::stdio_wide;

use crate::real;

fn file(fp: *mut libc::FILE) -> *mut File {
    fp as *mut File
}

/// A getc-like hook: `$get(fp, $locked)` for green callers, glibc's `$name` otherwise.
macro_rules! getc_hook {
    ($name:ident, $locked:expr, $ret:ty, $get:path) => {
        #[no_mangle]
        pub unsafe extern "C-unwind" fn $name(fp: *mut libc::FILE) -> $ret {
            if hub::current().is_some() {
                // SAFETY: the caller's FILE, as glibc's function would receive it.
                return unsafe { $get(file(fp), $locked) };
            }
            // SAFETY: forwarded unchanged.
            unsafe { real::$name()(fp) }
        }
    };
}

/// A getchar-like hook: the same on the program's stdin (owned by the caller when unlocked).
macro_rules! getchar_hook {
    ($name:ident, $locked:expr, $ret:ty, $get:path) => {
        #[no_mangle]
        pub unsafe extern "C-unwind" fn $name() -> $ret {
            if hub::current().is_some() {
                // SAFETY: the program's stdin.
                return unsafe { $get(stdio::stdin(), $locked) };
            }
            // SAFETY: forwarded unchanged.
            unsafe { real::$name()() }
        }
    };
}

getc_hook!(fgetc, true, c_int, stdio::getc);
getc_hook!(getc, true, c_int, stdio::getc);
getc_hook!(_IO_getc, true, c_int, stdio::getc);
getc_hook!(fgetc_unlocked, false, c_int, stdio::getc);
getc_hook!(getc_unlocked, false, c_int, stdio::getc);
getchar_hook!(getchar, true, c_int, stdio::getc);
getchar_hook!(getchar_unlocked, false, c_int, stdio::getc);
getc_hook!(fgetwc, true, u32, stdio_wide::getwc);
getc_hook!(getwc, true, u32, stdio_wide::getwc);
getc_hook!(fgetwc_unlocked, false, u32, stdio_wide::getwc);
getc_hook!(getwc_unlocked, false, u32, stdio_wide::getwc);
getchar_hook!(getwchar, true, u32, stdio_wide::getwc);
getchar_hook!(getwchar_unlocked, false, u32, stdio_wide::getwc);

#[no_mangle]
pub unsafe extern "C-unwind" fn __uflow(fp: *mut libc::FILE) -> c_int {
    if hub::current().is_some() {
        // SAFETY: the caller's FILE (glibc's contract: the caller owns it).
        return unsafe { stdio::uflow(file(fp)) };
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::__uflow()(fp) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn __underflow(fp: *mut libc::FILE) -> c_int {
    if hub::current().is_some() {
        // SAFETY: as __uflow.
        return unsafe { stdio::underflow(file(fp)) };
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::__underflow()(fp) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn fgets(buf: *mut c_char, n: c_int, fp: *mut libc::FILE) -> *mut c_char {
    if hub::current().is_some() {
        // SAFETY: the caller's buffer of n bytes and FILE.
        return unsafe { stdio::fgets(buf as *mut u8, n, file(fp), true) as *mut c_char };
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::fgets()(buf, n, fp) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn fgets_unlocked(buf: *mut c_char, n: c_int, fp: *mut libc::FILE) -> *mut c_char {
    if hub::current().is_some() {
        // SAFETY: as fgets; the caller owns the FILE.
        return unsafe { stdio::fgets(buf as *mut u8, n, file(fp), false) as *mut c_char };
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::fgets_unlocked()(buf, n, fp) }
}

/// Whether a fortified fgets of `n` bytes into a `size`-byte buffer can neither overflow nor
/// differ from fgets: otherwise glibc's own check runs (and reports an overflow).
fn fgets_fits(size: usize, n: c_int) -> bool {
    n >= 2 && (n as usize - 1) < size && hub::current().is_some()
}

#[no_mangle]
pub unsafe extern "C-unwind" fn __fgets_chk(buf: *mut c_char, size: usize, n: c_int, fp: *mut libc::FILE) -> *mut c_char {
    if fgets_fits(size, n) {
        // SAFETY: n bytes fit the caller's buffer.
        return unsafe { stdio::fgets(buf as *mut u8, n, file(fp), true) as *mut c_char };
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::__fgets_chk()(buf, size, n, fp) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn __fgets_unlocked_chk(buf: *mut c_char, size: usize, n: c_int, fp: *mut libc::FILE) -> *mut c_char {
    if fgets_fits(size, n) {
        // SAFETY: as __fgets_chk; the caller owns the FILE.
        return unsafe { stdio::fgets(buf as *mut u8, n, file(fp), false) as *mut c_char };
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::__fgets_unlocked_chk()(buf, size, n, fp) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn fgetws(buf: *mut u32, n: c_int, fp: *mut libc::FILE) -> *mut u32 {
    if hub::current().is_some() {
        // SAFETY: the caller's buffer of n wide characters and FILE.
        return unsafe { stdio_wide::fgetws(buf, n, file(fp), true) };
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::fgetws()(buf, n, fp) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn fgetws_unlocked(buf: *mut u32, n: c_int, fp: *mut libc::FILE) -> *mut u32 {
    if hub::current().is_some() {
        // SAFETY: as fgetws; the caller owns the FILE.
        return unsafe { stdio_wide::fgetws(buf, n, file(fp), false) };
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::fgetws_unlocked()(buf, n, fp) }
}

/// `__fgetws_chk`'s check (glibc 2.36: `n` wide characters must fit `size`), for a green caller.
fn fgetws_fits(size: usize, n: c_int) -> bool {
    n > 0 && n as usize <= size && hub::current().is_some()
}

#[no_mangle]
pub unsafe extern "C-unwind" fn __fgetws_chk(buf: *mut u32, size: usize, n: c_int, fp: *mut libc::FILE) -> *mut u32 {
    if fgetws_fits(size, n) {
        // SAFETY: n wide characters fit the caller's buffer.
        return unsafe { stdio_wide::fgetws(buf, n, file(fp), true) };
    }
    // SAFETY: forwarded unchanged (glibc fails the check or answers n <= 0).
    unsafe { real::__fgetws_chk()(buf, size, n, fp) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn __fgetws_unlocked_chk(buf: *mut u32, size: usize, n: c_int, fp: *mut libc::FILE) -> *mut u32 {
    if fgetws_fits(size, n) {
        // SAFETY: as __fgetws_chk; the caller owns the FILE.
        return unsafe { stdio_wide::fgetws(buf, n, file(fp), false) };
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::__fgetws_unlocked_chk()(buf, size, n, fp) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn fread(buf: *mut c_void, size: usize, count: usize, fp: *mut libc::FILE) -> usize {
    if hub::current().is_some() {
        // SAFETY: the caller's buffer of size * count bytes and FILE.
        return unsafe { stdio::fread(buf as *mut u8, size, count, file(fp), true) };
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::fread()(buf, size, count, fp) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn fread_unlocked(buf: *mut c_void, size: usize, count: usize, fp: *mut libc::FILE) -> usize {
    if hub::current().is_some() {
        // SAFETY: as fread; the caller owns the FILE.
        return unsafe { stdio::fread(buf as *mut u8, size, count, file(fp), false) };
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::fread_unlocked()(buf, size, count, fp) }
}

/// Whether a fortified fread passes glibc's check (size * count fits the buffer).
fn fread_fits(buflen: usize, size: usize, count: usize) -> bool {
    size.checked_mul(count).is_some_and(|b| b <= buflen) && hub::current().is_some()
}

#[no_mangle]
pub unsafe extern "C-unwind" fn __fread_chk(buf: *mut c_void, buflen: usize, size: usize, count: usize, fp: *mut libc::FILE) -> usize {
    if fread_fits(buflen, size, count) {
        // SAFETY: size * count bytes fit the caller's buffer.
        return unsafe { stdio::fread(buf as *mut u8, size, count, file(fp), true) };
    }
    // SAFETY: forwarded unchanged (glibc reports the overflow).
    unsafe { real::__fread_chk()(buf, buflen, size, count, fp) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn __fread_unlocked_chk(buf: *mut c_void, buflen: usize, size: usize, count: usize, fp: *mut libc::FILE) -> usize {
    if fread_fits(buflen, size, count) {
        // SAFETY: as __fread_chk; the caller owns the FILE.
        return unsafe { stdio::fread(buf as *mut u8, size, count, file(fp), false) };
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::__fread_unlocked_chk()(buf, buflen, size, count, fp) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn getdelim(line: *mut *mut c_char, cap: *mut usize, delim: c_int, fp: *mut libc::FILE) -> isize {
    if hub::current().is_some() {
        // SAFETY: the caller's line buffer, capacity and FILE, as getdelim(3) takes them.
        return unsafe { stdio::getdelim(line as *mut *mut u8, cap, delim, file(fp)) };
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::getdelim()(line, cap, delim, fp) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn __getdelim(line: *mut *mut c_char, cap: *mut usize, delim: c_int, fp: *mut libc::FILE) -> isize {
    if hub::current().is_some() {
        // SAFETY: as getdelim.
        return unsafe { stdio::getdelim(line as *mut *mut u8, cap, delim, file(fp)) };
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::__getdelim()(line, cap, delim, fp) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn getline(line: *mut *mut c_char, cap: *mut usize, fp: *mut libc::FILE) -> isize {
    if hub::current().is_some() {
        // SAFETY: as getdelim.
        return unsafe { stdio::getdelim(line as *mut *mut u8, cap, b'\n' as c_int, file(fp)) };
    }
    // SAFETY: forwarded unchanged.
    unsafe { real::getline()(line, cap, fp) }
}

/// Forgets the fd under `fp` (see the module doc).
///
/// # Safety
/// `fp` is a live FILE.
unsafe fn forget_stream_fd(fp: *mut libc::FILE) {
    // SAFETY: the caller's contract; fileno reads the FILE (-1 for one without an fd).
    let fd = unsafe { libc::fileno(fp) };
    if fd >= 0 {
        fd::forget(fd);
    }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn fclose(fp: *mut libc::FILE) -> c_int {
    // SAFETY: the caller's live FILE, then forwarded unchanged.
    unsafe {
        // What is buffered goes out cooperatively first; glibc's close then finds nothing.
        let flushed = stdio_write::flush_before_close(file(fp));
        forget_stream_fd(fp);
        let r = real::fclose()(fp);
        match flushed {
            Err(e) if r == 0 => {
                *libc::__errno_location() = e;
                libc::EOF
            }
            _ => r,
        }
    }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn freopen(path: *const c_char, mode: *const c_char, fp: *mut libc::FILE) -> *mut libc::FILE {
    // SAFETY: as fclose.
    unsafe {
        let _ = stdio_write::flush_before_close(file(fp)); // glibc's freopen ignores it too
        forget_stream_fd(fp);
        real::freopen()(path, mode, fp)
    }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn freopen64(path: *const c_char, mode: *const c_char, fp: *mut libc::FILE) -> *mut libc::FILE {
    // SAFETY: as fclose.
    unsafe {
        let _ = stdio_write::flush_before_close(file(fp));
        forget_stream_fd(fp);
        real::freopen64()(path, mode, fp)
    }
}

// stdio output (green_rt::stdio_write): each hook answers for a green thread's stream on a
// pipe, FIFO or socket, and forwards everything else unchanged.

#[no_mangle]
pub unsafe extern "C-unwind" fn fwrite(buf: *const c_void, size: usize, count: usize, fp: *mut libc::FILE) -> usize {
    // SAFETY: the caller's buffer of size * count bytes and FILE, as glibc's fwrite takes them.
    unsafe { stdio_write::fwrite(buf, size, count, file(fp), true).unwrap_or_else(|| real::fwrite()(buf, size, count, fp)) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn fwrite_unlocked(buf: *const c_void, size: usize, count: usize, fp: *mut libc::FILE) -> usize {
    // SAFETY: as fwrite; the caller owns the FILE.
    unsafe { stdio_write::fwrite(buf, size, count, file(fp), false).unwrap_or_else(|| real::fwrite_unlocked()(buf, size, count, fp)) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn fputs(s: *const c_char, fp: *mut libc::FILE) -> c_int {
    // SAFETY: the caller's string and FILE.
    unsafe { stdio_write::fputs(s, file(fp), true).unwrap_or_else(|| real::fputs()(s, fp)) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn fputs_unlocked(s: *const c_char, fp: *mut libc::FILE) -> c_int {
    // SAFETY: as fputs; the caller owns the FILE.
    unsafe { stdio_write::fputs(s, file(fp), false).unwrap_or_else(|| real::fputs_unlocked()(s, fp)) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn puts(s: *const c_char) -> c_int {
    // SAFETY: the caller's string.
    unsafe { stdio_write::puts(s).unwrap_or_else(|| real::puts()(s)) }
}

macro_rules! putc_hook {
    ($name:ident, $locked:expr) => {
        #[no_mangle]
        pub unsafe extern "C-unwind" fn $name(ch: c_int, fp: *mut libc::FILE) -> c_int {
            // SAFETY: the caller's FILE (held by the caller for the _unlocked forms).
            unsafe { stdio_write::fputc(ch, file(fp), $locked).unwrap_or_else(|| real::$name()(ch, fp)) }
        }
    };
}

putc_hook!(fputc, true);
putc_hook!(putc, true);
putc_hook!(_IO_putc, true);
putc_hook!(fputc_unlocked, false);
putc_hook!(putc_unlocked, false);

#[no_mangle]
pub unsafe extern "C-unwind" fn putchar(ch: c_int) -> c_int {
    // SAFETY: the program's stdout.
    unsafe { stdio_write::fputc(ch, stdio::stdout_file(), true).unwrap_or_else(|| real::putchar()(ch)) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn putchar_unlocked(ch: c_int) -> c_int {
    // SAFETY: the program's stdout, which the caller holds.
    unsafe { stdio_write::fputc(ch, stdio::stdout_file(), false).unwrap_or_else(|| real::putchar_unlocked()(ch)) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn __overflow(fp: *mut libc::FILE, ch: c_int) -> c_int {
    // SAFETY: the caller's FILE, which it holds (glibc's contract).
    unsafe { stdio_write::overflow_call(file(fp), ch).unwrap_or_else(|| real::__overflow()(fp, ch)) }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn fflush(fp: *mut libc::FILE) -> c_int {
    // SAFETY: the caller's FILE, or null (every stream: glibc's).
    unsafe {
        if stdio_write::handles(file(fp)) {
            let _l = stdio::lock(file(fp));
            return stdio_write::flush(file(fp));
        }
        real::fflush()(fp)
    }
}

#[no_mangle]
pub unsafe extern "C-unwind" fn fflush_unlocked(fp: *mut libc::FILE) -> c_int {
    // SAFETY: the caller's FILE, which it holds.
    unsafe {
        if stdio_write::handles(file(fp)) {
            return stdio_write::flush(file(fp));
        }
        real::fflush_unlocked()(fp)
    }
}

/// The printf family: `$name` jumps to csrc/printf.c's `$target`, with the caller's registers
/// and stack untouched (Rust cannot define a variadic function; C cannot be exported from this
/// cdylib). The C side formats for a stream green_rt::stdio_write takes and calls glibc's
/// vfprintf for the others.
macro_rules! printf_jump {
    ($($name:ident => $target:ident;)*) => {$(
        extern "C" {
            fn $target();
        }
        #[no_mangle]
        #[unsafe(naked)]
        pub unsafe extern "C" fn $name() {
            // A tail jump: $target returns to our caller.
            core::arch::naked_asm!("jmp {}", sym $target)
        }
    )*};
}

printf_jump! {
    printf => libgreen_printf;
    fprintf => libgreen_fprintf;
    vprintf => libgreen_vprintf;
    vfprintf => libgreen_vfprintf;
    __printf_chk => libgreen_printf_chk;
    __fprintf_chk => libgreen_fprintf_chk;
    __vprintf_chk => libgreen_vprintf_chk;
    __vfprintf_chk => libgreen_vfprintf_chk;
    dprintf => libgreen_dprintf;
    vdprintf => libgreen_vdprintf;
    __dprintf_chk => libgreen_dprintf_chk;
    __vdprintf_chk => libgreen_vdprintf_chk;
    perror => libgreen_perror;
}

// The scanf family (csrc/scanf.c): glibc's vfscanf on a stream whose refills wait in the hub.
printf_jump! {
    scanf => libgreen_scanf;
    fscanf => libgreen_fscanf;
    vscanf => libgreen_vscanf;
    vfscanf => libgreen_vfscanf;
    __isoc99_scanf => libgreen_isoc99_scanf;
    __isoc99_fscanf => libgreen_isoc99_fscanf;
    __isoc99_vscanf => libgreen_isoc99_vscanf;
    __isoc99_vfscanf => libgreen_isoc99_vfscanf;
}
