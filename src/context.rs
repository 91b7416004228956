//! The stack switch of every green thread, main included, to and from the carriers' roots. A
//! saved context is one word: the stack pointer after pushing rbp, rbx (the compiler saves the
//! other callee-saved registers that are live: the switch declares them clobbered, as
//! corosensei's does), for a task its MXCSR and x87 control word, which the ABI also makes
//! callee-saved, and where to continue. With several carriers a thread must be able to park on
//! one OS thread and resume on another, so its registers live on its own stack and its stack
//! pointer in its task. A root resumes a task by a `call` to where the task waits (predicted:
//! tasks wait at a few labels), and the task's next suspend returns to it with a `ret`; with a
//! `ret` both ways, a switch cost 7 ns more per round trip (bench/NOTES.md, session 21).
//!
//! Why our own and not corosensei's (which the other threads used until session 21):
//! - Each thread keeps its floating-point environment, as each native thread does (the kernel
//!   switches it): corosensei's switch leaves MXCSR and the x87 control word to whichever thread
//!   ran last, so `fesetround` in one green thread changed the rounding of all of them, and a new
//!   thread did not start with its creator's (tests/programs/fp_env.c). A task's words are saved
//!   when it suspends and loaded when it resumes; a root keeps whatever is live (the scheduler
//!   does no arithmetic that rounding or flags affect, and whatever it raises is overwritten by
//!   the next resume). So each round trip pays one `stmxcsr`, the slow one of the four
//!   instructions (≈4 ns here; the loads take half a nanosecond).
//! - One cache line of the thread's stack per switch: corosensei also writes a link to the
//!   resumer at the top of the coroutine's stack on every resume (for unwinding into it), a
//!   line no other access of a parked thread touches (bench/NOTES.md, session 21).
//! - A thread's stack ends at its own first frame ([`prepare`]: the return address there is
//!   marked undefined, the unwinders' end of stack), as a native thread's does at `clone`'s:
//!   an exception nothing catches ends in `std::terminate` (tests/programs/uncaught_exception.cpp)
//!   instead of unwinding into the scheduler's frames.

core::arch::global_asm!(
    ".pushsection .text.green_ctx_start,\"ax\",@progbits",
    // A fresh task (`prepare`), entered by a root's `resume` (`call`: rdi is where the root's
    // context goes, rsi the task's): saves the root's context as a task's label code does, takes
    // the control words, the entry and its argument from the task's stack; past them rsp is
    // 16-byte aligned. No frame above: unwinders stop at this return address.
    ".globl green_task_start",
    ".hidden green_task_start",
    ".type green_task_start,@function",
    "green_task_start:",
    "    .cfi_startproc",
    "    .cfi_undefined rip",
    "    mov [rdi], rsp",
    "    lea rsp, [rsi + 8]",
    "    ldmxcsr [rsp]",
    "    fldcw [rsp + 4]",
    "    jmp green_root_start",
    "    .cfi_endproc",
    ".size green_task_start, . - green_task_start",
    // A fresh root (`prepare_root`), entered by a task's `suspend` (`ret`: rsp is past this
    // address), and the rest of a fresh task's start: same layout; a root keeps whatever
    // control words are live.
    ".globl green_root_start",
    ".hidden green_root_start",
    ".type green_root_start,@function",
    "green_root_start:",
    "    .cfi_startproc",
    "    .cfi_undefined rip",
    "    mov rax, [rsp + 8]",
    "    mov rdi, [rsp + 16]",
    "    add rsp, 24",
    "    call rax",
    "    ud2",
    "    .cfi_endproc",
    ".size green_root_start, . - green_root_start",
    ".popsection",
);

extern "C" {
    fn green_task_start();
    fn green_root_start();
}

