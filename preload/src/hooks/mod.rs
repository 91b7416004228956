//! One file per family of interposed functions.

mod io;
mod sleep;
mod sync;
mod syscall;
pub(crate) mod thread;
