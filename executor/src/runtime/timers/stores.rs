//! The runtime's timer stores: one per worker plus one for threads that are not
//! workers, each behind its own lock. Firing their due timers, own and stolen, is
//! `fire_and_steal.rs`.
//!
//! # What it owns
//! - [`StoreCell`]: a [`TimerStore`] (heap and wheel, from `ticktock-timer`) behind a
//!   mutex, plus `earliest_bound`, a lower bound of the store's earliest deadline published in
//!   an atomic (Go's `timer0When`) so other workers and the poller read it without the
//!   lock.
//! - [`LockedStore`]: a cell's store while its lock is held; the functions that
//!   need the lock take one, so the compiler checks they are called under it.
//! - [`Timers`]: all cells of a runtime (one per worker plus the external one) and
//!   the [`Clock`] deadlines are measured on.
//!
//! Naming: a *store* is the heap-and-wheel data structure; its *cell* is the lock
//! and published deadline around it. "Slot" means only a slab slot (an entry's
//! place in a store's slab, in `ticktock-timer`).
//!
//! # Invariants
//! - `earliest_bound` is a *lower bound* on the store's earliest live deadline: it is lowered
//!   under the lock whenever an insert or reset creates an earlier deadline, and set
//!   exactly after every expiry pass. A cancel leaves it alone, so it may be stale-early
//!   (the worst outcome is a poller wake-up that fires nothing), never stale-late (which
//!   would fire a timer late).
//! - A store's lock is never held while waking a waker or dropping one: wakers are
//!   collected and woken after unlocking, because waking can re-enter the scheduler and
//!   dropping can free a task whose future touches timers.
//!
//! # Ground rules
//! The owning worker takes its cell's lock for every timer operation of its own tasks;
//! it is uncontended unless another thread resets, polls or steals. Other workers
//! take it only to steal timers whose `earliest_bound` has passed, and a handle takes it
//! when its `Sleep` is polled or reset on another thread. A `Sleep` dropped on another
//! thread does not take it: it queues its key for the owner (`remote_cancel.rs`).

use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::OnceLock;
use std::task::Waker;

use crossbeam_utils::CachePadded;
use ticktock_timer::{Nanos, StoreId, TimerStore, MAX_DEADLINE, NO_DEADLINE};

use crate::loom::lock;
use crate::loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use crate::loom::sync::{Arc, Mutex, MutexGuard};
use crate::runtime::scheduler::wake_workers::Parking;
use crate::runtime::timers::cancel_queue::RemoteCancels;
use crate::runtime::timers::clock::Clock;

/// The label every timer entry carries: the `#[track_caller]` site of the
/// `sleep`/`interval`/`timeout` that made it, for the leak report
/// ([`Handle::timer_sites`](crate::Handle::timer_sites)) and for the `Sleep`
/// itself, which does not keep it once registered. With the `Waker`, a store
/// entry is 48 bytes (see `ticktock-timer`'s entry layout).
pub(crate) type Site = &'static Location<'static>;

/// A runtime's timer store: wakers, labelled with their creation sites.
pub(crate) type Store = TimerStore<Waker, Site>;

/// Right shift that turns a deadline's distance into the lateness accepted
/// instead of waking the poller for it: 2^-12, about 0.024 % (244 µs for a
/// deadline 1 s away, 0.9 s for one an hour away), well under tokio's
/// millisecond-granular wheel for near deadlines.
const WAKE_SLACK_SHIFT: u32 = 12;

/// The least lateness accepted instead of a poller wake-up: 5 µs, a tenth of
/// what waking a thread through the poller costs in lateness anyway (measured
/// `sleep(100 µs)` p50 overshoot is ~40 µs).
const WAKE_SLACK_FLOOR: Nanos = 5_000;

/// How much later than `when` the poller may wake, instead of being woken now:
/// a small fraction of the time left, with a floor (see the constants). A reset
/// that pulls a 50 s deadline in by a few nanoseconds costs no thread wake-up.
pub(crate) fn wake_slack(when: Nanos, now: Nanos) -> Nanos {
    (when.saturating_sub(now) >> WAKE_SLACK_SHIFT).max(WAKE_SLACK_FLOOR)
}

/// What [`StoreCell::fire_due`] does when another thread holds the store's lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LockWait {
    /// Wait for the lock (the store's owner).
    Wait,
    /// Skip the store (a thief: the holder is making progress).
    Skip,
}

/// Per-store counters kept outside the store's lock, readable at any time.
#[derive(Default)]
pub(crate) struct StoreCounters {
    /// Timers of this store fired by a thread other than its owner.
    pub(crate) stolen: AtomicU64,
}

/// A [`StoreCell`]'s store while its lock is held, and the proof of it: only
/// [`StoreCell::lock`] and [`StoreCell::fire_due`] make one, so a function that
/// takes a `&LockedStore` (such as [`StoreCell::note_deadline`]) can only be
/// called with the lock held, and the compiler checks it. Derefs to the [`Store`].
pub(crate) struct LockedStore<'a> {
    guard: MutexGuard<'a, Store>,
    /// The cell whose lock this is, so an operation can check it got its own store.
    owner: &'a StoreCell,
}