/// The assembly of a switch with its operands: `save` in rdi, `load` in rsi, rbp and rbx (which
/// asm cannot name as clobbered) pushed around the lines, and every other register the C ABI
/// lets a call change declared clobbered.
macro_rules! switch_asm {
    ($save:expr, $load:expr, $($line:literal),* $(,)?) => {
        core::arch::asm!(
            "push rbp",
            "push rbx",
            $($line,)*
            "pop rbx",
            "pop rbp",
            in("rdi") $save,
            in("rsi") $load,
            lateout("r12") _, lateout("r13") _, lateout("r14") _, lateout("r15") _,
            clobber_abi("sysv64"),
        )
    };
}

/// A task leaves for its carrier's root: saves the running task's context (where to continue,
/// its control words, rbx and rbp: 32 bytes of its stack) in `*save` and returns into the root
/// context saved in `load` (by [`resume`]'s call, or made by [`prepare_root`]); returns when a
/// root resumes the task, whose `call` lands on the label code below: it saves the root's
/// context and takes the task's back. Every other register the C ABI lets a call change is
/// declared clobbered, so the compiler saves only the callee-saved registers live here (in the
/// frame's prologue, where a large function saves them anyway), as corosensei does.
///
/// # Safety
/// `load` is a root context saved by [`resume`] (or made by [`prepare_root`]) that is not
/// running, and nothing else resumes the saved context until this one has switched away.
#[inline(always)]
pub unsafe fn suspend(save: *mut usize, load: usize) {
    // SAFETY: forwarded contract; the clobbers and pushes keep every register the ABI asks a
    // call to keep, and the stack below rsp is ours (no `nostack`: nothing is kept in the red
    // zone across it). At the label, rdi and rsi are the resuming root's (`resume`).
    unsafe {
        switch_asm!(
            save,
            load,
            "sub rsp, 8",
            "stmxcsr [rsp]",
            "fnstcw [rsp + 4]",
            "lea rax, [rip + 2f]",
            "push rax",
            "mov [rdi], rsp",
            "mov rsp, rsi",
            "ret",
            "2:",
            "mov [rdi], rsp",
            "lea rsp, [rsi + 8]",
            "ldmxcsr [rsp]",
            "fldcw [rsp + 4]",
            "add rsp, 8",
        )
    }
}

/// A task that has finished leaves for its carrier's root for good: as [`suspend`], but its
/// context is not kept (a finished thread is never resumed), so its control words are not read
/// either (`stmxcsr` is the slow instruction of a switch).
///
/// # Safety
/// As for [`suspend`]; nothing may resume the leaving context.
#[inline(always)]
pub unsafe fn leave(load: usize) -> ! {
    // SAFETY: `load` is a root context waiting at its `resume`'s return address.
    unsafe { core::arch::asm!("mov rsp, {0}", "ret", in(reg) load, options(noreturn)) }
}

/// A root continues a task: saves the root's context in `*save` and calls the task's context
/// saved in `load` (by [`suspend`] or [`prepare`]), whose label code switches stacks and loads
/// its control words; returns when the task suspends. A `call`, not a `ret`, so that the jump
/// is predicted (every task waits at one of a few labels) and the task's `ret` at its next
/// suspend pops the address it pushed. The root's control words are not kept (module doc).
///
/// # Safety
/// As for [`suspend`], with the roles swapped.
#[inline(always)]
pub unsafe fn resume(save: *mut usize, load: usize) {
    // SAFETY: as in `suspend`.
    unsafe {
        switch_asm!(save, load, "call [rsi]")
    }
}

/// The calling thread's MXCSR (low half) and x87 control word (bits 32–47), as a context saves
/// them.
fn fp_control() -> u64 {
    let mut words = [0u16; 4];
    // SAFETY: stmxcsr writes 4 bytes and fnstcw 2 into the live local array.
    unsafe {
        core::arch::asm!(
            "stmxcsr [{p}]",
            "fnstcw [{p} + 4]",
            p = in(reg) words.as_mut_ptr(),
            options(nostack, preserves_flags)
        )
    };
    u64::from(words[0]) | u64::from(words[1]) << 16 | u64::from(words[2]) << 32
}

