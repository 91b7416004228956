//! The pthread lifecycle for green threads: create, join, detach, exit, attributes, names and
//! key destructors. Error numbers follow glibc 2.36 (EINVAL, ESRCH, EDEADLK, EBUSY, ETIMEDOUT,
//! EAGAIN, ERANGE).

use core::ffi::{c_char, c_int, c_void};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::config;
use crate::glibc;
use crate::hub;
use crate::park::{self, ParkResult};
use crate::stack;
use crate::sys;
use crate::task::{self, ParkReason, StartRoutine, Task, DETACHED, EXITED, JOIN_CLAIMED};
use crate::tls;

extern "C" {
    fn libgreen_run_start_routine(start: StartRoutine, arg: *mut c_void, cleanup_jmp_buf_off: usize, ret: *mut *mut c_void) -> c_int;
}

static DEFAULT_STACK: AtomicUsize = AtomicUsize::new(config::DEFAULT_STACK);

/// main calls pthread_exit while the runtime has real OS threads of its own (carriers, offload
/// workers): glibc would count them and end main's OS thread instead of calling exit(0) after
/// main's unwind, and that thread may be the carrier the others need. So main first waits here
/// (running the other green threads) until they have finished, then glibc is told main is its
/// last thread, and main's unwind ends in exit(0) as natively. Returns false (nothing done)
/// when the runtime has no OS thread of its own. Main's cleanup handlers and TLS destructors
/// then run after the other threads finished, not before (a documented difference).
pub fn main_exit_with_runtime_threads() -> bool {
    if crate::carrier::made() == 1 && crate::offload::os_threads() == 0 {
        return false;
    }
    crate::hub::main_exit_wait();
    match crate::osthread::next_symbol(c"__nptl_nthreads") {
        // SAFETY: glibc 2.36's `unsigned int __nptl_nthreads` (GLIBC_PRIVATE, checked by name).
        Some(p) => unsafe { (*(p as *const core::sync::atomic::AtomicU32)).store(1, core::sync::atomic::Ordering::SeqCst) },
        None => crate::green_warn!("main's pthread_exit: glibc's thread count not found; the process may not end"),
    }
    true
}

pub fn set_default_stack(size: usize) {
    DEFAULT_STACK.store(size, Ordering::Relaxed);
}

/// The green task behind a pthread_t, if it names a live green thread.
pub fn task_of(th: libc::pthread_t) -> Option<&'static Task> {
    // SAFETY: pthread_t values are TCB addresses; glibc requires callers to pass live ones.
    let w = unsafe { tls::task_word_of(th as usize) };
    // SAFETY: a tagged TCB holds a pooled Task pointer.
    (w != 0).then(|| unsafe { &*(w as *const Task) })
}

/// Whether `th` is a TCB the runtime owns but no live thread uses (joined/detached and gone):
/// glibc would touch freed memory here; we answer ESRCH.
pub fn is_stale(th: libc::pthread_t) -> bool {
    // SAFETY: as in task_of.
    unsafe { tls::is_released(th as usize) }
}

