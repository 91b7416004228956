//! Green thread stacks: reserved lazily (MAP_NORESERVE, touched on use) and pooled.
//!
//! Policy (facts 7 and 8 of DESIGN.md): a fresh mmap costs ≈10 µs and an mprotect'ed guard page
//! costs a VMA, while the kernel allows 65,530 VMAs per process. So:
//! - where the kernel has guard regions (MADV_GUARD_INSTALL, Linux 6.13: a guard kept in the
//!   page tables, which splits no VMA), stacks are carved from chunks of up to `CHUNK_STACKS`
//!   slots (one mapping, one VMA), each slot a guard region below its stack, all of a chunk's
//!   guards installed by one `process_madvise`: every stack has a guard, as natively, and a new
//!   stack costs two system calls per chunk instead of two per stack (an mmap and an mprotect);
//! - elsewhere (older kernels, filters that refuse the call), the first `GUARDED_BUDGET` stacks
//!   each get their own mapping with a PROT_NONE guard below (2 VMAs each), like glibc's, and
//!   beyond that stacks are carved from shared chunks without guard pages. Each such carved
//!   stack has a canary just below its usable range, checked by the hub each time the thread
//!   switches out, so an overflow is reported with the thread's id instead of silently
//!   corrupting a neighbour. The canary lives in the top `CANARY_GAP` bytes of the slot below
//!   (reserved, never part of that stack), a page that slot's own thread touches anyway: the
//!   check costs no extra resident page per thread;
//! - stacks return to a per-size pool when their thread exits and are reused as they are
//!   (touched pages stay resident, as in glibc's stack cache).
//!
//! A stack given with `pthread_attr_setstack` is the user's: used as is, never pooled.

use core::sync::atomic::{AtomicU8, Ordering::Relaxed};

use crate::lock::SpinLock;

pub const PAGE: usize = 4096;
/// Stacks with their own guard page before carving starts (≈ half the VMA limit).
pub const GUARDED_BUDGET: usize = 16 * 1024;
/// Stacks per carved chunk.
pub const CHUNK_STACKS: usize = 64;
/// A chunk of guarded slots holds fewer stacks when they are large, so that its guards (each a
/// page-table entry in a 2 MiB span of its own) do not cost page tables for stacks never used.
const GUARDED_CHUNK_BYTES: usize = 32 << 20;
/// MADV_GUARD_INSTALL (Linux 6.13) and PIDFD_SELF (Linux 6.15: the calling thread, whose
/// address space process_madvise then advises); not in the libc crate yet.
const MADV_GUARD_INSTALL: i32 = 102;
const PIDFD_SELF: i32 = -10000;
/// Whether guard regions work here: learnt from the first chunk that tries them.
static GUARD_REGIONS: AtomicU8 = AtomicU8::new(UNTRIED);
const UNTRIED: u8 = 0;
const WORK: u8 = 1;
const REFUSED: u8 = 2;
const CANARY: u64 = 0x5354_4143_4b21_6721; // "STACK!g!"
/// Bytes reserved at the top of each carved slot for the canary of the slot above.
const CANARY_GAP: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Own mapping with a guard page below the usable range.
    Guarded,
    /// Carved from a shared chunk; canary only.
    Carved,
    /// Supplied by the program; not ours to pool or check.
    User,
}

/// A stack: `[lo, lo + guard)` is the guard (if any), `[lo + guard, hi)` usable, growing down.
///
#[derive(Debug)]
pub struct Stack {
    /// Where the thread's stack begins: `hi` less the colour, 16-aligned.
    base: usize,
    pub origin: Origin,
    pub lo: usize,
    pub hi: usize,
    pub guard: usize,
}

