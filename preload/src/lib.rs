//! libgreen.so: the LD_PRELOAD interposers. Each hook only decides "green caller or not?" and
//! forwards to the runtime (`green_rt`) or to the real libc function; no scheduling logic lives
//! here. See README.md for the list of interposed functions and their limits.

mod hooks;
mod real;

/// Sets errno of the calling thread (its own TCB's errno, green or not).
pub(crate) fn set_errno(e: core::ffi::c_int) {
    // SAFETY: __errno_location returns the calling thread's errno slot.
    unsafe { *libc::__errno_location() = e };
}

fn getenv(name: &str) -> Option<String> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: c is NUL-terminated; getenv returns null or a NUL-terminated string that we copy
    // before anything can modify the environment.
    let p = unsafe { libc::getenv(c.as_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: as above.
    Some(unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

#[ctor::ctor(unsafe)]
fn libgreen_start() {
    match green_rt::config::Config::from_lookup(getenv) {
        Ok(cfg) => green_rt::start(cfg),
        Err(e) => {
            green_rt::green_warn!("{e}");
            // SAFETY: _exit ends the process without running anything else of it.
            unsafe { libc::_exit(2) };
        }
    }
}
