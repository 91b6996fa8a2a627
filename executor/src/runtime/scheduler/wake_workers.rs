//! The parking bundle: the poller, the parked set and every worker's parker, shared
//! by the scheduler and the timer stores (a timer whose deadline is earlier than the
//! poller's must be able to wake it, see `driver/poller.rs`).
//!
//! # What it owns
//! The [`Driver`], the [`Idle`] set and one [`Parker`] per worker. It knows how to
//! wake one worker for new work ([`Parking::notify_one`]), a specific worker
//! ([`Parking::unpark`]), and how to make sure some parked worker takes over the
//! poller when the current poller leaves it while timers are pending
//! ([`Parking::hand_off_poller`]).
//!
//! # Invariant: somebody watches the deadlines
//! Every parked worker sleeps no later than the earliest deadline of all stores
//! it saw when it parked: the poller through its timeout, the others through a
//! timed condition-variable wait. A timer registered later with an earlier
//! deadline wakes the poller if one sleeps past it, or else a parked worker
//! (`hand_off_poller`, called from `StoreCell::note_deadline`), which parks again
//! with the new deadline. So a worker that leaves the poller to run a long task
//! strands no timer, and need not wake anyone when it leaves.

use std::io;

use crate::runtime::driver::poller::Driver;
use crate::runtime::scheduler::parked_and_searching::Idle;
use crate::runtime::scheduler::parker::{Parker, Unparked};

/// See the module docs.
pub(crate) struct Parking {
    pub(crate) driver: Driver,
    pub(crate) idle: Idle,
    pub(crate) parkers: Box<[Parker]>,
}

impl Parking {
    pub(crate) fn new(workers: usize) -> io::Result<Parking> {
        Ok(Parking {
            driver: Driver::new()?,
            idle: Idle::new(workers),
            parkers: (0..workers).map(|_| Parker::new()).collect(),
        })
    }

    /// Wakes `worker` wherever it is parked.
    pub(crate) fn unpark(&self, worker: usize) {
        if self.parkers[worker].unpark() == Unparked::Driver {
            self.driver.wake();
        }
    }

    /// New work became visible to other workers: wake one parked worker unless one
    /// is already searching.
    pub(crate) fn notify_one(&self) {
        if let Some(worker) = self.idle.worker_to_notify() {
            self.unpark(worker);
        }
    }

    /// A deadline earlier than every parked worker's wake-up time was registered
    /// while nobody sleeps in the poller: wake a parked worker so it parks again
    /// with that deadline (taking the poller if it is free).
    pub(crate) fn hand_off_poller(&self) {
        if self.driver.is_polling() {
            return;
        }
        if let Some(worker) = self.idle.any_parked_worker() {
            self.unpark(worker);
        }
    }

    /// Wakes every worker wherever it parks, or makes its next park return at
    /// once (a blocking job ended under a paused clock: re-evaluate auto-advance).
    pub(crate) fn unpark_each(&self) {
        for worker in 0..self.parkers.len() {
            self.unpark(worker);
        }
    }

    /// Wakes every parked worker (shutdown).
    pub(crate) fn unpark_all(&self) {
        for worker in self.idle.drain_parked() {
            self.unpark(worker);
        }
        // A worker between its re-check and its sleep is not in the set any more
        // but will still park: its pending notification makes that park return.
        for worker in 0..self.parkers.len() {
            self.unpark(worker);
        }
    }
}
