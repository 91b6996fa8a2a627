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
//! 4. Every Waiting entry in the heap has exactly one live element, not later than the entry's
//!    deadline (equal, or early after a later reset); every Waiting entry in the wheel has none,
//!    and sits at its recorded position of the bucket its deadline maps to at the cursor.
//! 5. The wheel's occupancy bitmaps, bucket minima and length match its buckets.
//! 6. Only Waiting entries hold a waker; Cancelled entries are still named by an element;
//!    tombstones are named by none and point to another store.
//! 7. `live()` equals the number of Waiting entries and `stale() <= heap_len() / 4`.
//!
//! # Ground rules
//! O(heap length + wheel length + slab capacity) time and memory: for tests and debugging, not hot paths.

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

impl<W, L: Copy> TimerStore<W, L> {
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

        let mut at = vec![None; self.slab.capacity()];
        self.wheel.for_each(|bucket, pos, key| {
            let Some(entry) = self.slab.get(key as usize) else {
                panic!("store {id:?}: wheel bucket {bucket} names free slot {key}");
            };
            assert_eq!(
                entry.wheel_pos(),
                Some(pos),
                "store {id:?}: slot {key} ({entry:?}) is at position {pos} of bucket {bucket}"
            );
            at[key as usize] = Some(bucket);
        });
        self.wheel.verify_structure(|key| {
            self.slab[key as usize]
                .deadline()
                .expect("wheel keys name Waiting entries")
        });

        let mut waiting = 0;
        for (slot, entry) in self.slab.iter() {
            let t = tally[slot];
            assert_eq!(
                entry.heap_refs,
                t.refs,
                "store {id:?}: slot {slot} ({:?}) has heap_refs {} but {} elements name it",
                entry.state(),
                entry.heap_refs,
                t.refs
            );
            if !entry.is_waiting() {
                assert!(
                    entry.waker.is_none(),
                    "store {id:?}: slot {slot} ({:?}) holds a waker outside Waiting",
                    entry.state()
                );
            }
            match entry.state() {
                State::Waiting { when } => {
                    waiting += 1;
                    let wants = u32::from(entry.wheel_pos().is_none());
                    assert_eq!(
                        t.live, wants,
                        "store {id:?}: Waiting slot {slot} ({entry:?}) has {} live elements, \
                         wants {wants}",
                        t.live
                    );
                    assert_eq!(
                        entry.wheel_pos().is_some(),
                        at[slot].is_some(),
                        "store {id:?}: slot {slot} ({entry:?}) and the wheel disagree"
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
            self.heap.len() + self.wheel.len() >= self.live,
            "store {id:?}: heap has {} elements and the wheel {} keys for {} live entries",
            self.heap.len(),
            self.wheel.len(),
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
