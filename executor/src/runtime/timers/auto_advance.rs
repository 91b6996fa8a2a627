//! Auto-advance: when the clock of a paused runtime jumps to its next deadline.
//!
//! # What it owns
//! The decision a parking worker of a paused runtime takes before it sleeps
//! ([`before_sleep`]), its two checks and the jump ([`idle_snapshot`],
//! [`advance_if_still_idle`], which the loom models in `loom_tests.rs` run), and the wake-ups that make the workers decide again
//! when something they were waiting for ends ([`outside_went_quiet`], and the
//! blocking pool's last job in `worker_thread.rs`). Flavour-independent: a
//! current-thread runtime is a runtime with one worker.
//!
//! # Idle: when nothing else can happen
//! The clock jumps only when the runtime is *idle*, the analogue of Go's
//! `testing/synctest` "durably blocked": every goroutine of the bubble blocked on
//! something that only another goroutine of the bubble, or the fake clock, can end.
//! For ticktock that is all of:
//! 1. every worker that has a thread is in the parked set (`scheduler/parked_and_searching.rs`), and no task
//!    is runnable: the global queue, every local queue and LIFO cell are empty, no
//!    timer is due, a current-thread `block_on`'s main future is not woken;
//! 2. no task is being polled: all workers parked covers tasks; threads outside the
//!    workers that poll the runtime's futures (`block_on` callers, `block_in_place`)
//!    are counted in `outside_activity.rs` and must be at zero;
//! 3. no I/O event is ready: the poller was polled *without waiting* just before the
//!    decision, and whatever it dispatched is runnable work (clause 1). This is
//!    tokio's rule; Go goes further and never counts a goroutine blocked on network
//!    I/O as durably blocked. ticktock, like tokio, lets the clock jump while tasks
//!    wait on sockets, as long as nothing has arrived on them;
//! 4. no blocking job is queued or running (`blocking.rs`): it runs in real time
//!    and may be what the runtime waits for.
//!
//! A wake that lands while the runtime is idle (from a thread outside the runtime)
//! races the jump. The rule: **a wake that completed before the decision wins**: the
//! clock does not move and the woken task runs at the old time. The decision and
//! the jump happen under the parked set's lock (`Idle::with_parked_locked`), and
//! every wake of an all-parked runtime takes that lock to unpark a worker
//! (`Idle::worker_to_notify`), so it either comes first (a worker left the set: no
//! jump) or after the jump (the task runs at the new time, as if the wake had come
//! a moment later). `loom_auto_advance_*` in `loom_tests.rs` check it.
//!
//! # Who decides
//! Only the worker that holds the poller decides, in two checks around a poll
//! without waiting: check 1 finds the runtime idle but for I/O and takes a
//! [`Snapshot`] (parks and outside entries so far); the poll dispatches what has
//! arrived; check 2 jumps only if the runtime is still idle and the snapshot is
//! unchanged. A poll *before* check 1 is not enough: a thread that was still running
//! could write to a socket after the poll and then go idle (seen in the mini-redis
//! replay of `tests/time_paused.rs`, on the multi-thread runtime). A worker that parks while
//! another holds the poller, and finds every worker parked, wakes the poller so its
//! holder decides again (it may be asleep already, having decided "not idle" while
//! this worker was still running).
//!
//! # Transition table: a parking worker of a paused runtime
//! Checked top to bottom; the first row that applies decides.
//!
//! | what the worker finds | holder of the poller | another worker |
//! |---|---|---|
//! | shutdown, runnable work, a due timer, a woken main future | leave the park and run | leave the park and run |
//! | a worker is awake (not in the parked set) | sleep until woken, no timeout (that worker decides when it parks) | sleep; no timeout |
//! | a blocking job in flight, or outside activity | sleep until woken (their end wakes the workers) | sleep |
//! | otherwise idle: check 1 takes a [`Snapshot`], then the holder polls without waiting | (the rows below, check 2) | wake the poller (its holder decides), sleep |
//! | check 2: the poll made a task runnable | leave and run it | — |
//! | check 2: a worker parked or an outside thread entered since check 1 (it may have sent I/O after the poll) | leave, and decide again at the next park | — |
//! | check 2: idle, no deadline | sleep until woken: only a wake from outside can end it (a hang is the program's, as in tokio) | — |
//! | check 2: idle, a deadline `d` | jump the clock to `d` under the parked-set lock, leave and fire what is due | — |
//! | bug cells | — | a worker that is not in the parked set never calls this (`scheduler/park_policy.rs` announces first) |
//!
//! Events that make parked workers decide again: a wake (through `notify_one`), the
//! last blocking job ending, the last outside poller going to sleep
//! ([`outside_went_quiet`]), `time::pause` and `time::resume`, shutdown.
//!
//! # Ground rules
//! [`idle_snapshot`] and [`advance_if_still_idle`] hold the parked set's lock while
//! they read the queues and move the clock: nothing they call takes another
//! runtime lock. The poll between them holds only the poller.

