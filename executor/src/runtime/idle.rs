//! Which workers are parked, how to wake exactly one, and each worker's parker.
//!
//! # What it owns
//! - [`Idle`]: the set of parked workers and the count of *searching* workers (awake,
//!   looking for work to steal). It decides whom a new task wakes: nobody if a worker
//!   is already searching (it will find the task), else one parked worker.
//! - [`Parker`]: one per worker, a small state word plus a condition variable. A worker
//!   parks either on its condition variable or in the mio poller; an unpark reaches it
//!   in either place.
//!
//! # Invariants and the no-lost-wake-up argument
//! - A worker adds itself to the parked set (under the lock), then issues a `SeqCst`
//!   fence and re-checks every queue before it sleeps. A thread that makes work visible
//!   pushes it, fences, then reads the counters. So either the parking worker sees the
//!   work, or the pusher sees the parked worker and unparks it.
//! - An unpark that arrives before the park is remembered (`NOTIFIED`), so the park
//!   returns at once.
//! - `num_searching` counts workers that left the parked set through an unpark
//!   (for new work) and have not yet found work or re-parked. A worker that wakes
//!   by itself (deadline, I/O event) runs what it woke and is not a searcher: if it
//!   were, finding that work would make it wake yet another worker each time. When the last searcher
//!   finds work it wakes another worker, so a burst of tasks fans out across workers.
//!
//! # Ground rules
//! The `sleepers` lock is held only for a few instructions and never while parking,
//! waking wakers or running user code.

use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::{Condvar, Mutex};
use crate::loom::{lock, wait_until, Waited};

/// Parker state: not parked, no pending notification.
const EMPTY: usize = 0;
/// Parker state: waiting on the condition variable.
const PARKED_CONDVAR: usize = 1;
/// Parker state: sleeping in the mio poller.
const PARKED_DRIVER: usize = 2;
/// Parker state: an unpark arrived; the next park returns at once.
const NOTIFIED: usize = 3;

/// Where an unparked worker was sleeping, so the caller can wake it there.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unparked {
    /// It was not parked (or already notified); nothing else to do.
    NotParked,
    /// It waits on its condition variable, which has been signalled.
    Condvar,
    /// It sleeps in the poller: the caller must wake the driver.
    Driver,
}

/// How a worker left the parked set ([`Idle::transition_from_parked`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Woke {
    /// It was still in the set: it woke by itself (a deadline, an I/O event, its
    /// re-check) and is *not* searching, since it wakes for work of its own (tokio
    /// draws the same line).
    ByItself,
    /// An unparker had already removed it, and counted it as searching.
    ByUnpark,
}

/// One worker's parking spot.
pub(crate) struct Parker {
    state: AtomicUsize,
    mutex: Mutex<()>,
    condvar: Condvar,
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker {
            state: AtomicUsize::new(EMPTY),
            mutex: Mutex::new(()),
            condvar: Condvar::new(),
        }
    }

    /// Consumes a pending notification. Returns `true` if there was one.
    fn take_notification(&self) -> bool {
        self.state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// Blocks on the condition variable until [`Parker::unpark`], or until
    /// `timeout` passes if one is given.
    pub(crate) fn park_condvar(&self, timeout: Option<std::time::Duration>) {
        if self.take_notification() {
            return;
        }
        let mut guard = lock(&self.mutex);
        if self
            .state
            .compare_exchange(EMPTY, PARKED_CONDVAR, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            // The only other state we can see here is NOTIFIED.
            self.state.store(EMPTY, Ordering::SeqCst);
            return;
        }
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        loop {
            let (next, waited) = wait_until(&self.condvar, guard, deadline);
            guard = next;
            if self.take_notification() {
                return;
            }
            if waited == Waited::DeadlinePassed {
                // Timed out: leave the parked state (an unpark racing with this
                // store leaves NOTIFIED behind, which only shortens the next park).
                let _ = self.state.compare_exchange(
                    PARKED_CONDVAR,
                    EMPTY,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                );
                return;
            }
            // Spurious wake-up: keep waiting.
        }
    }

    /// Runs `sleep` (a wait in the poller) unless a notification is pending.
    ///
    /// An unpark during `sleep` is delivered by waking the driver, which `sleep` must
    /// observe (mio's waker makes the poll return).
    pub(crate) fn park_driver(&self, sleep: impl FnOnce()) {
        if self.take_notification() {
            return;
        }
        if self
            .state
            .compare_exchange(EMPTY, PARKED_DRIVER, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            self.state.store(EMPTY, Ordering::SeqCst);
            return;
        }
        sleep();
        // Either still PARKED_DRIVER (timeout or another wake-up) or NOTIFIED.
        self.state.store(EMPTY, Ordering::SeqCst);
    }

    /// Wakes the worker wherever it parks, or makes its next park return at once.
    pub(crate) fn unpark(&self) -> Unparked {
        match self.state.swap(NOTIFIED, Ordering::SeqCst) {
            EMPTY | NOTIFIED => Unparked::NotParked,
            PARKED_CONDVAR => {
                // Taking the lock orders this notify after the parker's wait started.
                drop(lock(&self.mutex));
                self.condvar.notify_one();
                Unparked::Condvar
            }
            PARKED_DRIVER => Unparked::Driver,
            other => unreachable!("ticktock: parker in unknown state {other}"),
        }
    }
}

