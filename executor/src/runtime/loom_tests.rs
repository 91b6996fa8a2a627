//! Loom models of the parking protocol, run on the real types: [`Parker`], [`Idle`],
//! [`PollerDeadline`] (the auto-advance models, on the same harness, are in
//! `timers/auto_advance_loom.rs`).
//!
//! # What it owns
//! Only tests, compiled under `--cfg loom` (`RUSTFLAGS="--cfg loom" cargo test -p
//! ticktock-executor --release --lib loom`). Every atomic, mutex and condition variable
//! the code under test uses comes from loom through `crate::loom`, so loom explores
//! every interleaving of their operations up to the preemption bound.
//!
//! # What is checked
//! - **Parker.** An unpark racing a park never gets lost: the park returns, whether the
//!   unpark lands before the park, between its check and its wait, or during the wait;
//!   an unpark reaching a worker asleep in the poller says so (`Unparked::Driver`)
//!   and the poller wake-up it triggers ends the sleep.
//! - **Idle + Parker.** A worker announces itself parked, fences, re-checks for work,
//!   then sleeps; a pusher makes work visible and then asks `Idle` whom to wake. A
//!   worker never sleeps forever while work is available: a lost wake-up leaves every
//!   thread blocked, which loom reports as a deadlock.
//! - **Auto-advance**: in `timers/auto_advance_loom.rs`, which uses this file's [`model`].
//! - **PollerDeadline.** The poller publishes its deadline and re-reads the store's;
//!   a registrant lowers the store's deadline and calls `lower_to`. Either the
//!   poller's re-read saw the earlier deadline or `lower_to` returned `true` (wake it).
//!   A deadline later than the published one never asks for a wake-up.
//!
//! # Ground rules
//! Models stay small (two or three threads, a handful of operations) and run under
//! [`model`], which bounds preemptions so the whole file checks in seconds.
//! `LOOM_MAX_PREEMPTIONS` overrides the bound for a deeper run.

use loom::thread;

use crate::loom::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
use crate::loom::sync::{Arc, Condvar, Mutex};
use crate::runtime::driver::earlier_deadline::PollerDeadline;
use crate::runtime::scheduler::parked_and_searching::{Idle, Woke};
use crate::runtime::scheduler::parker::{Parker, Unparked};
use ticktock_timer::{Nanos, NO_DEADLINE};

/// Preemption bound when `LOOM_MAX_PREEMPTIONS` is not set. Two preemptions find the
/// classic lost-wake-up interleavings (one switch between a check and the act that
/// depends on it, on each side); the third finds the poller re-publishing after a
/// registrant already lowered its deadline. Three keeps the whole file near 20 s on
/// two cores (four takes minutes).
const DEFAULT_PREEMPTION_BOUND: usize = 3;

/// Runs `f` under loom with a bounded number of preemptions.
pub(crate) fn model<F>(f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(DEFAULT_PREEMPTION_BOUND);
    }
    builder.check(f);
}

/// Waits in loom without busy-spinning past what loom can explore: yields until
/// `flag` is set.
pub(crate) fn spin_until(flag: &AtomicBool) {
    while !flag.load(Ordering::SeqCst) {
        thread::yield_now();
    }
}

// ---------------------------------------------------------------------------
// (a) Parker
// ---------------------------------------------------------------------------

#[test]
fn loom_parker_unpark_racing_park_condvar_is_never_lost() {
    model(|| {
        let parker = Arc::new(Parker::new());
        let unparker = {
            let parker = parker.clone();
            thread::spawn(move || parker.unpark())
        };
        // Returns only if the unpark reached it (a lost one is a loom deadlock).
        parker.park_condvar(None);
        let unparked = unparker.join().unwrap();
        assert_ne!(
            unparked,
            Unparked::Driver,
            "a condition-variable park was reported as a poller sleep"
        );
        // The notification was consumed, or is still pending for the next park:
        // either way, the parker is back to "not parked".
        assert_eq!(parker.unpark(), Unparked::NotParked);
        parker.park_condvar(None);
    });
}

