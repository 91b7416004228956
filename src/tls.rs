//! Thread control blocks: every green thread runs on a real glibc TCB of its own.
//!
//! A TCB comes from ld.so's `_dl_allocate_tls` (static TLS of every loaded module, the DTV and
//! a zeroed `struct pthread`); we fill in the words glibc expects of a live thread (self
//! pointers, stack and pointer guards copied from the creator, stack bounds) and switch the
//! thread pointer to it whenever its green thread runs. errno, `__thread`, C++ `thread_local`,
//! Rust `thread_local!`, `pthread_self()` and glibc's per-thread state are then per green thread.
//!
//! TCB memory comes from our own arena, packed and advised for transparent huge pages, rather
//! than from malloc: a thread's TCB (static TLS + `struct pthread`, ≈6.6 KiB here) is touched
//! in full at creation, and one 2 MiB fault costs far less than ≈300 pairs of 4 KiB faults.
//!
//! Invariants:
//! - TCBs are pooled and never returned to ld.so (glibc also caches dead threads' descriptors);
//!   a recycled TCB is reset (`struct pthread` after the header zeroed, DTV cleared, TLS images
//!   re-copied) so a new thread sees fresh TLS, except the words malloc initialises lazily
//!   (its tcache and arena), which are carried over so recycling never leaks a tcache.
//! - libgreen's own state is never kept in TLS: each TCB would carry its own copy.

use core::arch::asm;
use core::ffi::c_void;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::arena::Arena;
use crate::glibc::{self, Private};
use crate::lock::SpinLock;

/// Marks a TCB (at OFF_GREEN_MAGIC) as belonging to a live green thread.
pub const GREEN_MAGIC: usize = 0x6772_6565_6e54_4342; // "greenTCB"
/// Marks a pooled TCB whose thread is gone (joined or detached and finished).
pub const DEAD_MAGIC: usize = 0x6465_6164_5443_4221; // "deadTCB!"

static USE_WRFSBASE: AtomicBool = AtomicBool::new(false);
static mut PRIVATE: Option<Private> = None;
/// Offsets (from the thread pointer, negative) of TLS words that malloc fills in lazily.
pub(crate) static PRESERVED: SpinLock<([isize; 8], usize)> = SpinLock::new(([0; 8], 0));
/// Offset from the thread pointer of libc's `__resp` TLS word (0: not found).
static RESP_OFFSET: AtomicUsize = AtomicUsize::new(0);
/// glibc's `__rseq_offset` (0: glibc before 2.35, which has no rseq area).
static RSEQ_OFFSET: AtomicUsize = AtomicUsize::new(0);
/// A real OS thread of the runtime exists: every green TCB says "multiple threads" to glibc.
static MULTITHREADED: AtomicBool = AtomicBool::new(false);

pub(crate) struct Pool {
    free: Vec<usize>,
    /// Every TCB ever carved (live or pooled), for [`mark_multithreaded`].
    all: Vec<usize>,
    /// Where new TCBs are carved (16 MiB chunks: ≈3,500 TCBs of a small C program).
    arena: Arena,
}
pub(crate) static POOL: SpinLock<Pool> = SpinLock::new(Pool { free: Vec::new(), all: Vec::new(), arena: Arena::new() });
/// [`mark_multithreaded`] has flagged every TCB.
static MARKED: AtomicBool = AtomicBool::new(false);
/// The main thread's TCB (glibc's own, recorded at init).
static MAIN_TP: AtomicUsize = AtomicUsize::new(0);

/// The current thread pointer (`fs:0`, glibc's `header.tcb`).
#[inline(always)]
pub fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: on x86-64 Linux fs:0 always holds the TCB's self pointer (glibc invariant).
    unsafe { asm!("mov {}, qword ptr fs:[0]", out(reg) tp, options(nostack, readonly, preserves_flags)) };
    tp
}

