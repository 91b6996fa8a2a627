//! Cancels of a store's timers from threads other than its owner, which never make
//! the owner wait: the cancelling thread queues the timer's key on the store's cancel queue
//! (its own mutex, never the store's) and the owner applies the queue on its next timer pass (tokio's RFC "delayed
//! cancellation of timer", tokio-rs/tokio#7384, for per-worker stores).
//!
//! # What it owns
//! The [`StoreCell`] operations that route a handle's cancel ([`StoreCell::let_go`])
//! and apply a store's queue ([`StoreCell::apply_queued`], [`StoreCell::settle`],
//! [`StoreCell::give_up_ownership`]), and [`Applied`], what applying left for after
//! the lock. The queue itself, the owner word and the thread tokens are
//! `cancel_queue.rs`'s ([`RemoteCancels`](super::cancel_queue::RemoteCancels)).
//!
//! # The protocol
//! A dropped `Sleep` calls [`StoreCell::let_go`] with its key:
//!
//! | the store's owner is | what `let_go` does                                          |
//! |----------------------|-------------------------------------------------------------|
//! | this thread          | cancels under the lock (uncontended: it is the owner)       |
//! | unattended (a)       | cancels under the lock (no owner to disturb)                |
//! | another thread       | pushes the key; if the store became unattended meanwhile,   |
//! |                      | applies the queue under the lock itself                     |
//!
//! - (a) `UNATTENDED` in the owner word: the external store, a retired worker's store,
//!   every store after shutdown, and a store whose worker has not run a pass yet.
//!
//! Whoever holds the store's lock may apply the queue: the owner does it in every
//! timer pass that finds keys queued (`fire_due` with [`LockWait::Wait`]); a thief
//! when the queue holds `THIEF_DRAIN_BACKLOG` (1024) keys or more (an owner stuck in
//! a long poll); the metrics snapshot and the leak report before they count (so a
//! timer cancelled before the call is never counted as live); and the thread that
//! gives the store up (a retiring worker, shutdown) right after marking it
//! unattended. Applying a key is the store's ordinary `cancel` (see the transition
//! table in `ticktock-timer`'s entry.rs, "queued cancel"); a tombstone's key is
//! forwarded to the store the entry moved to, through `let_go` again, once the lock
//! is released (two store locks are only ever taken in index order, by migration).
//!
//! # Invariants
//! - A queued key's slab slot stays reserved until the key is applied: the queue
//!   holds the handle's ownership, so the slot cannot be reused under it.
//! - No key stays queued on an unattended store: [`StoreCell::give_up_ownership`]
//!   marks it unattended, fences (SeqCst) and then applies the queue; a pusher
//!   pushes, fences (SeqCst) and then reads the owner. Whichever fence comes second
//!   in the single total order sees the other side's write, so either the
//!   releaser's drain finds the key or the pusher sees the store unattended and
//!   drains it itself (the store-buffering pattern; loom models in
//!   `remote_cancel_loom.rs`).
//! - Until it is applied, a queued entry is still armed: it may fire (waking a task
//!   that no longer waits for it: a spurious wake-up, which every future tolerates)
//!   or migrate (the key is then a tombstone's, forwarded). Never early, never lost.
//! - A queued cancel waits at most until the owner's next timer pass: every 61
//!   ticks of a busy owner, before an idle one parks, and when a parked one wakes
//!   (at the latest for its earliest deadline, which may be the queued entry's own).
//!
//! # Ground rules
//! Keys are popped only under the store's lock. Wakers of applied cancels are dropped
//! after the lock is released (dropping one can free a task whose future touches
//! timers). The owner token is a hint for speed, never for correctness: a stale one
//! only sends a cancel down the other (equally correct) path.

use std::task::Waker;

use ticktock_timer::{Moved, TimerKey};

use crate::runtime::timers::cancel_queue::{Offer, ThreadToken};
use crate::runtime::timers::stores::{LockWait, LockedStore, StoreCell};

/// What applying a store's queued cancels left for after the lock: the wakers to
/// drop and the tombstones' destinations to forward the cancel to.
#[derive(Default)]
pub(crate) struct Applied {
    /// The keys taken from the queue, reused for each take.
    keys: Vec<TimerKey>,
    wakers: Vec<Waker>,
    forwards: Vec<Moved>,
    /// Keys applied.
    pub(crate) count: usize,
}

impl Applied {
    /// With the store's lock released: drops the wakers and forwards every
    /// tombstone's cancel to the store its entry moved to.
    pub(crate) fn finish(self, cell: &StoreCell) {
        drop(self.wakers);
        for moved in self.forwards {
            cell.sibling(moved.store).let_go(moved.key);
        }
    }
}