#[test]
fn loom_parker_unpark_before_park_returns_at_once() {
    model(|| {
        let parker = Arc::new(Parker::new());
        assert_eq!(parker.unpark(), Unparked::NotParked);
        // A second unpark before the park is absorbed, not counted.
        assert_eq!(parker.unpark(), Unparked::NotParked);
        parker.park_condvar(None);
        // A pending unpark keeps a poller park from sleeping at all.
        assert_eq!(parker.unpark(), Unparked::NotParked);
        parker.park_driver(|| panic!("slept in the poller with an unpark pending"));
        // Both notifications were consumed: a timed park now waits for an unpark
        // (loom's timed wait never times out, so a lost unpark is a deadlock).
        let unparker = {
            let parker = parker.clone();
            thread::spawn(move || parker.unpark())
        };
        parker.park_condvar(Some(std::time::Duration::from_secs(3600)));
        assert_ne!(unparker.join().unwrap(), Unparked::Driver);
    });
}

#[test]
fn loom_parker_unpark_racing_park_driver_wakes_the_poller() {
    model(|| {
        let parker = Arc::new(Parker::new());
        // Stands for mio's waker: sticky, so a wake before the poll still ends it.
        let driver_woken = Arc::new(AtomicBool::new(false));
        let unparker = {
            let parker = parker.clone();
            let driver_woken = driver_woken.clone();
            thread::spawn(move || {
                let unparked = parker.unpark();
                if unparked == Unparked::Driver {
                    driver_woken.store(true, Ordering::SeqCst);
                }
                unparked
            })
        };
        let slept = AtomicBool::new(false);
        parker.park_driver(|| {
            slept.store(true, Ordering::SeqCst);
            // The poll ends only on a driver wake-up: a lost unpark spins forever,
            // which loom reports.
            spin_until(&driver_woken);
        });
        let unparked = unparker.join().unwrap();
        if slept.load(Ordering::SeqCst) {
            assert_eq!(
                unparked,
                Unparked::Driver,
                "slept in the poller, woken by nobody"
            );
        } else {
            assert_eq!(unparked, Unparked::NotParked);
        }
    });
}

// ---------------------------------------------------------------------------
// (b) Idle + Parker
// ---------------------------------------------------------------------------

/// The state a worker model re-checks before sleeping: tasks pushed and not yet
/// taken, and the shutdown flag.
pub(crate) struct Work {
    pub(crate) tasks: AtomicUsize,
    pub(crate) shutdown: AtomicBool,
}

impl Work {
    /// Takes one task if there is one.
    pub(crate) fn take(&self) -> bool {
        let mut tasks = self.tasks.load(Ordering::SeqCst);
        while tasks != 0 {
            match self
                .tasks
                .compare_exchange(tasks, tasks - 1, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return true,
                Err(current) => tasks = current,
            }
        }
        false
    }
}

/// `Parking::notify_one`, on the real `Idle` and `Parker`s.
pub(crate) fn notify_one(idle: &Idle, parkers: &[Parker]) {
    if let Some(worker) = idle.worker_to_notify() {
        parkers[worker].unpark();
    }
}

/// The worker loop of `scheduler/worker_loop.rs` reduced to its parking protocol: take a task if
/// one is visible (leaving the search, and waking another searcher if it was the
/// last, as `found_work` does), else announce parked, fence, re-check, sleep.
/// Returns the number of tasks it ran once shutdown is seen.
fn worker_loop(index: usize, idle: &Idle, parkers: &[Parker], work: &Work, done: &Done) -> usize {
    let mut searching = false;
    let mut ran = 0;
    loop {
        if work.take() {
            if searching {
                searching = false;
                if idle.transition_from_searching() {
                    notify_one(idle, parkers);
                }
            }
            ran += 1;
            done.task_ran();
            continue;
        }
        if work.shutdown.load(Ordering::SeqCst) {
            return ran;
        }
        // `park()`: announce (this fences), re-check, sleep.
        idle.transition_to_parked(index, std::mem::replace(&mut searching, false));
        let stay_awake =
            work.tasks.load(Ordering::SeqCst) != 0 || work.shutdown.load(Ordering::SeqCst);
        if !stay_awake {
            parkers[index].park_condvar(None);
        }
        // As in `park()`: a worker an unparker removed from the parked set holds
        // the searching count it was given; one that left by itself does not.
        searching = idle.transition_from_parked(index) == Woke::ByUnpark;
    }
}