/// pthread_create for a green caller. Returns the new thread or an errno.
///
/// # Safety
/// `attr` is null or an initialised attribute object.
pub unsafe fn create(attr: *const libc::pthread_attr_t, start: StartRoutine, arg: *mut c_void) -> Result<libc::pthread_t, c_int> {
    let mut detach = libc::PTHREAD_CREATE_JOINABLE;
    let mut guard = stack::PAGE;
    let mut user_stack = None;
    let mut size = DEFAULT_STACK.load(Ordering::Relaxed);
    if !attr.is_null() {
        // SAFETY: attr is initialised (contract); the getters only read it.
        unsafe {
            glibc::pthread_attr_getdetachstate(attr, &mut detach);
            libc::pthread_attr_getguardsize(attr, &mut guard);
            if glibc::attr_has_stackaddr(attr) {
                let (mut addr, mut sz) = (core::ptr::null_mut(), 0usize);
                libc::pthread_attr_getstack(attr, &mut addr, &mut sz);
                user_stack = Some((addr as usize, sz));
            } else {
                let raw = glibc::attr_raw_stacksize(attr);
                if raw != 0 {
                    size = raw;
                }
            }
        }
    }
    let stack = match user_stack {
        Some((addr, sz)) => stack::user(addr, sz),
        None => stack::alloc(size, guard).ok_or(libc::EAGAIN)?,
    };
    let creator_tp = tls::thread_pointer();
    crate::hub::ensure_root_tcb();
    let Some(tp) = tls::alloc(creator_tp) else {
        stack::release(stack);
        return Err(libc::EAGAIN);
    };
    let t = task::alloc();
    t.tcb.set(tp);
    // A new thread starts with its creator's signal mask, as natively.
    t.sigmask.set(hub::current().map_or(0, |c| c.sigmask.get()));
    // And its recorded scheduling attributes (main's are the carrier's own: nothing to copy).
    t.sched.inherit(hub::current().filter(|c| !c.is_main));
    t.start.set(Some(start));
    t.arg.set(arg);
    t.stack_lo.set(stack.usable_lo());
    t.stack_size.set(stack.size());
    // What pthread_getattr_np reports: the real guard; one page for carved stacks, whose canary
    // plays the guard's part (Rust std refuses a thread whose attributes show no guard); 0 for a
    // program-supplied stack, as glibc.
    t.guard_size.set(match stack.origin {
        stack::Origin::User => 0,
        _ => stack.guard.max(stack::PAGE),
    });
    t.canaried.set(stack.canary_addr() != 0);
    if detach == libc::PTHREAD_CREATE_DETACHED {
        t.join_flags.store(DETACHED, Ordering::Relaxed);
    }
    // SAFETY: tp is the new thread's TCB, owned by the runtime.
    unsafe {
        tls::set_tid(tp, -(green_tid(t) as i32));
        tls::set_stack_bounds(tp, stack.usable_lo(), stack.size(), stack.guard);
        tls::tag(tp, t as *const Task as usize);
    }
    // SAFETY: the stack is new to this thread and unused; its base is 16-byte aligned.
    t.ctx_sp.set(unsafe { crate::context::prepare(stack.base_addr(), thread_entry, t as *const Task as usize) });
    // SAFETY: the task is new and not queued; nobody else touches its stack slot.
    unsafe { *t.stack.get() = Some(stack) };
    hub::spawn(t);
    Ok(tp as libc::pthread_t)
}

/// Where a green thread's context begins (context.rs `prepare`): its body, then the switch out
/// for good. `C-unwind`, not `C`: Rust would put an abort-on-unwind handler here, which an
/// exception the thread does not catch would find before the end of its stack, where it must
/// end in `std::terminate` as natively (test `uncaught_exception`); pthread_exit's unwind stops
/// below (entry.c), and a panic of the runtime's own finds no handler either and aborts.
extern "C-unwind" fn thread_entry(tword: usize) -> ! {
    // SAFETY: tword is the pooled Task this context was prepared for (never freed).
    let t: &'static Task = unsafe { &*(tword as *const Task) };
    thread_main(t);
    hub::exit_current(t)
}

/// The body of every green thread, on its own stack and TCB.
fn thread_main(t: &'static Task) {
    let mut ret: *mut c_void = core::ptr::null_mut();
    let start = t.start.get().expect("start routine set at create");
    tls::init_thread_libc_state();
    // SAFETY: runs the program's start routine below an unwind buffer (entry.c); the offset was
    // verified at start-up.
    let by_exit = unsafe { libgreen_run_start_routine(start, t.arg.get(), glibc::OFF_CLEANUP_JMP_BUF, &mut ret) };
    if by_exit == 0 {
        t.result.set(ret);
    } else {
        // pthread_exit and cancellation both store the value in struct pthread.result.
        // SAFETY: OFF_RESULT lies in our own TCB's struct pthread.
        t.result.set(unsafe { *((tls::thread_pointer() + glibc::OFF_RESULT) as *const *mut c_void) });
    }
    // As glibc's start_thread: thread_local destructors, then pthread key destructors.
    tls::call_tls_dtors();
    run_key_destructors();
    crate::sync::mutex::release_robust_held(t);
}

