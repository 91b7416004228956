//! `_exit` and `_Exit`: processes that end without `exit()` (forked workers, such as
//! stress-ng's, end with `_exit` to skip atexit handlers) still report GREEN_STATS. `exit()`
//! reaches the kernel through glibc's internal `_exit`, not this symbol; its report comes from
//! the atexit handler, and `stats::at_exit` prints once either way.

use core::ffi::c_int;

#[no_mangle]
pub unsafe extern "C" fn _exit(status: c_int) -> ! {
    green_rt::stats::at_exit();
    // SAFETY: ends the process as the real _exit does (exit_group), without running anything.
    unsafe { green_rt::sys::syscall3(libc::SYS_exit_group, status as usize, 0, 0) };
    unreachable_exit()
}

#[no_mangle]
pub unsafe extern "C" fn _Exit(status: c_int) -> ! {
    // SAFETY: same contract as _exit.
    unsafe { _exit(status) }
}

/// exit_group does not return; if it ever did, never return into the caller either.
fn unreachable_exit() -> ! {
    loop {
        // SAFETY: SYS_exit of the calling thread, with status 127.
        unsafe { green_rt::sys::syscall3(libc::SYS_exit, 127, 0, 0) };
    }
}