/// Lets the model's main thread wait until `expected` tasks ran, on a loom
/// condition variable: if they never run, every thread blocks and loom reports it.
struct Done {
    ran: Mutex<usize>,
    condvar: Condvar,
}

impl Done {
    fn new() -> Done {
        Done {
            ran: Mutex::new(0),
            condvar: Condvar::new(),
        }
    }

    fn task_ran(&self) {
        *self.ran.lock().unwrap() += 1;
        self.condvar.notify_all();
    }

    fn wait_for(&self, expected: usize) {
        let mut ran = self.ran.lock().unwrap();
        while *ran < expected {
            ran = self.condvar.wait(ran).unwrap();
        }
    }
}

/// `Parking::unpark_all` at shutdown.
fn shut_down(idle: &Idle, parkers: &[Parker], work: &Work) {
    work.shutdown.store(true, Ordering::SeqCst);
    fence(Ordering::SeqCst);
    for worker in idle.drain_parked() {
        parkers[worker].unpark();
    }
    for parker in parkers {
        parker.unpark();
    }
}

/// Runs `workers` worker loops against a pusher (the model's main thread) that
/// pushes `tasks` tasks one by one, waits for them all to run (a lost wake-up
/// blocks it forever) and shuts down.
fn pusher_vs_workers(workers: usize, tasks: usize) {
    let idle = Arc::new(Idle::new(workers));
    let parkers: Arc<[Parker]> = (0..workers).map(|_| Parker::new()).collect();
    let work = Arc::new(Work {
        tasks: AtomicUsize::new(0),
        shutdown: AtomicBool::new(false),
    });
    let done = Arc::new(Done::new());
    let threads: Vec<_> = (0..workers)
        .map(|index| {
            let (idle, parkers, work, done) =
                (idle.clone(), parkers.clone(), work.clone(), done.clone());
            thread::spawn(move || worker_loop(index, &idle, &parkers, &work, &done))
        })
        .collect();
    for _ in 0..tasks {
        // `Shared::schedule`: make the task visible, then wake a worker.
        work.tasks.fetch_add(1, Ordering::SeqCst);
        notify_one(&idle, &parkers);
    }
    done.wait_for(tasks);
    shut_down(&idle, &parkers, &work);
    let ran: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(ran, tasks, "a task ran twice or not at all");
    assert!(
        idle.drain_parked().is_empty(),
        "a stopped worker is still in the parked set"
    );
}

#[test]
fn loom_idle_one_worker_never_sleeps_with_work_available() {
    model(|| pusher_vs_workers(1, 1));
}

#[test]
fn loom_idle_one_worker_two_pushes() {
    model(|| pusher_vs_workers(1, 2));
}

#[test]
fn loom_idle_two_workers_one_push_wakes_one() {
    model(|| pusher_vs_workers(2, 1));
}

#[test]
fn loom_idle_worker_to_notify_skips_while_a_worker_searches() {
    model(|| {
        let idle = Idle::new(2);
        idle.transition_to_parked(1, false);
        idle.transition_to_parked(0, false);
        // Worker 0 wakes by itself (a deadline, an I/O event): it is not a
        // searcher, so new work still wakes the parked worker 1.
        assert_eq!(idle.transition_from_parked(0), Woke::ByItself);
        assert_eq!(idle.worker_to_notify(), Some(1));
        // Worker 1 holds the searching count now: nobody else is woken.
        assert_eq!(
            idle.worker_to_notify(),
            None,
            "woke a worker while one searches"
        );
        assert_eq!(
            idle.transition_from_parked(1),
            Woke::ByUnpark,
            "an unparker already removed it"
        );
        // The searcher parks again as the last searcher: it must re-check.
        assert!(idle.transition_to_parked(1, true));
        assert_eq!(idle.worker_to_notify(), Some(1));
        // The woken searcher finds work as the last searcher: it wakes another.
        assert!(idle.transition_from_searching());
    });
}