impl Stack {
    fn new(lo: usize, hi: usize, guard: usize, origin: Origin) -> Stack {
        let mut s = Stack { base: 0, origin, lo, hi, guard };
        s.base = (hi - s.color()) & !15;
        s
    }
    /// Where the thread's stack begins (its first context is prepared below it).
    pub fn base_addr(&self) -> usize {
        self.base
    }
    /// The size class it returns to (the usable size it was allocated with; 0 for the user's).
    fn class_size(&self) -> usize {
        match self.origin {
            Origin::Guarded => self.hi - self.lo - self.guard,
            Origin::Carved => self.hi + CANARY_GAP - self.lo,
            Origin::User => 0,
        }
    }
    /// Bytes left unused at the top: 0 for a program's own stack, else a colour derived from
    /// the stack's address (stable for its life).
    fn color(&self) -> usize {
        if self.origin == Origin::User {
            return 0;
        }
        // A multiplicative hash of the page number: stacks at any stride get mixed colours.
        let h = ((self.lo / PAGE) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        (h as usize % (COLOR_SPAN / COLOR_STEP)) * COLOR_STEP
    }
    /// Lowest usable address.
    pub fn usable_lo(&self) -> usize {
        self.lo + self.guard
    }
    /// Usable bytes.
    pub fn size(&self) -> usize {
        self.hi - self.usable_lo()
    }
    /// Address of the canary word (in the reserved gap below a carved stack), 0 when there is
    /// none to check.
    pub fn canary_addr(&self) -> usize {
        if self.origin == Origin::Carved { self.lo - 8 } else { 0 }
    }
    fn write_canary(&self) {
        let canary = self.canary_addr();
        if canary != 0 {
            // SAFETY: the canary lies in the reserved gap below this carved stack, mapped RW.
            unsafe { (canary as *mut u64).write(CANARY) };
        }
    }
    /// False when the thread has written over the bottom of its stack.
    pub fn canary_intact(&self) -> bool {
        canary_intact_at(self.canary_addr())
    }
}

/// Checks a canary word by address (0: nothing to check).
#[inline]
fn canary_intact_at(addr: usize) -> bool {
    // SAFETY: a non-zero address is the lowest usable word of a live runtime stack.
    addr == 0 || unsafe { (addr as *const u64).read_volatile() } == CANARY
}

struct SizeClass {
    size: usize,
    guard: usize,
    free: Vec<Stack>,
    /// The unused rest of the current chunk of guarded slots, and of canaried ones (kept apart:
    /// their strides differ).
    guarded: Chunk,
    canaried: Chunk,
}

/// The unused remainder of a chunk: the next slot's address and how many slots are left.
#[derive(Default)]
struct Chunk {
    next: usize,
    left: usize,
}

impl Chunk {
    /// The next slot, `stride` bytes long; None when the chunk is used up.
    fn take(&mut self, stride: usize) -> Option<usize> {
        if self.left == 0 {
            return None;
        }
        let lo = self.next;
        self.next += stride;
        self.left -= 1;
        Some(lo)
    }
}

pub(crate) struct Pool {
    classes: Vec<SizeClass>,
    guarded: usize,
}

pub(crate) static POOL: SpinLock<Pool> = SpinLock::new(Pool { classes: Vec::new(), guarded: 0 });

pub fn round_up(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

fn mmap_noreserve(len: usize) -> Option<usize> {
    // SAFETY: anonymous private mapping; no existing memory is affected.
    let p = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_STACK,
            -1,
            0,
        )
    };
    (p != libc::MAP_FAILED).then_some(p as usize)
}

/// Stack colouring: the top of a stack is lowered by one of `COLOR_SPAN / COLOR_STEP` multiples
/// of a cache line, picked from its address. Every stack's top is page-aligned, so without it
/// the lines a thread touches around its switch point sit at the same offset in a page for
/// every thread, and a set-associative cache indexes them into the same 1/64 of its sets: with
/// hundreds of threads taking turns (a thread-per-connection server) each such line is evicted
/// before its thread runs again, though all of them would fit (cachegrind, 300 connections of
/// the echo benchmark, this host's 1 MiB 8-way L2: 11.8 misses per request without, 0.1 with).
/// The span leaves 1 KiB of the top page below it for a parked thread's frames.
const COLOR_SPAN: usize = 3 * 1024;
const COLOR_STEP: usize = 64;

/// A stack with `size` usable bytes and a `guard`-byte guard region (without guard regions in
/// the kernel: while the budget lasts). `None` when the address space is exhausted
/// (pthread_create reports EAGAIN).
pub fn alloc(size: usize, guard: usize) -> Option<Stack> {
    let size = round_up(size.max(crate::config::MIN_STACK), PAGE);
    let guard = round_up(guard.max(PAGE), PAGE);
    let mut pool = POOL.lock();
    let idx = match pool.classes.iter().position(|c| c.size == size && c.guard == guard) {
        Some(i) => i,
        None => {
            pool.classes.push(SizeClass { size, guard, free: Vec::new(), guarded: Chunk::default(), canaried: Chunk::default() });
            pool.classes.len() - 1
        }
    };
    if let Some(s) = pool.classes[idx].free.pop() {
        return Some(s);
    }
    if GUARD_REGIONS.load(Relaxed) != REFUSED {
        match carve_guarded(&mut pool.classes[idx]) {
            Carve::Done(s) => return Some(s),
            Carve::Failed => return None,
            Carve::Refused => {} // this kernel has no guard regions: as before them, below
        }
    }
    let stack = if pool.guarded < GUARDED_BUDGET {
        pool.guarded += 1;
        drop(pool);
        let lo = mmap_noreserve(size + guard)?;
        // SAFETY: [lo, lo+guard) lies inside the mapping just created.
        if unsafe { libc::mprotect(lo as *mut libc::c_void, guard, libc::PROT_NONE) } != 0 {
            // SAFETY: unmapping exactly what we mapped.
            unsafe { libc::munmap(lo as *mut libc::c_void, size + guard) };
            return None;
        }
        Stack::new(lo, lo + guard + size, guard, Origin::Guarded)
    } else {
        let class = &mut pool.classes[idx];
        if class.canaried.left == 0 {
            // One spare page below the first slot holds that slot's canary.
            class.canaried = Chunk { next: mmap_noreserve(PAGE + size * CHUNK_STACKS)? + PAGE, left: CHUNK_STACKS };
        }
        let lo = class.canaried.take(size).expect("a chunk with slots left");
        Stack::new(lo, lo + size - CANARY_GAP, 0, Origin::Carved)
    };
    stack.write_canary();
    Some(stack)
}

