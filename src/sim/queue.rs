//! The event queue: a total order on `(time, seq)`.
//!
//! `seq` is assigned when an event is scheduled, so events due at the same virtual
//! time run in the order they were scheduled (FIFO). That, plus seeded randomness,
//! is what makes a run reproducible to the byte.
//!
//! # Design: a monotone radix heap
//!
//! Virtual time never goes back: nothing is scheduled earlier than the last event
//! popped (`last`). That allows a radix heap on the 64-bit time in milliseconds:
//!
//! - `current` holds the events due exactly at `last`, in FIFO order;
//! - `buckets[b]` holds the events whose time first differs from `last` at bit `b`
//!   (`63 - (time ^ last).leading_zeros()`), so every event of bucket `b` is earlier
//!   than every event of bucket `b + 1`; `mins[b]` is the earliest time in it.
//!
//! Pop takes from `current`; when it is empty, the lowest non-empty bucket is
//! emptied: `last` becomes its minimum and its events are redistributed, in order,
//! into `current` and the (empty) lower buckets. An event only ever moves to a lower
//! bucket, so push is O(1) and pop amortised O(log of the time span).
//!
//! FIFO among equal times needs no sequence number in the entries: events of one
//! time always share a bucket, each bucket lists them in scheduling order (pushes
//! append the newest; a redistribution moves a bucket's events in order into
//! buckets that were empty), so `current` pops them in scheduling order — exactly
//! the order of the `(time, seq)` binary heap this replaces.

use super::time::SimTime;
use std::collections::VecDeque;

struct Entry<E> {
    time: u64,
    /// A background event (periodic upkeep: samples, heartbeats, monitor ticks):
    /// it does not by itself count as "something still to happen".
    background: bool,
    event: E,
}

/// Bucket of `t` relative to `last` (`t > last`): the highest bit where they differ.
#[inline]
fn bucket_of(t: u64, last: u64) -> usize {
    debug_assert!(t > last);
    63 - (t ^ last).leading_zeros() as usize
}

