//! Turns at the poll-then-call step of an fd: pipes, FIFOs, eventfds and listening sockets,
//! whose calls cannot be made non-blocking per call (fd.rs polls them, then makes the real
//! call). With one carrier nothing runs between the poll and the call. With several, two green
//! threads could both see one byte (one free page, one connection) and the second's call would
//! block its carrier; so they take turns per (fd, direction), the others parked until the turn
//! is given back (when the [`Turn`] drops). A turn is held only across a poll and a call that
//! then does not wait (unless another process, or a thread that is not green, empties the fd in
//! between), never across a park.
//!
//! With one carrier a turn is nothing: one relaxed load of `hub::multi()`. A turn taken just
//! before a hand-off turned `multi()` on guards nothing, as before.
//!
//! A signal handler may run on a green thread inside its turn (a handler writing to the pipe
//! the interrupted code writes to): waiting there for the turn would wait for itself. So a
//! green thread registers itself (key, task) in `ENTRIES` before taking a turn, and one that
//! finds the turn taken while it already has an entry for that key goes ahead without it.
//! Registering first closes the window between acquiring and registering. With more green
//! threads inside turns at once than `ENTRIES` has room for, the extra ones take no turn.
//!
//! Lost give-backs: the holder clears the busy bit, then unparks under the park bucket lock; a
//! waiter parks only if, under that lock, the bit is still set (as fd.rs's edge protocol).

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::fd::{self, Dir};
use crate::park;
use crate::task::ParkReason;

struct Entry {
    /// Park key of the turn (0: free).
    key: AtomicUsize,
    /// Address of the task taking or holding it.
    task: AtomicUsize,
}

const ENTRIES_LEN: usize = 256;
static ENTRIES: [Entry; ENTRIES_LEN] = [const { Entry { key: AtomicUsize::new(0), task: AtomicUsize::new(0) } }; ENTRIES_LEN];

/// A turn being held (or taken without waiting: nested in its holder, or with one carrier).
#[must_use]
pub struct Turn {
    /// The word, its busy bit and the turn's park key, while the turn is held.
    held: Option<(&'static AtomicU64, u64, usize)>,
    /// This thread's index in `ENTRIES`.
    entry: Option<usize>,
}

impl Turn {
    /// No turn (one carrier, a call that needs none).
    pub const NONE: Turn = Turn { held: None, entry: None };
}

/// Takes the turn of (`fd`, `dir`), parking while another green thread holds it.
pub fn take(fd: i32, dir: Dir) -> Turn {
    if !crate::hub::multi() {
        return Turn::NONE;
    }
    match (crate::hub::current(), fd::turn_word(fd, dir)) {
        (Some(t), Some((word, bit, key))) => take_as(word, bit, key, t as *const _ as usize),
        _ => Turn::NONE,
    }
}

/// [`take`] for task address `me` on the busy `bit` of `word`, parking on `key`.
fn take_as(word: &'static AtomicU64, bit: u64, key: usize, me: usize) -> Turn {
    let Some(entry) = enter(key, me) else { return Turn::NONE };
    // Holds the entry on every way out (a cancellation unwinding from the park included).
    let mut turn = Turn { held: None, entry: Some(entry) };
    loop {
        if word.fetch_or(bit, Ordering::Acquire) & bit == 0 {
            turn.held = Some((word, bit, key));
            return turn;
        }
        if nested(key, me, entry) {
            return turn; // the holder is the code this handler interrupted
        }
        park::park(key, !0, || word.load(Ordering::Relaxed) & bit != 0, None, ParkReason::Io);
    }
}

fn enter(key: usize, me: usize) -> Option<usize> {
    // Start where `me` hashes to: carriers entering at once seldom touch the same line.
    let start = (me >> 6).wrapping_mul(0x9E37_79B9) % ENTRIES_LEN;
    for i in (start..ENTRIES_LEN).chain(0..start) {
        let e = &ENTRIES[i];
        if e.key.load(Ordering::Relaxed) == 0 && e.key.compare_exchange(0, key, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
            e.task.store(me, Ordering::Release);
            return Some(i);
        }
    }
    None
}

/// Whether `me` has an entry for `key` besides `mine`: an outer frame of this same thread,
/// which a signal handler interrupted.
fn nested(key: usize, me: usize, mine: usize) -> bool {
    ENTRIES.iter().enumerate().any(|(i, e)| i != mine && e.task.load(Ordering::Acquire) == me && e.key.load(Ordering::Acquire) == key)
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some((word, bit, key)) = self.held {
            word.fetch_and(!bit, Ordering::Release);
            park::unpark_one(key);
        }
        if let Some(i) = self.entry {
            ENTRIES[i].task.store(0, Ordering::Relaxed);
            ENTRIES[i].key.store(0, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Turns under real parallelism (OS threads park in the kernel on the same bucket lock
    /// green threads use): a load + store counter bumped inside the turn, with a yield in the
    /// middle so the other thread is sure to contend, loses no count (≈8,000 of 10,000 without
    /// the turn). (A missed give-back would hang here; its window is too narrow to hit on
    /// purpose, and its argument is fd.rs's edge one.)
    #[test]
    fn turns_exclude_each_other() {
        const ROUNDS: u64 = 5_000;
        static WORD: AtomicU64 = AtomicU64::new(0);
        static INSIDE: AtomicU64 = AtomicU64::new(0);
        let contend = |me: usize| {
            move || {
                for _ in 0..ROUNDS {
                    let t = take_as(&WORD, 1, 0xE000_0000_0000_0010, me);
                    assert!(t.held.is_some());
                    let v = INSIDE.load(Ordering::Relaxed);
                    std::thread::yield_now();
                    INSIDE.store(v + 1, Ordering::Relaxed);
                    drop(t);
                }
            }
        };
        let other = std::thread::spawn(contend(0x1000));
        contend(0x2000)();
        other.join().unwrap();
        assert_eq!(INSIDE.load(Ordering::Relaxed), 2 * ROUNDS);
        assert_eq!(WORD.load(Ordering::Acquire), 0);
    }

    /// A handler that interrupts its thread inside a turn and takes the same turn goes ahead
    /// at once (waiting would never end); other bits of the word and other tasks are unaffected.
    #[test]
    fn a_turn_nested_in_its_holder_does_not_wait() {
        static WORD: AtomicU64 = AtomicU64::new(0x40);
        let key = 0xE000_0000_0000_0020;
        let outer = take_as(&WORD, 2, key, 0x3000);
        assert!(outer.held.is_some());
        let inner = take_as(&WORD, 2, key, 0x3000);
        assert!(inner.held.is_none(), "the nested take goes ahead without the turn");
        drop(inner);
        assert_eq!(WORD.load(Ordering::Acquire), 0x42, "the outer frame still holds it");
        let other_bit = take_as(&WORD, 4, key + 2, 0x3000);
        assert!(other_bit.held.is_some());
        drop((outer, other_bit));
        assert_eq!(WORD.load(Ordering::Acquire), 0x40);
        assert!(ENTRIES.iter().all(|e| e.key.load(Ordering::Relaxed) != key && e.key.load(Ordering::Relaxed) != key + 2));
    }
}