extern "C-unwind" {
    fn pthread_testcancel();
}

fn cancelhandling(tp: usize) -> &'static core::sync::atomic::AtomicI32 {
    // SAFETY: OFF_CANCELHANDLING lies in the TCB's struct pthread; an int, 4-aligned.
    unsafe { &*((tp + glibc::OFF_CANCELHANDLING) as *const core::sync::atomic::AtomicI32) }
}

/// A cancellation point: if the calling green thread has a pending cancellation and has it
/// enabled, glibc's pthread_testcancel unwinds it (cleanup handlers, C++ destructors) to its
/// start with PTHREAD_CANCELED. glibc keeps the state bits in our TCB, so its
/// pthread_setcancelstate/type and testcancel work unchanged for green threads.
pub fn testcancel() {
    // Before any request there is nothing to act on, whoever calls (`cancel_pending`): every
    // I/O wait passes here twice.
    if !CANCEL_SENT.load(Ordering::Relaxed) {
        return;
    }
    let Some(t) = hub::current() else { return };
    if t.is_main {
        return;
    }
    if cancel_pending(t) {
        // SAFETY: glibc's testcancel on our own TCB; it unwinds through "C-unwind" frames only.
        unsafe { pthread_testcancel() };
    }
}

/// Whether green thread `t` has a cancellation request that its next cancellation point acts
/// on (what [`testcancel`] checks; main is never cancelled here).
pub fn cancel_pending(t: &Task) -> bool {
    // Before any request the answer is known without reading the thread's TCB: a line that is
    // cold after every switch (a cache miss per I/O wait in a server with 1000 threads).
    if t.is_main || !CANCEL_SENT.load(Ordering::Relaxed) {
        return false;
    }
    let c = cancelhandling(t.tcb.get()).load(Ordering::Acquire);
    let mask = glibc::CANCELSTATE_BITMASK | glibc::CANCELED_BITMASK | glibc::EXITING_BITMASK | glibc::TERMINATED_BITMASK;
    c & mask == glibc::CANCELED_BITMASK
}

/// Whether green thread `t` has a cancellation request that acts at once, wherever it waits:
/// enabled, asynchronous, not yet acting.
pub fn async_cancel_pending(t: &Task) -> bool {
    if t.is_main || !CANCEL_SENT.load(Ordering::Relaxed) {
        return false;
    }
    let c = cancelhandling(t.tcb.get()).load(Ordering::Acquire);
    let mask = glibc::CANCELSTATE_BITMASK | glibc::CANCELTYPE_BITMASK | glibc::CANCELED_BITMASK | glibc::EXITING_BITMASK | glibc::TERMINATED_BITMASK;
    c & mask == glibc::CANCELTYPE_BITMASK | glibc::CANCELED_BITMASK
}

/// In a wait that is an asynchronous cancellation point (park.rs, before parking and once
/// woken): a pending asynchronous request unwinds the thread from here, as glibc's SIGCANCEL
/// handler unwinds a native thread out of its futex wait.
pub fn testcancel_async(t: &Task) {
    if async_cancel_pending(t) {
        t.async_cancel_point.set(false);
        // SAFETY: glibc's testcancel on our own TCB; every frame up to the program's call is
        // Rust or "C-unwind" (the mutex, rwlock and barrier hooks).
        unsafe { pthread_testcancel() };
    }
}

/// Runs `wait`, a wait the program asked for that is not a cancellation point (a mutex, rwlock
/// or barrier wait; `on`: false for the runtime's own, such as a condition wait re-locking its
/// mutex), as one where a thread with asynchronous cancellation is cancelled: before it parks,
/// or when `cancel` wakes it. Natively glibc interrupts such a thread anywhere with SIGCANCEL;
/// a green thread that runs is not interrupted, so a thread that computes is cancelled at its
/// next wait of these kinds or its next cancellation point.
/// `undo` runs if the thread is cancelled there (while it unwinds): it takes back what the
/// caller announced before waiting (a waiter count), which the unwind would otherwise leave.
pub fn async_cancel_point<R>(on: bool, wait: impl FnOnce() -> R, undo: impl FnOnce()) -> R {
    struct Undo<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Undo<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    let Some(t) = hub::current().filter(|_| on) else { return wait() };
    t.async_cancel_point.set(true);
    let mut undo = Undo(Some(undo));
    let r = wait();
    undo.0 = None;
    t.async_cancel_point.set(false);
    r
}