use std::time::Duration;

use ticktock_timer::{Nanos, MAX_DEADLINE, NO_DEADLINE};

use crate::runtime::scheduler::parked_and_searching::Idle;
use crate::runtime::shared::{Flavor, Handle, Shared};
use crate::runtime::timers::clock::Clock;
use crate::runtime::timers::outside_activity::Left;

/// What a parking worker of a paused runtime does next (see the table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Leave the park: there is work, or the clock just jumped.
    Run,
    /// Sleep without a timeout until woken.
    Sleep,
}

/// Whether the runtime is quiet enough to jump (clauses 1, 2 and 4 of the module
/// docs, read in an order that sees every hand-off: a blocking job or outside
/// poller makes its wakes visible before it stops counting).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quiet {
    /// Nothing runnable, nothing in flight.
    Yes,
    /// A task is runnable, a timer is due, or the runtime shuts down: run.
    Work,
    /// A blocking job or an outside poll is in flight: wait for it to end.
    Waiting,
}

/// What an idle check found, when it found the runtime idle: the parks and the
/// outside entries so far. A later check that finds the same, with the runtime
/// idle again, proves that no worker and no outside thread ran in between.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Snapshot {
    parks: u64,
    outside_entries: u64,
}

/// Why the clock did not jump, or where it jumped to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Advance {
    /// Jumped the clock to this deadline.
    Jumped(Nanos),
    /// Not every worker is parked.
    WorkerAwake,
    /// Every worker is parked but `quiet` said no.
    NotQuiet(Quiet),
    /// Idle at both checks, but a worker or an outside thread ran in between
    /// (it may have sent I/O after the poll): decide again.
    Changed,
    /// Idle, but no timer is pending: nothing to jump to.
    NoDeadline,
    /// The clock runs (it was resumed): nothing to jump.
    NotPaused,
}

/// Under the parked set's lock: whether `workers` workers are parked and `quiet`
/// says so, and if they are, the snapshot to compare a later check with.
fn check_locked(
    parked: usize,
    parks: u64,
    workers: usize,
    quiet: impl FnOnce() -> Quiet,
    outside_entries: impl FnOnce() -> u64,
) -> Result<Snapshot, Advance> {
    if parked < workers {
        return Err(Advance::WorkerAwake);
    }
    // Entries before the queues: an outside thread that ran pushed its wakes
    // before it left, so one of the two reads sees it.
    let outside_entries = outside_entries();
    match quiet() {
        Quiet::Yes => Ok(Snapshot {
            parks,
            outside_entries,
        }),
        other => Err(Advance::NotQuiet(other)),
    }
}

/// The first check, before the poller is polled without waiting: `Ok` with a
/// snapshot if the runtime is idle but for I/O.
pub(crate) fn idle_snapshot(
    idle: &Idle,
    workers: usize,
    quiet: impl FnOnce() -> Quiet,
    outside_entries: impl FnOnce() -> u64,
) -> Result<Snapshot, Advance> {
    idle.with_parked_locked(|parked, parks| {
        check_locked(parked, parks, workers, quiet, outside_entries)
    })
}

/// The jump, after the poll: with the parked set locked, if the runtime is still
/// idle and nothing ran since `before` (the same parks and outside entries),
/// moves the paused `clock` to `earliest()` (when there is a deadline). Every wake
/// of an all-parked runtime takes the same lock, so it is ordered before this
/// decision (and seen) or after the jump.
pub(crate) fn advance_if_still_idle(
    idle: &Idle,
    clock: &Clock,
    workers: usize,
    before: Snapshot,
    quiet: impl FnOnce() -> Quiet,
    outside_entries: impl FnOnce() -> u64,
    earliest: impl FnOnce() -> Nanos,
) -> Advance {
    idle.with_parked_locked(|parked, parks| {
        match check_locked(parked, parks, workers, quiet, outside_entries) {
            Ok(now) if now == before => {}
            Ok(_) => return Advance::Changed,
            Err(advance) => return advance,
        }
        if !clock.is_paused() {
            return Advance::NotPaused;
        }
        let deadline = earliest();
        if deadline == NO_DEADLINE {
            return Advance::NoDeadline;
        }
        clock.advance_to(deadline);
        Advance::Jumped(deadline)
    })
}

/// How many workers must be parked for the runtime to be idle: those with a thread.
fn workers_with_threads(shared: &Shared) -> usize {
    match shared.flavor {
        Flavor::CurrentThread => 1,
        Flavor::MultiThread => shared.elastic.threads_alive(),
    }
}