/// The parked set and the searching count. See the module docs.
pub(crate) struct Idle {
    /// Indices of parked workers, most recently parked last.
    sleepers: Mutex<Vec<usize>>,
    /// `sleepers.len()`, readable without the lock.
    num_parked: AtomicUsize,
    /// Workers awake and looking for work.
    num_searching: AtomicUsize,
}

impl Idle {
    pub(crate) fn new(workers: usize) -> Idle {
        Idle {
            sleepers: Mutex::new(Vec::with_capacity(workers)),
            num_parked: AtomicUsize::new(0),
            num_searching: AtomicUsize::new(0),
        }
    }

    /// Picks a parked worker to wake for new work, or `None` if none is needed:
    /// a worker is already searching, or none is parked. The picked worker is
    /// removed from the parked set and counted as searching.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        crate::loom::sync::atomic::fence(Ordering::SeqCst);
        if self.num_searching.load(Ordering::SeqCst) != 0
            || self.num_parked.load(Ordering::SeqCst) == 0
        {
            return None;
        }
        let mut sleepers = lock(&self.sleepers);
        // Re-check under the lock: another notifier may have been faster.
        if self.num_searching.load(Ordering::SeqCst) != 0 {
            return None;
        }
        let worker = sleepers.pop()?;
        self.num_parked.store(sleepers.len(), Ordering::SeqCst);
        self.num_searching.fetch_add(1, Ordering::SeqCst);
        Some(worker)
    }

    /// Picks a parked worker for a duty other than running new work (taking over the
    /// poller), regardless of searchers. Same bookkeeping as [`Idle::worker_to_notify`].
    pub(crate) fn any_parked_worker(&self) -> Option<usize> {
        if self.num_parked.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let mut sleepers = lock(&self.sleepers);
        let worker = sleepers.pop()?;
        self.num_parked.store(sleepers.len(), Ordering::SeqCst);
        self.num_searching.fetch_add(1, Ordering::SeqCst);
        Some(worker)
    }

    /// Every parked worker, removed from the set (shutdown wakes them all).
    pub(crate) fn drain_parked(&self) -> Vec<usize> {
        let mut sleepers = lock(&self.sleepers);
        self.num_parked.store(0, Ordering::SeqCst);
        std::mem::take(&mut *sleepers)
    }

    /// Marks `worker` parked. `was_searching` says whether it held a searching count.
    /// Returns `true` if it was the last searcher (the caller must then re-check the
    /// queues before sleeping; it always does).
    pub(crate) fn transition_to_parked(&self, worker: usize, was_searching: bool) -> bool {
        let mut sleepers = lock(&self.sleepers);
        let last_searcher = was_searching && self.num_searching.fetch_sub(1, Ordering::SeqCst) == 1;
        debug_assert!(
            !sleepers.contains(&worker),
            "ticktock: worker {worker} parked twice"
        );
        sleepers.push(worker);
        self.num_parked.store(sleepers.len(), Ordering::SeqCst);
        drop(sleepers);
        crate::loom::sync::atomic::fence(Ordering::SeqCst);
        last_searcher
    }

    /// Takes `worker` out of the parked set after it woke up, and says how it woke
    /// (see [`Woke`]).
    pub(crate) fn transition_from_parked(&self, worker: usize) -> Woke {
        if !self.is_parked_hint() {
            // Fast path: the set is empty, so an unparker removed us.
            return Woke::ByUnpark;
        }
        let mut sleepers = lock(&self.sleepers);
        match sleepers.iter().position(|&w| w == worker) {
            Some(index) => {
                sleepers.swap_remove(index);
                self.num_parked.store(sleepers.len(), Ordering::SeqCst);
                Woke::ByItself
            }
            None => Woke::ByUnpark,
        }
    }

    fn is_parked_hint(&self) -> bool {
        self.num_parked.load(Ordering::SeqCst) != 0
    }

    /// A searching worker found work. Returns `true` if it was the last searcher, in
    /// which case the caller wakes another worker so the search goes on.
    pub(crate) fn transition_from_searching(&self) -> bool {
        self.num_searching.fetch_sub(1, Ordering::SeqCst) == 1
    }
}
