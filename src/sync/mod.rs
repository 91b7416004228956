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

/// A typed field at `off` bytes into a libc object (each module documents its layout).
#[inline(always)]
pub(crate) fn field<'a, O, T>(obj: *mut O, off: usize) -> &'a T {
    debug_assert!(off + core::mem::size_of::<T>() <= core::mem::size_of::<O>());
    debug_assert!(off % core::mem::align_of::<T>() == 0);
    // SAFETY: views are built from live libc objects (their from_ptr contract); the field lies
    // inside the object and is aligned (asserted above in debug builds).
    unsafe { &*((obj as *mut u8).add(off) as *const T) }
}