enum Carve {
    Done(Stack),
    /// Out of address space or page-table memory.
    Failed,
    /// The kernel has no guard regions (learnt now, or before).
    Refused,
}

/// The next guarded slot of the class's current chunk (a new chunk when it is used up): slots
/// are `guard + size` bytes, the guard at the bottom.
fn carve_guarded(class: &mut SizeClass) -> Carve {
    let slot = class.guard + class.size;
    if class.guarded.left == 0 {
        let n = (GUARDED_CHUNK_BYTES / slot).clamp(1, CHUNK_STACKS);
        let Some(base) = mmap_noreserve(slot * n) else { return Carve::Failed };
        if !install_guards(base, slot, n, class.guard) {
            // SAFETY: unmapping exactly the chunk just mapped; nothing points into it.
            unsafe { libc::munmap(base as *mut libc::c_void, slot * n) };
            // The first refusal says the kernel cannot; a later one is a failure (ENOMEM).
            return match GUARD_REGIONS.compare_exchange(UNTRIED, REFUSED, Relaxed, Relaxed) {
                Ok(_) | Err(REFUSED) => Carve::Refused,
                Err(_) => Carve::Failed,
            };
        }
        GUARD_REGIONS.store(WORK, Relaxed);
        class.guarded = Chunk { next: base, left: n };
    }
    let lo = class.guarded.take(slot).expect("a chunk with slots left");
    Carve::Done(Stack::new(lo, lo + slot, class.guard, Origin::Guarded))
}

/// Installs a `guard`-byte guard region at the bottom of each of the `n` slots at `base`: one
/// process_madvise for all of them, or (before Linux 6.15's PIDFD_SELF) one madvise per slot.
fn install_guards(base: usize, slot: usize, n: usize, guard: usize) -> bool {
    let mut iov = [libc::iovec { iov_base: core::ptr::null_mut(), iov_len: 0 }; CHUNK_STACKS];
    for (i, v) in iov.iter_mut().take(n).enumerate() {
        *v = libc::iovec { iov_base: (base + i * slot) as *mut libc::c_void, iov_len: guard };
    }
    // SAFETY: the iovecs name page-aligned ranges inside our fresh private mapping; installing a
    // guard there affects nothing else.
    let all = unsafe { crate::sys::syscall6(libc::SYS_process_madvise, PIDFD_SELF as usize, iov.as_ptr() as usize, n, MADV_GUARD_INSTALL as usize, 0, 0) };
    if all == (n * guard) as isize {
        return true;
    }
    // SAFETY: as above, one slot's guard range at a time.
    iov[..n].iter().all(|v| unsafe { libc::madvise(v.iov_base, guard, MADV_GUARD_INSTALL) } == 0)
}

/// A program-supplied stack (`pthread_attr_setstack`).
pub fn user(addr: usize, size: usize) -> Stack {
    Stack::new(addr, addr + size, 0, Origin::User)
}