impl StoreCell {
    /// A `Sleep` dropped its registered entry `key`: cancels it now if this thread
    /// owns the store or nobody does, else queues it for the owner (see the module's
    /// table). Follows migration tombstones.
    pub(crate) fn let_go(&self, key: TimerKey) {
        match self.remote.offer(key, ThreadToken::current()) {
            Offer::Queued => {}
            Offer::Mine | Offer::Unattended => {
                let result = {
                    let mut store = self.lock();
                    cancel_entry(&mut store, key)
                };
                match result {
                    // Dropped after the lock is released.
                    Ok(waker) => drop(waker),
                    Err(moved) => self.sibling(moved.store).let_go(moved.key),
                }
            }
            Offer::QueuedUnattended => self.settle(),
        }
    }

    /// Whether a `Sleep` registered here and polled or reset on this thread should
    /// move to this thread's own store (`time/sleep.rs`, "the timer follows its
    /// task"): another thread owns this store, so every lock taken here would be one
    /// its owner may wait on.
    #[inline]
    pub(crate) fn owned_by_another_thread(&self) -> bool {
        self.remote.owned_by_another_thread(ThreadToken::current())
    }

    /// Applies every queued cancel to this cell's locked `store`; the caller calls
    /// [`Applied::finish`] once the lock is released.
    pub(crate) fn apply_queued(&self, store: &mut LockedStore<'_>, applied: &mut Applied) {
        self.remote.take_all(&mut applied.keys);
        applied.count += applied.keys.len();
        for key in applied.keys.drain(..) {
            match cancel_entry(store, key) {
                Ok(Some(waker)) => applied.wakers.push(waker),
                Ok(None) => {}
                Err(moved) => applied.forwards.push(moved),
            }
        }
    }

    /// Applies the queued cancels to `store` (this cell's, locked), runs `op` on it,
    /// unlocks it and finishes the applied cancels (the owner's and thieves' timer
    /// passes: `op` fires what is due). Returns what `op` returned.
    pub(crate) fn with_queue_applied<R>(
        &self,
        mut store: LockedStore<'_>,
        op: impl FnOnce(&mut LockedStore<'_>) -> R,
    ) -> R {
        let mut applied = Applied::default();
        self.apply_queued(&mut store, &mut applied);
        let result = op(&mut store);
        drop(store);
        applied.finish(self);
        result
    }

    /// Applies the queued cancels now (lock, apply, unlock, finish): before counting
    /// live timers, and after giving the store up.
    pub(crate) fn settle(&self) {
        let mut applied = Applied::default();
        {
            let mut store = self.lock();
            self.apply_queued(&mut store, &mut applied);
        }
        applied.finish(self);
    }

    /// No thread runs this store's timer passes any more (its worker retires, or the
    /// runtime shuts down): marks it unattended and applies what was queued. Later
    /// cancels take the lock. A worker that comes back claims it again.
    pub(crate) fn give_up_ownership(&self) {
        self.remote.release();
        self.settle();
    }

    /// The owner's timer pass claims the store for the current thread, unless the
    /// runtime shut the store down: a pass racing shutdown's `drain` either claims
    /// before `drain` gives the store up, or sees it closed (both SeqCst) and gives
    /// it up itself, so no cancel is queued on a store nobody passes over again.
    pub(crate) fn claim_ownership(&self) {
        self.remote.claim(ThreadToken::current());
        if self.is_closed() {
            self.give_up_ownership();
        }
    }

    /// Whether a timer pass with `wait` should take the lock for the queue even if
    /// nothing is due: the owner whenever keys are queued, a thief on a backlog.
    pub(crate) fn queue_wants_lock(&self, wait: LockWait) -> bool {
        match wait {
            LockWait::Wait => self.remote.has_queued(),
            LockWait::Skip => self.remote.has_backlog(),
        }
    }
}

/// The store's `cancel` of `key` (its handle let go), traced with its creation site
/// if it was still armed (the site is looked up only when tracing is compiled in).
fn cancel_entry(store: &mut LockedStore<'_>, key: TimerKey) -> Result<Option<Waker>, Moved> {
    #[cfg(feature = "tracing")]
    let site = store.label(key);
    let waker = store.cancel(key)?;
    #[cfg(feature = "tracing")]
    if let (Some(_), Ok(site)) = (&waker, site) {
        crate::trace::timer_cancelled(site);
    }
    Ok(waker)
}
