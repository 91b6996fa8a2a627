//! Moving entries between a store's two tiers: placing, cascading, surfacing, cleaning the heap
//! top and compacting.
//!
//! # What this module owns
//! The store's internal mechanics that decide *where* a Waiting entry lives:
//! - [`TimerStore::place`]: a near deadline goes to the heap (with a fresh sequence number), a far
//!   one to its wheel bucket.
//! - [`TimerStore::cascade`]: the wheel's buckets that start at or before `now` are emptied and
//!   their entries placed again relative to the advanced cursor.
//! - [`TimerStore::surface`]: an early live element at the heap top (its entry was reset later)
//!   is re-sifted to its entry's deadline, or its entry moves to the wheel if that is far.
//! - [`TimerStore::clean_top`], [`TimerStore::maybe_compact`], [`TimerStore::compact`]: Go's
//!   `cleantimers` and the len/4 rule for the heap.
//!
//! # Invariants
//! These keep the store's (see `store.rs`): after `place` the entry is in exactly one tier; after
//! `cascade(now)` no bucket starts at or before `now` and the cursor is at least `now`; every
//! entry's sequence number is bumped on every placement, so no stale element can match an entry
//! that re-enters the heap.
//!
//! # Ground rules
//! All methods take the store's `&mut self`; none calls user code.

use crate::heap::HeapElem;
use crate::store::{entry_of, TimerStore, STALE_DIVISOR};
use crate::types::Nanos;
use crate::wheel::bucket_of;

impl<W, L: Copy> TimerStore<W, L> {
    /// Puts the Waiting entry `key`, which is in neither tier, where `when` belongs: the heap
    /// (O(log h)) if it is near the wheel's cursor, else a wheel bucket (O(1)).
    pub(crate) fn place(&mut self, key: u32, when: Nanos) {
        if self.slab[key as usize].seq_exhausted() {
            // Rare (once per 2^32 placements of one entry): drop every stale element first so
            // the wrapped sequence number cannot match one of them.
            self.compact();
        }
        let entry = &mut self.slab[key as usize];
        debug_assert_eq!(entry.deadline(), Some(when), "placing a non-Waiting entry");
        let seq = entry.next_seq();
        match bucket_of(self.wheel.cursor(), when) {
            Some(bucket) => {
                let pos = self.wheel.push(bucket, key, when);
                entry.set_wheel_pos(pos);
            }
            None => {
                entry.attach();
                self.heap.push(HeapElem { when, key, seq });
            }
        }
    }

    /// Takes the wheel entry with deadline `when` out of position `pos` of its bucket; the key
    /// moved into its place learns its new position.
    pub(crate) fn wheel_remove(&mut self, when: Nanos, pos: u32) {
        let Some(bucket) = bucket_of(self.wheel.cursor(), when) else {
            panic!(
                "ticktock-timer bug: a wheel entry's deadline {when} is near the cursor {}",
                self.wheel.cursor()
            );
        };
        if let Some(moved) = self.wheel.remove(bucket, pos) {
            self.slab[moved as usize].set_wheel_pos(pos);
        }
    }

    /// Advances the wheel to `now`: empties, in time order, every bucket that starts at or before
    /// `now`, moving the cursor to each bucket's start and placing its entries again (each lands
    /// on a lower level or in the heap). Then moves the cursor to `now`.
    pub(crate) fn cascade(&mut self, now: Nanos) {
        while let Some((bucket, start)) = self.wheel.next_due_bucket() {
            if start > now {
                break;
            }
            let keys = self.wheel.take_bucket(bucket);
            self.wheel.advance_cursor(start);
            for &key in &keys {
                let when = self.slab[key as usize].cascade();
                self.place(key, when);
            }
            self.stats.cascaded += keys.len() as u64;
            self.wheel.recycle(bucket, keys);
        }
        self.wheel.advance_cursor(now);
    }

    /// The heap top is an early live element whose entry's deadline is `when`: re-sifts it to
    /// `when`, or, if `when` is now far from the cursor, pops it and moves the entry to the wheel.
    pub(crate) fn surface(&mut self, when: Nanos) {
        if bucket_of(self.wheel.cursor(), when).is_none() {
            self.heap.raise_top(when);
            return;
        }
        let Some(top) = self.heap.pop() else {
            unreachable!("surface on an empty heap")
        };
        let entry = entry_of(&mut self.slab, &top);
        let freed = entry.release_elem();
        debug_assert!(!freed, "a Waiting entry was freed by its live element");
        self.place(top.key, when);
        // The heap shrank by a live element: the len/4 rule may need enforcing.
        self.maybe_compact();
    }

    /// Pops stale elements off the top and fixes an early live one until the top is live and
    /// exact (Go's `cleantimers`). Returns the top, or `None` if the heap is empty.
    ///
    /// Terminates: each round pops an element, or fixes the top's deadline (after which that
    /// element is exact and will not be fixed again).
    pub(crate) fn clean_top(&mut self) -> Option<HeapElem> {
        while let Some(&top) = self.heap.peek() {
            let entry = entry_of(&mut self.slab, &top);
            match entry.live_deadline(top.seq) {
                Some(when) if when == top.when => return Some(top),
                Some(when) => self.surface(when),
                None => {
                    self.heap.pop();
                    if entry.release_elem() {
                        self.free(top.key as usize);
                    }
                }
            }
        }
        None
    }

    /// Compacts if more than a quarter of the heap is stale (Go's rule).
    pub(crate) fn maybe_compact(&mut self) {
        if self.stale() > self.heap.len() / STALE_DIVISOR {
            self.compact();
        }
    }

    /// Rebuilds the heap from its live elements only, in O(h): stale elements are dropped (freeing
    /// Cancelled entries whose last element goes) and early ones get their entry's deadline. Then
    /// gives memory back if the heap or slab became mostly empty.
    pub(crate) fn compact(&mut self) {
        let slab = &mut self.slab;
        self.heap.retain_and_heapify(|elem| {
            let entry = entry_of(slab, elem);
            match entry.live_deadline(elem.seq) {
                Some(when) => {
                    elem.when = when;
                    true
                }
                None => {
                    if entry.release_elem() {
                        slab.remove(elem.key as usize);
                    }
                    false
                }
            }
        });
        self.stats.compactions += 1;
        self.release_slab();
        self.heap.shrink_if_sparse();
    }
}
