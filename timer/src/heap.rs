//! A 4-ary min-heap of 16-byte [`HeapElem`]s ordered by deadline.
//!
//! # What this module owns
//! The `Vec<HeapElem>` of one store and the sift algorithms over it. It knows nothing about entry
//! states: whether an element is live, stale or early is decided by the store, which then asks the
//! heap to pop it, re-sift it or filter it out.
//!
//! # Why 4-ary, why a hole
//! A 4-ary heap is half as deep as a binary one, and the four children of a node are adjacent
//! (64 bytes, so one or two cache lines), so a sift-down touches about half as many cache lines as
//! a binary heap's for a similar number of compares. Go's runtime made the same choice for its
//! per-P timer heaps. Sifts move the element being placed into a local, shift the others into the
//! "hole" it leaves and write it once at the end, so each level costs one 16-byte copy rather than
//! a swap; nothing is written outside the Vec (the slab is never told about positions).
//!
//! # Invariants
//! - Heap order: for every `i > 0`, `elems[parent(i)].when <= elems[i].when`. Ties are not broken
//!   further; the store never depends on the order among equal deadlines.
//! - Every method restores heap order before it returns.
//!
//! # Ground rules
//! Owned by exactly one `TimerStore`; it is touched only through that store's `&mut self`, so
//! whatever lock guards the store guards the heap.

use crate::types::Nanos;

/// Children per node. Four keeps the children of a node within one 64-byte cache line (4 x 16
/// bytes) and halves the depth compared with a binary heap.
const ARITY: usize = 4;

/// When a heap's capacity is more than this many times its length, it is shrunk (see
/// [`Heap::shrink_if_sparse`]). Four matches the compaction rule's spirit: a quarter used is the
/// point where keeping the memory stops paying.
const SPARSE_FACTOR: usize = 4;

/// Capacity, in elements, that a heap may keep however empty it gets: 1024 elements are 16 KiB,
/// cheap to hold, and a store that churns a few hundred timers never reallocates.
pub(crate) const HEAP_RETAIN_CAPACITY: usize = 1024;

/// One heap element: a deadline and the entry it belongs to.
///
/// The element is live iff the entry at `key` is Waiting and its sequence number equals `seq`;
/// otherwise it is stale and is discarded when it surfaces (lazy deletion). A live element may be
/// "early": its `when` is below the entry's deadline because the entry was reset later; it is
/// re-sifted with the right deadline when it reaches the top.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HeapElem {
    /// The deadline this element is ordered by.
    pub(crate) when: Nanos,
    /// Slab index of the entry.
    pub(crate) key: u32,
    /// The entry's sequence number when this element was pushed.
    pub(crate) seq: u32,
}

/// The 4-ary min-heap. See the module docs.
#[derive(Debug, Default)]
pub(crate) struct Heap {
    /// The elements in heap order.
    elems: Vec<HeapElem>,
}

/// Index of the parent of `i` (`i > 0`).
fn parent(i: usize) -> usize {
    (i - 1) / ARITY
}

impl Heap {
    /// Returns an empty heap with no allocation.
    pub(crate) fn new() -> Self {
        Heap { elems: Vec::new() }
    }

    /// Returns the number of elements, stale ones included.
    pub(crate) fn len(&self) -> usize {
        self.elems.len()
    }

