//! [`TimerStore`]: one worker's timers, a slab of entries plus a 4-ary heap of deadlines.
//!
//! # What this module owns
//! The store struct, the handle-facing operations (`insert`, `poll_entry`, `cancel`, `reset`) and
//! the worker-facing ones (`expire`, `next_deadline`), and the housekeeping they share: cleaning
//! the heap top, compaction and giving memory back. Migration and draining live in `migrate.rs`,
//! the invariant checker in `verify.rs`, entry transitions in `entry.rs`.
//!
//! # Invariants (after every public method returns)
//! - `live` equals the number of Waiting entries, and each has exactly one live heap element, so
//!   `stale() == heap_len() - live()`.
//! - `stale() <= heap_len() / STALE_DIVISOR` (Go's compaction rule, enforced wherever an element
//!   can turn stale or the heap can shrink).
//! - No heap element names a free slot; see `entry.rs` for the per-entry invariants.
//!
//! # Ground rules
//! The store has no interior mutability and no threads: every method takes `&mut self` or `&self`,
//! and whoever shares a store (the executor, behind a mutex) must serialize access. Methods never
//! call back into user code except through the closures they are given (`register`, `on_fire`,
//! `f`), which receive only entry data, never the store.

use slab::Slab;

use crate::entry::{Cancel, Entry, Reset, State};
use crate::heap::{Heap, HeapElem};
use crate::stats::StoreStats;
use crate::types::{clamp_deadline, Moved, Nanos, PollState, StoreId, TimerKey, MAX_DEADLINE};

/// Compaction threshold divisor: the heap is rebuilt when more than `heap_len / STALE_DIVISOR`
/// elements are stale. Four is Go's rule: it caps the heap at 4/3 of the live timers while keeping
/// the O(n) rebuild amortized O(1) per stale element (each rebuild removes at least a quarter of
/// what it scans).
pub(crate) const STALE_DIVISOR: usize = 4;

/// Slab capacity (entries) that a store keeps when it becomes empty; beyond it the slab is
/// replaced by a fresh one. 1024 entries are about 40 KiB with `std::task::Waker`: cheap to keep,
/// and enough that a worker churning a few hundred timers never reallocates.
pub(crate) const SLAB_RETAIN_CAPACITY: usize = 1024;

/// One worker's timers: entries in a slab, their deadlines in a 4-ary min-heap with lazy deletion.
///
/// `W` is the payload handed back when a timer fires; the executor uses `std::task::Waker`.
/// See the crate docs for the algorithm and `entry.rs` for the state machine.
///
/// # Examples
///
/// ```
/// use ticktock_timer::{PollState, StoreId, TimerStore};
/// let mut store = TimerStore::new(StoreId(0));
/// let key = store.insert(1_000, "wake me");
/// assert_eq!(store.next_deadline(), Some(1_000));
/// let mut woken = Vec::new();
/// assert_eq!(store.expire(1_000, |w| woken.push(w)), 1);
/// assert_eq!(woken, ["wake me"]);
/// assert_eq!(store.poll_entry(key, |_| {}), Ok(PollState::Fired));
/// store.cancel(key).unwrap(); // the handle lets go
/// assert_eq!(store.slab_len(), 0);
/// ```
pub struct TimerStore<W> {
    /// This store's number; tombstones in other stores point here by it.
    pub(crate) id: StoreId,
    /// Every occupied slot: Waiting, Fired, Cancelled and Moved entries.
    pub(crate) slab: Slab<Entry<W>>,
    /// Deadlines of Waiting entries, plus stale and early elements.
    pub(crate) heap: Heap,
    /// Number of Waiting entries (= live heap elements).
    pub(crate) live: usize,
    /// Event counters.
    pub(crate) stats: StoreStats,
}

impl<W> std::fmt::Debug for TimerStore<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimerStore")
            .field("id", &self.id)
            .field("live", &self.live)
            .field("heap_len", &self.heap.len())
            .field("slab_len", &self.slab.len())
            .field("stats", &self.stats)
            .finish()
    }
}

/// Returns the entry a heap element names, panicking if the slot is free (a broken invariant:
/// slots are freed only once no element names them).
pub(crate) fn entry_of<'a, W>(slab: &'a mut Slab<Entry<W>>, elem: &HeapElem) -> &'a mut Entry<W> {
    match slab.get_mut(elem.key as usize) {
        Some(entry) => entry,
        None => panic!("ticktock-timer bug: heap element {elem:?} names a free slab slot"),
    }
}

