//! Synchronisation objects built on park.rs. The whole mutex/condvar family is replaced: glibc's
//! functions call each other internally (pthread_cond_wait re-locks its mutex without the
//! exported symbol), so a half-replaced family would deadlock the single hub.

pub mod cond;
pub mod futex;
pub mod mutex;
pub mod once;
