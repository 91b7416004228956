//! The hub's timer queue: a binary min-heap of (deadline, sequence) → parked task.
//!
//! Entries are never removed early: a task woken by something else bumps its park generation,
//! and its stale entry is dropped when it reaches the top. Push and pop are O(log n), so 100k
//! concurrent sleepers cost ≈17 comparisons each; ties fire in insertion order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimerEntry {
    /// CLOCK_MONOTONIC deadline, ns.
    pub deadline: u64,
    /// Insertion order, to fire equal deadlines FIFO.
    pub seq: u64,
    /// The parked task (an opaque word to this module).
    pub task: usize,
    /// The task's park generation when the timer was set.
    pub gen: u64,
}

#[derive(Default)]
pub struct TimerHeap {
    heap: BinaryHeap<Reverse<TimerEntry>>,
    seq: u64,
}

impl TimerHeap {
    pub const fn new() -> Self {
        TimerHeap { heap: BinaryHeap::new(), seq: 0 }
    }

    pub fn push(&mut self, deadline: u64, task: usize, gen: u64) {
        self.seq += 1;
        self.heap.push(Reverse(TimerEntry { deadline, seq: self.seq, task, gen }));
    }

    /// The earliest deadline, if any timer is pending.
    pub fn next_deadline(&self) -> Option<u64> {
        self.heap.peek().map(|r| r.0.deadline)
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    pub fn pop_due(&mut self, now: u64) -> Option<TimerEntry> {
        if self.heap.peek()?.0.deadline <= now {
            self.heap.pop().map(|r| r.0)
        } else {
            None
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_in_deadline_then_insertion_order() {
        let mut t = TimerHeap::new();
        t.push(30, 1, 0);
        t.push(10, 2, 0);
        t.push(20, 3, 0);
        t.push(10, 4, 0);
        assert_eq!(t.next_deadline(), Some(10));
        assert_eq!(t.pop_due(5), None);
        let order: Vec<usize> = std::iter::from_fn(|| t.pop_due(25)).map(|e| e.task).collect();
        assert_eq!(order, vec![2, 4, 3]);
        assert_eq!(t.len(), 1);
        assert_eq!(t.pop_due(100).unwrap().task, 1);
        assert!(t.is_empty());
    }

    #[test]
    fn hundred_thousand_timers_pop_sorted() {
        let mut t = TimerHeap::new();
        let mut x: u64 = 12345;
        for i in 0..100_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            t.push(x >> 40, i, 0);
        }
        let mut last = 0;
        let mut n = 0;
        while let Some(e) = t.pop_due(u64::MAX) {
            assert!(e.deadline >= last);
            last = e.deadline;
            n += 1;
        }
        assert_eq!(n, 100_000);
    }
}
