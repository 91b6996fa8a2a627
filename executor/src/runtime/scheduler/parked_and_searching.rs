//! Which workers are parked and which search, and so whom new work wakes.
//!
//! # What it owns
//! [`Idle`]: the set of parked workers and the count of *searching* workers (awake,
//! looking for work to steal). It decides whom a new task wakes: nobody if a worker
//! is already searching (it will find the task), else one parked worker. How a
//! worker sleeps and is woken is the parker's business (`scheduler/parker.rs`).
//!
//! # Worker accounting: transition table
//! A worker is in one of three states. *Running*: neither in the parked set nor counted in
//! `num_searching` (it runs tasks, or looks for work it woke for by itself). *Searching*:
//! counted in `num_searching` (its core's `searching` flag is set as soon as it runs
//! again). *Parked*: in `sleepers`, and so in `num_parked`. The cells say what each
//! operation does from each state; the callers are `scheduler/park_policy.rs` (`park`) and
//! `scheduler/worker_loop.rs` (`found_work`).
//!
//! | state \ operation | `transition_to_parked` (the worker) | `worker_to_notify`, `any_parked_worker` (a waker) | `transition_from_parked` (the worker, after its sleep) | `transition_from_searching` (the worker found work) | `drain_parked` (shutdown) |
//! |---|---|---|---|---|---|
//! | Running | → Parked | not picked | bug: it never parked | bug: only a worker whose flag is set calls it | not picked |
//! | Searching | `num_searching -= 1` → Parked; returns "was the last searcher" (the caller re-checks; it always does) | not picked | returns [`Woke::ByUnpark`]: a waker moved it here while it slept | `num_searching -= 1` → Running; the last searcher wakes another worker | not picked |
//! | Parked | bug: "parked twice" (`debug_assert!`) | removed, `num_searching += 1` → Searching (`worker_to_notify` only if nobody searches) | removes itself → Running; returns [`Woke::ByItself`] | bug: its flag was cleared when it parked | removed, not counted: it reads `ByUnpark`, sees shutdown and exits |
//!
//! Checked by the loom models in `loom_tests.rs`, which run the real `Idle` and
//! `Parker`s: `loom_idle_one_worker_never_sleeps_with_work_available`,
//! `loom_idle_one_worker_two_pushes` and `loom_idle_two_workers_one_push_wakes_one`
//! (Running/Searching → Parked → Searching/Running against concurrent pushers: no
//! lost wake-up), and `loom_idle_worker_to_notify_skips_while_a_worker_searches`
//! (the Parked row's two exits, and the last searcher's re-check and hand-on).
//!
//! # Invariants and the no-lost-wake-up argument
//! - A worker adds itself to the parked set (under the lock), then issues a `SeqCst`
//!   fence and re-checks every queue before it sleeps. A thread that makes work visible
//!   pushes it, fences, then reads the counters. So either the parking worker sees the
//!   work, or the pusher sees the parked worker and unparks it.
//! - `num_searching` counts workers that left the parked set through an unpark (for new
//!   work) and have not yet found work or re-parked. A worker that wakes by itself
//!   (deadline, I/O event) runs what it woke and is not a searcher: if it were, finding
//!   that work would make it wake yet another worker each time. When the last searcher
//!   finds work it wakes another worker, so a burst of tasks fans out across workers.
//!
//! # Ground rules
//! The `sleepers` lock is held only for a few instructions and never while parking,
//! waking wakers or running user code.

use crate::loom::lock;
use crate::loom::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use crate::loom::sync::Mutex;

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

/// The parked set and the searching count. See the module docs.
pub(crate) struct Idle {
    /// Indices of parked workers, most recently parked last.
    sleepers: Mutex<Vec<usize>>,
    /// `sleepers.len()`, readable without the lock.
    num_parked: AtomicUsize,
    /// Workers awake and looking for work.
    num_searching: AtomicUsize,
    /// Parks so far (bumped under the lock by `transition_to_parked`): two reads
    /// that agree, with every worker parked at both, prove no worker ran between
    /// them (auto-advance, `timers/auto_advance.rs`).
    parks: AtomicU64,
}

impl Idle {
    pub(crate) fn new(workers: usize) -> Idle {
        Idle {
            sleepers: Mutex::new(Vec::with_capacity(workers)),
            num_parked: AtomicUsize::new(0),
            num_searching: AtomicUsize::new(0),
            parks: AtomicU64::new(0),
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
        self.parks.fetch_add(1, Ordering::Relaxed);
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

    /// Number of parked workers, read without the lock.
    pub(crate) fn parked_count(&self) -> usize {
        self.num_parked.load(Ordering::SeqCst)
    }

    /// Runs `decide` with the parked set locked, given the number of parked
    /// workers and the parks so far: meanwhile no unparker can take a worker out
    /// of the set, so a wake is ordered before the decision or after it
    /// (auto-advance, `timers/auto_advance.rs`).
    pub(crate) fn with_parked_locked<R>(&self, decide: impl FnOnce(usize, u64) -> R) -> R {
        let sleepers = lock(&self.sleepers);
        decide(sleepers.len(), self.parks.load(Ordering::Relaxed))
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