/// A task context that starts `entry(arg)` on the stack whose highest address is `top`
/// (16-byte aligned) when a root resumes it, with the calling thread's floating-point control
/// words (a new native thread starts with its creator's: clone copies them); `entry` must never
/// return.
///
/// # Safety
/// `top` is the top of a live, writable stack that nothing else uses.
pub unsafe fn prepare(top: usize, entry: extern "C-unwind" fn(usize) -> !, arg: usize) -> usize {
    // SAFETY: forwarded contract.
    unsafe { prepare_at(top, green_task_start, entry as *const () as usize, arg) }
}

/// A root context that starts `entry(arg)` on the stack below `top` when a task suspends to it.
///
/// # Safety
/// As for [`prepare`].
pub unsafe fn prepare_root(top: usize, entry: extern "C" fn(usize) -> !, arg: usize) -> usize {
    // SAFETY: forwarded contract.
    unsafe { prepare_at(top, green_root_start, entry as *const () as usize, arg) }
}

/// The 32 bytes below `top` as a context entered at `start` that calls `entry(arg)`.
unsafe fn prepare_at(top: usize, start: unsafe extern "C" fn(), entry: usize, arg: usize) -> usize {
    debug_assert_eq!(top % 16, 0);
    let sp = top - 32;
    let words: [usize; 4] = [
        start as *const () as usize,
        fp_control() as usize, // MXCSR, x87 control word
        entry,
        arg,
    ];
    // SAFETY: the 32 bytes below `top` are ours (contract).
    unsafe { core::ptr::copy_nonoverlapping(words.as_ptr(), sp as *mut usize, 4) };
    sp
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::{AtomicUsize, Ordering};

    static ROOT_CTX: AtomicUsize = AtomicUsize::new(0);
    static TASK_CTX: AtomicUsize = AtomicUsize::new(0);
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    static TASK_KEPT_ITS_ROUNDING: AtomicUsize = AtomicUsize::new(0);

    /// MXCSR's rounding control: round toward zero.
    const RC_TOWARD_ZERO: u32 = 3 << 13;

    fn set_mxcsr(v: u32) {
        // SAFETY: ldmxcsr reads 4 bytes of a live local; only rounding/mask bits are changed.
        unsafe { core::arch::asm!("ldmxcsr [{p}]", p = in(reg) &v, options(nostack, readonly)) };
    }

    extern "C-unwind" fn task(arg: usize) -> ! {
        set_mxcsr(fp_control() as u32 | RC_TOWARD_ZERO);
        loop {
            COUNT.fetch_add(arg, Ordering::SeqCst);
            // SAFETY: ROOT_CTX holds the test's saved context, which is not running.
            unsafe { suspend(TASK_CTX.as_ptr(), ROOT_CTX.load(Ordering::SeqCst)) };
            if fp_control() as u32 & RC_TOWARD_ZERO == RC_TOWARD_ZERO {
                TASK_KEPT_ITS_ROUNDING.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    #[test]
    fn switches_back_and_forth_keeping_registers_and_the_tasks_rounding() {
        let stack = vec![0u128; 4096];
        let top = stack.as_ptr() as usize + stack.len() * 16;
        let mine = fp_control() as u32;
        // SAFETY: the vector is a live stack nothing else uses.
        TASK_CTX.store(unsafe { prepare(top, task, 7) }, Ordering::SeqCst);
        let kept = core::hint::black_box(0x1234_5678u64);
        for round in 1..=3 {
            // SAFETY: TASK_CTX is prepared or saved by `task`, which is not running.
            unsafe { resume(ROOT_CTX.as_ptr(), TASK_CTX.load(Ordering::SeqCst)) };
            assert_eq!(COUNT.load(Ordering::SeqCst), 7 * round);
            // The root runs with what the task left live; setting its own does not reach the
            // task, whose words come back at the next resume.
            assert_eq!(fp_control() as u32 & RC_TOWARD_ZERO, RC_TOWARD_ZERO);
            set_mxcsr(mine);
        }
        assert_eq!(TASK_KEPT_ITS_ROUNDING.load(Ordering::SeqCst), 2);
        assert_eq!(core::hint::black_box(kept), 0x1234_5678);
    }
}