/// The calling OS thread's fs base when the CPU lets user space read it without a syscall
/// (`rdfsbase`, the FSGSBASE feature `set_thread_pointer` uses too); it equals
/// [`thread_pointer`] but reads no memory.
#[inline(always)]
pub fn fs_base() -> Option<usize> {
    if !USE_WRFSBASE.load(Ordering::Relaxed) {
        return None;
    }
    let tp: usize;
    // SAFETY: FSGSBASE is enabled for user space (checked at init via AT_HWCAP2).
    unsafe { asm!("rdfsbase {}", out(reg) tp, options(nostack, nomem, preserves_flags)) };
    Some(tp)
}

/// The green task word of the current TCB (0 for threads that are not green).
#[inline(always)]
pub fn current_task_word() -> usize {
    let w: usize;
    // SAFETY: OFF_GREEN_TASK lies inside tcbhead_t, present in every glibc TCB.
    unsafe { asm!("mov {}, qword ptr fs:[0x40]", out(reg) w, options(nostack, readonly, preserves_flags)) };
    w
}

/// The green task stored in any TCB, if that TCB belongs to a live green thread.
///
/// # Safety
/// `tp` is a pthread_t obtained from this process (a TCB address); reading its header is only
/// valid while that TCB exists, which glibc requires of callers for any pthread_t use.
pub unsafe fn task_word_of(tp: usize) -> usize {
    if tp == 0 {
        return 0;
    }
    // SAFETY: per the contract tp addresses a TCB header.
    unsafe {
        if *((tp + glibc::OFF_GREEN_MAGIC) as *const usize) != GREEN_MAGIC {
            return 0;
        }
        *((tp + glibc::OFF_GREEN_TASK) as *const usize)
    }
}

/// Tags a TCB as green thread `task` (or clears it with 0).
///
/// # Safety
/// `tp` is a TCB owned by the runtime or the calling thread's own TCB.
pub unsafe fn tag(tp: usize, task: usize) {
    // SAFETY: both words lie in tcbhead_t's unused vgetcpu cache.
    unsafe {
        *((tp + glibc::OFF_GREEN_TASK) as *mut usize) = task;
        *((tp + glibc::OFF_GREEN_MAGIC) as *mut usize) = if task == 0 { 0 } else { GREEN_MAGIC };
    }
}

/// Switches the thread pointer of the calling OS thread.
///
/// # Safety
/// `tp` is a fully initialised TCB, and no code of the caller keeps TLS addresses of the
/// previous TCB across this call (the hub calls it only between green threads).
#[inline(always)]
pub unsafe fn set_thread_pointer(tp: usize) {
    if USE_WRFSBASE.load(Ordering::Relaxed) {
        // SAFETY: the CPU and kernel allow FSGSBASE (checked at init via AT_HWCAP2).
        unsafe { asm!("wrfsbase {}", in(reg) tp, options(nostack, preserves_flags)) };
    } else {
        // SAFETY: ARCH_SET_FS with a valid TCB address.
        unsafe { crate::sys::syscall3(libc::SYS_arch_prctl, glibc::ARCH_SET_FS, tp, 0) };
    }
}

/// Resolves glibc's private TLS entry points and learns malloc's lazy words. Returns why the
/// runtime cannot run on failure.
pub fn init() -> Result<(), &'static str> {
    let private = glibc::resolve()?;
    // SAFETY: init runs once, from the start-up constructor, before any reader.
    unsafe { PRIVATE = Some(private) };
    MAIN_TP.store(thread_pointer(), Ordering::Relaxed);
    const HWCAP2_FSGSBASE: u64 = 1 << 1;
    // SAFETY: getaxval has no preconditions.
    let hw2 = unsafe { libc::getauxval(libc::AT_HWCAP2) };
    USE_WRFSBASE.store(hw2 & HWCAP2_FSGSBASE != 0, Ordering::Relaxed);
    // SAFETY: names are NUL-terminated; the symbols are glibc 2.35+ const data.
    unsafe {
        let size = libc::dlsym(libc::RTLD_DEFAULT, c"__rseq_size".as_ptr()) as *const u32;
        let off = libc::dlsym(libc::RTLD_DEFAULT, c"__rseq_offset".as_ptr()) as *const isize;
        // The offset whether or not the registration worked: a green TCB must say "not
        // registered" either way (see init_header).
        if !size.is_null() && !off.is_null() {
            RSEQ_OFFSET.store(*off as usize, Ordering::Relaxed);
        }
    }
    probe_malloc_words();
    crate::green_debug!(
        "tls: wrfsbase={} static_tls={} preserved_malloc_words={} resp_offset={}",
        USE_WRFSBASE.load(Ordering::Relaxed),
        private.static_tls_size,
        PRESERVED.lock().1,
        RESP_OFFSET.load(Ordering::Relaxed)
    );
    Ok(())
}

