//! libgreen runtime: green threads, each on its own glibc TCB, scheduled cooperatively by a hub
//! on one OS thread. The `preload/` crate turns this into `libgreen.so` with thin interposers;
//! this crate knows nothing of symbol interposition.
//!
//! Module map: `hub` (run queue, switch, epoll/timers loop), `task` (a green thread), `tls`
//! (TCBs), `stack` (stack pool), `park` (address-keyed wait queues), `timer`, `fd` (fd table, readiness waits), `offload` (OS threads for calls that cannot be cooperative), `file` (regular files: page cache or offload), `dns` (resolver calls on the pool), `fifo` (blocking FIFO opens), `mmsg` (recvmmsg/sendmmsg), `splice` (sendfile/splice), `sync/*` (mutex,
//! cond, once, futex), `thread` (pthread lifecycle), `sleep`, `process` (waiting for children), `sigmask` (per-thread masks), `signal` (signals
//! pending for one thread), `sigroute` (handlers, process-directed signals), `sigwait` (the
//! sigwait family), `glibc` (ABI facts), `sys` (raw
//! syscalls), `lock` (runtime spin lock), `config`, `stats`, `watchdog` (blocked-hub reports), `log`.

pub mod arena;
pub mod carrier;
pub mod config;
pub mod context;
pub mod dns;
pub mod fd;
pub mod fifo;
pub mod fork;
pub mod file;
pub mod filelock;
pub mod glibc;
pub mod hub;
pub mod lock;
pub mod log;
pub mod mmsg;
pub mod mqueue;
pub mod offload;
pub mod osthread;
pub mod park;
pub mod process;
pub mod sigmask;
pub mod sigqueue;
pub mod scanf;
pub mod sched;
pub mod signal;
pub mod sigroute;
pub mod sigwait;
pub mod sleep;
pub mod splice;
pub mod stdio;
pub mod stdio_wide;
pub mod stdio_write;
pub mod stack;
pub mod stats;
pub mod sync;
pub mod sysv_ipc;
pub mod sys;
pub mod task;
pub mod thread;
pub mod timer;
pub mod tls;
pub mod turn;
pub mod watchdog;

use core::sync::atomic::Ordering;

/// Starts the runtime on the calling (main) thread. Called once by the preload's constructor
/// with the parsed configuration. On failure the runtime stays off and every hook uses libc.
pub fn start(cfg: config::Config) {
    log::DEBUG.store(cfg.debug, Ordering::Relaxed);
    thread::set_default_stack(cfg.stack_size);
    hub::DEADLOCK_CHECK.store(cfg.deadlock_check, Ordering::Relaxed);
    offload::MAX.store(cfg.offload_threads, Ordering::Relaxed);
    if let Err(why) = tls::init() {
        green_warn!("disabled, threads stay native: {why}");
        return;
    }
    if let Err(why) = hub::start() {
        green_warn!("disabled, threads stay native: {why}");
        return;
    }
    fork::register();
    stats::configure(cfg.stats);
    watchdog::configure(cfg.block_warn_ms, cfg.handoff_ms);
    carrier::configure(cfg.hubs);
    green_debug!("started: stack_size={}", cfg.stack_size);
}
