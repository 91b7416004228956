//! One file per family of interposed functions. Hooks of cancellation points are
//! `extern "C-unwind"`: a cancelled green thread unwinds through them (glibc's forced unwind).

mod c11_threads;
mod dns;
mod file;
mod exit;
mod io;
mod mqueue;
mod process;
mod sched;
mod signal;
mod system;
mod sleep;
mod stdio;
mod sync;
mod syscall;
mod sysv_ipc;
pub(crate) mod thread;
