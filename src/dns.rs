//! Resolver calls (getaddrinfo, gethostbyname…, res_query…) for green threads: glibc does their
//! network I/O internally, out of reach of our hooks, so they run on the offload pool while the
//! caller parks.
//!
//! The call runs as the calling thread would make it: the worker points its `__resp` (libc's
//! per-thread pointer to the resolver state `_res`) at the caller's `_res` for the call, so
//! `res_init`, `_res.options` or name servers set by that green thread are the ones used (and
//! initialised there), and errno and h_errno go in from the caller and come back to it. The
//! non-reentrant calls (gethostbyname, gethostbyaddr) return glibc's static buffer, which is
//! one per process, not per thread, so the worker's answer is the caller's as natively.
//! Not carried over: a per-thread locale set with uselocale (IDN conversion uses the worker's,
//! i.e. the global locale).

use core::ffi::c_int;

use crate::offload;
use crate::tls;

extern "C" {
    fn __h_errno_location() -> *mut c_int;
}

/// Runs resolver call `f` on the offload pool as the calling green thread (see the module doc).
pub fn call<R>(f: impl FnOnce() -> R) -> R {
    let Some(resp_word) = tls::resp_word() else { return offload::run(f) };
    // SAFETY: the calling thread's own __resp, errno and h_errno words.
    let (resp, errno_in, h_in) = unsafe { (*resp_word, *libc::__errno_location(), *__h_errno_location()) };
    let (r, errno_out, h_out) = offload::run(move || {
        let w = tls::resp_word().expect("the offset is per process");
        // SAFETY: the running thread's own TLS words; `resp` is the caller's _res, which stays
        // alive (in its TCB) while it waits for this job.
        unsafe {
            let saved = *w;
            *w = resp;
            *libc::__errno_location() = errno_in;
            *__h_errno_location() = h_in;
            let r = f();
            let out = (r, *libc::__errno_location(), *__h_errno_location());
            *w = saved;
            out
        }
    });
    // SAFETY: the calling thread's own errno and h_errno.
    unsafe {
        *libc::__errno_location() = errno_out;
        *__h_errno_location() = h_out;
    }
    r
}