/// Whether any green thread was ever sent a cancellation request: green threads are cancelled
/// only through `cancel` (pthread_cancel of a green target is interposed), so until then no
/// cancellation point needs to look at glibc's bits.
static CANCEL_SENT: AtomicBool = AtomicBool::new(false);

/// pthread_cancel of a green thread: mark it (glibc's bits, in its TCB) and, if it waits at a
/// cancellation point, wake it so it acts on the request; with asynchronous cancellation, from
/// any wait (the mutex, rwlock and barrier waits act on it: `async_cancel_point`; others
/// take it as a spurious wake-up). A green thread that runs is not interrupted.
/// With several carriers the target may be on its way into a wait right now: the bits are set
/// with SeqCst and park.rs looks at them again once the wait is published (park::recheck).
pub fn cancel(target: &'static Task) -> c_int {
    if target.join_flags.load(Ordering::Acquire) & EXITED != 0 {
        return 0;
    }
    // Before the bits, so a thread that sees them also sees this (park::recheck's Dekker
    // pairing holds with both stores SeqCst).
    CANCEL_SENT.store(true, Ordering::SeqCst);
    let was = cancelhandling(target.tcb.get()).fetch_or(glibc::CANCELING_BITMASK | glibc::CANCELED_BITMASK, Ordering::SeqCst);
    if was & (glibc::CANCELTYPE_BITMASK | glibc::CANCELSTATE_BITMASK) == glibc::CANCELTYPE_BITMASK {
        park::interrupt(target);
    } else {
        park::interrupt_cancellable(target);
    }
    0
}

/// Green thread ids start above the largest possible kernel tid (pid_max is at most 2^22), so
/// `gettid()` of a green thread never names a real thread or process.
pub const GREEN_TID_BASE: i64 = 1 << 22;

/// gettid() of a green thread other than main: distinct and stable for its life (main keeps the
/// real tid, which equals the pid).
pub fn green_tid(t: &Task) -> i64 {
    GREEN_TID_BASE + t.id.get() as i64
}

/// How a joiner waits.
pub enum JoinWait {
    Block,
    Try,
    /// Absolute time on a clock.
    Until(libc::clockid_t, libc::timespec),
}

/// pthread_join family on a green thread `target`.
pub fn join(target: &'static Task, retval: *mut *mut c_void, wait: JoinWait) -> c_int {
    if hub::current().is_some_and(|me| core::ptr::eq(me, target)) {
        return libc::EDEADLK;
    }
    let flags = &target.join_flags;
    if let JoinWait::Try = wait {
        let f = flags.load(Ordering::Acquire);
        if f & (DETACHED | JOIN_CLAIMED) != 0 {
            return libc::EINVAL;
        }
        if f & EXITED == 0 {
            return libc::EBUSY;
        }
    }
    // Claim the right to join (a second joiner gets EINVAL, as glibc's joinid check).
    let mut f = flags.load(Ordering::Acquire);
    loop {
        if f & (DETACHED | JOIN_CLAIMED) != 0 {
            return libc::EINVAL;
        }
        match flags.compare_exchange_weak(f, f | JOIN_CLAIMED, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => break,
            Err(x) => f = x,
        }
    }
    let deadline = match &wait {
        JoinWait::Until(clock, ts) => {
            if !sys::timespec_valid(ts) {
                flags.fetch_and(!JOIN_CLAIMED, Ordering::AcqRel);
                return libc::EINVAL;
            }
            match sys::abs_to_monotonic(*clock, ts) {
                Some(d) => Some(d),
                None => {
                    flags.fetch_and(!JOIN_CLAIMED, Ordering::AcqRel);
                    return libc::EINVAL;
                }
            }
        }
        _ => None,
    };
    let key = flags.as_ptr() as usize;
    // A joiner cancelled while waiting gives up its claim, so the thread stays joinable.
    struct Claim<'a>(&'a core::sync::atomic::AtomicU32, bool);
    impl Drop for Claim<'_> {
        fn drop(&mut self) {
            if self.1 {
                self.0.fetch_and(!JOIN_CLAIMED, Ordering::AcqRel);
            }
        }
    }
    let mut claim = Claim(flags, true);
    while flags.load(Ordering::Acquire) & EXITED == 0 {
        let r = park::park(key, !0, || flags.load(Ordering::Acquire) & EXITED == 0, deadline, ParkReason::Join);
        if r == ParkResult::TimedOut && flags.load(Ordering::Acquire) & EXITED == 0 {
            return libc::ETIMEDOUT; // the claim is given up by the guard
        }
    }
    claim.1 = false;
    if !retval.is_null() {
        // SAFETY: retval is the caller's out-pointer (non-null checked).
        unsafe { *retval = target.result.get() };
    }
    hub::reclaim(target);
    0
}