fn private() -> &'static Private {
    // SAFETY: PRIVATE is written once in init() before any TCB is allocated.
    unsafe { (*core::ptr::addr_of!(PRIVATE)).as_ref().expect("tls::init ran") }
}

/// Size of the static TLS area below the thread pointer.
fn static_area() -> usize {
    private().static_tls_size.saturating_sub(glibc::SIZEOF_PTHREAD)
}

#[inline(never)]
extern "C" fn touch_malloc() {
    // SAFETY: plain malloc/free pair of a small block.
    unsafe {
        let p = libc::malloc(24);
        core::ptr::write_volatile(p as *mut u8, 1);
        libc::free(p);
    }
}

/// Whether the process's malloc is glibc's own (not jemalloc, tcmalloc, mimalloc… linked into
/// the program or preloaded).
fn malloc_is_glibcs() -> bool {
    // SAFETY: NUL-terminated names; RTLD_DEFAULT finds the definition every caller binds to.
    // glibc's malloc is an alias of its exported __libc_malloc.
    unsafe {
        let used = libc::dlsym(libc::RTLD_DEFAULT, c"malloc".as_ptr());
        !used.is_null() && used == libc::dlsym(libc::RTLD_DEFAULT, c"__libc_malloc".as_ptr())
    }
}

/// Learns which static-TLS words malloc initialises on first use in a thread (tcache, arena),
/// by diffing a fresh TCB before and after one malloc/free run on it; and where `__resp` is.
///
/// The malloc part only for glibc's malloc: another allocator may register the probe TCB's
/// per-thread state in a list of its own (jemalloc links each thread's tcache into its arena),
/// and the probe TCB goes to the pool, where the next thread's TLS images overwrite that state
/// while it is still linked: jemalloc's first `mallctl` then crashed walking the list (redis at
/// start-up). Such allocators keep their per-thread state to themselves (their key destructors
/// release it when a green thread exits), so nothing is carried over for them.
fn probe_malloc_words() {
    let Some(tp) = fresh_tcb(thread_pointer()) else { return };
    let area = static_area();
    let words = area / 8;
    let base = tp - words * 8;
    // SAFETY: [base, tp) is the fresh TCB's static TLS area, allocated by _dl_allocate_tls.
    let before: Vec<usize> = (0..words).map(|i| unsafe { *((base + i * 8) as *const usize) }).collect();
    // libc's `__resp` starts as &_res (the main thread's resolver state) in every TCB; glibc's
    // start_thread points it at the thread's own `struct pthread.res`. Find the word to do the
    // same: the one TLS word of a fresh TCB equal to the main thread's __res_state().
    // SAFETY: __res_state has no preconditions.
    let main_res = unsafe { __res_state() } as usize;
    let hits: Vec<usize> = (0..words).filter(|&i| before[i] == main_res).collect();
    if hits.len() == 1 {
        RESP_OFFSET.store(tp - (base + hits[0] * 8), Ordering::Relaxed);
    }
    if !malloc_is_glibcs() {
        release(tp);
        return;
    }
    let me = thread_pointer();
    // SAFETY: the fresh TCB is fully initialised; touch_malloc keeps no TLS address across the
    // switch back, and nothing between the two switches uses TLS of `me`.
    unsafe {
        set_thread_pointer(tp);
        touch_malloc();
        set_thread_pointer(me);
    }
    let mut pres = PRESERVED.lock();
    for (i, b) in before.iter().enumerate() {
        // SAFETY: as above.
        let now = unsafe { *((base + i * 8) as *const usize) };
        if now != *b {
            if pres.1 == pres.0.len() {
                // Too many changed words to be only malloc's: carry none over (a leak of one
                // tcache per recycled TCB is better than handing stale state to a new thread).
                pres.1 = 0;
                break;
            }
            let n = pres.1;
            pres.0[n] = (base + i * 8) as isize - tp as isize;
            pres.1 += 1;
        }
    }
    drop(pres);
    release(tp);
}

