//! [`TimerStore`]: one worker's timers: a slab of entries, an exact 4-ary heap for near
//! deadlines and a hierarchical wheel for far ones.
//!
//! # What this module owns
//! The store struct and its public operations: the handle-facing ones (`insert`, `poll_entry`,
//! `cancel`, `reset`) and the worker-facing ones (`expire`, `next_deadline`), the read-only
//! accessors (sizes, counters, the walk over Waiting entries) are in `inspect.rs`. How an entry is placed in a tier, cascaded, surfaced and compacted lives in
//! `tiers.rs`; migration and draining in `migrate.rs`; the invariant checker in `verify.rs`;
//! entry transitions in `entry.rs`; the wheel's bucket arithmetic in `wheel.rs`.
//!
//! # Invariants (after every public method returns)
//! - `live` equals the number of Waiting entries; each is either in the heap with exactly one
//!   live element, or in a wheel bucket with none, so
//!   `stale() == heap_len() - (live() - wheel_len())`.
//! - `stale() <= heap_len() / STALE_DIVISOR` (Go's compaction rule, enforced wherever an element
//!   can turn stale or the heap can shrink).
//! - No heap element and no bucket key names a free slot; see `entry.rs` and `wheel.rs` for the
//!   per-entry and per-bucket invariants.
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
use crate::wheel::{bucket_of, Wheel};

/// Compaction threshold divisor: the heap is rebuilt when more than `heap_len / STALE_DIVISOR`
/// elements are stale. Four is Go's rule: it caps the heap at 4/3 of the live timers while keeping
/// the O(n) rebuild amortized O(1) per stale element (each rebuild removes at least a quarter of
/// what it scans).
pub(crate) const STALE_DIVISOR: usize = 4;

/// Slab capacity (entries) that a store keeps when it becomes empty; beyond it the slab is
/// replaced by a fresh one. 1024 entries are about 40 KiB with `std::task::Waker`: cheap to keep,
/// and enough that a worker churning a few hundred timers never reallocates.
pub(crate) const SLAB_RETAIN_CAPACITY: usize = 1024;

/// One worker's timers: entries in a slab; near deadlines in a 4-ary min-heap with lazy deletion,
/// far ones in a hierarchical wheel of unsorted buckets.
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
pub struct TimerStore<W, L = ()> {
    /// This store's number; tombstones in other stores point here by it.
    pub(crate) id: StoreId,
    /// Every occupied slot: Waiting, Fired, Cancelled and Moved entries.
    pub(crate) slab: Slab<Entry<W, L>>,
    /// Deadlines of Waiting entries in the near tier, plus stale and early elements.
    pub(crate) heap: Heap,
    /// Waiting entries in the far tier, by coarse deadline.
    pub(crate) wheel: Wheel,
    /// Number of Waiting entries (live heap elements plus wheel keys).
    pub(crate) live: usize,
    /// Event counters.
    pub(crate) stats: StoreStats,
}

impl<W, L> std::fmt::Debug for TimerStore<W, L> {
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
pub(crate) fn entry_of<'a, W, L>(
    slab: &'a mut Slab<Entry<W, L>>,
    elem: &HeapElem,
) -> &'a mut Entry<W, L> {
    match slab.get_mut(elem.key as usize) {
        Some(entry) => entry,
        None => panic!("ticktock-timer bug: heap element {elem:?} names a free slab slot"),
    }
}

impl<W> TimerStore<W> {
    /// Creates an empty store. Allocates the wheel's bucket table (512 empty buckets, about
    /// 16 KiB); the slab and the heap allocate on first use.
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{StoreId, TimerStore};
    /// let store: TimerStore<std::task::Waker> = TimerStore::new(StoreId(0));
    /// assert_eq!(store.live(), 0);
    /// ```
    pub fn new(id: StoreId) -> Self {
        TimerStore::new_labeled(id)
    }
}