impl<W> TimerStore<W> {
    /// Creates an empty store. Allocates nothing until the first insert.
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{StoreId, TimerStore};
    /// let store: TimerStore<std::task::Waker> = TimerStore::new(StoreId(0));
    /// assert_eq!(store.live(), 0);
    /// ```
    pub fn new(id: StoreId) -> Self {
        TimerStore {
            id,
            slab: Slab::new(),
            heap: Heap::new(),
            live: 0,
            stats: StoreStats::default(),
        }
    }

    /// Returns this store's id.
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{StoreId, TimerStore};
    /// assert_eq!(TimerStore::<()>::new(StoreId(2)).id(), StoreId(2));
    /// ```
    pub fn id(&self) -> StoreId {
        self.id
    }

    /// New entry, state Waiting, owned by the caller's handle. `when` is clamped to
    /// [`MAX_DEADLINE`].
    ///
    /// Before adding, pops stale elements off the heap top and re-sifts an early one (Go's
    /// `cleantimers`), which keeps the top exact at O(1) cost when there is nothing to clean.
    /// O(log n) worst case.
    ///
    /// # Panics
    /// If the store would hold more than `u32::MAX` entries.
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{StoreId, TimerStore, MAX_DEADLINE};
    /// let mut store = TimerStore::new(StoreId(0));
    /// store.insert(50, ());
    /// store.insert(u64::MAX, ());
    /// assert_eq!(store.live(), 2);
    /// assert_eq!(store.next_deadline(), Some(50));
    /// ```
    pub fn insert(&mut self, when: Nanos, waker: W) -> TimerKey {
        self.clean_top();
        let when = clamp_deadline(when);
        let key = self.add_entry(when, Some(waker));
        self.heap.push(HeapElem { when, key, seq: 0 });
        self.stats.inserted += 1;
        TimerKey::from_index(key)
    }

    /// Handle polls its entry.
    ///
    /// - Waiting: calls `register` with the entry's waker slot (so the caller can keep the stored
    ///   waker when it would wake the same task, instead of cloning) and returns
    ///   `Ok(PollState::Pending)`.
    /// - Fired: returns `Ok(PollState::Fired)` without calling `register`; the entry stays, owned
    ///   by the handle, which may reset it.
    /// - Tombstone: frees it and returns `Err(Moved)`; the handle must poll at the new place.
    ///
    /// # Panics
    /// If `key` is free or Cancelled: the handle used its key after letting go.
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{PollState, StoreId, TimerStore};
    /// let mut store = TimerStore::new(StoreId(0));
    /// let key = store.insert(10, 1u32);
    /// let state = store.poll_entry(key, |slot| {
    ///     if *slot != Some(2) {
    ///         *slot = Some(2); // replace the waker only when it changed
    ///     }
    /// });
    /// assert_eq!(state, Ok(PollState::Pending));
    /// let mut woken = Vec::new();
    /// store.expire(10, |w| woken.push(w));
    /// assert_eq!(woken, [2]);
    /// ```
    pub fn poll_entry(
        &mut self,
        key: TimerKey,
        register: impl FnOnce(&mut Option<W>),
    ) -> Result<PollState, Moved> {
        let result = self.handle_entry(key, "poll").poll(register);
        if result.is_err() {
            self.free(key.slot());
        }
        result
    }

    /// Handle dropped or cancelled; returns the entry's waker so the caller can drop it after
    /// releasing its lock.
    ///
    /// - Waiting: becomes Cancelled; its heap element goes stale (O(1), lazy deletion). If that
    ///   makes more than a quarter of the heap stale, the heap is compacted.
    /// - Fired: the slot is freed, or becomes Cancelled if stale heap elements still name it
    ///   (freed when the last one goes).
    /// - Tombstone: freed; returns `Err(Moved)` and the caller must cancel at the new place.
    ///
    /// # Panics
    /// If `key` is free or already Cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{StoreId, TimerStore};
    /// let mut store = TimerStore::new(StoreId(0));
    /// let key = store.insert(10, "waker");
    /// assert_eq!(store.cancel(key), Ok(Some("waker")));
    /// assert_eq!(store.expire(100, |_| {}), 0);
    /// assert_eq!((store.live(), store.heap_len(), store.slab_len()), (0, 0, 0));
    /// ```
    pub fn cancel(&mut self, key: TimerKey) -> Result<Option<W>, Moved> {
        match self.handle_entry(key, "cancel").cancel() {
            Cancel::Disarmed(waker) => {
                self.live -= 1;
                self.stats.cancelled += 1;
                self.maybe_compact();
                Ok(waker)
            }
            Cancel::Release => {
                self.free(key.slot());
                Ok(None)
            }
            Cancel::Orphaned => Ok(None),
            Cancel::Moved(to) => {
                self.free(key.slot());
                Err(to)
            }
        }
    }