    /// Returns the number of elements the heap can hold without reallocating.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.elems.capacity()
    }

    /// Returns the elements in heap order (index 0 is the minimum).
    pub(crate) fn as_slice(&self) -> &[HeapElem] {
        &self.elems
    }

    /// Returns the element with the smallest deadline.
    pub(crate) fn peek(&self) -> Option<&HeapElem> {
        self.elems.first()
    }

    /// Adds an element. O(log n) worst case, O(1) on average for random deadlines.
    pub(crate) fn push(&mut self, elem: HeapElem) {
        self.elems.push(elem);
        self.sift_up(self.elems.len() - 1);
    }

    /// Removes and returns the element with the smallest deadline. O(log n).
    pub(crate) fn pop(&mut self) -> Option<HeapElem> {
        let last = self.elems.pop()?;
        match self.elems.first_mut() {
            None => Some(last),
            Some(top) => {
                let min = std::mem::replace(top, last);
                self.sift_down(0);
                Some(min)
            }
        }
    }

    /// Raises the top element's deadline to `when` and sifts it down to its place. O(log n).
    ///
    /// Used for a live element that surfaced "early" (its entry was reset later). The caller
    /// guarantees the heap is not empty and `when` is not below the current top's deadline.
    pub(crate) fn raise_top(&mut self, when: Nanos) {
        let top = &mut self.elems[0];
        debug_assert!(
            when >= top.when,
            "raise_top would lower the top from {} to {when}",
            top.when
        );
        top.when = when;
        self.sift_down(0);
    }

    /// Keeps only the elements for which `keep` returns `true` (it may also change their
    /// deadlines), then rebuilds heap order in O(n) (Floyd).
    pub(crate) fn retain_and_heapify(&mut self, keep: impl FnMut(&mut HeapElem) -> bool) {
        self.elems.retain_mut(keep);
        self.heapify();
    }

    /// Removes every element, keeping the allocation, and hands them to `f` in storage order.
    pub(crate) fn drain_unordered(&mut self, f: impl FnMut(HeapElem)) {
        self.elems.drain(..).for_each(f);
    }

    /// Removes every element, keeping the allocation.
    pub(crate) fn clear(&mut self) {
        self.elems.clear();
    }

    /// Gives memory back when the heap is mostly empty: if the capacity exceeds both
    /// [`HEAP_RETAIN_CAPACITY`] and [`SPARSE_FACTOR`] times the length, shrinks it to twice the
    /// length (or the retained capacity, whichever is larger). Amortized O(1): after a shrink the
    /// length must fall by half again before the next one.
    pub(crate) fn shrink_if_sparse(&mut self) {
        let cap = self.elems.capacity();
        if cap > HEAP_RETAIN_CAPACITY && cap > SPARSE_FACTOR * self.elems.len() {
            self.elems
                .shrink_to((2 * self.elems.len()).max(HEAP_RETAIN_CAPACITY));
        }
    }

    /// Rebuilds heap order from scratch in O(n): sifts down every internal node, last first.
    fn heapify(&mut self) {
        if self.elems.len() <= 1 {
            return;
        }
        for i in (0..=parent(self.elems.len() - 1)).rev() {
            self.sift_down(i);
        }
    }

    /// Moves the element at `pos` towards the root until its parent is not later than it.
    fn sift_up(&mut self, mut pos: usize) {
        let elem = self.elems[pos];
        while pos > 0 {
            let up = parent(pos);
            if self.elems[up].when <= elem.when {
                break;
            }
            self.elems[pos] = self.elems[up];
            pos = up;
        }
        self.elems[pos] = elem;
    }

    /// Moves the element at `pos` towards the leaves until no child is earlier than it.
    fn sift_down(&mut self, mut pos: usize) {
        let len = self.elems.len();
        let elem = self.elems[pos];
        loop {
            let first = pos * ARITY + 1;
            if first >= len {
                break;
            }
            let children = &self.elems[first..len.min(first + ARITY)];
            let mut best = 0;
            let mut best_when = children[0].when;
            for (i, child) in children.iter().enumerate().skip(1) {
                if child.when < best_when {
                    best = i;
                    best_when = child.when;
                }
            }
            if best_when >= elem.when {
                break;
            }
            self.elems[pos] = children[best];
            pos = first + best;
        }
        self.elems[pos] = elem;
    }

    /// Panics naming the first index that breaks heap order.
    pub(crate) fn verify_order(&self) {
        for (i, elem) in self.elems.iter().enumerate().skip(1) {
            let up = &self.elems[parent(i)];
            assert!(
                up.when <= elem.when,
                "heap order broken: element {i} ({elem:?}) is earlier than its parent {} ({up:?})",
                parent(i)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::RngExt;
    use proptest::test_runner::{RngAlgorithm, TestRng};

    use super::*;

    /// A seeded generator: proptest's ChaCha, the random source the timer crate's
    /// tests share (a dev-dependency already), so a run is reproducible.
    fn seeded_rng(seed: u8) -> TestRng {
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32])
    }

    fn elem(when: Nanos, key: u32) -> HeapElem {
        HeapElem { when, key, seq: 0 }
    }

    fn drain_sorted(heap: &mut Heap) -> Vec<Nanos> {
        let mut out = Vec::new();
        while let Some(e) = heap.pop() {
            heap.verify_order();
            out.push(e.when);
        }
        out
    }

    #[test]
    fn elem_is_16_bytes() {
        assert_eq!(std::mem::size_of::<HeapElem>(), 16);
    }

    #[test]
    fn push_pop_matches_sorted_vec() {
        let mut rng = seeded_rng(1);
        for n in [0usize, 1, 2, 3, 4, 5, 16, 17, 100, 1000] {
            let mut heap = Heap::new();
            let mut model = Vec::new();
            for k in 0..n {
                let when = rng.random_range(0..50); // many ties on purpose
                heap.push(elem(when, k as u32));
                heap.verify_order();
                model.push(when);
            }
            model.sort_unstable();
            assert_eq!(drain_sorted(&mut heap), model, "n = {n}");
            assert_eq!(heap.len(), 0);
        }
    }

    #[test]
    fn interleaved_push_pop_matches_sorted_vec() {
        let mut rng = seeded_rng(7);
        let mut heap = Heap::new();
        let mut model: Vec<Nanos> = Vec::new();
        for step in 0..5000u32 {
            if rng.random_range(0..3) == 0 {
                model.sort_unstable();
                let expected = if model.is_empty() {
                    None
                } else {
                    Some(model.remove(0))
                };
                assert_eq!(heap.pop().map(|e| e.when), expected, "step {step}");
            } else {
                let when = rng.random_range(0..1000);
                heap.push(elem(when, step));
                model.push(when);
            }
            assert_eq!(heap.peek().map(|e| e.when), model.iter().min().copied());
            heap.verify_order();
        }
    }

    #[test]
    fn raise_top_resifts() {
        let mut heap = Heap::new();
        for (k, when) in [5, 1, 9, 3, 7, 2].into_iter().enumerate() {
            heap.push(elem(when, k as u32));
        }
        heap.raise_top(8);
        heap.verify_order();
        assert_eq!(drain_sorted(&mut heap), vec![2, 3, 5, 7, 8, 9]);
    }

    #[test]
    fn retain_and_heapify_filters_and_orders() {
        let mut rng = seeded_rng(3);
        let mut heap = Heap::new();
        let mut model = Vec::new();
        for k in 0..500u32 {
            let when = rng.random_range(0..300);
            heap.push(elem(when, k));
            if k % 3 != 0 {
                model.push(when + 1);
            }
        }
        heap.retain_and_heapify(|e| {
            e.when += 1; // deadlines may change during the filter
            e.key % 3 != 0
        });
        heap.verify_order();
        model.sort_unstable();
        assert_eq!(drain_sorted(&mut heap), model);
    }

    #[test]
    fn shrink_if_sparse_gives_memory_back() {
        let mut heap = Heap::new();
        for k in 0..100_000u32 {
            heap.push(elem(u64::from(k), k));
        }
        while heap.len() > 10 {
            heap.pop();
        }
        heap.shrink_if_sparse();
        assert!(
            heap.capacity() <= HEAP_RETAIN_CAPACITY,
            "{}",
            heap.capacity()
        );
        heap.verify_order();
        assert_eq!(heap.peek().map(|e| e.when), Some(99_990));
    }

    #[test]
    #[should_panic(expected = "heap order broken")]
    fn verify_order_catches_disorder() {
        let mut heap = Heap::new();
        heap.elems.push(elem(5, 0));
        heap.elems.push(elem(1, 1));
        heap.verify_order();
    }
}
