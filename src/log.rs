//! Diagnostics to stderr without allocation and without our own hooks.
//!
//! Messages are formatted into a fixed stack buffer and written with a raw `write(2)`, so they
//! are safe from any hook, from the hub, and while glibc may hold its malloc lock.

use core::fmt::{self, Write};
use core::sync::atomic::AtomicBool;

/// Set from `GREEN_DEBUG` at start-up.
pub static DEBUG: AtomicBool = AtomicBool::new(false);

/// A fixed-size line buffer; text beyond its capacity is cut.
pub struct LineBuf {
    buf: [u8; 1024],
    len: usize,
}

impl LineBuf {
    pub const fn new() -> Self {
        LineBuf { buf: [0; 1024], len: 0 }
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Default for LineBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Writes `libgreen: <message>\n` to stderr.
pub fn emit(args: fmt::Arguments<'_>) {
    let mut line = LineBuf::new();
    let _ = line.write_str("libgreen: ");
    let _ = line.write_fmt(args);
    let _ = line.write_str("\n");
    crate::sys::write_stderr(line.as_bytes());
}

/// Prints a diagnostic line (always).
#[macro_export]
macro_rules! green_warn {
    ($($arg:tt)*) => { $crate::log::emit(format_args!($($arg)*)) };
}

/// Prints a diagnostic line when `GREEN_DEBUG=1`.
#[macro_export]
macro_rules! green_debug {
    ($($arg:tt)*) => {
        if $crate::log::DEBUG.load(core::sync::atomic::Ordering::Relaxed) {
            $crate::log::emit(format_args!($($arg)*))
        }
    };
}

/// Prints a fatal diagnostic and aborts the process.
pub fn fatal(args: fmt::Arguments<'_>) -> ! {
    emit(args);
    // SAFETY: abort never returns; it is async-signal-safe.
    unsafe { libc::abort() }
}
