//! The read-only side of a [`TimerStore`]: its sizes (`live`, `heap_len`, `stale`,
//! `wheel_len`, `slab_len`), its event counters (`stats`) and the walk over its Waiting
//! entries (`for_each_waiting`, behind the executor's leak report). Nothing here changes
//! the store; the operations that do are in `store.rs`.

use crate::stats::StoreStats;
use crate::store::TimerStore;
use crate::types::Nanos;

impl<W, L: Copy> TimerStore<W, L> {
    /// Number of Waiting entries.
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{StoreId, TimerStore};
    /// let mut store = TimerStore::new(StoreId(0));
    /// let key = store.insert(10, ());
    /// store.expire(10, |_| {});
    /// assert_eq!(store.live(), 0); // Fired, still allocated for its handle
    /// assert_eq!(store.slab_len(), 1);
    /// # let _ = key;
    /// ```
    pub fn live(&self) -> usize {
        self.live
    }

    /// Number of heap elements (the near tier), stale ones included.
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{StoreId, TimerStore};
    /// let mut store = TimerStore::new(StoreId(0));
    /// let keys: Vec<_> = (0..8).map(|i| store.insert(i, ())).collect();
    /// store.cancel(keys[7]).unwrap(); // lazily deleted: its element stays
    /// assert_eq!((store.heap_len(), store.stale()), (8, 1));
    /// ```
    pub fn heap_len(&self) -> usize {
        self.heap.len()
    }

    /// Number of stale heap elements (cancelled or superseded, not yet removed). Always at most
    /// `heap_len() / 4` when a method returns.
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{StoreId, TimerStore};
    /// let mut store = TimerStore::new(StoreId(0));
    /// let keys: Vec<_> = (0..8).map(|i| store.insert(100 + i, ())).collect();
    /// for key in &keys[..5] {
    ///     store.cancel(*key).unwrap();
    ///     assert!(store.stale() <= store.heap_len() / 4);
    /// }
    /// ```
    pub fn stale(&self) -> usize {
        self.heap.len() - (self.live - self.wheel.len())
    }

    /// Number of Waiting entries in the wheel (the far tier).
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{StoreId, TimerStore};
    /// let mut store = TimerStore::new(StoreId(0));
    /// store.insert(10, ()); // near: heap
    /// store.insert(30_000_000_000, ()); // 30 s: wheel
    /// assert_eq!((store.live(), store.heap_len(), store.wheel_len()), (2, 1, 1));
    /// ```
    pub fn wheel_len(&self) -> usize {
        self.wheel.len()
    }

    /// Number of occupied slab slots, all states included (tombstones and Cancelled entries still
    /// named by stale elements too).
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{StoreId, TimerStore};
    /// let mut store = TimerStore::new(StoreId(0));
    /// let key = store.insert(10, ());
    /// store.reset(key, 5).unwrap(); // re-arming reuses the slot
    /// assert_eq!(store.slab_len(), 1);
    /// ```
    pub fn slab_len(&self) -> usize {
        self.slab.len()
    }

    /// Calls `f` with the deadline, the waker (if any) and the label of every Waiting entry, in
    /// slab order. O(slab length): for diagnostics (the executor's timer-site report),
    /// not for hot paths.
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{StoreId, TimerStore};
    /// let mut store = TimerStore::new(StoreId(0));
    /// store.insert(10, "a");
    /// let cancelled = store.insert(20, "b");
    /// store.cancel(cancelled).unwrap();
    /// let mut seen = Vec::new();
    /// store.for_each_waiting(|when, waker, _label| seen.push((when, waker.copied())));
    /// assert_eq!(seen, vec![(10, Some("a"))]);
    /// ```
    pub fn for_each_waiting(&self, mut f: impl FnMut(Nanos, Option<&W>, L)) {
        for (_, entry) in self.slab.iter() {
            if let Some(when) = entry.deadline() {
                f(when, entry.waker.as_ref(), entry.label);
            }
        }
    }

    /// Event counters.
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{StoreId, TimerStore};
    /// let mut store = TimerStore::new(StoreId(0));
    /// let key = store.insert(10, ());
    /// store.reset(key, 20).unwrap();
    /// assert_eq!(store.stats().reset, 1);
    /// ```
    pub fn stats(&self) -> &StoreStats {
        &self.stats
    }
}
