//! Timer data structures for ticktock: one [`TimerStore`] per worker, a slab of entries plus two
//! tiers of deadlines (an exact 4-ary min-heap for the near ones, a hierarchical wheel for far
//! ones), with lazy deletion, compaction and migration. No threads, no I/O, no `unsafe`: the
//! executor wraps each store in its own lock and drives it.
//!
//! # The algorithm (after Go's runtime timers)
//! Go keeps one timer heap per P (a scheduler context) rather than one global structure, so timer
//! operations from different workers do not contend; ticktock does the same with one store per
//! worker. Each store holds:
//!
//! - a **slab** of entries, one per timer handle. The handle keeps the slab index
//!   ([`TimerKey`]); the entry holds the state, the deadline and the waker.
//! - a **4-ary min-heap** of 16-byte elements `(when, key, seq)` for deadlines inside the current
//!   window of about a millisecond (the *near tier*). Four children per node halve the depth of a
//!   binary heap and keep siblings within 64 bytes; elements are plain values, so sifts never
//!   write into the slab.
//! - a **hierarchical wheel** (the *far tier*, as Linux splits its timer wheel from its hrtimers):
//!   8 levels of 64 unsorted buckets of slab keys. A far deadline goes to a bucket in O(1) and
//!   leaves it in O(1); when the store's clock reaches a bucket, its entries cascade to a lower
//!   level or, once near, into the heap with their exact deadlines. A timeout cancelled before
//!   its bucket comes due (the common case) never touches the heap, so arming and cancelling cost
//!   the same at a million live timers as at none. Nothing fires from the wheel: precision stays
//!   at the nanosecond.
//!
//! **Lazy deletion (heap).** Cancelling a near timer does not search the heap: the entry is marked Cancelled
//! and its element becomes *stale*, to be dropped when it reaches the top or at the next
//! compaction. Re-arming earlier bumps the entry's sequence number, which turns the old element
//! stale (an element is live iff its `seq` matches its Waiting entry's), and pushes a new one.
//! Re-arming later only records the deadline; the old element stays as an *early* element and is
//! re-sifted to the right place when it surfaces (Go's `timerModifiedLater`). Both make cancel and
//! the common "push the deadline back" reset O(1).
//!
//! **The len/4 rule.** Unbounded stale elements would be a leak (a loop that creates and cancels
//! timeouts would grow the heap forever). Whenever more than a quarter of the heap is stale
//! (`stale > heap_len / 4`, Go's threshold), the store rebuilds it from live elements in O(n)
//! (Floyd's heapify). Each rebuild removes at least a quarter of what it scans, so its cost is
//! amortized O(1) per stale element, and the heap never exceeds 4/3 of the live timers. An entry's
//! slot is freed only when its handle let go *and* no element names it (`heap_refs == 0`), so a
//! key is never reused under a stale element. Memory shrinks back: an emptied slab and a mostly
//! empty heap release large allocations.
//!
//! **Cleaning the top.** Before an insert and when asked for the next deadline, the store pops
//! stale elements off the top and re-sifts early ones (Go's `cleantimers`), so the heap's part of
//! [`TimerStore::next_deadline`] is exact; the wheel's part is a bucket's recorded minimum, a lower
//! bound, so a worker may wake early to cascade a bucket but never sleeps past a deadline.
//!
//! **Migration.** When a worker goes away its timers must keep firing. Go's `moveTimers` moves
//! them to another P; [`TimerStore::migrate_into`] moves every Waiting entry to another store and
//! leaves a tombstone ([`Moved`]) that the handle follows (and frees) on its next operation.
//!
//! # Why nanosecond integers, and why `MAX_DEADLINE`
//! Deadlines are [`Nanos`] (`u64` nanoseconds since the runtime's epoch): an element stays
//! 16 bytes, comparisons are single integer compares, and nanoseconds lose nothing from `Instant`.
//! Durations too long to represent clamp to [`MAX_DEADLINE`] (`u64::MAX / 2`, about 292 years),
//! which never fires; the headroom below `u64::MAX` keeps `now + delta` from overflowing and leaves
//! [`NO_DEADLINE`] (`u64::MAX`) free as the executor's "no timer" sentinel.
//!
//! # Entry states
//! Waiting, Fired, Cancelled and Moved (tombstone); the full transition table is in the `entry`
//! module's source docs, and [`TimerStore::verify`] checks every invariant.
//!
//! # Examples
//!
//! ```
//! use ticktock_timer::{PollState, StoreId, TimerStore};
//! let mut store = TimerStore::new(StoreId(0));
//! let sleep = store.insert(5_000, "task A");
//! let timeout = store.insert(9_000, "task B");
//! store.cancel(timeout).unwrap(); // O(1): lazily deleted
//! let mut woken = Vec::new();
//! store.expire(10_000, |waker| woken.push(waker));
//! assert_eq!(woken, ["task A"]);
//! assert_eq!(store.poll_entry(sleep, |_| {}), Ok(PollState::Fired));
//! store.cancel(sleep).unwrap();
//! assert_eq!((store.slab_len(), store.heap_len()), (0, 0));
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod entry;
mod heap;
mod inspect;
mod migrate;
mod stats;
mod store;
mod tiers;
mod types;
mod verify;
mod wheel;

pub use stats::StoreStats;
pub use store::TimerStore;
pub use types::{Moved, Nanos, PollState, StoreId, TimerKey, MAX_DEADLINE, NO_DEADLINE};

/// Compile-time check: a store of `Send` payloads can move between threads and, behind a lock,
/// be shared; the value types are freely shareable.
const _: () = {
    const fn ensure_send_and_sync<T: Send + Sync>() {}
    ensure_send_and_sync::<TimerStore<std::task::Waker>>();
    ensure_send_and_sync::<TimerKey>();
    ensure_send_and_sync::<Moved>();
    ensure_send_and_sync::<StoreStats>();
};

#[cfg(test)]
mod tests;