impl<W, L: Copy> TimerStore<W, L> {
    /// Creates an empty store whose entries carry labels of type `L` (see
    /// [`insert_labeled`](Self::insert_labeled)). Allocates the wheel's bucket table (512 empty buckets, about
    /// 16 KiB); the slab and the heap allocate on first use.
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{StoreId, TimerStore};
    /// let store: TimerStore<std::task::Waker, &str> = TimerStore::new_labeled(StoreId(0));
    /// assert_eq!(store.live(), 0);
    /// ```
    pub fn new_labeled(id: StoreId) -> Self {
        TimerStore {
            id,
            slab: Slab::new(),
            heap: Heap::new(),
            wheel: Wheel::new(),
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

    /// New entry, state Waiting, owned by the caller's handle, carrying `label` (kept in every
    /// state until the handle lets go; the executor labels each timer with its creation site). `when` is clamped to
    /// [`MAX_DEADLINE`].
    ///
    /// A deadline within the current near window (about a millisecond, see `wheel.rs`) or before
    /// it goes into the heap: O(log h) for the h near timers. A later one goes into a wheel
    /// bucket: O(1), whatever the number of timers. Before adding, pops stale elements off the
    /// heap top and re-sifts an early one (Go's `cleantimers`), which keeps the top exact at O(1)
    /// cost when there is nothing to clean.
    ///
    /// # Panics
    /// If the store would hold more than `u32::MAX` entries.
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{StoreId, TimerStore, MAX_DEADLINE};
    /// let mut store = TimerStore::new_labeled(StoreId(0));
    /// store.insert_labeled(50, (), "a");
    /// store.insert_labeled(u64::MAX, (), "b");
    /// assert_eq!(store.live(), 2);
    /// assert_eq!(store.next_deadline(), Some(50));
    /// ```
    pub fn insert_labeled(&mut self, when: Nanos, waker: W, label: L) -> TimerKey {
        self.clean_top();
        let when = clamp_deadline(when);
        let key = self.add_entry(when, Some(waker), label);
        self.place(key, when);
        self.stats.inserted += 1;
        TimerKey::from_index(key)
    }

    /// The label the handle's entry carries (see [`insert_labeled`](Self::insert_labeled)).
    /// A tombstone answers `Err(Moved)` without being freed: the caller asks again at the new
    /// place.
    ///
    /// # Panics
    /// If `key` is free: the handle used its key after letting go.
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{StoreId, TimerStore};
    /// let mut store = TimerStore::new_labeled(StoreId(0));
    /// let key = store.insert_labeled(10, (), "made here");
    /// store.expire(10, |_| {});
    /// assert_eq!(store.label(key), Ok("made here")); // kept after firing
    /// ```
    pub fn label(&mut self, key: TimerKey) -> Result<L, Moved> {
        let entry = self.handle_entry(key, "label");
        match entry.state() {
            State::Moved(to) => Err(to),
            _ => Ok(entry.label),
        }
    }

    /// Handle polls its entry.
    ///
    /// - Waiting: calls `register` with the entry's stored waker, an `Option` (so the caller can
    ///   keep the stored waker when it would wake the same task, instead of cloning) and returns
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
    /// let state = store.poll_entry(key, |waker| {
    ///     if *waker != Some(2) {
    ///         *waker = Some(2); // replace the waker only when it changed
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
    /// - Waiting in the wheel: taken out of its bucket and freed (O(1)), or Cancelled if stale heap
    ///   elements still name it.
    /// - Waiting in the heap: becomes Cancelled; its heap element goes stale (O(1), lazy
    ///   deletion). If that makes more than a quarter of the heap stale, the heap is compacted.
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
            Cancel::Disarmed {
                waker,
                from_wheel,
                release,
            } => {
                if let Some((pos, when)) = from_wheel {
                    self.wheel_remove(when, pos);
                }
                self.live -= 1;
                self.stats.cancelled += 1;
                if release {
                    self.free(key.slot());
                }
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
    /// - Waiting in the wheel: if `when` falls in the same bucket, only recorded; otherwise moved
    ///   to its new place (another bucket, or the heap). O(1) unless it lands in the heap.
    /// - Waiting in the heap, later or equal deadline: only recorded. The heap element stays, now
    ///   "early", and is re-sifted (or moved to the wheel) when it reaches the top (Go's
    ///   `timerModifiedLater`). O(1).
    /// - Waiting in the heap, earlier deadline: placed anew (Go's `timerModifiedEarlier`); the old
    ///   element goes stale. May compact.
    /// - Fired: back to Waiting, placed anew.
    /// - Tombstone: freed; returns `Err(Moved)` and the caller must reset at the new place.
    ///
    /// Returns `Ok(true)` if the store's earliest deadline may now be earlier than before (the
    /// entry was re-armed or moved earlier: the executor may then need to wake the worker sleeping
    /// on a later one), `Ok(false)` for a reset to an equal or later deadline, which can only make
    /// a worker wake too early, never too late.
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
    /// let far = store.insert(1 << 40, ()); // about 18 minutes: in the wheel
    /// assert_eq!(store.reset(far, 1 << 41), Ok(false)); // moved between buckets in O(1)
    /// assert_eq!(store.slab_len(), 3);
    /// assert_eq!(store.next_deadline(), Some(50));
    /// ```
    #[inline]
    pub fn reset(&mut self, key: TimerKey, when: Nanos) -> Result<bool, Moved> {
        let when = clamp_deadline(when);
        let earlier = match self.handle_entry(key, "reset").state() {
            State::Waiting { when: old } => when < old,
            _ => true,
        };
        match self.handle_entry(key, "reset").reset(when) {
            Reset::Later => {}
            Reset::Replace {
                from_wheel: Some((pos, old)),
            } => {
                let cursor = self.wheel.cursor();
                let from = bucket_of(cursor, old);
                if from.is_some() && bucket_of(cursor, when) == from {
                    // Same bucket: the key stays where it is.
                    self.slab[key.slot()].set_wheel_pos(pos);
                    self.wheel.lower_min(from.unwrap_or_default(), when);
                } else {
                    self.wheel_remove(old, pos);
                    self.place(key.index(), when);
                }
            }
            Reset::Replace { from_wheel: None } => {
                self.place(key.index(), when);
                self.maybe_compact();
            }
            Reset::Rearmed => {
                self.live += 1;
                self.place(key.index(), when);
            }
            Reset::Moved(to) => {
                self.free(key.slot());
                return Err(to);
            }
        }
        self.stats.reset += 1;
        Ok(earlier)
    }

    /// Fires every live entry with deadline `<= now`: each becomes Fired and its waker is taken
    /// and passed to `on_fire` (entries polled without a waker fire without a call). Returns the
    /// number fired.
    ///
    /// First cascades every wheel bucket that starts at or before `now` (its entries move to a
    /// lower level or, once near, into the heap with their exact deadlines), then pops the heap.
    /// Stale elements met on the way are popped (freeing Cancelled entries whose last element
    /// goes); early elements are re-sifted with their entry's real deadline, or moved to the
    /// wheel if that is far. Never fires an entry early, and never fires one whose deadline is
    /// [`MAX_DEADLINE`], whatever `now` is. O((fired + stale popped + early re-sifted) * log h +
    /// cascaded).
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::{StoreId, TimerStore};
    /// let mut store = TimerStore::new(StoreId(0));
    /// for when in [30, 10, 20, 40, 1 << 36] {
    ///     store.insert(when, when);
    /// }
    /// let mut order = Vec::new();
    /// assert_eq!(store.expire(30, |w| order.push(w)), 3);
    /// assert_eq!(order, [10, 20, 30]);
    /// assert_eq!(store.next_deadline(), Some(40));
    /// assert_eq!(store.expire(1 << 36, |w| order.push(w)), 2); // cascaded, then fired
    /// assert_eq!(order, [10, 20, 30, 40, 1 << 36]);
    /// ```
    pub fn expire(&mut self, now: Nanos, mut on_fire: impl FnMut(W)) -> usize {
        // MAX_DEADLINE means "never": cap the clock just below it.
        let now = now.min(MAX_DEADLINE - 1);
        self.cascade(now);
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
                Some(when) => self.surface(when),
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

    /// Earliest live deadline, or a lower bound of it, or `None` if no entry is Waiting.
    ///
    /// The heap's part is exact: the top is cleaned first (stale elements popped, early ones
    /// re-sifted: Go's `cleantimers`). The wheel's part is the earliest bucket's recorded minimum,
    /// exact unless that bucket's earliest entry was cancelled or moved since; then it is lower,
    /// which costs a wake-up that cascades the bucket, never a late timer. O(LEVELS) plus
    /// O(log h) per heap element cleaned.
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
        let near = self.clean_top().map(|top| top.when);
        match (near, self.wheel.earliest_bound()) {
            (Some(near), Some(far)) => Some(near.min(far)),
            (near, far) => near.or(far),
        }
    }

    /// Returns the entry behind a handle's key, panicking with `op` in the message if the slot is
    /// free (the handle used its key after letting go, or a key from another store).
    #[track_caller]
    fn handle_entry(&mut self, key: TimerKey, op: &str) -> &mut Entry<W, L> {
        let id = self.id;
        match self.slab.get_mut(key.slot()) {
            Some(entry) => entry,
            None => panic!(
                "ticktock-timer bug: `{op}` on {key:?}, a free slot of store {id:?} \
                 (the handle used its key after letting go)"
            ),
        }
    }

    /// Creates a Waiting entry in neither tier and returns its slab index; the caller places it
    /// with [`place`](Self::place).
    pub(crate) fn add_entry(&mut self, when: Nanos, waker: Option<W>, label: L) -> u32 {
        let vacant = self.slab.vacant_entry();
        let key = match u32::try_from(vacant.key()) {
            Ok(key) => key,
            Err(_) => panic!(
                "ticktock-timer: more than u32::MAX timers in store {:?}",
                self.id
            ),
        };
        vacant.insert(Entry::new(when, waker, label));
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
}

impl<W, L: Copy + Default> TimerStore<W, L> {
    /// New entry, state Waiting, owned by the caller's handle. `when` is clamped to
    /// [`MAX_DEADLINE`].
    ///
    /// A deadline within the current near window (about a millisecond, see `wheel.rs`) or before
    /// it goes into the heap: O(log h) for the h near timers. A later one goes into a wheel
    /// bucket: O(1), whatever the number of timers. Before adding, pops stale elements off the
    /// heap top and re-sifts an early one (Go's `cleantimers`), which keeps the top exact at O(1)
    /// cost when there is nothing to clean.
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
        self.insert_labeled(when, waker, L::default())
    }
}