/// Returns a stack whose thread has finished.
pub fn release(stack: Stack) {
    if stack.origin == Origin::User {
        return;
    }
    stack.write_canary();
    let mut pool = POOL.lock();
    // Carved stacks (no guard) join the class they were carved for.
    if let Some(c) = pool.classes.iter_mut().find(|c| c.size == stack.class_size() && (c.guard == stack.guard || stack.guard == 0)) {
        c.free.push(stack);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_tops_are_coloured() {
        let at = |lo: usize, origin| Stack::new(lo, lo + 64 * PAGE, 0, origin);
        // Guarded stacks (65-page strides) and carved ones (64-page strides) alike: the tops of
        // 64 neighbouring stacks fall at many different offsets in their page.
        for stride in [65 * PAGE, 64 * PAGE, 257 * PAGE] {
            let mut seen = [false; COLOR_SPAN / COLOR_STEP];
            for k in 0..64 {
                let s = at(0x7f00_0000_0000 + k * stride, Origin::Guarded);
                let c = s.color();
                assert!(c < COLOR_SPAN && c % COLOR_STEP == 0);
                assert_eq!(s.base_addr(), s.hi - c, "the thread's stack starts below the colour");
                seen[c / COLOR_STEP] = true;
            }
            let colours = seen.iter().filter(|&&x| x).count();
            assert!(colours >= 24, "stride {stride}: only {colours} colours");
        }
        // A program's own stack is used from its top.
        let u = at(0x7f00_0000_0000 + 3 * PAGE, Origin::User);
        assert_eq!(u.base_addr(), u.hi);
    }

    #[test]
    fn guarded_slots_then_carved_stacks() {
        let a = alloc(64 * 1024, PAGE).unwrap();
        assert_eq!(a.size(), 64 * 1024);
        assert_eq!(a.origin, Origin::Guarded);
        let lo = a.lo;
        // The usable range is writable end to end.
        // SAFETY: the range is our fresh mapping.
        unsafe { core::ptr::write_bytes(a.usable_lo() as *mut u8, 0xab, a.size()) };
        release(a);
        let b = alloc(64 * 1024, PAGE).unwrap();
        assert_eq!(b.lo, lo, "a released stack is reused");
        release(b);

        let s = alloc(1000, 0).unwrap();
        assert_eq!(s.size(), crate::config::MIN_STACK, "sizes round up to the minimum");
        assert_eq!(s.guard, PAGE);
        release(s);

        // With guard regions (this kernel: Linux 6.13 and later), new stacks are slots of one
        // chunk, each with its guard below (one test, since the pool is global).
        let a = alloc(48 * 1024, PAGE).unwrap();
        let b = alloc(48 * 1024, PAGE).unwrap();
        assert_eq!(GUARD_REGIONS.load(Relaxed), WORK, "this kernel has guard regions");
        assert_eq!((a.origin, b.origin), (Origin::Guarded, Origin::Guarded));
        assert_eq!(b.lo, a.lo + PAGE + 48 * 1024, "slots are adjacent in one chunk, guard first");
        assert_eq!((a.size(), a.guard, a.canary_addr()), (48 * 1024, PAGE, 0));
        // SAFETY: usable ranges of our own stacks.
        unsafe {
            core::ptr::write_bytes(a.usable_lo() as *mut u8, 0x11, a.size());
            core::ptr::write_bytes(b.usable_lo() as *mut u8, 0x22, b.size());
        }
        let a_lo = a.lo;
        release(a);
        let c = alloc(48 * 1024, PAGE).unwrap();
        assert_eq!(c.lo, a_lo, "a released slot returns to its size class");
        release(c);
        release(b);

        // Without guard regions, once the guard budget is spent, stacks are carved with canaries.
        GUARD_REGIONS.store(REFUSED, Relaxed);
        POOL.lock().guarded = GUARDED_BUDGET;
        let a = alloc(32 * 1024, PAGE).unwrap();
        let b = alloc(32 * 1024, PAGE).unwrap();
        assert_eq!(a.origin, Origin::Carved);
        assert_eq!(b.lo, a.lo + 32 * 1024, "slots are adjacent in one chunk");
        assert!(a.canary_intact() && b.canary_intact());
        // The whole usable range of both can be used without touching either canary.
        // SAFETY: usable ranges of our own carved stacks.
        unsafe {
            core::ptr::write_bytes(a.usable_lo() as *mut u8, 0x11, a.size());
            core::ptr::write_bytes(b.usable_lo() as *mut u8, 0x22, b.size());
        }
        assert!(a.canary_intact() && b.canary_intact());
        // b overflowing downward by a few words hits its canary (in a's reserved gap).
        // SAFETY: the gap below b is mapped (top of a's slot).
        unsafe { ((b.usable_lo() - 8) as *mut u64).write(0) };
        assert!(!b.canary_intact());
        assert!(a.canary_intact());
        let b_lo = b.lo;
        release(b);
        let c = alloc(32 * 1024, PAGE).unwrap();
        assert_eq!(c.lo, b_lo, "a released carved stack returns to its size class");
        assert!(c.canary_intact(), "release re-arms the canary");
        release(c);
        release(a);
        GUARD_REGIONS.store(WORK, Relaxed);
    }
}
