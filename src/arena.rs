//! Bump allocation of never-freed runtime objects (TCBs, task structs) from large anonymous
//! chunks advised for transparent huge pages: one TLB entry then covers hundreds of threads'
//! objects, which matters when thousands of green threads take turns (each switch touches the
//! next thread's task and TCB), and the kernel faults them in 2 MiB at a time.

use crate::lock::SpinLock;

const CHUNK: usize = 16 << 20;

pub struct Arena {
    next: usize,
    end: usize,
}

impl Arena {
    pub const fn new() -> Arena {
        Arena { next: 0, end: 0 }
    }

    /// `size` zeroed bytes aligned to `align` (a power of two ≤ 4096), or None if mmap fails.
    pub fn alloc(&mut self, size: usize, align: usize) -> Option<usize> {
        let mut at = self.next.next_multiple_of(align);
        if self.next == 0 || at + size > self.end {
            // SAFETY: a fresh anonymous mapping; no existing memory is affected.
            let m = unsafe {
                libc::mmap(core::ptr::null_mut(), CHUNK.max(size), libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE, -1, 0)
            };
            if m == libc::MAP_FAILED {
                return None;
            }
            // SAFETY: advice on our own mapping; failure (THP off) only loses the speed-up.
            unsafe { libc::madvise(m, CHUNK.max(size), libc::MADV_HUGEPAGE) };
            self.next = m as usize;
            self.end = m as usize + CHUNK.max(size);
            at = self.next;
        }
        self.next = at + size;
        Some(at)
    }
}

/// Task structs live here (task.rs); TCBs have their own arena in tls.rs.
pub static TASKS: SpinLock<Arena> = SpinLock::new(Arena::new());
