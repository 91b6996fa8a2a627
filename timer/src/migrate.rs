//! Emptying a store: [`TimerStore::migrate_into`] (Go's `moveTimers`) and
//! [`TimerStore::drain_wakers`] (runtime shutdown).
//!
//! # What this module owns
//! The two operations that empty a store's heap in one pass, leaving behind only entries that
//! handles still own.
//!
//! # Invariants
//! - After either call the source heap and wheel are empty and `live() == 0`.
//! - No entry a handle owns is freed: Waiting entries become tombstones (migrate) or Fired
//!   (drain); Fired entries and tombstones stay. Only Cancelled entries, which no handle owns, are
//!   freed.
//!
//! # Ground rules
//! `migrate_into` needs both stores mutably; a caller that guards stores with locks must hold both
//! (in a fixed order, for example by [`StoreId`](crate::StoreId), to avoid deadlock). Wakers are
//! handed to the caller's closure, which should stash them and wake them after releasing locks.

use crate::entry::Drain;
use crate::store::{entry_of, TimerStore};
use crate::types::{Moved, TimerKey};

impl<W, L: Copy> TimerStore<W, L> {
    /// Go's `moveTimers`: moves every Waiting entry into `dst` with the same deadline and waker.
    ///
    /// Each source entry becomes a tombstone `Moved { store: dst.id(), key: new_key }`, still
    /// owned by its handle and freed when the handle next touches it (`poll_entry`, `cancel` and
    /// `reset` return `Err(Moved)`). Fired entries stay as they are (their handles will see
    /// Fired). Cancelled entries and all stale heap elements are dropped. Early elements arrive in
    /// `dst` with their entry's exact deadline. Afterwards this store's heap and wheel are empty.
    ///
    /// Returns the number of entries moved. O(n + m) where n is this store's number of heap
    /// elements and wheel keys and m the heap elements it adds to `dst` (far entries land in
    /// `dst`'s wheel in O(1) each, near ones in its heap in O(log h) each).
    ///
    /// # Panics
    /// If both stores have the same id (tombstones could not say where entries went).
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{Moved, PollState, StoreId, TimerStore};
    /// let mut dying = TimerStore::new(StoreId(0));
    /// let mut heir = TimerStore::new(StoreId(1));
    /// let key = dying.insert(100, "waker");
    /// assert_eq!(dying.migrate_into(&mut heir), 1);
    /// assert_eq!((dying.heap_len(), heir.live()), (0, 1));
    ///
    /// // The handle follows the tombstone, which is freed on the way.
    /// let moved = dying.reset(key, 50).unwrap_err();
    /// assert_eq!(moved.store, StoreId(1));
    /// assert_eq!(dying.slab_len(), 0);
    /// assert_eq!(heir.reset(moved.key, 50), Ok(true));
    /// ```
    pub fn migrate_into(&mut self, dst: &mut TimerStore<W, L>) -> usize {
        self.migrate_some_into(dst, usize::MAX)
    }

    /// [`migrate_into`](Self::migrate_into) a slice at a time, so a caller that guards stores with
    /// locks can move a large store without holding both locks for long: moves every near (heap)
    /// entry, which are few, plus up to `max` far (wheel) entries, and returns how many it moved.
    /// The store is empty of Waiting entries once [`live`](Self::live) is 0; until then its
    /// remaining timers still fire from it as usual.
    ///
    /// # Panics
    /// If both stores have the same id (tombstones could not say where entries went).
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{StoreId, TimerStore};
    /// let mut retiring = TimerStore::new(StoreId(0));
    /// let mut heirs = [TimerStore::new(StoreId(1)), TimerStore::new(StoreId(2))];
    /// for i in 0..10u64 {
    ///     retiring.insert((i + 1) << 40, i); // far: in the wheel
    /// }
    /// // Spread over the heirs, two at a time.
    /// let mut turn = 0;
    /// while retiring.live() > 0 {
    ///     retiring.migrate_some_into(&mut heirs[turn % 2], 2);
    ///     turn += 1;
    /// }
    /// assert_eq!((heirs[0].live(), heirs[1].live()), (6, 4));
    /// ```
    pub fn migrate_some_into(&mut self, dst: &mut TimerStore<W, L>, max: usize) -> usize {
        assert_ne!(
            self.id, dst.id,
            "ticktock-timer: migrate_into between two stores with the same id"
        );
        let dst_id = dst.id;
        let mut moved = 0;
        let mut move_entry = |entry: &mut crate::entry::Entry<W, L>| {
            entry.migrate(|when, waker, &label| {
                let key = dst.add_entry(when, waker, label);
                dst.place(key, when);
                Moved {
                    store: dst_id,
                    key: TimerKey::from_index(key),
                }
            });
            moved += 1;
        };
        let slab = &mut self.slab;
        self.heap.drain_unordered(|elem| {
            let entry = entry_of(slab, &elem);
            let live = entry.live_deadline(elem.seq).is_some();
            if entry.release_elem() {
                // A Cancelled entry lost its last element.
                slab.remove(elem.key as usize);
                return;
            }
            if live {
                move_entry(entry);
            }
        });
        let mut far = 0;
        while far < max {
            let Some(key) = self.wheel.pop_any() else {
                break;
            };
            move_entry(&mut slab[key as usize]);
            far += 1;
        }
        self.live -= moved;
        self.stats.migrated_out += moved as u64;
        dst.stats.migrated_in += moved as u64;
        self.release_slab();
        self.heap.shrink_if_sparse();
        moved
    }

    /// Runtime shutdown: takes every waker out and hands it to `f` (the caller wakes or drops them
    /// outside its lock), empties the heap, frees the entries no handle owns (Cancelled ones), and
    /// marks Waiting entries Fired so their handles complete instead of hanging. Fired entries and
    /// tombstones stay for their handles. O(slab capacity).
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{PollState, StoreId, TimerStore};
    /// let mut store = TimerStore::new(StoreId(0));
    /// let key = store.insert(1_000, "task");
    /// let mut wakers = Vec::new();
    /// store.drain_wakers(|w| wakers.push(w));
    /// assert_eq!(wakers, ["task"]);
    /// assert_eq!((store.live(), store.heap_len()), (0, 0));
    /// assert_eq!(store.poll_entry(key, |_| {}), Ok(PollState::Fired));
    /// ```
    pub fn drain_wakers(&mut self, mut f: impl FnMut(W)) {
        self.heap.clear();
        self.wheel.drain(|_| {});
        self.live = 0;
        self.slab.retain(|_, entry| match entry.drain() {
            Drain::Keep(waker) => {
                if let Some(waker) = waker {
                    f(waker);
                }
                true
            }
            Drain::Free => false,
        });
        self.release_slab();
        self.heap.shrink_if_sparse();
    }
}
