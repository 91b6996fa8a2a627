//! The small value types that cross the crate boundary: deadlines, keys, store ids and the answers
//! a handle gets back.
//!
//! # What this module owns
//! - [`Nanos`] and the two deadline sentinels, [`MAX_DEADLINE`] and [`NO_DEADLINE`].
//! - [`TimerKey`], the slab index a handle holds, and [`StoreId`], the number of a store.
//! - [`Moved`] and [`PollState`], the answers a handle receives from a store.
//!
//! # Invariants
//! - Every deadline stored anywhere in this crate is `<= MAX_DEADLINE`; [`clamp_deadline`] is the
//!   one place that enforces it on the way in.
//! - `MAX_DEADLINE < NO_DEADLINE`, so a published "no timer" can never be mistaken for a stored
//!   deadline.
//!
//! # Ground rules
//! All types here are plain `Copy` values with no interior mutability; anyone may hold them.

/// Nanoseconds since the owning runtime's epoch.
///
/// Deadlines are integers rather than `Instant`s so that a heap element is 16 bytes and comparing
/// two deadlines is a single integer compare. Nanoseconds are the unit because that is the
/// resolution `Instant` offers; `u64` nanoseconds cover about 584 years.
///
/// # Examples
///
/// ```
/// use ticktock_timer::Nanos;
/// let one_ms: Nanos = 1_000_000;
/// assert_eq!(one_ms * 1_000, 1_000_000_000);
/// ```
pub type Nanos = u64;

/// Largest deadline ever stored; `sleep(Duration::MAX)` clamps to this and it never fires.
///
/// The value is `u64::MAX / 2` (about 292 years after the epoch) rather than `u64::MAX` for two
/// reasons:
/// - Headroom: a caller computing `now + delta` with `now <= MAX_DEADLINE` and a delta that was
///   itself clamped to `MAX_DEADLINE` cannot overflow `u64`.
/// - It stays distinct from [`NO_DEADLINE`], which executors publish to mean "no timer at all".
///
/// [`TimerStore::expire`](crate::TimerStore::expire) never fires an entry whose deadline is
/// `MAX_DEADLINE`, whatever `now` it is given, so the value really means "never".
///
/// # Examples
///
/// ```
/// use ticktock_timer::{StoreId, TimerStore, MAX_DEADLINE};
/// let mut store = TimerStore::new(StoreId(0));
/// store.insert(u64::MAX, ()); // clamped
/// assert_eq!(store.next_deadline(), Some(MAX_DEADLINE));
/// assert_eq!(store.expire(u64::MAX, |_| {}), 0); // never fires
/// ```
pub const MAX_DEADLINE: Nanos = u64::MAX / 2;

/// Published as "no timer" in next-deadline atomics by the executor.
///
/// No entry ever holds this value (see [`MAX_DEADLINE`]), so it is a safe sentinel.
///
/// # Examples
///
/// ```
/// use ticktock_timer::{MAX_DEADLINE, NO_DEADLINE};
/// assert!(NO_DEADLINE > MAX_DEADLINE);
/// let next: Option<u64> = None;
/// assert_eq!(next.unwrap_or(NO_DEADLINE), u64::MAX);
/// ```
pub const NO_DEADLINE: Nanos = u64::MAX;

/// Clamps a requested deadline to [`MAX_DEADLINE`]. Every deadline enters the crate through here.
pub(crate) fn clamp_deadline(when: Nanos) -> Nanos {
    when.min(MAX_DEADLINE)
}

/// The key of a timer entry inside one [`TimerStore`](crate::TimerStore): the slab index.
///
/// A key is only meaningful together with the store that issued it. It stays valid, and is never
/// reused for another entry, until the handle that owns it calls
/// [`cancel`](crate::TimerStore::cancel) or follows a [`Moved`] answer.
///
/// # Examples
///
/// ```
/// use ticktock_timer::{StoreId, TimerKey, TimerStore};
/// let mut store = TimerStore::new(StoreId(0));
/// let key = store.insert(10, ());
/// assert_eq!(TimerKey::from_index(key.index()), key);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimerKey(u32);

impl TimerKey {
    /// Returns the slab index this key stands for.
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::TimerKey;
    /// assert_eq!(TimerKey::from_index(7).index(), 7);
    /// ```
    pub fn index(self) -> u32 {
        self.0
    }

    /// Rebuilds a key from an index returned by [`index`](Self::index).
    ///
    /// Using a key that no handle owns is a bug that the store reports with a panic.
    ///
    /// # Examples
    ///
    /// ```
    /// use ticktock_timer::TimerKey;
    /// let key = TimerKey::from_index(3);
    /// assert_eq!(key.index(), 3);
    /// ```
    pub fn from_index(index: u32) -> Self {
        TimerKey(index)
    }

    /// The key as a slab index.
    pub(crate) fn slot(self) -> usize {
        self.0 as usize
    }
}

/// Identifies a store (the executor numbers its stores 0..n).
///
/// A [`Moved`] answer names the destination store by this id, so every store of one runtime must
/// have a distinct id.
///
/// # Examples
///
/// ```
/// use ticktock_timer::{StoreId, TimerStore};
/// let store: TimerStore<()> = TimerStore::new(StoreId(3));
/// assert_eq!(store.id(), StoreId(3));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StoreId(pub u32);

/// Where an entry went when its store migrated it (Go's `moveTimers`). Returned by handle
/// operations on a tombstone.
///
/// The tombstone has already been freed when a handle receives this; the handle must repeat its
/// operation on `store` with `key`.
///
/// # Examples
///
/// ```
/// use ticktock_timer::{Moved, PollState, StoreId, TimerStore};
/// let mut a = TimerStore::new(StoreId(0));
/// let mut b = TimerStore::new(StoreId(1));
/// let key = a.insert(100, ());
/// a.migrate_into(&mut b);
/// let Err(Moved { store, key }) = a.poll_entry(key, |_| {}) else { panic!() };
/// assert_eq!(store, StoreId(1));
/// assert_eq!(b.poll_entry(key, |_| {}), Ok(PollState::Pending));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Moved {
    /// The store that now holds the entry.
    pub store: StoreId,
    /// The entry's key in that store.
    pub key: TimerKey,
}

/// What a handle learns when it polls its entry.
///
/// # Examples
///
/// ```
/// use ticktock_timer::{PollState, StoreId, TimerStore};
/// let mut store = TimerStore::new(StoreId(0));
/// let key = store.insert(5, ());
/// assert_eq!(store.poll_entry(key, |_| {}), Ok(PollState::Pending));
/// store.expire(5, |_| {});
/// assert_eq!(store.poll_entry(key, |_| {}), Ok(PollState::Fired));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PollState {
    /// The deadline has not been reached yet (or has not been processed by
    /// [`expire`](crate::TimerStore::expire) yet); the waker was registered.
    Pending,
    /// The entry fired. It stays allocated for its handle, which may
    /// [`reset`](crate::TimerStore::reset) it or [`cancel`](crate::TimerStore::cancel) it.
    Fired,
}