/// Clauses 1, 2 and 4 of the module docs. `must_stay_awake` is the park's own
/// re-check (shutdown, visible work, a due timer, a woken main future).
fn quiet(shared: &Shared, must_stay_awake: &dyn Fn() -> bool) -> Quiet {
    // First what is in flight, then the queues: a job or outside poll that ends
    // pushes its wakes before it stops counting, so one of the two reads sees it.
    let waiting = shared.blocking.has_jobs_in_flight() || !shared.outside.is_idle();
    if must_stay_awake() || shared.lifo.iter().any(|cell| cell.looks_occupied()) {
        Quiet::Work
    } else if waiting {
        Quiet::Waiting
    } else {
        Quiet::Yes
    }
}

/// The earliest live deadline over every store, exact. The published bounds
/// (`Timers::earliest`) may be stale-low after a cancel, and a jump to a cancelled
/// timer's deadline would move the clock with nothing due (seen in
/// `multi_thread_wake_from_a_foreign_thread_racing_the_jump`: an hour passed
/// between two rounds). O(live timers): paid only by a paused runtime about to
/// jump, never on the real clock. Called without the parked set's lock (a store's
/// lock holder may take that lock, `StoreCell::note_deadline`).
pub(crate) fn exact_earliest(shared: &Shared) -> Nanos {
    let mut earliest = NO_DEADLINE;
    for cell in shared.timers.stores() {
        cell.lock().for_each_waiting(|when, _, _| {
            if when < MAX_DEADLINE {
                earliest = earliest.min(when);
            }
        });
    }
    earliest
}

/// The decision of a worker that announced itself parked on a paused runtime
/// and is about to sleep (see the transition table): check, poll without
/// waiting, check again, jump.
pub(crate) fn before_sleep(shared: &Shared, must_stay_awake: &dyn Fn() -> bool) -> Next {
    let parking = &shared.parking;
    if must_stay_awake() {
        return Next::Run;
    }
    let workers = workers_with_threads(shared);
    let Some(mut poll) = parking.driver.try_acquire() else {
        if parking.idle.parked_count() >= workers {
            // The holder may have decided "not idle" while we ran: make it decide again.
            parking.driver.wake();
        }
        return Next::Sleep;
    };
    let quiet = || quiet(shared, must_stay_awake);
    let outside_entries = || shared.outside.entries();
    let before = match idle_snapshot(&parking.idle, workers, quiet, outside_entries) {
        Ok(before) => before,
        Err(Advance::NotQuiet(Quiet::Work)) => return Next::Run,
        // Sleep in the poller: whatever arrives wakes us there.
        Err(_) => return Next::Sleep,
    };
    // Clause 3: whatever already arrived is dispatched (its tasks become runnable).
    parking.driver.poll(&mut poll, Some(Duration::ZERO));
    drop(poll);
    let earliest = exact_earliest(shared);
    let advance = advance_if_still_idle(
        &parking.idle,
        &shared.timers.clock,
        workers,
        before,
        quiet,
        outside_entries,
        || earliest,
    );
    match advance {
        Advance::Jumped(_) | Advance::NotQuiet(Quiet::Work) | Advance::Changed => Next::Run,
        Advance::WorkerAwake
        | Advance::NotQuiet(Quiet::Waiting)
        | Advance::NoDeadline
        | Advance::NotPaused => {
            // Our own poll may have made a task runnable on this worker even if
            // another is awake: never sleep on it.
            if quiet() == Quiet::Work {
                Next::Run
            } else {
                Next::Sleep
            }
        }
        Advance::NotQuiet(Quiet::Yes) => {
            unreachable!("ticktock: an idle check reported quiet as not quiet")
        }
    }
}

/// The last thread outside the workers stopped polling the runtime's futures: on
/// a paused runtime, wake the workers so they decide whether to jump.
pub(crate) fn outside_went_quiet(shared: &Shared) {
    if shared.timers.clock.is_paused() {
        shared.parking.unpark_each();
    }
}

/// Counts the current thread as outside activity of its runtime while it lives
/// (`block_in_place`: user code runs on a thread that gave its core away).
pub(crate) struct OutsideGuard {
    handle: Option<Handle>,
}

impl OutsideGuard {
    /// Counts the current thread in, if it is in a runtime.
    pub(crate) fn enter_current() -> OutsideGuard {
        let handle = Handle::try_current().ok();
        if let Some(handle) = &handle {
            handle.shared.outside.enter();
        }
        OutsideGuard { handle }
    }
}

impl Drop for OutsideGuard {
    fn drop(&mut self) {
        if let Some(handle) = &self.handle {
            if handle.shared.outside.leave() == Left::NoneActive {
                outside_went_quiet(&handle.shared);
            }
        }
    }
}