/// pthread_detach on a green thread.
pub fn detach(target: &'static Task) -> c_int {
    let prev = target.join_flags.fetch_or(DETACHED, Ordering::AcqRel);
    if prev & (DETACHED | JOIN_CLAIMED) != 0 {
        if prev & DETACHED == 0 {
            // A joiner already waits: glibc detaching a joined thread is undefined; keep the
            // join valid and report EINVAL.
            target.join_flags.fetch_and(!DETACHED, Ordering::AcqRel);
        }
        return libc::EINVAL;
    }
    if prev & EXITED != 0 {
        hub::reclaim(target);
    }
    0
}

/// The CPU clock pthread_getcpuclockid names for a green thread. Natively it is the thread's own
/// (MAKE_THREAD_CPUCLOCK of its kernel tid); a green thread has no kernel thread, and the tid
/// glibc would use is negative (tls.rs `set_tid`), so glibc answered ESRCH for a live thread.
/// It is the process's CPU clock: green threads share their carriers' CPU time, and a thread
/// may run on any carrier (GREEN_HUBS, hand-offs), so the process clock is the one that always
/// advances while the thread computes and stays valid as carriers come and go (a carrier's own
/// clock would not). ESRCH once the thread has exited, as natively (its tid is 0 then).
pub fn cpu_clock(t: &Task) -> Result<libc::clockid_t, c_int> {
    if t.join_flags.load(Ordering::Acquire) & EXITED != 0 {
        return Err(libc::ESRCH);
    }
    Ok(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// pthread_getattr_np for a green thread: its real stack, guard and detach state.
///
/// # Safety
/// `attr` points to writable storage for a pthread_attr_t.
pub unsafe fn getattr(t: &Task, attr: *mut libc::pthread_attr_t) -> c_int {
    // SAFETY: attr is writable (contract); init then setters only write into it.
    unsafe {
        let r = libc::pthread_attr_init(attr);
        if r != 0 {
            return r;
        }
        libc::pthread_attr_setstack(attr, t.stack_lo.get() as *mut c_void, t.stack_size.get());
        libc::pthread_attr_setguardsize(attr, t.guard_size.get());
        if t.detached() {
            libc::pthread_attr_setdetachstate(attr, libc::PTHREAD_CREATE_DETACHED);
        }
    }
    0
}

/// pthread_setname_np for a green thread (kept in the runtime; the kernel knows only the
/// carrier thread's name).
///
/// # Safety
/// `name` is a NUL-terminated string.
pub unsafe fn setname(t: &Task, name: *const c_char) -> c_int {
    // SAFETY: name is NUL-terminated (contract).
    let bytes = unsafe { core::ffi::CStr::from_ptr(name) }.to_bytes();
    if bytes.len() > 15 {
        return libc::ERANGE;
    }
    let mut buf = [0u8; 16];
    buf[..bytes.len()].copy_from_slice(bytes);
    let _g = NAMES.lock();
    // SAFETY: names are written and read under NAMES (the watchdog's diagnostic read aside).
    unsafe { *t.name.get() = buf };
    0
}

/// Serialises pthread_setname_np/getname_np: with several carriers one green thread may name
/// another while a third reads that name (natively the kernel locks `comm` the same way).
pub(crate) static NAMES: crate::lock::SpinLock<()> = crate::lock::SpinLock::new(());

/// pthread_getname_np for a green thread. An unnamed thread reports the program's name, as the
/// kernel's comm of a new thread is inherited from its creator.
///
/// # Safety
/// `buf` has room for `len` bytes.
pub unsafe fn getname(t: &Task, buf: *mut c_char, len: usize) -> c_int {
    if len < 16 {
        return libc::ERANGE;
    }
    let g = NAMES.lock();
    // SAFETY: as in setname.
    let mut name = unsafe { *t.name.get() };
    drop(g);
    if name[0] == 0 {
        name = process_comm();
    }
    let n = name.iter().position(|&b| b == 0).unwrap_or(15);
    // SAFETY: buf has at least 16 bytes (checked) and n <= 15.
    unsafe {
        core::ptr::copy_nonoverlapping(name.as_ptr() as *const c_char, buf, n);
        *buf.add(n) = 0;
    }
    0
}

fn process_comm() -> [u8; 16] {
    let mut name = [0u8; 16];
    // SAFETY: PR_GET_NAME writes at most 16 bytes into the buffer.
    unsafe { sys::syscall3(libc::SYS_prctl, libc::PR_GET_NAME as usize, name.as_mut_ptr() as usize, 0) };
    name[15] = 0;
    name
}

// ---- pthread keys -------------------------------------------------------------------------

/// PTHREAD_KEYS_MAX in glibc.
const KEYS_MAX: usize = 1024;
/// Destructor of each live key (glibc keeps the values; libgreen only needs to know which
/// destructors to run when a green thread exits, which glibc's own exit path would do).
static KEY_DTORS: [AtomicUsize; KEYS_MAX] = [const { AtomicUsize::new(0) }; KEYS_MAX];
/// 1 + highest key ever created, to bound the destructor scan.
static KEY_HIGH: AtomicUsize = AtomicUsize::new(0);
/// Marks a live key without destructor.
const NO_DTOR: usize = 1;

/// Records a key created by the real pthread_key_create.
pub fn key_created(key: libc::pthread_key_t, dtor: Option<unsafe extern "C" fn(*mut c_void)>) {
    let k = key as usize;
    if k < KEYS_MAX {
        KEY_DTORS[k].store(dtor.map_or(NO_DTOR, |f| f as usize), Ordering::Release);
        KEY_HIGH.fetch_max(k + 1, Ordering::AcqRel);
    }
}

pub fn key_deleted(key: libc::pthread_key_t) {
    if let Some(d) = KEY_DTORS.get(key as usize) {
        d.store(0, Ordering::Release);
    }
}

/// PTHREAD_DESTRUCTOR_ITERATIONS rounds over the keys with destructors, as glibc's
/// __nptl_deallocate_tsd.
fn run_key_destructors() {
    let high = KEY_HIGH.load(Ordering::Acquire);
    for _round in 0..4 {
        let mut again = false;
        for k in 0..high {
            let d = KEY_DTORS[k].load(Ordering::Acquire);
            if d <= NO_DTOR {
                continue;
            }
            // SAFETY: k is a live key; getspecific/setspecific are glibc's, on our own TCB.
            let v = unsafe { libc::pthread_getspecific(k as libc::pthread_key_t) };
            if v.is_null() {
                continue;
            }
            // SAFETY: as above; the destructor is the one registered with this key.
            unsafe {
                libc::pthread_setspecific(k as libc::pthread_key_t, core::ptr::null());
                let f: unsafe extern "C" fn(*mut c_void) = core::mem::transmute(d);
                f(v);
            }
            again = true;
        }
        if !again {
            break;
        }
    }
}
