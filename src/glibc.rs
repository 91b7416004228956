//! The glibc 2.36 (x86-64) ABI facts the runtime depends on, checked at start-up.
//!
//! A green thread runs on a real glibc TCB (`struct pthread`), so a few private offsets matter:
//! where glibc keeps the cleanup/unwind buffer chain (for `pthread_exit` and cleanup handlers),
//! the stack bounds (used by `__libc_alloca_cutoff` and by the forced-unwind stop function) and
//! the key-data blocks (cleared when a TCB is recycled). They are verified against glibc's own
//! `_thread_db_*` descriptors and by a live probe; on a mismatch the runtime stays off and every
//! hook takes the real libc path, so an unknown glibc degrades to native threads, never to a crash.

use core::ffi::{c_char, c_int, c_void};

/// glibc's internal signals (__SIGRTMIN and __SIGRTMIN + 1): SIGCANCEL carries pthread_cancel
/// (and SIGEV_THREAD timers), SIGSETXID setuid's broadcast to every thread.
pub const SIGCANCEL: c_int = 32;
pub const SIGSETXID: c_int = 33;

/// `sizeof(struct pthread)` on glibc 2.36 x86-64 (== TLS_TCB_SIZE).
pub const SIZEOF_PTHREAD: usize = 2368;
/// tcbhead_t words.
pub const OFF_HEADER_TCB: usize = 0x00;
pub const OFF_HEADER_SELF: usize = 0x10;
/// `int multiple_threads`: 0 lets glibc take single-thread shortcuts (non-atomic malloc fastbins,
/// syscalls without cancellation checks) on this TCB.
pub const OFF_MULTIPLE_THREADS: usize = 0x18;
pub const OFF_STACK_GUARD: usize = 0x28;
pub const OFF_POINTER_GUARD: usize = 0x30;
/// `unused_vgetcpu_cache[0..2]`: unused by glibc 2.36; libgreen keeps its task pointer and a
/// magic word here so "which green thread is this TCB" is one `fs:`-relative load.
pub const OFF_GREEN_TASK: usize = 0x40;
pub const OFF_GREEN_MAGIC: usize = 0x48;
/// `struct pthread` fields.
/// `list_t list`: glibc's fork child unlinks the forking thread's entry from it.
pub const OFF_LIST: usize = 704;
pub const OFF_TID: usize = 720;
pub const OFF_CLEANUP: usize = 760;
pub const OFF_CLEANUP_JMP_BUF: usize = 768;
pub const OFF_CANCELHANDLING: usize = 776;
/// `cancelhandling` bits (nptl/descr.h).
pub const CANCELSTATE_BITMASK: i32 = 1 << 0;
/// Set: PTHREAD_CANCEL_ASYNCHRONOUS.
pub const CANCELTYPE_BITMASK: i32 = 1 << 1;
pub const CANCELING_BITMASK: i32 = 1 << 2;
pub const CANCELED_BITMASK: i32 = 1 << 3;
pub const EXITING_BITMASK: i32 = 1 << 4;
pub const TERMINATED_BITMASK: i32 = 1 << 5;
/// `void *result`: set by glibc's pthread_exit and by cancellation.
pub const OFF_RESULT: usize = 1576;
/// `struct tls_internal_t tls_state`: strsignal/strerror_l buffers, freed when a TCB is reused.
pub const OFF_TLS_STATE: usize = 2304;
pub const OFF_SPECIFIC_1STBLOCK: usize = 784;
pub const OFF_SPECIFIC: usize = 1296;
pub const OFF_STACKBLOCK: usize = 1680;
pub const OFF_STACKBLOCK_SIZE: usize = 1688;
pub const OFF_GUARDSIZE: usize = 1696;
/// `struct __res_state res`: the thread's resolver state, which its `__resp` TLS word points to.
pub const OFF_RES: usize = 1720;
/// Everything after the tcbhead_t union (704 bytes) is thread state reset on recycling.
pub const OFF_AFTER_HEADER: usize = 704;

/// `struct pthread_attr` (glibc internal, behind pthread_attr_t).
pub const ATTR_OFF_FLAGS: usize = 8;
pub const ATTR_OFF_STACKSIZE: usize = 32;
pub const ATTR_FLAG_STACKADDR: i32 = 0x0008;

type AllocateTls = unsafe extern "C" fn(*mut c_void) -> *mut c_void;
type AllocateTlsInit = unsafe extern "C" fn(*mut c_void, bool) -> *mut c_void;
type CallTlsDtors = unsafe extern "C" fn();
type CtypeInit = unsafe extern "C" fn();
type GetTlsStaticInfo = unsafe extern "C" fn(*mut usize, *mut usize);

/// GLIBC_PRIVATE entry points of ld.so/libc used to manage TCBs.
#[derive(Clone, Copy)]
pub struct Private {
    pub allocate_tls: AllocateTls,
    pub allocate_tls_init: AllocateTlsInit,
    pub call_tls_dtors: CallTlsDtors,
    /// Points the thread's ctype TLS words at its locale's tables (glibc's start_thread does it).
    pub ctype_init: CtypeInit,
    pub static_tls_size: usize,
    pub static_tls_align: usize,
}

fn sym(name: &[u8]) -> *mut c_void {
    debug_assert_eq!(name.last(), Some(&0));
    // SAFETY: name is NUL-terminated; dlsym(RTLD_DEFAULT) only reads it.
    unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr() as *const c_char) }
}

