//! Loom models of the executor's use of a [`TimerStore`]: one store behind a mutex,
//! handles cancelling and resetting their timers on some threads while workers fire
//! (and compact, and migrate) on others.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p ticktock-timer --release --test loom`.
//!
//! # What it owns
//! Only tests. The store has no atomics, so what loom explores here is every order in
//! which the threads take the lock, and the models check each order exactly:
//! - every operation runs under the lock and is logged there with its result, so the
//!   log *is* the order the store saw;
//! - the log is replayed on a small reference model (per timer: waiting at `when`,
//!   fired, or let go), which predicts every result: which wakers each `expire` hands
//!   out and in what order, what `cancel` returns, what `reset` returns, what `poll`
//!   sees; any difference fails the model;
//! - [`TimerStore::verify`] runs after every operation, and the store is empty once
//!   every handle has let go.
//!
//! The outcome rules this enforces: a timer either fired once or was cancelled, never
//! both and never neither; a reset timer never fires for its old deadline once the
//! reset is done; a cancel that triggers a compaction while another thread fires loses
//! no live timer and frees every cancelled one.
//!
//! # Ground rules
//! A timer's handle operations (poll, reset, cancel) all come from one thread, as a
//! `Sleep` is polled and dropped by one task at a time; `expire` may come from any
//! thread (the owner, or a worker stealing due timers). Wakers are `u32`s naming the
//! timer (`id`) or its re-registered waker (`id + REREGISTERED`).

#![cfg(loom)]

use std::collections::BTreeMap;

use loom::sync::{Arc, Mutex};
use loom::thread;
use ticktock_timer::{Moved, Nanos, PollState, StoreId, TimerKey, TimerStore, MAX_DEADLINE};

/// Preemption bound when `LOOM_MAX_PREEMPTIONS` is not set, and the least bound used
/// (a lower one set through the variable is raised to it): the models assert that loom
/// explored *every* order of the threads' lock acquisitions, and the three-thread
/// model needs five preemptions to reach all 210 (three reach 144, four 198). The
/// whole file then checks in about 10 s.
const PREEMPTION_BOUND: usize = 5;

/// Offset between a timer's id and the waker a later `Poll` registers for it, so the
/// log says which registration a fire handed out.
const REREGISTERED: u32 = 100;

/// Runs `f` under loom with at least [`PREEMPTION_BOUND`] preemptions.
fn model<F>(f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(builder.preemption_bound.unwrap_or(0).max(PREEMPTION_BOUND));
    builder.check(f);
}

/// Runs the single-store model `threads` against `timers` under loom, checks every
/// execution with [`run`] and `rules`, and checks that loom explored `orders` distinct
/// orders of the operations: every interleaving of the threads' lock acquisitions
/// (the multinomial coefficient of the threads' lengths), so no order went unchecked.
/// Returns, per order, the number of compactions it caused.
fn model_orders(
    timers: &'static [(u32, Nanos)],
    threads: &'static [&'static [Op]],
    orders: usize,
    rules: fn(&[(Op, Outcome)]),
) -> BTreeMap<Vec<String>, u64> {
    // Outside loom's view (std, not loom): collects across executions.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(BTreeMap::new()));
    let recorder = seen.clone();
    model(move || {
        let (log, compactions) = run(timers, threads);
        rules(&log);
        let order: Vec<String> = log.iter().map(|(op, _)| format!("{op:?}")).collect();
        recorder.lock().unwrap().insert(order, compactions);
    });
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(
        seen.len(),
        orders,
        "loom explored {} of {orders} orders",
        seen.len()
    );
    seen
}

/// One operation on the store, as a thread of the model performs it.
#[derive(Clone, Copy, Debug)]
enum Op {
    /// The worker fires everything due at `now`.
    Expire(Nanos),
    /// Timer `id`'s handle polls, registering waker `id + REREGISTERED`.
    Poll(u32),
    /// Timer `id`'s handle re-arms it at the given deadline.
    Reset(u32, Nanos),
    /// Timer `id`'s handle lets go (a dropped `Sleep`).
    Cancel(u32),
}

