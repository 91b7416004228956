//! Synchronisation objects built on park.rs. Every family is replaced as a whole and for every
//! caller: glibc's functions call each other internally (pthread_cond_wait re-locks its mutex
//! without the exported symbol), so a half-replaced family would deadlock the single hub, and
//! one object shared by green and non-green threads must speak one protocol.

pub mod barrier;
pub mod cond;
pub mod futex;
pub mod mutex;
pub mod once;
pub mod rwlock;
pub mod sem;
pub mod spin;