// ---------------------------------------------------------------------------
// (c) PollerDeadline
// ---------------------------------------------------------------------------

/// `park()`'s publish-then-re-read loop against one store's published deadline.
/// Returns the deadline the poller sleeps until.
fn poller_publishes(poller: &PollerDeadline, store_earliest_bound: &AtomicU64) -> Nanos {
    loop {
        let earliest = store_earliest_bound.load(Ordering::SeqCst);
        poller.publish(earliest);
        if store_earliest_bound.load(Ordering::SeqCst) >= earliest {
            return earliest;
        }
    }
}

/// `StoreCell::note_deadline`, minus the hand-off: lower the store's deadline,
/// then ask the poller. Returns `lower_to`'s answer (`true`: wake the poller).
fn registrant_lowers(
    poller: &PollerDeadline,
    store_earliest_bound: &AtomicU64,
    when: Nanos,
) -> bool {
    if when < store_earliest_bound.load(Ordering::SeqCst) {
        store_earliest_bound.store(when, Ordering::SeqCst);
        poller.lower_to(when)
    } else {
        false
    }
}

/// The poller sleeps until `initial` (the store's deadline, or none); a registrant
/// lowers it to `earlier`. Checks that the poller either sleeps no later than
/// `earlier` or is told to wake.
fn earlier_deadline_reaches_the_poller(initial: Nanos, earlier: Nanos) {
    model(move || {
        let poller = Arc::new(PollerDeadline::new());
        let store = Arc::new(AtomicU64::new(initial));
        let registrant = {
            let (poller, store) = (poller.clone(), store.clone());
            thread::spawn(move || registrant_lowers(&poller, &store, earlier))
        };
        let sleeps_until = poller_publishes(&poller, &store);
        let woken = registrant.join().unwrap();
        assert!(
            woken || sleeps_until <= earlier,
            "lost wake-up: the poller sleeps until {sleeps_until}, a timer is due at {earlier}"
        );
        // `woken && sleeps_until <= earlier` is allowed: the registrant lowered the
        // published 100 to 50 and asked for a wake-up, then the poller's re-read saw 50
        // too and re-published it. The wake-up is then spurious (one extra poll
        // round), never lost.
        assert!(poller.is_polling());
        poller.clear();
        assert!(!poller.is_polling());
        assert!(
            !poller.lower_to(earlier),
            "woke a poller that is not polling"
        );
    });
}

#[test]
fn loom_poller_deadline_earlier_timer_is_seen_or_wakes() {
    earlier_deadline_reaches_the_poller(100, 50);
}

#[test]
fn loom_poller_deadline_first_timer_on_an_empty_store_is_seen_or_wakes() {
    earlier_deadline_reaches_the_poller(NO_DEADLINE, 50);
}

#[test]
fn loom_poller_deadline_later_timer_never_wakes() {
    model(|| {
        let poller = Arc::new(PollerDeadline::new());
        let store = Arc::new(AtomicU64::new(100));
        let registrant = {
            let poller = poller.clone();
            // Ask the poller directly, as if the store check had been skipped: the
            // published value is NOT_POLLING or 100, both "do not wake" for 200.
            thread::spawn(move || poller.lower_to(200))
        };
        let sleeps_until = poller_publishes(&poller, &store);
        assert_eq!(sleeps_until, 100);
        assert!(
            !registrant.join().unwrap(),
            "a later deadline woke the poller"
        );
    });
}

#[test]
fn loom_poller_deadline_two_registrants_leave_the_earliest_published() {
    model(|| {
        let poller = Arc::new(PollerDeadline::new());
        poller.publish(100);
        let lowerings: Vec<_> = [70, 50]
            .into_iter()
            .map(|when| {
                let poller = poller.clone();
                thread::spawn(move || poller.lower_to(when))
            })
            .collect();
        let woken: Vec<bool> = lowerings.into_iter().map(|t| t.join().unwrap()).collect();
        // 50 is always earlier than whatever is published (100 or 70).
        assert!(woken[1], "the earliest deadline did not wake the poller");
        // The published value ends at the minimum of the two.
        assert!(!poller.lower_to(50));
        assert!(poller.lower_to(49));
    });
}