impl LockedStore<'_> {
    /// Whether this is `cell`'s store (not another cell's, also locked).
    pub(super) fn belongs_to(&self, cell: &StoreCell) -> bool {
        std::ptr::eq(self.owner, cell)
    }
}

impl Deref for LockedStore<'_> {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.guard
    }
}

impl DerefMut for LockedStore<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        &mut self.guard
    }
}

/// One timer store and its published earliest deadline.
pub(crate) struct StoreCell {
    /// Cache-padded, which also aligns the whole cell to a cache line pair: in the
    /// `Arc` holding the cell, the reference counts then sit alone. Every `Sleep`
    /// holds an `Arc` of its cell, so a `Sleep` dropped on another thread writes
    /// the count; before, that write landed on the line of this lock's word, and
    /// the owner's next lock missed the cache.
    store: CachePadded<Mutex<Store>>,
    /// Lower bound of the store's earliest live deadline; [`NO_DEADLINE`] if none.
    pub(super) earliest_bound: AtomicU64,
    /// The poller to wake when this store gets an earlier deadline.
    parking: Arc<Parking>,
    /// Deadlines are nanoseconds since this clock's epoch.
    clock: Arc<Clock>,
    pub(crate) counters: StoreCounters,
    /// Where this store's entries migrated to, by store id: entry `i` holds the cell of store `i`
    /// from before the first entry moves here → `i` (see [`StoreCell::forward_to`]).
    /// A `Sleep` holding this cell can follow a tombstone to its destination even
    /// after the runtime is gone. Only lower ids have a cell: entries move from a
    /// retiring worker to survivors, whose indexes are lower, so these strong
    /// references never form a cycle.
    forwards: Box<[OnceLock<Arc<StoreCell>>]>,
    /// Set at runtime shutdown: nothing fires timers any more.
    closed: AtomicBool,
    /// Threads blocked in [`StoreCell::lock`] right now. A retiring worker that
    /// moves timers slice after slice waits between slices until this is zero, so
    /// it cannot starve the store's owner (a mutex hands the lock to whoever asks
    /// first after an unlock, which is the mover, back within nanoseconds).
    waiters: AtomicUsize,
    /// Cancels queued by threads other than the owner, and who the owner is
    /// (`remote_cancel.rs`: a `Sleep` dropped elsewhere never takes this lock).
    pub(crate) remote: RemoteCancels,
}

impl StoreCell {
    fn new(id: u32, parking: Arc<Parking>, clock: Arc<Clock>) -> StoreCell {
        StoreCell {
            store: CachePadded::new(Mutex::new(TimerStore::new_labeled(StoreId(id)))),
            earliest_bound: AtomicU64::new(NO_DEADLINE),
            parking,
            clock,
            counters: StoreCounters::default(),
            forwards: (0..id).map(|_| OnceLock::new()).collect(),
            closed: AtomicBool::new(false),
            waiters: AtomicUsize::new(0),
            remote: RemoteCancels::new(),
        }
    }

    /// Records that entries of this store are about to move into `to` (store id
    /// `to_id`, lower than this store's: survivors have lower indexes than the
    /// workers retiring into them). Called before the entries move, so every
    /// tombstone left here can be followed by [`StoreCell::sibling`].
    pub(crate) fn forward_to(&self, to_id: usize, to: &Arc<StoreCell>) {
        let cell = self.forwards.get(to_id).unwrap_or_else(|| {
            panic!(
                "ticktock: timers may only move to a lower store id ({to_id} >= {})",
                self.forwards.len()
            )
        });
        let _ = cell.get_or_init(|| to.clone());
    }

    /// Whether `other` is a store of the same runtime (they share the parking lot).
    pub(crate) fn same_runtime(&self, other: &StoreCell) -> bool {
        Arc::ptr_eq(&self.parking, &other.parking)
    }

    /// The cell of store `id`, where a migrated entry of this store went. Kept
    /// alive by this cell (see `forwards`), so it works after the runtime is gone:
    /// shutdown drained every store, and the handle only has to free its entry.
    pub(crate) fn sibling(&self, id: StoreId) -> Arc<StoreCell> {
        let id = id.0 as usize;
        self.forwards
            .get(id)
            .and_then(OnceLock::get)
            .cloned()
            .unwrap_or_else(|| {
                panic!("ticktock: a tombstone names store {id}, which no entry moved to")
            })
    }

