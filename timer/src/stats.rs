//! Per-store event counters.
//!
//! # What this module owns
//! [`StoreStats`], plain `u64` counters that a store bumps as it works. They are for metrics,
//! tests and benches; nothing in the crate reads them back to make a decision.
//!
//! # Invariants
//! Counters only grow (wrapping would take centuries at any realistic rate).
//!
//! # Ground rules
//! Written only by the owning store under its `&mut self`; readers get a shared reference through
//! [`TimerStore::stats`](crate::TimerStore::stats) and may clone it.

/// Counters of what a store has done since it was created.
///
/// # Examples
///
/// ```
/// use ticktock_timer::{StoreId, TimerStore};
/// let mut store = TimerStore::new(StoreId(0));
/// let a = store.insert(10, ());
/// let b = store.insert(20, ());
/// store.cancel(b).unwrap();
/// store.expire(10, |_| {});
/// let stats = store.stats().clone();
/// assert_eq!((stats.inserted, stats.fired, stats.cancelled), (2, 1, 1));
/// # let _ = a;
/// ```
#[derive(Clone, Debug, Default)]
pub struct StoreStats {
    /// Entries created by [`insert`](crate::TimerStore::insert) (migrated-in entries are not
    /// counted here but in `migrated_in`).
    pub inserted: u64,
    /// Entries fired by [`expire`](crate::TimerStore::expire).
    pub fired: u64,
    /// Waiting entries cancelled before they fired (cancelling a Fired entry only releases it and
    /// is not counted).
    pub cancelled: u64,
    /// Successful [`reset`](crate::TimerStore::reset) calls, from Waiting or Fired.
    pub reset: u64,
    /// Heap rebuilds that dropped stale elements (the `stale > heap_len / 4` rule, plus the rare
    /// rebuild that guards a sequence number against wrapping).
    pub compactions: u64,
    /// Entries moved down the wheel or into the heap when their bucket came due (an entry
    /// cascades at most once per wheel level; timers cancelled early never do).
    pub cascaded: u64,
    /// Entries this store handed to another one in [`migrate_into`](crate::TimerStore::migrate_into).
    pub migrated_out: u64,
    /// Entries this store received from another one in
    /// [`migrate_into`](crate::TimerStore::migrate_into).
    pub migrated_in: u64,
}
