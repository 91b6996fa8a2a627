//! One worker's parker: where it sleeps (its condition variable or the mio poller)
//! and how an unpark reaches it there.
//!
//! # What it owns
//! [`Parker`]: a state word plus a mutex and condition variable. The owning worker
//! parks on the condition variable ([`Parker::park_condvar`]) or in the poller
//! ([`Parker::park_driver`]); anyone may [`Parker::unpark`] it, which says where it
//! was sleeping ([`Unparked`]) so the caller can break a poller sleep.
//!
//! # Transition table
//! States: `EMPTY` (not parked, nothing pending), `PARKED_CONDVAR`, `PARKED_DRIVER`
//! (the owner sleeps there), `NOTIFIED` (an unpark is pending). Only the owner parks,
//! so the owner's operations never start from a parked state.
//!
//! | state \ operation | `park_condvar` (owner) | `park_driver` (owner) | `unpark` (any thread) | the owner's sleep ends |
//! |---|---|---|---|---|
//! | `EMPTY` | → `PARKED_CONDVAR`, waits (under the mutex) | → `PARKED_DRIVER`, sleeps in the poller | → `NOTIFIED`; returns `NotParked` | bug: nobody sleeps |
//! | `PARKED_CONDVAR` | bug: the owner is asleep | bug: the owner is asleep | → `NOTIFIED`, takes the mutex, signals; returns `Condvar` | see `NOTIFIED`; deadline passed: → `EMPTY`, returns; spurious: waits again |
//! | `PARKED_DRIVER` | bug: the owner is asleep | bug: the owner is asleep | → `NOTIFIED`; returns `Driver` (the caller wakes the poller) | → `EMPTY`, returns |
//! | `NOTIFIED` | → `EMPTY`, returns at once | → `EMPTY`, returns at once, no poll | stays `NOTIFIED`; returns `NotParked` (unparks do not count up) | → `EMPTY`, returns |
//!
//! A deadline that passes while an unpark lands leaves `NOTIFIED` behind: the next
//! park returns at once, which only shortens it. An unpark is never lost: it either
//! finds the owner asleep and wakes it, or leaves `NOTIFIED` for its next park.
//!
//! Checked by the loom models in `loom_tests.rs`:
//! `loom_parker_unpark_racing_park_condvar_is_never_lost` (`EMPTY` and
//! `PARKED_CONDVAR` rows against `unpark`), `loom_parker_unpark_before_park_returns_at_once`
//! (the `NOTIFIED` row, and a timed condvar park), and
//! `loom_parker_unpark_racing_park_driver_wakes_the_poller` (the `PARKED_DRIVER` row).
//!
//! # Ground rules
//! The mutex guards nothing but the gap between the owner's state change and its
//! wait: an unpark takes it before signalling, so the signal cannot fall in that gap.

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
        if let Err(actual) =
            self.state
                .compare_exchange(EMPTY, PARKED_CONDVAR, Ordering::SeqCst, Ordering::SeqCst)
        {
            // The table's `park_condvar` column: the owner is not asleep, so the
            // only state other than EMPTY is NOTIFIED (an unpark since the check).
            debug_assert_eq!(
                actual, NOTIFIED,
                "ticktock: park_condvar from parker state {actual}"
            );
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
        if let Err(actual) =
            self.state
                .compare_exchange(EMPTY, PARKED_DRIVER, Ordering::SeqCst, Ordering::SeqCst)
        {
            // As in `park_condvar`: only NOTIFIED is possible here.
            debug_assert_eq!(
                actual, NOTIFIED,
                "ticktock: park_driver from parker state {actual}"
            );
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
            other => unreachable!(
                "ticktock: parker in state {other}, which the transition table does not have"
            ),
        }
    }
}