/// A min-queue of events keyed by `(time, seq)`: a monotone radix heap (see the
/// module docs). Push is O(1), pop amortised O(log T) for a time span T.
pub struct EventQueue<E> {
    /// Events due exactly at `last`, in scheduling order.
    current: VecDeque<Entry<E>>,
    /// Events due after `last`, by the highest bit where their time differs from it.
    buckets: [Vec<Entry<E>>; 64],
    /// Earliest time in each bucket (`u64::MAX` when empty).
    mins: [u64; 64],
    /// Bit `b` set iff `buckets[b]` is non-empty.
    occupied: u64,
    /// Time of the last event popped (the radix of every bucket).
    last: u64,
    len: usize,
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
            current: VecDeque::new(),
            buckets: std::array::from_fn(|_| Vec::new()),
            mins: [u64::MAX; 64],
            occupied: 0,
            last: 0,
            len: 0,
            next_seq: 0,
            background: 0,
        }
    }

    /// Schedule `event` at `time`; returns its sequence number.
    ///
    /// `time` must not be earlier than the last event popped (the engine never
    /// schedules into the past). Debug builds assert it; release builds stay
    /// correct at the cost of an O(N) rebuild.
    pub fn push(&mut self, time: SimTime, event: E) -> u64 {
        self.push_inner(time, event, false)
    }

    /// Schedule a background event (see [`EventQueue::foreground_len`]).
    pub fn push_background(&mut self, time: SimTime, event: E) -> u64 {
        self.push_inner(time, event, true)
    }

    #[inline]
    fn push_inner(&mut self, time: SimTime, event: E, background: bool) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        if background {
            self.background += 1;
        }
        let t = time.as_millis();
        if t < self.last {
            debug_assert!(
                false,
                "event scheduled at {t} ms, before the last event popped ({} ms)",
                self.last
            );
            self.rebase(t);
        }
        self.len += 1;
        self.place(Entry {
            time: t,
            background,
            event,
        });
        seq
    }

    /// Put `e` (with `e.time >= self.last`) where it belongs.
    #[inline]
    fn place(&mut self, e: Entry<E>) {
        if e.time == self.last {
            self.current.push_back(e);
        } else {
            let b = bucket_of(e.time, self.last);
            self.occupied |= 1 << b;
            if e.time < self.mins[b] {
                self.mins[b] = e.time;
            }
            self.buckets[b].push(e);
        }
    }

    /// Cold path: move the radix back to `t` (earlier than every queued event)
    /// and re-bucket everything. Events of one time come from one bucket, in
    /// order, so FIFO among equal times is kept.
    #[cold]
    fn rebase(&mut self, t: u64) {
        let current = std::mem::take(&mut self.current);
        let buckets = std::mem::replace(&mut self.buckets, std::array::from_fn(|_| Vec::new()));
        self.mins = [u64::MAX; 64];
        self.occupied = 0;
        self.last = t;
        for e in current.into_iter().chain(buckets.into_iter().flatten()) {
            self.place(e);
        }
    }

    /// Refill `current` from the lowest non-empty bucket, if `current` is empty.
    #[inline]
    fn refill(&mut self) {
        if !self.current.is_empty() || self.occupied == 0 {
            return;
        }
        let b = self.occupied.trailing_zeros() as usize;
        let last = self.mins[b];
        self.last = last;
        self.occupied &= !(1 << b);
        self.mins[b] = u64::MAX;
        let mut items = std::mem::take(&mut self.buckets[b]);
        // Every event of bucket `b` agrees with the new `last` above bit `b`,
        // so each lands in `current` or a bucket below `b`: all empty so far.
        for e in items.drain(..) {
            if e.time == last {
                self.current.push_back(e);
            } else {
                let nb = bucket_of(e.time, last);
                debug_assert!(nb < b);
                self.occupied |= 1 << nb;
                if e.time < self.mins[nb] {
                    self.mins[nb] = e.time;
                }
                self.buckets[nb].push(e);
            }
        }
        // Keep the allocation for the next time this bucket fills.
        self.buckets[b] = items;
    }

    /// Remove and return the earliest event.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let e = match self.current.pop_front() {
            Some(e) => e,
            None => {
                if self.occupied == 0 {
                    return None;
                }
                let b = self.occupied.trailing_zeros() as usize;
                if self.buckets[b].len() == 1 {
                    // The common case with spread-out times: a lone earliest event
                    // goes straight out, without a pass through `current`.
                    let e = self.buckets[b].pop().expect("bucket has one event");
                    self.occupied &= !(1 << b);
                    self.mins[b] = u64::MAX;
                    self.last = e.time;
                    e
                } else {
                    self.refill();
                    self.current
                        .pop_front()
                        .expect("refilled from a non-empty bucket")
                }
            }
        };
        self.len -= 1;
        if e.background {
            self.background -= 1;
        }
        Some((SimTime::from_millis(e.time), e.event))
    }

    /// Queued events that are not background events.
    pub fn foreground_len(&self) -> usize {
        self.len - self.background
    }

    /// Drop every queued event for which `keep` is false (order is unaffected).
    pub fn retain(&mut self, mut keep: impl FnMut(&E) -> bool) {
        self.current.retain(|e| keep(&e.event));
        let mut len = self.current.len();
        let mut background = self.current.iter().filter(|e| e.background).count();
        for b in 0..64 {
            let bucket = &mut self.buckets[b];
            if bucket.is_empty() {
                continue;
            }
            bucket.retain(|e| keep(&e.event));
            len += bucket.len();
            background += bucket.iter().filter(|e| e.background).count();
            self.mins[b] = bucket.iter().map(|e| e.time).min().unwrap_or(u64::MAX);
            if bucket.is_empty() {
                self.occupied &= !(1 << b);
            }
        }
        self.len = len;
        self.background = background;
    }

    /// Time of the earliest event, without removing it.
    pub fn peek_time(&self) -> Option<SimTime> {
        if !self.current.is_empty() {
            Some(SimTime::from_millis(self.last))
        } else if self.occupied != 0 {
            Some(SimTime::from_millis(
                self.mins[self.occupied.trailing_zeros() as usize],
            ))
        } else {
            None
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Ordering;
    use std::collections::BinaryHeap;

    /// The reference: the binary heap on `(time, seq)` the radix heap replaced.
    struct RefEntry<E> {
        time: SimTime,
        seq: u64,
        background: bool,
        event: E,
    }
    impl<E> PartialEq for RefEntry<E> {
        fn eq(&self, o: &Self) -> bool {
            self.time == o.time && self.seq == o.seq
        }
    }
    impl<E> Eq for RefEntry<E> {}
    impl<E> PartialOrd for RefEntry<E> {
        fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
            Some(self.cmp(o))
        }
    }
    impl<E> Ord for RefEntry<E> {
        fn cmp(&self, o: &Self) -> Ordering {
            (o.time, o.seq).cmp(&(self.time, self.seq))
        }
    }
    struct RefQueue<E> {
        heap: BinaryHeap<RefEntry<E>>,
        next_seq: u64,
    }
    impl<E> RefQueue<E> {
        fn new() -> Self {
            RefQueue {
                heap: BinaryHeap::new(),
                next_seq: 0,
            }
        }
        fn push(&mut self, time: SimTime, event: E, background: bool) -> u64 {
            let seq = self.next_seq;
            self.next_seq += 1;
            self.heap.push(RefEntry {
                time,
                seq,
                background,
                event,
            });
            seq
        }
        fn pop(&mut self) -> Option<(SimTime, E)> {
            self.heap.pop().map(|e| (e.time, e.event))
        }
        fn peek_time(&self) -> Option<SimTime> {
            self.heap.peek().map(|e| e.time)
        }
        fn foreground_len(&self) -> usize {
            self.heap.iter().filter(|e| !e.background).count()
        }
        fn retain(&mut self, mut keep: impl FnMut(&E) -> bool) {
            self.heap.retain(|e| keep(&e.event));
        }
    }

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

    #[test]
    fn extreme_times_and_background() {
        let mut q = EventQueue::new();
        q.push(SimTime::MAX, "never");
        q.push_background(SimTime::from_millis(1 << 40), "tick");
        q.push(SimTime::ZERO, "boot");
        assert_eq!((q.len(), q.foreground_len()), (3, 2));
        assert_eq!(q.peek_time(), Some(SimTime::ZERO));
        assert_eq!(q.pop(), Some((SimTime::ZERO, "boot")));
        assert_eq!(q.peek_time(), Some(SimTime::from_millis(1 << 40)));
        assert_eq!(q.pop(), Some((SimTime::from_millis(1 << 40), "tick")));
        assert_eq!(q.foreground_len(), 1);
        q.push(SimTime::MAX, "never 2");
        q.retain(|e| *e != "never");
        assert_eq!(q.pop(), Some((SimTime::MAX, "never 2")));
        assert!(q.is_empty());
        assert_eq!(q.peek_time(), None);
        assert_eq!(q.pop(), None);
    }

    #[cfg(not(debug_assertions))]
    #[test]
    fn scheduling_into_the_past_still_orders_correctly() {
        let mut q = EventQueue::new();
        q.push(SimTime::from_millis(100), 0);
        q.push(SimTime::from_millis(200), 1);
        assert_eq!(q.pop().map(|(_, e)| e), Some(0));
        q.push(SimTime::from_millis(50), 2);
        q.push(SimTime::from_millis(200), 3);
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, [2, 1, 3]);
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

        /// Random interleavings of pushes (never before the last pop; many ties,
        /// some far ahead), pops, peeks and retains agree with the reference
        /// binary heap step by step.
        #[test]
        fn matches_reference_binary_heap(ops in proptest::collection::vec(
            prop_oneof![
                4 => (0u64..4, any::<bool>()).prop_map(|(d, bg)| (0u8, d, bg)),
                2 => (0u64..1_000, any::<bool>()).prop_map(|(d, bg)| (0u8, d, bg)),
                1 => (0u64..u64::MAX / 2, any::<bool>()).prop_map(|(d, bg)| (0u8, d, bg)),
                5 => Just((1u8, 0, false)),
                1 => (2u64..5).prop_map(|k| (2u8, k, false)),
            ],
            0..400,
        )) {
            let mut q = EventQueue::new();
            let mut r = RefQueue::new();
            let mut now = SimTime::ZERO;
            for (id, (op, arg, bg)) in ops.into_iter().enumerate() {
                match op {
                    0 => {
                        let t = now + crate::sim::time::SimDuration::from_millis(arg);
                        let s = if bg { q.push_background(t, id) } else { q.push(t, id) };
                        prop_assert_eq!(s, r.push(t, id, bg));
                    }
                    1 => {
                        let got = q.pop();
                        prop_assert_eq!(got, r.pop());
                        if let Some((t, _)) = got {
                            now = t;
                        }
                    }
                    _ => {
                        q.retain(|e| e % arg as usize != 0);
                        r.retain(|e| e % arg as usize != 0);
                    }
                }
                prop_assert_eq!(q.peek_time(), r.peek_time());
                prop_assert_eq!(q.len(), r.heap.len());
                prop_assert_eq!(q.is_empty(), r.heap.is_empty());
                prop_assert_eq!(q.foreground_len(), r.foreground_len());
            }
            while let Some(got) = q.pop() {
                prop_assert_eq!(Some(got), r.pop());
            }
            prop_assert_eq!(r.pop(), None);
        }
    }
}
