//! The event queue: a total order on `(time, seq)`.
//!
//! `seq` is assigned when an event is scheduled, so events due at the same virtual
//! time run in the order they were scheduled (FIFO). That, plus seeded randomness,
//! is what makes a run reproducible to the byte.

use super::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

struct Entry<E> {
    time: SimTime,
    seq: u64,
    /// A background event (periodic upkeep: samples, heartbeats, monitor ticks):
    /// it does not by itself count as "something still to happen".
    background: bool,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, o: &Self) -> bool {
        self.time == o.time && self.seq == o.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest `(time, seq)`.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.time, o.seq).cmp(&(self.time, self.seq))
    }
}

/// A min-queue of events keyed by `(time, seq)`. Push and pop are O(log N).
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
    /// How many queued events are background events.
    background: usize,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
            background: 0,
        }
    }

    /// Schedule `event` at `time`; returns its sequence number.
    pub fn push(&mut self, time: SimTime, event: E) -> u64 {
        self.push_inner(time, event, false)
    }

    /// Schedule a background event (see [`EventQueue::foreground_len`]).
    pub fn push_background(&mut self, time: SimTime, event: E) -> u64 {
        self.push_inner(time, event, true)
    }

    fn push_inner(&mut self, time: SimTime, event: E, background: bool) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        if background {
            self.background += 1;
        }
        self.heap.push(Entry {
            time,
            seq,
            background,
            event,
        });
        seq
    }

    /// Remove and return the earliest event.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap.pop().map(|e| {
            if e.background {
                self.background -= 1;
            }
            (e.time, e.event)
        })
    }

    /// Queued events that are not background events.
    pub fn foreground_len(&self) -> usize {
        self.heap.len() - self.background
    }

    /// Drop every queued event for which `keep` is false (order is unaffected).
    pub fn retain(&mut self, mut keep: impl FnMut(&E) -> bool) {
        self.heap.retain(|e| keep(&e.event));
        self.background = self.heap.iter().filter(|e| e.background).count();
    }

    /// Time of the earliest event, without removing it.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| e.time)
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
    use proptest::prelude::*;

    #[test]
    fn pops_in_time_order() {
        let mut q = EventQueue::new();
        q.push(SimTime::from_millis(30), "c");
        q.push(SimTime::from_millis(10), "a");
        q.push(SimTime::from_millis(20), "b");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, ["a", "b", "c"]);
    }

    #[test]
    fn equal_times_are_fifo() {
        let mut q = EventQueue::new();
        for i in 0..100 {
            q.push(SimTime::from_millis(5), i);
        }
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, (0..100).collect::<Vec<_>>());
    }

    proptest! {
        #[test]
        fn order_is_lexicographic_time_then_insertion(times in proptest::collection::vec(0u64..20, 0..200)) {
            let mut q = EventQueue::new();
            for (i, t) in times.iter().enumerate() {
                q.push(SimTime::from_millis(*t), i);
            }
            let mut expected: Vec<(u64, usize)> = times.iter().copied().zip(0..).collect();
            expected.sort();
            let got: Vec<(u64, usize)> = std::iter::from_fn(|| q.pop()).map(|(t, i)| (t.as_millis(), i)).collect();
            prop_assert_eq!(got, expected);
        }
    }
}
