//! A bare stack switch for the one context corosensei cannot hold: the main thread, which runs
//! on the process's original stack. With several carriers main must be able to park on one OS
//! thread and resume on another, so its registers are saved on its own stack and its stack
//! pointer in its task, like a coroutine's; carrier roots use the same switch to start and to
//! come back.
//!
//! A saved context is one word: the stack pointer after pushing the System V callee-saved
//! registers (rbp, rbx, r12–r15) and the MXCSR and x87 control words, which the ABI also makes
//! callee-saved (a thread that changed its rounding mode keeps it when it moves).

core::arch::global_asm!(
    ".pushsection .text.green_ctx_switch,\"ax\",@progbits",
    ".globl green_ctx_switch",
    ".hidden green_ctx_switch",
    ".type green_ctx_switch,@function",
    "green_ctx_switch:",
    "    push rbp",
    "    push rbx",
    "    push r12",
    "    push r13",
    "    push r14",
    "    push r15",
    "    sub rsp, 8",
    "    stmxcsr [rsp]",
    "    fnstcw [rsp + 4]",
    "    mov [rdi], rsp",
    "    mov rsp, rsi",
    "    ldmxcsr [rsp]",
    "    fldcw [rsp + 4]",
    "    add rsp, 8",
    "    pop r15",
    "    pop r14",
    "    pop r13",
    "    pop r12",
    "    pop rbx",
    "    pop rbp",
    "    ret",
    ".size green_ctx_switch, . - green_ctx_switch",
    ".globl green_ctx_start",
    ".hidden green_ctx_start",
    ".type green_ctx_start,@function",
    "green_ctx_start:",
    // A fresh context: r13 is the entry, r12 its argument; rsp is 16-byte aligned here.
    "    mov rdi, r12",
    "    call r13",
    "    ud2",
    ".size green_ctx_start, . - green_ctx_start",
    ".popsection",
);

extern "C" {
    fn green_ctx_switch(save_sp: *mut usize, load_sp: usize);
    fn green_ctx_start();
}

/// Saves the running context's stack pointer in `*save` and continues the context saved in
/// `load`; returns when something switches back to the saved one.
///
/// # Safety
/// `load` is a context saved by `switch` (or made by `prepare`) that is not running, and
/// nothing else resumes the saved context until this one has switched away.
#[inline(always)]
pub unsafe fn switch(save: *mut usize, load: usize) {
    // SAFETY: forwarded contract; the asm follows the C ABI for a call.
    unsafe { green_ctx_switch(save, load) }
}

/// A context that starts `entry(arg)` on the stack whose highest address is `top` (16-byte
/// aligned); `entry` must never return.
///
/// # Safety
/// `top` is the top of a live, writable stack that nothing else uses.
pub unsafe fn prepare(top: usize, entry: extern "C" fn(usize) -> !, arg: usize) -> usize {
    debug_assert_eq!(top % 16, 0);
    let sp = top - 64;
    let words: [usize; 8] = [
        0x037f_0000_1f80, // MXCSR 0x1f80 (all exceptions masked), x87 control word 0x037f
        0,                // r15
        0,                // r14
        entry as *const () as usize, // r13
        arg,              // r12
        0,                // rbx
        0,                // rbp
        green_ctx_start as *const () as usize,
    ];
    // SAFETY: the 64 bytes below `top` are ours (contract).
    unsafe { core::ptr::copy_nonoverlapping(words.as_ptr(), sp as *mut usize, 8) };
    sp
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::{AtomicUsize, Ordering};

    static MAIN_CTX: AtomicUsize = AtomicUsize::new(0);
    static OTHER_CTX: AtomicUsize = AtomicUsize::new(0);
    static COUNT: AtomicUsize = AtomicUsize::new(0);

    extern "C" fn other(arg: usize) -> ! {
        loop {
            COUNT.fetch_add(arg, Ordering::SeqCst);
            // Non-default rounding mode here must not leak into the test's context.
            // SAFETY: MAIN_CTX holds the test's saved context, which is not running.
            unsafe { switch(OTHER_CTX.as_ptr(), MAIN_CTX.load(Ordering::SeqCst)) };
        }
    }

    #[test]
    fn switches_back_and_forth_keeping_registers() {
        let stack = vec![0u128; 4096];
        let top = stack.as_ptr() as usize + stack.len() * 16;
        // SAFETY: the vector is a live stack nothing else uses.
        OTHER_CTX.store(unsafe { prepare(top, other, 7) }, Ordering::SeqCst);
        let kept = core::hint::black_box(0x1234_5678u64);
        for round in 1..=3 {
            // SAFETY: OTHER_CTX is prepared or saved by `other`, which is not running.
            unsafe { switch(MAIN_CTX.as_ptr(), OTHER_CTX.load(Ordering::SeqCst)) };
            assert_eq!(COUNT.load(Ordering::SeqCst), 7 * round);
        }
        assert_eq!(core::hint::black_box(kept), 0x1234_5678);
    }
}