    /// The store's lock if no other thread holds it (a thief's pass skips a store
    /// whose holder is making progress); the other constructor of [`LockedStore`].
    pub(super) fn try_lock(&self) -> Option<LockedStore<'_>> {
        let guard = self.store.try_lock().ok()?;
        Some(LockedStore { guard, owner: self })
    }

    /// Locks the store, counted in `waiters` while it has to wait.
    pub(crate) fn lock(&self) -> LockedStore<'_> {
        let guard = match self.store.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                self.waiters.fetch_add(1, Ordering::Relaxed);
                let guard = lock(&self.store);
                self.waiters.fetch_sub(1, Ordering::Relaxed);
                guard
            }
        };
        LockedStore { guard, owner: self }
    }

    /// Whether a thread is blocked in [`StoreCell::lock`] right now.
    pub(crate) fn has_waiters(&self) -> bool {
        self.waiters.load(Ordering::Relaxed) != 0
    }

    /// The published lower bound of the earliest deadline.
    pub(crate) fn earliest_bound(&self) -> Nanos {
        self.earliest_bound.load(Ordering::SeqCst)
    }

    /// The runtime's time, read now ([`Clock::runtime_nanos`]).
    pub(crate) fn runtime_nanos(&self) -> Nanos {
        self.clock.runtime_nanos()
    }

    /// This thread's last reading of the runtime's clock (see
    /// [`Clock::recent_nanos`]): no clock read.
    pub(crate) fn recent_nanos(&self) -> Nanos {
        self.clock.recent_nanos()
    }

    /// Takes this cell's `store`, locked (`earliest_bound` is only written under the
    /// lock, so it cannot be raised above a deadline another thread just added;
    /// the [`LockedStore`] argument makes the compiler check the lock is held).
    /// Called after an operation made `when` a candidate for
    /// the earliest deadline: lowers `earliest_bound` if needed and, if it did, tells the
    /// poller, which is woken only if it would otherwise sleep past `when` by more
    /// than [`wake_slack`] (the timer then fires at most that late, never early).
    pub(crate) fn note_deadline(&self, store: &LockedStore<'_>, when: Nanos) {
        debug_assert!(
            store.belongs_to(self),
            "ticktock: note_deadline got store {:?}, not its own",
            store.id()
        );
        if when < MAX_DEADLINE && when < self.earliest_bound.load(Ordering::SeqCst) {
            self.earliest_bound.store(when, Ordering::SeqCst);
            let driver = &self.parking.driver;
            let slack = wake_slack(when, self.clock.recent_nanos());
            if !driver.wake_for_deadline(when, slack) && !driver.is_polling() {
                // Nobody watches the deadlines: have a parked worker take the poller.
                self.parking.hand_off_poller();
            }
        }
    }

    /// Whether the runtime shut down (no thread fires this store's timers now).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Runtime shutdown: closes the store, takes every waker out and marks pending
    /// timers fired. The caller wakes the wakers: a `Sleep` still awaited (by a
    /// `block_on` caller) then learns of the shutdown instead of hanging.
    pub(crate) fn drain(&self, wakers: &mut Vec<Waker>) {
        // Closed first: a worker's pass that claims the store after this sees it
        // and gives it up again (`claim_ownership`). Then cancels queued so far are
        // applied; later ones take the lock.
        self.closed.store(true, Ordering::SeqCst);
        self.give_up_ownership();
        let mut store = self.lock();
        store.drain_wakers(|waker| wakers.push(waker));
        self.earliest_bound.store(NO_DEADLINE, Ordering::SeqCst);
    }
}

/// All the timer stores of one runtime.
pub(crate) struct Timers {
    /// Cells `0..workers` belong to the workers; the last one is the shared home of
    /// threads that are not workers (block_on callers, blocking threads).
    pub(super) stores: Arc<[Arc<StoreCell>]>,
    pub(crate) clock: Arc<Clock>,
}

impl Timers {
    pub(crate) fn new(workers: usize, parking: &Arc<Parking>) -> Timers {
        let clock = Arc::new(Clock::new());
        let stores: Arc<[Arc<StoreCell>]> = (0..=workers)
            .map(|id| {
                let id = u32::try_from(id).expect("ticktock: too many workers");
                Arc::new(StoreCell::new(id, parking.clone(), clock.clone()))
            })
            .collect();
        Timers { stores, clock }
    }

    /// The cell of store `id` (a worker index, or [`Timers::external_id`]).
    pub(crate) fn store(&self, id: usize) -> &Arc<StoreCell> {
        &self.stores[id]
    }

    /// The id of the store shared by threads that are not workers.
    pub(crate) fn external_id(&self) -> usize {
        self.stores.len() - 1
    }

    /// Every cell, workers' first.
    pub(crate) fn stores(&self) -> &[Arc<StoreCell>] {
        &self.stores
    }

    /// The runtime's time, read now ([`Clock::runtime_nanos`]).
    pub(crate) fn runtime_nanos(&self) -> Nanos {
        self.clock.runtime_nanos()
    }

    /// The earliest published deadline over all stores (O(stores), no locks).
    pub(crate) fn earliest(&self) -> Nanos {
        self.stores
            .iter()
            .map(|cell| cell.earliest_bound())
            .min()
            .unwrap_or(NO_DEADLINE)
    }
}
