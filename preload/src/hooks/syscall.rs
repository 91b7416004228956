//! `syscall()`: Rust std (and some C) call futex through it, CPython asks SYS_gettid for native
//! thread ids. Only SYS_futex and SYS_gettid are looked at; every other number passes through
//! untouched (marked for the watchdog while they run).
//!
//! `syscall` is variadic in C and Rust stable cannot define C-variadic functions. On x86-64
//! SysV a variadic call passes its integer arguments exactly as a fixed 7-argument call (number
//! and the first five in rdi…r9, the sixth on the stack at the same offset), and glibc's own
//! syscall() reads all six regardless of how many the caller passed. So a fixed-arity definition
//! receives what the caller passed; unused trailing arguments are garbage, which the kernel
//! ignores for those syscalls exactly as it does when glibc forwards them.

use core::ffi::c_long;

use green_rt::hub;
use green_rt::sync::futex::futex;
use green_rt::watchdog::{Call, InCall};

use crate::{real, set_errno};

#[no_mangle]
pub unsafe extern "C" fn syscall(n: c_long, a1: c_long, a2: c_long, a3: c_long, a4: c_long, a5: c_long, a6: c_long) -> c_long {
    if n == libc::SYS_gettid {
        // SAFETY: same function as the gettid() hook.
        return unsafe { crate::hooks::thread::gettid() } as c_long;
    }
    if n == libc::SYS_set_tid_address {
        if let Some(t) = green_rt::hub::current().filter(|t| !t.is_main) {
            // The kernel's clear_child_tid belongs to the carrier OS thread (glibc set it to the
            // main thread's tid field): a green thread must not move it. The call "always
            // succeeds and returns the caller's thread id", which for a green thread is its
            // green tid (stress-ng --pthread checks exactly that).
            return green_rt::thread::green_tid(t) as c_long;
        }
    }
    if n == libc::SYS_futex {
        // SAFETY: the caller's futex arguments, as the real syscall would receive them.
        if let Some(r) = unsafe { futex(a1 as usize, a2 as i32, a3 as u32, a4 as usize, a5 as usize, a6 as u32) } {
            return match r {
                Ok(v) => v,
                Err(e) => {
                    set_errno(e);
                    -1
                }
            };
        }
    }
    // A number we pass through may block the carrier (a library's raw SYS_read on a pipe): the
    // watchdog names it if it does.
    let _in_call = hub::current().map(|t| InCall::enter(t, Call::Syscall, n));
    // SAFETY: forwarded unchanged.
    unsafe { real::syscall()(n, a1, a2, a3, a4, a5, a6) }
}
