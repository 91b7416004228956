//! Green thread stacks: reserved lazily (MAP_NORESERVE, touched on use) and pooled.
//!
//! Policy (fact 7 and 8 of DESIGN.md): a fresh mmap costs ≈10 µs and a guard page costs a VMA,
//! while the kernel allows 65,530 VMAs per process. So:
//! - the first `GUARDED_BUDGET` stacks each get their own mapping with a PROT_NONE guard below
//!   (2 VMAs each), like glibc's;
//! - beyond that, stacks are carved from shared chunks of `CHUNK_STACKS` stacks (1 VMA per
//!   chunk) without guard pages;
//! - every runtime stack keeps a canary word at its lowest usable address, checked by the hub
//!   each time the thread switches out, so an overflow that skipped a guard (or had none) is
//!   reported with the thread's name instead of silently corrupting a neighbour;
//! - stacks return to a per-size pool when their thread exits and are reused as they are
//!   (touched pages stay resident, as in glibc's stack cache).
//!
//! A stack given with `pthread_attr_setstack` is the user's: used as is, never pooled.

use crate::lock::SpinLock;

pub const PAGE: usize = 4096;
/// Stacks with their own guard page before carving starts (≈ half the VMA limit).
pub const GUARDED_BUDGET: usize = 16 * 1024;
/// Stacks per carved chunk.
pub const CHUNK_STACKS: usize = 64;
const CANARY: u64 = 0x5354_4143_4b21_6721; // "STACK!g!"

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
#[derive(Debug)]
pub struct Stack {
    pub lo: usize,
    pub hi: usize,
    pub guard: usize,
    pub origin: Origin,
}

impl Stack {
    /// Lowest usable address.
    pub fn usable_lo(&self) -> usize {
        self.lo + self.guard
    }
    /// Usable bytes.
    pub fn size(&self) -> usize {
        self.hi - self.usable_lo()
    }
    /// Address of the canary word, 0 for a program-supplied stack.
    pub fn canary_addr(&self) -> usize {
        if self.origin == Origin::User { 0 } else { self.usable_lo() }
    }
    fn write_canary(&self) {
        if self.origin != Origin::User {
            // SAFETY: usable_lo is mapped read-write and belongs to this stack.
            unsafe { (self.usable_lo() as *mut u64).write(CANARY) };
        }
    }
    /// False when the thread has written over the bottom of its stack.
    pub fn canary_intact(&self) -> bool {
        canary_intact_at(self.canary_addr())
    }
}

/// Checks a canary word by address (0: nothing to check).
#[inline]
pub fn canary_intact_at(addr: usize) -> bool {
    // SAFETY: a non-zero address is the lowest usable word of a live runtime stack.
    addr == 0 || unsafe { (addr as *const u64).read_volatile() } == CANARY
}

// SAFETY: base/limit describe a mapping owned by this Stack for its whole life; the usable range
// is at least MIN_STACK bytes (config) and 16-byte aligned (page multiples or aligned below).
unsafe impl corosensei::stack::Stack for Stack {
    fn base(&self) -> corosensei::stack::StackPointer {
        corosensei::stack::StackPointer::new(self.hi & !15).expect("non-null stack top")
    }
    fn limit(&self) -> corosensei::stack::StackPointer {
        corosensei::stack::StackPointer::new((self.lo + 15) & !15).expect("non-null stack bottom")
    }
}

struct SizeClass {
    size: usize,
    guard: usize,
    free: Vec<Stack>,
    /// Unused remainder of the current carved chunk: next stack's lo, stacks left.
    chunk_next: usize,
    chunk_left: usize,
}

struct Pool {
    classes: Vec<SizeClass>,
    guarded: usize,
}

static POOL: SpinLock<Pool> = SpinLock::new(Pool { classes: Vec::new(), guarded: 0 });

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

/// A stack with `size` usable bytes and (while the budget lasts) a `guard`-byte guard region.
/// `None` when the address space is exhausted (pthread_create reports EAGAIN).
pub fn alloc(size: usize, guard: usize) -> Option<Stack> {
    let size = round_up(size.max(crate::config::MIN_STACK), PAGE);
    let guard = round_up(guard.max(PAGE), PAGE);
    let mut pool = POOL.lock();
    let idx = match pool.classes.iter().position(|c| c.size == size && c.guard == guard) {
        Some(i) => i,
        None => {
            pool.classes.push(SizeClass { size, guard, free: Vec::new(), chunk_next: 0, chunk_left: 0 });
            pool.classes.len() - 1
        }
    };
    if let Some(s) = pool.classes[idx].free.pop() {
        return Some(s);
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
        Stack { lo, hi: lo + guard + size, guard, origin: Origin::Guarded }
    } else {
        let class = &mut pool.classes[idx];
        if class.chunk_left == 0 {
            class.chunk_next = mmap_noreserve(size * CHUNK_STACKS)?;
            class.chunk_left = CHUNK_STACKS;
        }
        let lo = class.chunk_next;
        class.chunk_next += size;
        class.chunk_left -= 1;
        Stack { lo, hi: lo + size, guard: 0, origin: Origin::Carved }
    };
    stack.write_canary();
    Some(stack)
}

/// A program-supplied stack (`pthread_attr_setstack`).
pub fn user(addr: usize, size: usize) -> Stack {
    Stack { lo: addr, hi: addr + size, guard: 0, origin: Origin::User }
}

/// Returns a stack whose thread has finished.
pub fn release(stack: Stack) {
    if stack.origin == Origin::User {
        return;
    }
    stack.write_canary();
    let size = stack.size();
    let mut pool = POOL.lock();
    // Carved stacks are pooled with the class of their size and the class's guard (they have
    // none, but are interchangeable once guards ran out).
    if let Some(c) = pool.classes.iter_mut().find(|c| c.size == size && (c.guard == stack.guard || stack.guard == 0)) {
        c.free.push(stack);
    }
}

/// Pooled stacks, for tests and stats.
pub fn pooled() -> usize {
    POOL.lock().classes.iter().map(|c| c.free.len()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_are_pooled_and_reused() {
        let a = alloc(64 * 1024, PAGE).unwrap();
        assert_eq!(a.size(), 64 * 1024);
        assert!(a.canary_intact());
        let lo = a.lo;
        // The usable range is writable end to end.
        // SAFETY: the range is our fresh mapping.
        unsafe {
            core::ptr::write_bytes((a.usable_lo() + 8) as *mut u8, 0xab, a.size() - 8);
        }
        assert!(a.canary_intact());
        release(a);
        let b = alloc(64 * 1024, PAGE).unwrap();
        assert_eq!(b.lo, lo, "a released stack is reused");
        // Overwriting the bottom word is detected.
        // SAFETY: inside b's usable range.
        unsafe { (b.usable_lo() as *mut u64).write(0) };
        assert!(!b.canary_intact());
        release(b);
        let c = alloc(64 * 1024, PAGE).unwrap();
        assert!(c.canary_intact(), "release re-arms the canary");
        release(c);
    }

    #[test]
    fn sizes_round_to_pages_and_minimum() {
        let s = alloc(1000, 0).unwrap();
        assert_eq!(s.size(), crate::config::MIN_STACK);
        assert_eq!(s.guard, PAGE);
        release(s);
    }
}