    /// Re-arms the entry at `when` (clamped to [`MAX_DEADLINE`]), reusing its slot: never
    /// allocates a new slab entry.
    ///
    /// - Waiting, later or equal deadline: only records it. The heap element stays, now "early",
    ///   and is re-sifted when it reaches the top (Go's `timerModifiedLater`). O(1).
    /// - Waiting, earlier deadline: bumps the entry's sequence number, so the old element goes
    ///   stale, and pushes a new one (Go's `timerModifiedEarlier`). May compact.
    /// - Fired: back to Waiting with a fresh heap element.
    /// - Tombstone: freed; returns `Err(Moved)` and the caller must reset at the new place.
    ///
    /// Returns `Ok(true)` if the entry is now this store's earliest live deadline (the executor
    /// may then need to wake the worker sleeping on a later one). A later reset always returns
    /// `Ok(false)`: it can only make the worker wake too early, never too late.
    ///
    /// # Panics
    /// If `key` is free or Cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{StoreId, TimerStore};
    /// let mut store = TimerStore::new(StoreId(0));
    /// let a = store.insert(100, ());
    /// let b = store.insert(200, ());
    /// assert_eq!(store.reset(b, 50), Ok(true)); // now the earliest
    /// assert_eq!(store.reset(a, 300), Ok(false)); // later: just recorded
    /// assert_eq!(store.slab_len(), 2);
    /// assert_eq!(store.next_deadline(), Some(50));
    /// ```
    pub fn reset(&mut self, key: TimerKey, when: Nanos) -> Result<bool, Moved> {
        let when = clamp_deadline(when);
        if self.handle_entry(key, "reset").seq_exhausted() {
            // Rare (once per 2^32 re-arms of one entry): drop every stale element first so the
            // wrapped sequence number cannot match one of them.
            self.compact();
        }
        let entry = self.handle_entry(key, "reset");
        let (seq, was_waiting) = match entry.reset(when) {
            Reset::Later => {
                self.stats.reset += 1;
                return Ok(false);
            }
            Reset::Earlier { seq } => (seq, true),
            Reset::Rearmed { seq } => (seq, false),
            Reset::Moved(to) => {
                self.free(key.slot());
                return Err(to);
            }
        };
        entry.attach();
        let index = key.index();
        self.heap.push(HeapElem {
            when,
            key: index,
            seq,
        });
        self.stats.reset += 1;
        if was_waiting {
            self.maybe_compact();
        } else {
            self.live += 1;
        }
        let top = self.clean_top();
        Ok(top.is_some_and(|top| top.key == index && top.seq == seq))
    }

    /// Fires every live entry with deadline `<= now`: each becomes Fired and its waker is taken
    /// and passed to `on_fire` (entries polled without a waker fire without a call). Returns the
    /// number fired.
    ///
    /// Stale elements met on the way are popped (freeing Cancelled entries whose last element
    /// goes); early elements are re-sifted with their entry's real deadline. Never fires an entry
    /// early, and never fires one whose deadline is [`MAX_DEADLINE`], whatever `now` is.
    /// O((fired + stale popped + early re-sifted) * log n).
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{StoreId, TimerStore};
    /// let mut store = TimerStore::new(StoreId(0));
    /// for when in [30, 10, 20, 40] {
    ///     store.insert(when, when);
    /// }
    /// let mut order = Vec::new();
    /// assert_eq!(store.expire(30, |w| order.push(w)), 3);
    /// assert_eq!(order, [10, 20, 30]);
    /// assert_eq!(store.next_deadline(), Some(40));
    /// ```
    pub fn expire(&mut self, now: Nanos, mut on_fire: impl FnMut(W)) -> usize {
        // MAX_DEADLINE means "never": cap the clock just below it.
        let now = now.min(MAX_DEADLINE - 1);
        let mut fired = 0;
        while let Some(&top) = self.heap.peek() {
            if top.when > now {
                break;
            }
            let entry = entry_of(&mut self.slab, &top);
            match entry.live_deadline(top.seq) {
                Some(when) if when <= now => {
                    self.heap.pop();
                    let freed = entry.release_elem();
                    debug_assert!(!freed, "a Waiting entry was freed by its live element");
                    let waker = entry.fire();
                    self.live -= 1;
                    self.stats.fired += 1;
                    fired += 1;
                    if let Some(waker) = waker {
                        on_fire(waker);
                    }
                }
                // Early element of an entry reset later: move it to its real place.
                Some(when) => self.heap.raise_top(when),
                None => {
                    self.heap.pop();
                    if entry.release_elem() {
                        self.free(top.key as usize);
                    }
                }
            }
        }
        // Firing shrinks the heap but not the stale count, so the rule may need enforcing.
        self.maybe_compact();
        self.heap.shrink_if_sparse();
        fired
    }

