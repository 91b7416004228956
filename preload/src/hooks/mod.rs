//! One file per family of interposed functions.

mod sleep;
mod sync;
mod syscall;
mod thread;