/// Zeroed memory for one TCB from the arena: returns the thread pointer, with the static TLS
/// area below it and `struct pthread` above, aligned as ld.so requires.
fn carve_tcb_memory() -> Option<usize> {
    let p = private();
    let align = p.static_tls_align.max(64);
    let slot = (p.static_tls_size + align).next_multiple_of(64);
    let mut pool = POOL.lock();
    let base = pool.arena.alloc(slot, 64)?;
    let tp = (base + slot - glibc::SIZEOF_PTHREAD) & !(align - 1);
    // Listed before its header is filled in: a concurrent mark_multithreaded either sees it
    // here or has set MULTITHREADED before this lock was taken, which init_header then reads.
    pool.all.push(tp);
    Some(tp)
}

/// Allocates a TCB (memory from our arena, DTV and TLS images from ld.so) and fills in the
/// header like glibc's thread creation does.
fn fresh_tcb(creator_tp: usize) -> Option<usize> {
    let mem = carve_tcb_memory()?;
    // SAFETY: mem is a zeroed, aligned TCB address with the static TLS area below it, exactly
    // what glibc's allocate_stack passes; ld.so adds the DTV and copies the TLS images.
    let tp = unsafe { (private().allocate_tls)(mem as *mut c_void) } as usize;
    if tp == 0 {
        return None;
    }
    // SAFETY: tp is a fresh TCB of SIZEOF_PTHREAD bytes; the creator's header is live.
    unsafe { init_header(tp, creator_tp) };
    Some(tp)
}

/// # Safety
/// `tp` is a TCB owned by the runtime, `creator_tp` a live TCB.
unsafe fn init_header(tp: usize, creator_tp: usize) {
    // SAFETY: offsets are tcbhead_t words (glibc.rs), inside both TCBs.
    unsafe {
        *((tp + glibc::OFF_HEADER_TCB) as *mut usize) = tp;
        *((tp + glibc::OFF_HEADER_SELF) as *mut usize) = tp;
        *((tp + glibc::OFF_STACK_GUARD) as *mut usize) = *((creator_tp + glibc::OFF_STACK_GUARD) as *const usize);
        *((tp + glibc::OFF_POINTER_GUARD) as *mut usize) = *((creator_tp + glibc::OFF_POINTER_GUARD) as *const usize);
        // An empty circular list entry: glibc's fork child does list_del(&self->list) on the
        // forking thread and then links it into its stack list.
        *((tp + glibc::OFF_LIST) as *mut usize) = tp + glibc::OFF_LIST;
        *((tp + glibc::OFF_LIST + 8) as *mut usize) = tp + glibc::OFF_LIST;
        if MULTITHREADED.load(Ordering::Acquire) {
            *((tp + glibc::OFF_MULTIPLE_THREADS) as *mut i32) = 1;
        }
        let rseq = RSEQ_OFFSET.load(Ordering::Relaxed);
        if rseq != 0 {
            // rseq's cpu_id = RSEQ_CPU_ID_UNINITIALIZED: this area is not registered with the
            // kernel, so sched_getcpu() must take its syscall fallback, and an OS thread created
            // from this TCB does not try to register one (glibc inherits the attempt from a
            // cpu_id >= 0 and aborts the new thread when it fails: rseq denied by seccomp).
            *((tp.wrapping_add(rseq) + 4) as *mut i32) = -1;
        }
    }
}

/// A TCB for a new green thread created by the thread whose TCB is `creator_tp`.
pub fn alloc(creator_tp: usize) -> Option<usize> {
    let recycled = POOL.lock().free.pop();
    match recycled {
        Some(tp) => {
            // SAFETY: a pooled TCB belongs to no thread; reset it for its new owner.
            unsafe { reset(tp, creator_tp) };
            Some(tp)
        }
        None => fresh_tcb(creator_tp),
    }
}