/// What an operation returned.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    /// Wakers handed out, in firing order.
    Fired(Vec<u32>),
    Polled(PollState),
    /// `reset`'s answer: the timer is now the store's earliest deadline.
    Reset(bool),
    /// `cancel`'s answer: the waker of a timer that was still waiting.
    Cancelled(Option<u32>),
}

/// The store, its handles' keys, and the log of what happened, all under one lock.
struct Shared {
    store: TimerStore<u32>,
    keys: BTreeMap<u32, TimerKey>,
    log: Vec<(Op, Outcome)>,
}

impl Shared {
    /// Creates a store with timer `id` at deadline `when` for each `(id, when)`.
    fn new(timers: &[(u32, Nanos)]) -> Shared {
        let mut store = TimerStore::new(StoreId(0));
        let keys = timers
            .iter()
            .map(|&(id, when)| (id, store.insert(when, id)))
            .collect();
        store.verify();
        Shared {
            store,
            keys,
            log: Vec::new(),
        }
    }

    /// Runs `op` on the store, checks the invariants, and logs the outcome.
    fn apply(&mut self, op: Op) {
        let outcome = match op {
            Op::Expire(now) => {
                let mut fired = Vec::new();
                self.store.expire(now, |waker| fired.push(waker));
                Outcome::Fired(fired)
            }
            Op::Poll(id) => {
                let state = self.store.poll_entry(self.keys[&id], |waker| {
                    *waker = Some(id + REREGISTERED);
                });
                Outcome::Polled(state.expect("no migration in a single-store model"))
            }
            Op::Reset(id, when) => {
                let earliest = self.store.reset(self.keys[&id], when);
                Outcome::Reset(earliest.expect("no migration in a single-store model"))
            }
            Op::Cancel(id) => {
                let key = self.keys.remove(&id).expect("cancelled twice by the model");
                let waker = self.store.cancel(key);
                Outcome::Cancelled(waker.expect("no migration in a single-store model"))
            }
        };
        self.store.verify();
        self.log.push((op, outcome));
    }
}

/// The reference: one timer as the executor sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RefTimer {
    /// Armed at `when`; firing hands out `waker`, if any.
    Waiting {
        when: Nanos,
        waker: Option<u32>,
    },
    Fired,
}

/// Replays `log` from the initial `timers` on the reference and compares every outcome.
fn check_log(timers: &[(u32, Nanos)], log: &[(Op, Outcome)]) {
    let mut model: BTreeMap<u32, RefTimer> = timers
        .iter()
        .map(|&(id, when)| {
            let when = when.min(MAX_DEADLINE);
            (
                id,
                RefTimer::Waiting {
                    when,
                    waker: Some(id),
                },
            )
        })
        .collect();
    for (step, (op, outcome)) in log.iter().enumerate() {
        let expected = match *op {
            Op::Expire(now) => {
                let now = now.min(MAX_DEADLINE - 1);
                let mut due: Vec<(Nanos, u32)> = model
                    .iter()
                    .filter_map(|(&id, timer)| match *timer {
                        RefTimer::Waiting { when, .. } if when <= now => Some((when, id)),
                        _ => None,
                    })
                    .collect();
                due.sort_unstable();
                let mut fired = Vec::new();
                for (_, id) in due {
                    if let Some(RefTimer::Waiting { waker, .. }) = model.insert(id, RefTimer::Fired)
                    {
                        fired.extend(waker);
                    }
                }
                Outcome::Fired(fired)
            }
            Op::Poll(id) => match model[&id] {
                RefTimer::Waiting { when, .. } => {
                    let waker = Some(id + REREGISTERED);
                    model.insert(id, RefTimer::Waiting { when, waker });
                    Outcome::Polled(PollState::Pending)
                }
                RefTimer::Fired => Outcome::Polled(PollState::Fired),
            },
            Op::Reset(id, when) => {
                let when = when.min(MAX_DEADLINE);
                let later = match model[&id] {
                    RefTimer::Waiting { when: old, waker } => {
                        model.insert(id, RefTimer::Waiting { when, waker });
                        when >= old
                    }
                    // A fired timer re-armed has no waker until it is polled again.
                    RefTimer::Fired => {
                        model.insert(id, RefTimer::Waiting { when, waker: None });
                        false
                    }
                };
                // "The next deadline may have moved earlier": an earlier reset or a
                // re-arm of a fired timer; a later reset always answers false.
                Outcome::Reset(!later)
            }
            Op::Cancel(id) => match model.remove(&id) {
                Some(RefTimer::Waiting { waker, .. }) => Outcome::Cancelled(waker),
                Some(RefTimer::Fired) => Outcome::Cancelled(None),
                None => unreachable!("the model cancels a timer once"),
            },
        };
        assert_eq!(
            *outcome, expected,
            "step {step} ({op:?}) of {log:#?}: the store and the reference disagree"
        );
    }
}

