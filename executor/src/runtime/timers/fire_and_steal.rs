//! Firing due timers: a store's own pass, and an idle worker firing the due timers of
//! other workers' stores (Go's stealing of a busy or blocked P's expired timers).
//!
//! # What it owns
//! - [`StoreCell::expire_locked`]: one expiry pass over a locked store, which publishes
//!   the store's next deadline (`earliest_bound`) exactly, under the lock.
//! - [`StoreCell::fire_due`]: the pass if the published deadline has passed, after
//!   applying the cancels other threads queued (`remote_cancel.rs`). The owner waits
//!   for the lock and claims the store; a thief skips a store whose lock is busy.
//! - [`Timers::steal_due`]: a worker's sweep over every other store, as part of its
//!   search for work (`scheduler/worker_loop.rs`) and its maintenance pass.
//!
//! # Ground rules
//! Wakers are collected into the caller's buffer and woken after the lock is released
//! (`stores.rs`, "Invariants"). A thief never waits for a lock: the holder of a busy
//! store is making progress, and an idle worker must not be held up by it.

use std::task::Waker;

use ticktock_timer::{Nanos, MAX_DEADLINE, NO_DEADLINE};

use crate::loom::sync::atomic::Ordering;
use crate::runtime::timers::stores::{LockWait, LockedStore, StoreCell, Timers};

impl StoreCell {
    /// Fires every timer due at `now` in this cell's locked `store`, pushing wakers
    /// into `wakers`. Publishes the new earliest deadline (under the lock, which the
    /// [`LockedStore`] argument proves is held). Returns the number fired.
    pub(crate) fn expire_locked(
        &self,
        store: &mut LockedStore<'_>,
        now: Nanos,
        wakers: &mut Vec<Waker>,
    ) -> usize {
        debug_assert!(
            store.belongs_to(self),
            "ticktock: expire_locked got store {:?}, not its own",
            store.id()
        );
        let fired = store.expire(now, |waker| wakers.push(waker));
        if fired != 0 {
            crate::trace::timers_fired(store.id().0 as usize, fired);
        }
        // An entry clamped to MAX_DEADLINE never fires: publishing it would only
        // make pollers compute a pointless timeout.
        let next = match store.next_deadline() {
            Some(when) if when < MAX_DEADLINE => when,
            _ => NO_DEADLINE,
        };
        self.earliest_bound.store(next, Ordering::SeqCst);
        fired
    }

    /// Fires this store's due timers if its published deadline has passed, and
    /// applies the cancels other threads queued (`remote_cancel.rs`).
    /// `wait` says whether to wait for the lock (the owner does, and claims the
    /// store for this thread) or skip a store that another thread is using
    /// (thieves do: its holder is making progress).
    pub(crate) fn fire_due(&self, now: Nanos, wakers: &mut Vec<Waker>, wait: LockWait) -> usize {
        if wait == LockWait::Wait {
            self.claim_ownership();
        }
        if self.earliest_bound() > now && !self.queue_wants_lock(wait) {
            return 0;
        }
        let store = match wait {
            LockWait::Wait => self.lock(),
            LockWait::Skip => match self.try_lock() {
                Some(store) => store,
                None => return 0,
            },
        };
        self.with_queue_applied(store, |store| self.expire_locked(store, now, wakers))
    }
}

impl Timers {
    /// Fires the due timers of every store but `own` (Go's stealing of another P's
    /// expired timers), skipping stores whose lock is busy. Returns the number fired.
    pub(crate) fn steal_due(
        &self,
        own: Option<usize>,
        now: Nanos,
        wakers: &mut Vec<Waker>,
    ) -> usize {
        let mut fired = 0;
        for (id, cell) in self.stores.iter().enumerate() {
            if Some(id) == own {
                continue;
            }
            let stolen = cell.fire_due(now, wakers, LockWait::Skip);
            if stolen != 0 {
                cell.counters
                    .stolen
                    .fetch_add(stolen as u64, Ordering::Relaxed);
                fired += stolen;
            }
        }
        fired
    }
}