/// The process is about to get a second OS thread (an offload worker, a carrier): glibc must
/// stop taking its single-thread shortcuts in every green TCB, not only in the one that calls
/// pthread_create (malloc's fastbins, for one, skip atomics when `multiple_threads` is 0).
/// TCBs made later get the flag in `init_header`. Walks this module's own list of TCBs (not the
/// task list) under the pool lock, so a TCB being made on another carrier at the same moment
/// is either in the list or sees the flag (see `carve_tcb_memory`).
/// Returns whether this call did the marking (false: it was done already).
pub fn mark_multithreaded() -> bool {
    if MULTITHREADED.load(Ordering::Acquire) && MARKED.load(Ordering::Acquire) {
        return false;
    }
    if MULTITHREADED.swap(true, Ordering::AcqRel) {
        // Another OS thread may be marking right now (two carriers starting offload workers):
        // ours must not start before every TCB says "multiple threads".
        while !MARKED.load(Ordering::Acquire) {
            // SAFETY: sched_yield takes no arguments; raw, so it cannot re-enter our hooks.
            unsafe { crate::sys::syscall3(libc::SYS_sched_yield, 0, 0, 0) };
        }
        return false;
    }
    let main = MAIN_TP.load(Ordering::Relaxed);
    if main != 0 {
        // SAFETY: the main thread's TCB stays mapped for the life of the process.
        unsafe { *((main + glibc::OFF_MULTIPLE_THREADS) as *mut i32) = 1 };
    }
    let pool = POOL.lock();
    for &tp in &pool.all {
        // SAFETY: carved TCBs (live or pooled) are the runtime's and are never unmapped.
        unsafe { *((tp + glibc::OFF_MULTIPLE_THREADS) as *mut i32) = 1 };
    }
    drop(pool);
    MARKED.store(true, Ordering::Release);
    true
}

/// Returns a TCB whose thread has exited and been joined or detached.
pub fn release(tp: usize) {
    // SAFETY: the TCB is the runtime's and its thread is gone.
    unsafe {
        *((tp + glibc::OFF_GREEN_TASK) as *mut usize) = 0;
        *((tp + glibc::OFF_GREEN_MAGIC) as *mut usize) = DEAD_MAGIC;
    }
    POOL.lock().free.push(tp);
}

/// Whether `tp` is a pooled TCB whose green thread is gone.
///
/// # Safety
/// As [`task_word_of`].
pub unsafe fn is_released(tp: usize) -> bool {
    // SAFETY: per the contract tp addresses a TCB header.
    tp != 0 && unsafe { *((tp + glibc::OFF_GREEN_MAGIC) as *const usize) } == DEAD_MAGIC
}

#[repr(C)]
struct DtvEntry {
    val: *mut c_void,
    to_free: *mut c_void,
}

/// Resets a used TCB as glibc does for a cached thread stack.
///
/// # Safety
/// `tp` is a pooled TCB no thread runs on.
unsafe fn reset(tp: usize, creator_tp: usize) {
    let pres = PRESERVED.lock();
    let mut saved = [0usize; 8];
    // SAFETY: preserved offsets were measured inside the static TLS area of a TCB.
    unsafe {
        for i in 0..pres.1 {
            saved[i] = *((tp as isize + pres.0[i]) as *const usize);
        }
        // Free dynamically allocated TLS blocks and clear the DTV (glibc get_cached_stack).
        let dtv = *((tp + 8) as *const *mut DtvEntry);
        let count = (*dtv.sub(1)).val as usize;
        for i in 0..count {
            libc::free((*dtv.add(1 + i)).to_free);
        }
        core::ptr::write_bytes(dtv, 0, count + 1);
        // Thread state after the header: cleanup chain, cancel bits, key data, stack bounds…
        // Level-2 key blocks first, as __nptl_deallocate_tsd would.
        for i in 1..32 {
            libc::free(*((tp + glibc::OFF_SPECIFIC + i * 8) as *const *mut c_void));
        }
        // strsignal/strerror_l buffers, as __glibc_tls_internal_free at thread exit.
        libc::free(*((tp + glibc::OFF_TLS_STATE) as *const *mut c_void));
        libc::free(*((tp + glibc::OFF_TLS_STATE + 8) as *const *mut c_void));
        core::ptr::write_bytes((tp + glibc::OFF_AFTER_HEADER) as *mut u8, 0, glibc::SIZEOF_PTHREAD - glibc::OFF_AFTER_HEADER);
        (private().allocate_tls_init)(tp as *mut c_void, true);
        init_header(tp, creator_tp);
        for i in 0..pres.1 {
            *((tp as isize + pres.0[i]) as *mut usize) = saved[i];
        }
    }
}

