//! The park policy: when a worker with nothing to run goes to sleep, where, and
//! for how long.
//!
//! # What it owns
//! [`park`]: announce the worker as parked (`scheduler/parked_and_searching.rs`), re-check
//! everything that could give it work, then sleep in the mio poller if it is free
//! (publishing the deadline it sleeps until, `driver/earlier_deadline.rs`) or else on the
//! worker's condition variable, never longer than [`park_timeout`] allows. Under paused
//! time it asks `timers/auto_advance.rs` first whether to jump the clock instead.
//!
//! # Invariants
//! - Every park sleeps no later than the earliest deadline of all stores that the
//!   worker saw after announcing itself (see `scheduler/wake_workers.rs`, "somebody watches the
//!   deadlines"). The timeout is computed once, by [`park_timeout`], for both places.
//! - Leaving a park decides whether the worker searches: removed from the parked set
//!   by an unparker ([`Woke::ByUnpark`]) it was counted as searching; woken by
//!   itself ([`Woke::ByItself`]) it was not.

use std::time::Duration;

use ticktock_timer::Nanos;

use crate::context::WorkerContext;
use crate::runtime::driver::poller::timeout_until;
use crate::runtime::scheduler::parked_and_searching::Woke;
use crate::runtime::shared::Shared;
use crate::runtime::timers::auto_advance::{before_sleep, Next};

/// How long a parked worker that saw a task sitting in a busy worker's LIFO cell
/// waits before looking again (and taking it, if that worker is still inside the
/// same poll). Long enough that a worker in an ordinary poll has moved on (polls
/// take microseconds), short enough that a task behind a blocking call is rescued
/// within a few milliseconds (Go's sysmon retakes a P stuck in a syscall after
/// 20 µs to 10 ms).
const LIFO_RESCUE_DELAY: Duration = Duration::from_millis(1);

/// Whether a parking worker must stay up: work it could take, a due timer, shutdown.
fn must_stay_awake(shared: &Shared, main_woken: &dyn Fn() -> bool) -> bool {
    shared.is_shutdown()
        || shared.has_visible_work()
        || shared.timers.earliest() <= shared.timers.runtime_nanos()
        || main_woken()
}

/// How long a park may sleep when the earliest deadline is `deadline`: until it
/// on the real clock; without limit on a paused clock (virtual deadlines mean
/// nothing to the OS: the worker waits to be woken); and never longer than
/// [`LIFO_RESCUE_DELAY`] while it watches another worker's LIFO cell.
fn park_timeout(shared: &Shared, deadline: Nanos, watching_lifo: bool) -> Option<Duration> {
    let timeout = if shared.timers.clock.is_paused() {
        None
    } else {
        timeout_until(deadline, shared.timers.runtime_nanos())
    };
    if watching_lifo {
        Some(timeout.map_or(LIFO_RESCUE_DELAY, |t| t.min(LIFO_RESCUE_DELAY)))
    } else {
        timeout
    }
}

/// Parks the worker until there may be work (see `scheduler/parked_and_searching.rs` for
/// the protocol). `main_woken` says whether a current-thread `block_on`'s main future was
/// woken (always `false` on a worker thread): then the worker stays up to poll it.
pub(crate) fn park(shared: &Shared, worker: &WorkerContext, main_woken: &dyn Fn() -> bool) {
    let parking = &shared.parking;
    let index = worker.index;
    let (was_searching, watching_lifo) = match worker.core.borrow_mut().as_mut() {
        Some(core) => (
            std::mem::replace(&mut core.searching, false),
            core.watching_lifo(),
        ),
        None => return,
    };
    parking.idle.transition_to_parked(index, was_searching);
    let woke = park_announced(shared, index, watching_lifo, main_woken);
    if let Some(core) = worker.core.borrow_mut().as_mut() {
        // Removed from the parked set by an unparker: it counted us as searching.
        // Woken by ourselves (deadline, event, re-check): not a searcher.
        core.searching = woke == Woke::ByUnpark;
    }
}

/// The part of [`park`] after the worker is in the parked set: re-check, sleep,
/// leave the set. Returns how the worker left it.
fn park_announced(
    shared: &Shared,
    index: usize,
    watching_lifo: bool,
    main_woken: &dyn Fn() -> bool,
) -> Woke {
    let parking = &shared.parking;
    if shared.timers.clock.is_paused()
        && before_sleep(shared, &|| must_stay_awake(shared, main_woken)) == Next::Run
    {
        // Paused time: work found, or the clock jumped (see `timers/auto_advance.rs`).
        return parking.idle.transition_from_parked(index);
    }
    if must_stay_awake(shared, main_woken) {
        return parking.idle.transition_from_parked(index);
    }
    shared.counters[index].parks.bump();
    crate::runtime::config::run_hook(&shared.config.on_thread_park);
    match parking.driver.try_acquire() {
        Some(mut poll) => {
            // Publish the deadline we will sleep until, then re-read the stores:
            // a timer registered in between either sees our deadline (and wakes
            // us if earlier) or is seen by the re-read.
            let deadline = loop {
                let earliest = shared.timers.earliest();
                parking.driver.publish_poller_until(earliest);
                if shared.timers.earliest() >= earliest {
                    break earliest;
                }
            };
            let timeout = park_timeout(shared, deadline, watching_lifo);
            parking.parkers[index].park_driver(|| parking.driver.poll(&mut poll, timeout));
            // If an unpark was pending, `park_driver` returned without polling and the
            // published deadline still says a worker sleeps in the poller: a timer
            // registered now would neither wake anyone nor hand the poller on.
            // Withdraw it (a no-op after a real poll, which cleared it); the poll
            // guard is still held, so no other poller's deadline can be erased.
            parking.driver.withdraw_poller_until();
            // No hand-off here: the workers parked on condition variables wait
            // no longer than the earliest deadline, so timers stay watched while
            // this worker runs what it woke; waking one of them on every event
            // would bounce each socket round trip between threads.
        }
        None => {
            // Another worker holds the poller, but it may leave it to run a
            // long task: wake up by the earliest deadline of all stores anyway
            // (then fire what is due, and take the poller if it is free).
            let timeout = park_timeout(shared, shared.timers.earliest(), watching_lifo);
            parking.parkers[index].park_condvar(timeout);
        }
    }
    let woke = parking.idle.transition_from_parked(index);
    crate::runtime::config::run_hook(&shared.config.on_thread_unpark);
    shared.counters[index].unparks.bump();
    woke
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::park;
    use crate::context::WorkerContext;
    use crate::runtime::shared::Shared;

    /// A worker that takes the poller with an unpark already pending returns without
    /// polling; it must not leave its published deadline behind, or a timer registered
    /// afterwards would count on a poller that is not there (no wake-up, no hand-off).
    #[test]
    fn a_park_cut_short_by_a_pending_unpark_leaves_no_poller_deadline() {
        let (core, shared) = Shared::one_worker_for_tests();
        let worker = WorkerContext::new(Box::new(core));
        shared.parking.parkers[0].unpark();
        park(&shared, &worker, &|| false);
        assert!(
            !shared.parking.driver.is_polling(),
            "the worker left the poller but its deadline still says it sleeps there"
        );
    }
}
