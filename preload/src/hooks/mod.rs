//! One file per family of interposed functions.

mod io;
mod process;
mod sleep;
mod sync;
mod syscall;
pub(crate) mod thread;
