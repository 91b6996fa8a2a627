//! [`TimerStore::verify`]: a debug pass that checks every invariant of a store.
//!
//! # What this module owns
//! The checker only. It reads the store and panics with a message that names the broken
//! invariant and the slot or heap index involved; it never repairs anything.
//!
//! # Invariants checked
//! 1. Heap order (4-ary min-heap by deadline).
//! 2. No heap element names a free slot; every deadline is `<= MAX_DEADLINE`.
//! 3. Every entry's `heap_refs` equals the number of elements naming it.
//! 4. Every Waiting entry has exactly one live element, and that element is not later than the
//!    entry's deadline (equal, or early after a later reset).
//! 5. Only Waiting entries hold a waker; Cancelled entries are still named by an element;
//!    tombstones are named by none and point to another store.
//! 6. `live()` equals the number of Waiting entries and `stale() <= heap_len() / 4`.
//!
//! # Ground rules
//! O(heap length + slab capacity) time and memory: for tests and debugging, not hot paths.

use crate::entry::State;
use crate::store::{TimerStore, STALE_DIVISOR};
use crate::types::MAX_DEADLINE;

/// Per-slot tally of the heap elements that name it.
#[derive(Clone, Copy, Default)]
struct Tally {
    /// Elements naming the slot.
    refs: u32,
    /// Of those, elements that are live.
    live: u32,
}

impl<W> TimerStore<W> {
    /// Debug pass that checks every invariant (heap order, `heap_refs` per entry, stale and live
    /// counts, no element pointing at a free slot) and panics with a message naming the broken
    /// one. Tests call it after every step. O(heap length + slab capacity).
    ///
    /// # Panics
    /// If any invariant is broken.
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{StoreId, TimerStore};
    /// let mut store = TimerStore::new(StoreId(0));
    /// let key = store.insert(10, ());
    /// store.reset(key, 5).unwrap();
    /// store.verify();
    /// ```
    pub fn verify(&self) {
        let id = self.id;
        self.heap.verify_order();

        let mut tally = vec![Tally::default(); self.slab.capacity()];
        for (i, elem) in self.heap.as_slice().iter().enumerate() {
            let Some(entry) = self.slab.get(elem.key as usize) else {
                panic!("store {id:?}: heap element {i} ({elem:?}) names a free slot");
            };
            assert!(
                elem.when <= MAX_DEADLINE,
                "store {id:?}: heap element {i} ({elem:?}) is beyond MAX_DEADLINE"
            );
            let t = &mut tally[elem.key as usize];
            t.refs += 1;
            if let Some(when) = entry.live_deadline(elem.seq) {
                t.live += 1;
                assert!(
                    elem.when <= when,
                    "store {id:?}: live heap element {i} ({elem:?}) is later than its entry's \
                     deadline {when}; it would fire late"
                );
            }
        }

        let mut waiting = 0;
        for (slot, entry) in self.slab.iter() {
            let t = tally[slot];
            assert_eq!(
                entry.heap_refs, t.refs,
                "store {id:?}: slot {slot} ({:?}) has heap_refs {} but {} elements name it",
                entry.state, entry.heap_refs, t.refs
            );
            if !entry.is_waiting() {
                assert!(
                    entry.waker.is_none(),
                    "store {id:?}: slot {slot} ({:?}) holds a waker outside Waiting",
                    entry.state
                );
            }
            match entry.state {
                State::Waiting { when } => {
                    waiting += 1;
                    assert_eq!(
                        t.live, 1,
                        "store {id:?}: Waiting slot {slot} has {} live elements, wants exactly 1",
                        t.live
                    );
                    assert!(
                        when <= MAX_DEADLINE,
                        "store {id:?}: slot {slot} deadline {when} is beyond MAX_DEADLINE"
                    );
                }
                State::Fired => {}
                State::Cancelled => assert!(
                    t.refs > 0,
                    "store {id:?}: Cancelled slot {slot} is named by no element; it should be free"
                ),
                State::Moved(to) => {
                    assert_eq!(
                        t.refs, 0,
                        "store {id:?}: tombstone slot {slot} is still named by heap elements"
                    );
                    assert_ne!(
                        to.store, id,
                        "store {id:?}: tombstone slot {slot} points back at its own store"
                    );
                }
            }
        }

        assert_eq!(
            self.live, waiting,
            "store {id:?}: live counter {} but {waiting} Waiting entries",
            self.live
        );
        assert!(
            self.heap.len() >= self.live,
            "store {id:?}: heap has {} elements for {} live entries",
            self.heap.len(),
            self.live
        );
        assert!(
            self.stale() <= self.heap.len() / STALE_DIVISOR,
            "store {id:?}: compaction rule broken: {} stale of {} elements",
            self.stale(),
            self.heap.len()
        );
    }
}