    /// Earliest live deadline, or `None` if no entry is Waiting.
    ///
    /// Cleans the top first (pops stale elements, re-sifts early ones: Go's `cleantimers`), so the
    /// answer is exact, never the stale deadline of an early element. Amortized O(1) plus O(log n)
    /// per element cleaned.
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{StoreId, TimerStore};
    /// let mut store = TimerStore::new(StoreId(0));
    /// assert_eq!(store.next_deadline(), None);
    /// let a = store.insert(10, ());
    /// store.insert(20, ());
    /// store.reset(a, 30).unwrap(); // the element at 10 is now early
    /// assert_eq!(store.next_deadline(), Some(20));
    /// ```
    pub fn next_deadline(&mut self) -> Option<Nanos> {
        self.clean_top().map(|top| top.when)
    }

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

    /// Number of heap elements, stale ones included.
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
        self.heap.len() - self.live
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

    /// Calls `f` with the deadline and the waker (if any) of every Waiting entry, in
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
    /// store.for_each_waiting(|when, waker| seen.push((when, waker.copied())));
    /// assert_eq!(seen, vec![(10, Some("a"))]);
    /// ```
    pub fn for_each_waiting(&self, mut f: impl FnMut(Nanos, Option<&W>)) {
        for (_, entry) in self.slab.iter() {
            if let State::Waiting { when } = entry.state {
                f(when, entry.waker.as_ref());
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

    /// Returns the entry behind a handle's key, panicking with `op` in the message if the slot is
    /// free (the handle used its key after letting go, or a key from another store).
    #[track_caller]
    fn handle_entry(&mut self, key: TimerKey, op: &str) -> &mut Entry<W> {
        let id = self.id;
        match self.slab.get_mut(key.slot()) {
            Some(entry) => entry,
            None => panic!(
                "ticktock-timer bug: `{op}` on {key:?}, a free slot of store {id:?} \
                 (the handle used its key after letting go)"
            ),
        }
    }

    /// Creates a Waiting entry that one heap element (which the caller pushes) will name, and
    /// returns its slab index.
    pub(crate) fn add_entry(&mut self, when: Nanos, waker: Option<W>) -> u32 {
        let vacant = self.slab.vacant_entry();
        let key = match u32::try_from(vacant.key()) {
            Ok(key) => key,
            Err(_) => panic!(
                "ticktock-timer: more than u32::MAX timers in store {:?}",
                self.id
            ),
        };
        vacant.insert(Entry::new(when, waker)).attach();
        self.live += 1;
        key
    }

    /// Frees a slot that no handle and no heap element refers to any more.
    pub(crate) fn free(&mut self, slot: usize) {
        self.slab.remove(slot);
        if self.slab.is_empty() {
            self.release_slab();
        }
    }

    /// Replaces an empty slab that grew past [`SLAB_RETAIN_CAPACITY`] with a fresh one, so a burst
    /// of timers leaves no large allocation behind. (A non-empty slab cannot shrink: its keys are
    /// held by handles.)
    pub(crate) fn release_slab(&mut self) {
        if self.slab.is_empty() && self.slab.capacity() > SLAB_RETAIN_CAPACITY {
            self.slab = Slab::new();
        }
    }

    /// Pops stale elements off the top and re-sifts an early live one until the top is live and
    /// exact (Go's `cleantimers`). Returns the top, or `None` if the heap is empty.
    ///
    /// Terminates: each round pops an element or fixes the top's deadline, after which that element
    /// is exact and will not be re-sifted again.
    pub(crate) fn clean_top(&mut self) -> Option<HeapElem> {
        while let Some(&top) = self.heap.peek() {
            let entry = entry_of(&mut self.slab, &top);
            match entry.live_deadline(top.seq) {
                Some(when) if when == top.when => return Some(top),
                Some(when) => self.heap.raise_top(when),
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

    /// Rebuilds the heap from its live elements only, in O(n): stale elements are dropped (freeing
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