/// Reads glibc's `_thread_db_<name>` descriptor `{bits, count, offset}` (a field) or a single
/// `u32` (a size).
fn thread_db(name: &[u8], index: usize) -> Option<u32> {
    let p = sym(name) as *const u32;
    if p.is_null() {
        return None;
    }
    // SAFETY: glibc defines these as const u32 arrays of 3 (fields) or 1 (sizes).
    Some(unsafe { *p.add(index) })
}

/// Resolves the private entry points and checks the layout. `Err` explains why the runtime must
/// stay off.
pub fn resolve() -> Result<Private, &'static str> {
    let size = thread_db(b"_thread_db_sizeof_pthread\0", 0).ok_or("no _thread_db_sizeof_pthread")?;
    if size as usize != SIZEOF_PTHREAD {
        return Err("struct pthread size differs from glibc 2.36");
    }
    for (name, off) in [
        (&b"_thread_db_pthread_cancelhandling\0"[..], OFF_CANCELHANDLING),
        (&b"_thread_db_pthread_tid\0"[..], OFF_TID),
        (&b"_thread_db_pthread_specific\0"[..], OFF_SPECIFIC),
    ] {
        if thread_db(name, 2) != Some(off as u32) {
            return Err("struct pthread field offsets differ from glibc 2.36");
        }
    }
    let a = sym(b"_dl_allocate_tls\0");
    let i = sym(b"_dl_allocate_tls_init\0");
    let d = sym(b"__call_tls_dtors\0");
    let s = sym(b"_dl_get_tls_static_info\0");
    let c = sym(b"__ctype_init\0");
    if a.is_null() || i.is_null() || d.is_null() || s.is_null() || c.is_null() {
        return Err("GLIBC_PRIVATE TLS entry points not found");
    }
    // SAFETY: the symbols were found by these exact names, whose C signatures are declared above.
    let p = unsafe {
        Private {
            allocate_tls: core::mem::transmute::<*mut c_void, AllocateTls>(a),
            allocate_tls_init: core::mem::transmute::<*mut c_void, AllocateTlsInit>(i),
            call_tls_dtors: core::mem::transmute::<*mut c_void, CallTlsDtors>(d),
            ctype_init: core::mem::transmute::<*mut c_void, CtypeInit>(c),
            static_tls_size: 0,
            static_tls_align: 0,
        }
    };
    let mut p = p;
    // SAFETY: _dl_get_tls_static_info only writes the two sizes.
    unsafe {
        let f = core::mem::transmute::<*mut c_void, GetTlsStaticInfo>(s);
        f(&mut p.static_tls_size, &mut p.static_tls_align);
    }
    probe_cleanup_offset()?;
    Ok(p)
}

// Attribute getters the libc crate does not declare for Linux.
extern "C" {
    pub fn pthread_mutexattr_gettype(attr: *const libc::pthread_mutexattr_t, ty: *mut core::ffi::c_int) -> core::ffi::c_int;
    pub fn pthread_attr_getdetachstate(attr: *const libc::pthread_attr_t, state: *mut core::ffi::c_int) -> core::ffi::c_int;
    pub fn pthread_condattr_getclock(attr: *const libc::pthread_condattr_t, clock: *mut libc::clockid_t) -> core::ffi::c_int;
}

/// arch_prctl code to set the FS base (asm/prctl.h).
pub const ARCH_SET_FS: usize = 0x1002;

extern "C" {
    fn __pthread_register_cancel(buf: *mut c_void);
    fn __pthread_unregister_cancel(buf: *mut c_void);
}

/// Checks OFF_CLEANUP_JMP_BUF live: registering a cancel buffer must store its address there.
fn probe_cleanup_offset() -> Result<(), &'static str> {
    let mut buf = [0u64; 16]; // __pthread_unwind_buf_t is 104 bytes
    let tp = crate::tls::thread_pointer();
    // SAFETY: register/unregister is the pair the pthread_cleanup_push/pop macros use on a
    // stack buffer; between them we only read the current thread's own descriptor.
    let seen = unsafe {
        __pthread_register_cancel(buf.as_mut_ptr() as *mut c_void);
        let v = *((tp + OFF_CLEANUP_JMP_BUF) as *const usize);
        __pthread_unregister_cancel(buf.as_mut_ptr() as *mut c_void);
        v
    };
    if seen != buf.as_ptr() as usize {
        return Err("cleanup_jmp_buf offset differs from glibc 2.36");
    }
    Ok(())
}

/// Reads the raw stack size stored in a pthread_attr_t (0 = "not set": use our default).
///
/// # Safety
/// `attr` points to an initialised pthread_attr_t.
pub unsafe fn attr_raw_stacksize(attr: *const libc::pthread_attr_t) -> usize {
    // SAFETY: glibc 2.36 struct pthread_attr keeps `size_t stacksize` at offset 32.
    unsafe { *((attr as *const u8).add(ATTR_OFF_STACKSIZE) as *const usize) }
}

/// Whether the attribute carries a user stack (pthread_attr_setstack).
///
/// # Safety
/// `attr` points to an initialised pthread_attr_t.
pub unsafe fn attr_has_stackaddr(attr: *const libc::pthread_attr_t) -> bool {
    // SAFETY: glibc 2.36 struct pthread_attr keeps `int flags` at offset 8.
    unsafe { *((attr as *const u8).add(ATTR_OFF_FLAGS) as *const i32) & ATTR_FLAG_STACKADDR != 0 }
}