/// Per timer: how many times its wakers were handed out by `expire`, and whether a
/// cancel took its waker back while it was waiting.
fn tally(log: &[(Op, Outcome)], id: u32) -> (usize, bool) {
    let mut fired = 0;
    let mut cancelled_waiting = false;
    for (op, outcome) in log {
        match (op, outcome) {
            (_, Outcome::Fired(wakers)) => {
                fired += wakers
                    .iter()
                    .filter(|&&w| w == id || w == id + REREGISTERED)
                    .count();
            }
            (Op::Cancel(c), Outcome::Cancelled(Some(_))) if *c == id => cancelled_waiting = true,
            _ => {}
        }
    }
    (fired, cancelled_waiting)
}

/// Runs each list of `threads` on its own loom thread against a store holding
/// `timers`, then checks the log against the reference, lets every remaining handle go
/// and checks that the store is empty. Returns the log for model-specific rules, and
/// the number of compactions the threads' operations caused.
fn run(
    timers: &'static [(u32, Nanos)],
    threads: &'static [&'static [Op]],
) -> (Vec<(Op, Outcome)>, u64) {
    let shared = Arc::new(Mutex::new(Shared::new(timers)));
    let handles: Vec<_> = threads
        .iter()
        .map(|ops| {
            let shared = shared.clone();
            thread::spawn(move || {
                for &op in *ops {
                    shared.lock().unwrap().apply(op);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let mut shared = shared.lock().unwrap();
    let log = std::mem::take(&mut shared.log);
    let compactions = shared.store.stats().compactions;
    check_log(timers, &log);
    // Every handle that is left lets go: nothing may stay allocated.
    let left: Vec<u32> = shared.keys.keys().copied().collect();
    for id in left {
        shared.apply(Op::Cancel(id));
    }
    let store = &shared.store;
    assert_eq!(
        (store.live(), store.heap_len(), store.slab_len()),
        (0, 0, 0),
        "entries left behind after every handle let go: {store:?}"
    );
    (log, compactions)
}

#[test]
fn loom_cancel_racing_fire_fires_once_or_cancels() {
    static TIMERS: &[(u32, Nanos)] = &[(1, 10), (2, 5), (3, 20)];
    static THREADS: &[&[Op]] = &[&[Op::Cancel(1)], &[Op::Expire(10)]];
    model_orders(TIMERS, THREADS, 2, |log| {
        let (fired, cancelled) = tally(log, 1);
        assert!(
            (fired == 1) != cancelled,
            "timer 1 fired {fired} times, cancelled while waiting: {cancelled}; {log:?}"
        );
        assert_eq!(
            tally(log, 2),
            (1, false),
            "the due bystander did not fire once"
        );
        assert_eq!(tally(log, 3), (0, false), "the later bystander fired");
    });
}

#[test]
fn loom_reset_racing_fire_never_fires_for_the_old_deadline() {
    static TIMERS: &[(u32, Nanos)] = &[(1, 10), (2, 30)];
    // The handle pushes timer 1 back to 100 and polls it; the worker turns twice,
    // at 50 and at 99, both before the new deadline.
    static THREADS: &[&[Op]] = &[
        &[Op::Reset(1, 100), Op::Poll(1)],
        &[Op::Expire(50), Op::Expire(99)],
    ];
    model_orders(TIMERS, THREADS, 6, |log| {
        let reset_at = log
            .iter()
            .position(|(op, _)| matches!(op, Op::Reset(..)))
            .unwrap();
        for (step, (op, outcome)) in log.iter().enumerate() {
            if let (Op::Expire(_), Outcome::Fired(wakers)) = (op, outcome) {
                let fired_timer_1 = wakers.contains(&1);
                // Before the reset, the old deadline (10 <= 50) legitimately fires it,
                // once; after it, nothing before 100 may.
                assert!(
                    !(fired_timer_1 && step > reset_at),
                    "timer 1 fired for its old deadline after the reset: {log:?}"
                );
                assert!(
                    !wakers.contains(&(1 + REREGISTERED)),
                    "timer 1 fired before its new deadline: {log:?}"
                );
            }
        }
        assert!(tally(log, 1).0 <= 1);
        assert_eq!(tally(log, 2), (1, false));
    });
}

#[test]
fn loom_reset_earlier_racing_fire() {
    static TIMERS: &[(u32, Nanos)] = &[(1, 100), (2, 30)];
    // Pulled in from 100 to 20: fires at the worker's turn at 50 iff the reset came
    // first; the reference says exactly what each order must produce.
    static THREADS: &[&[Op]] = &[&[Op::Reset(1, 20), Op::Cancel(1)], &[Op::Expire(50)]];
    model_orders(TIMERS, THREADS, 3, |log| {
        let (fired, cancelled) = tally(log, 1);
        assert!((fired == 1) != cancelled, "{log:?}");
    });
}

#[test]
fn loom_cancels_from_another_thread_racing_compaction_and_fire() {
    /// Orders (of 210) that compact at least once: 132 as measured. Fewer would mean
    /// the model drifted away from the race it exists for.
    const COMPACTING_ORDERS: usize = 132;
    // Eight timers. Cancels (4, 5, 1) and an earlier reset (7) turn elements stale; a
    // later reset (2) leaves an early element; once more than a quarter of the heap is
    // stale, whichever operation crosses the line compacts (a cancel, a reset, or an
    // expiry that shrank the heap) while the other threads wait on the lock.
    static TIMERS: &[(u32, Nanos)] = &[
        (0, 10),
        (1, 20),
        (2, 30),
        (3, 40),
        (4, 50),
        (5, 60),
        (6, 70),
        (7, 80),
    ];
    static THREADS: &[&[Op]] = &[
        &[Op::Reset(2, 75), Op::Cancel(4), Op::Cancel(5)],
        &[Op::Expire(45), Op::Expire(65)],
        &[Op::Cancel(1), Op::Reset(7, 15)],
    ];
    // 7! / (3! 2! 2!) orders of the three threads' operations.
    let orders = model_orders(TIMERS, THREADS, 210, |log| {
        // Raced by a cancel: fired once, or cancelled while waiting; exactly one.
        for id in [1, 4, 5] {
            let (fired, cancelled) = tally(log, id);
            assert!(
                (fired == 1) != cancelled,
                "timer {id} fired {fired} times, cancelled while waiting: {cancelled}; {log:?}"
            );
        }
        // Raced by a reset: at most once (2 only for its old deadline, before the reset).
        for id in [2, 7] {
            assert!(tally(log, id).0 <= 1, "timer {id}: {log:?}");
        }
        for id in [0, 3] {
            assert_eq!(tally(log, id), (1, false), "timer {id}: {log:?}");
        }
        assert_eq!(
            tally(log, 6),
            (0, false),
            "timer 6 (due at 70) fired by 65: {log:?}"
        );
    });
    // The race the model is for: a compaction between the other threads' operations
    // (in the remaining orders, fires shrank the stale count below the line first).
    let compacting = orders.values().filter(|&&c| c >= 1).count();
    assert!(
        compacting >= COMPACTING_ORDERS,
        "only {compacting} of 210 orders compacted"
    );
}

/// A handle's operation on its entry, following migration tombstones from store to
/// store as `Sleep` does (each store's lock taken on its own).
/// `place` is the handle's (store index, key), updated as it follows.
fn follow<R>(
    stores: &[Mutex<TimerStore<u32>>],
    place: &mut (usize, TimerKey),
    op: impl Fn(&mut TimerStore<u32>, TimerKey) -> Result<R, Moved>,
) -> R {
    loop {
        let result = {
            let mut guard = stores[place.0].lock().unwrap();
            let result = op(&mut guard, place.1);
            guard.verify();
            result
        };
        match result {
            Ok(value) => return value,
            Err(moved) => *place = (moved.store.0 as usize, moved.key),
        }
    }
}

/// Spawns a worker that fires everything due at `now` in store `index` and returns
/// the wakers it handed out, in firing order.
fn spawn_expire<const N: usize>(
    stores: &Arc<[Mutex<TimerStore<u32>>; N]>,
    index: usize,
    now: Nanos,
) -> thread::JoinHandle<Vec<u32>> {
    let stores = stores.clone();
    thread::spawn(move || {
        let mut fired = Vec::new();
        let mut store = stores[index].lock().unwrap();
        store.expire(now, |waker| fired.push(waker));
        store.verify();
        fired
    })
}

/// Checks that every store is consistent and holds no entry at all: nothing live,
/// nothing in the heap, no slab slot (fired entry or tombstone) left behind.
fn assert_all_empty(stores: &[Mutex<TimerStore<u32>>]) {
    for store in stores {
        let store = store.lock().unwrap();
        store.verify();
        assert_eq!(
            (store.live(), store.heap_len(), store.slab_len()),
            (0, 0, 0),
            "entries left behind: {store:?}"
        );
    }
}

#[test]
fn loom_handles_follow_migration_racing_fire() {
    model(|| {
        let stores: Arc<[Mutex<TimerStore<u32>>; 2]> = Arc::new([
            Mutex::new(TimerStore::new(StoreId(0))),
            Mutex::new(TimerStore::new(StoreId(1))),
        ]);
        let (mut timer_1, mut timer_2) = {
            let mut store = stores[0].lock().unwrap();
            ((0, store.insert(10, 1)), (0, store.insert(30, 2)))
        };
        // Worker 0 goes away: its timers move to store 1 (both locks, in id order).
        let migrator = {
            let stores = stores.clone();
            thread::spawn(move || {
                let mut from = stores[0].lock().unwrap();
                let mut to = stores[1].lock().unwrap();
                from.migrate_into(&mut to);
                from.verify();
                to.verify();
            })
        };
        // Worker 1 fires its own store at 15.
        let worker = spawn_expire(&stores, 1, 15);
        // The handles: timer 1 is dropped, timer 2 pulled in from 30 to 12.
        let cancelled = follow(&stores[..], &mut timer_1, |store, key| store.cancel(key));
        follow(&stores[..], &mut timer_2, |store, key| store.reset(key, 12));
        migrator.join().unwrap();
        let fired = worker.join().unwrap();
        assert!(
            fired.contains(&1) != (cancelled == Some(1)),
            "timer 1: fired {fired:?}, cancel returned {cancelled:?}"
        );
        assert!(fired.iter().all(|&w| w == 1 || w == 2), "{fired:?}");
        // Whatever is still due fires exactly once, wherever it lives now.
        let mut late = Vec::new();
        for store in stores.iter() {
            store.lock().unwrap().expire(15, |waker| late.push(waker));
        }
        let fired_2 = fired.iter().chain(&late).filter(|&&w| w == 2).count();
        let fired_1 = fired.iter().chain(&late).filter(|&&w| w == 1).count();
        assert_eq!(fired_1 + usize::from(cancelled == Some(1)), 1);
        // Timer 2 was pulled in to 12: the worker's turn at 15 fired it if the reset
        // (and the migration) came first, the late pass otherwise; never twice.
        assert_eq!(fired_2, 1, "timer 2: {fired:?} then {late:?}");
        let state = follow(&stores[..], &mut timer_2, |store, key| {
            store.poll_entry(key, |_| {})
        });
        assert_eq!(state, PollState::Fired);
        follow(&stores[..], &mut timer_2, |store, key| store.cancel(key));
        assert_all_empty(&stores[..]);
    });
}

/// The live retirement path (issue 13): a retiring worker's store is moved a slice at a
/// time (`migrate_some_into`, one far entry per slice here) round robin onto two
/// surviving stores, taking the source's lock then the destination's, while the
/// handles pull one far timer in to a near deadline and drop another, and a survivor
/// fires its store. Checks in every order: each timer fired exactly once or was
/// cancelled, never both; the reset timer fires for its new deadline; nothing is left
/// behind in any store once the handles let go.
#[test]
fn loom_slice_migration_spread_racing_reset_drop_and_fire() {
    /// A far deadline (5 s): placed in the wheel, not the heap.
    const FAR: Nanos = 5_000_000_000;
    // Outside loom's view: what the worker fired in each execution, to check that the
    // race was explored both ways (timers migrated to store 1 before and after its fire).
    let outcomes = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    let recorder = outcomes.clone();
    model(move || {
        let stores: Arc<[Mutex<TimerStore<u32>>; 3]> = Arc::new([
            Mutex::new(TimerStore::new(StoreId(0))),
            Mutex::new(TimerStore::new(StoreId(1))),
            Mutex::new(TimerStore::new(StoreId(2))),
        ]);
        let (mut near, mut pulled_in, mut dropped) = {
            let mut store = stores[0].lock().unwrap();
            let keys = (
                store.insert(10, 1),
                store.insert(FAR, 2),
                store.insert(FAR + 1, 3),
            );
            assert_eq!(store.wheel_len(), 2, "the far timers start in the wheel");
            ((0, keys.0), (0, keys.1), (0, keys.2))
        };
        // Worker 0 retires: slices alternate between stores 1 and 2 until it holds
        // no waiting timer.
        let migrator = {
            let stores = stores.clone();
            thread::spawn(move || {
                let mut turn = 0;
                loop {
                    let mut from = stores[0].lock().unwrap();
                    if from.live() == 0 {
                        return turn;
                    }
                    let mut to = stores[1 + turn % 2].lock().unwrap();
                    from.migrate_some_into(&mut to, 1);
                    from.verify();
                    to.verify();
                    turn += 1;
                }
            })
        };
        // Worker 1 fires its own store at 15.
        let worker = spawn_expire(&stores, 1, 15);
        // The handles: timer 2 pulled in from 5 s to 12, timer 3 dropped.
        follow(&stores[..], &mut pulled_in, |store, key| {
            store.reset(key, 12)
        });
        let cancelled = follow(&stores[..], &mut dropped, |store, key| store.cancel(key));
        let slices = migrator.join().unwrap();
        let fired = worker.join().unwrap();
        assert!((1..=3).contains(&slices), "{slices} slices");
        recorder.lock().unwrap().insert((slices, fired.clone()));
        assert_eq!(cancelled, Some(3), "timer 3 was waiting when dropped");
        let mut late = Vec::new();
        for store in stores.iter() {
            store.lock().unwrap().expire(15, |waker| late.push(waker));
        }
        let all: Vec<u32> = fired.iter().chain(&late).copied().collect();
        for id in [1, 2] {
            assert_eq!(
                all.iter().filter(|&&w| w == id).count(),
                1,
                "timer {id}: fired {fired:?} then {late:?}"
            );
        }
        assert!(!all.contains(&3), "a dropped timer fired: {all:?}");
        // The handles of the fired timers let go; nothing may stay behind.
        for place in [&mut near, &mut pulled_in] {
            let state = follow(&stores[..], place, |store, key| {
                store.poll_entry(key, |_| {})
            });
            assert_eq!(state, PollState::Fired);
            follow(&stores[..], place, |store, key| store.cancel(key));
        }
        assert_all_empty(&stores[..]);
    });
    let outcomes = outcomes.lock().unwrap();
    assert!(
        outcomes.iter().any(|(_, fired)| fired.is_empty())
            && outcomes.iter().any(|(_, fired)| !fired.is_empty()),
        "the fire never raced the migration both ways: {outcomes:?}"
    );
}