extern "C" {
    fn __res_state() -> *mut c_void;
}

/// Per-thread libc state that glibc's start_thread sets up and TLS images cannot: the ctype
/// table pointers (`isalpha`, `toupper`… read them) and the resolver state pointer. Runs on
/// the new thread, on its own TCB, before its start routine.
pub fn init_thread_libc_state() {
    if let Some(w) = resp_word() {
        // SAFETY: the calling thread's own __resp word.
        unsafe { *w = thread_pointer() + glibc::OFF_RES };
    }
    // SAFETY: __ctype_init reads the current thread's locale and writes its own TLS words.
    unsafe { (private().ctype_init)() }
}

/// The calling thread's `__resp` TLS word (libc's pointer to its resolver state `_res`), if it
/// was found at start-up. The offset from the thread pointer is the same in every TCB.
pub fn resp_word() -> Option<*mut usize> {
    let off = RESP_OFFSET.load(Ordering::Relaxed);
    (off != 0).then(|| (thread_pointer() - off) as *mut usize)
}

/// Runs the C++/Rust `thread_local` destructors registered on the current TCB.
pub fn call_tls_dtors() {
    // SAFETY: __call_tls_dtors runs and pops the current TCB's dtor list; it is what glibc's
    // start_thread calls at thread exit.
    unsafe { (private().call_tls_dtors)() }
}

/// Gives a green TCB its `struct pthread.tid`: glibc's own recursive and error-checking mutexes
/// (the loader locks behind dlopen, dlsym, dl_iterate_phdr and TLS set-up) and its internal
/// rwlocks (setlocale's) tell owners apart by this word. At 0, as `_dl_allocate_tls` leaves it,
/// every green thread looks like the owner of such a lock another green thread holds and walks
/// in (a rwlock write-lock even returns EDEADLK unlocked), which is wrong as soon as two of
/// them run at once: on two carriers (`hub::multi()`), or one green thread beside an offload
/// worker. So every green TCB gets a distinct word, always rather than only with
/// GREEN_HUBS > 1, because a hand-off turns several carriers on while threads already exist and
/// may be inside such a lock.
///
/// The value is negative, `-gettid()` of the thread: distinct from every other green thread's
/// and from every kernel tid, and glibc reads `tid <= 0` as "not a kernel thread" (its
/// INVALID_TD_P), so the calls that would name the thread to the kernel (pthread_sigqueue,
/// pthread_getcpuclockid, the sched and affinity calls) answer as with 0 instead of naming a
/// thread id that does not exist; `gettid()` answers stay the runtime's (thread.rs).
///
/// # Safety
/// `tp` is a TCB owned by the runtime whose thread has not started.
pub unsafe fn set_tid(tp: usize, tid: i32) {
    // SAFETY: OFF_TID (verified at start-up through libthread_db's description) lies in the
    // TCB's struct pthread; an int, 4-aligned.
    unsafe { *((tp + glibc::OFF_TID) as *mut i32) = tid };
}

/// Records the stack bounds in `struct pthread` (read by glibc's alloca cut-off and by the
/// forced-unwind stop function of pthread_exit).
///
/// # Safety
/// `tp` is a TCB owned by the runtime.
pub unsafe fn set_stack_bounds(tp: usize, lo: usize, size: usize, guard: usize) {
    // SAFETY: glibc 2.36 offsets of stackblock, stackblock_size, guardsize.
    unsafe {
        *((tp + glibc::OFF_STACKBLOCK) as *mut usize) = lo;
        *((tp + glibc::OFF_STACKBLOCK_SIZE) as *mut usize) = size;
        *((tp + glibc::OFF_GUARDSIZE) as *mut usize) = guard;
    }
}
