//! Loom models of paused time's auto-advance (`auto_advance.rs`), run on the real
//! `Idle`, `Parker`, `Clock` and the real checks, under the harness of
//! `runtime/loom_tests.rs` ([`model`]).
//!
//! # What is checked
//! A paused runtime's jump against a wake from outside (a wake that completed before the
//! second check always wins; the woken task always runs) and against an outside thread
//! that writes I/O and goes idle during the decision (a jump never leaves the I/O of a
//! thread done before the second check unread).

use loom::thread;

use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::loom::sync::Arc;
use crate::runtime::loom_tests::{model, notify_one, Work};
use crate::runtime::scheduler::parked_and_searching::{Idle, Woke};
use crate::runtime::scheduler::parker::Parker;
use ticktock_timer::{Nanos, NO_DEADLINE};

// ---------------------------------------------------------------------------
// (d) Auto-advance of paused time (`timers/auto_advance.rs`)
// ---------------------------------------------------------------------------

/// The deadline the models' one timer has (nanoseconds since the epoch): far
/// ahead of the clock, so a jump is unmistakable.
const MODEL_DEADLINE: Nanos = 1 << 40;

/// A paused clock and its one timer: `earliest` is the deadline until the timer
/// has fired (the first jump fires it).
struct PausedClock {
    clock: crate::runtime::timers::clock::Clock,
    fired: AtomicBool,
}

impl PausedClock {
    fn new() -> PausedClock {
        let clock = crate::runtime::timers::clock::Clock::new();
        clock.pause();
        PausedClock {
            clock,
            fired: AtomicBool::new(false),
        }
    }

    fn earliest(&self) -> Nanos {
        if self.fired.swap(true, Ordering::SeqCst) {
            NO_DEADLINE
        } else {
            MODEL_DEADLINE
        }
    }

    fn jumped(&self) -> bool {
        self.clock.runtime_nanos() >= MODEL_DEADLINE
    }
}

/// A wake from a thread outside the runtime races the last worker's jump. The
/// worker (the holder of the poller) runs the real checks of `timers/auto_advance.rs`
/// around a poll that finds nothing; the waker pushes a task and calls the real
/// `notify_one`. Checked: a wake that completed before the worker's second check
/// always wins (no jump), and the task always runs (a lost wake-up deadlocks).
#[test]
fn loom_auto_advance_a_wake_that_completed_first_wins_over_the_jump() {
    use crate::runtime::timers::auto_advance::{
        advance_if_still_idle, idle_snapshot, Advance, Quiet,
    };
    model(|| {
        let idle = Arc::new(Idle::new(1));
        let parkers: Arc<[Parker]> = (0..1).map(|_| Parker::new()).collect();
        let work = Arc::new(Work {
            tasks: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
        });
        let wake_done = Arc::new(AtomicBool::new(false));
        let waker = {
            let (idle, parkers, work, wake_done) = (
                idle.clone(),
                parkers.clone(),
                work.clone(),
                wake_done.clone(),
            );
            thread::spawn(move || {
                // `Shared::push_global`: make the task visible, then wake a worker.
                work.tasks.fetch_add(1, Ordering::SeqCst);
                notify_one(&idle, &parkers);
                wake_done.store(true, Ordering::SeqCst);
            })
        };
        let paused = PausedClock::new();
        let quiet = || {
            if work.tasks.load(Ordering::SeqCst) != 0 {
                Quiet::Work
            } else {
                Quiet::Yes
            }
        };
        let mut searching = false;
        loop {
            if work.take() {
                break;
            }
            idle.transition_to_parked(0, std::mem::replace(&mut searching, false));
            let mut sleep = true;
            if quiet() == Quiet::Work {
                sleep = false;
            } else if let Ok(before) = idle_snapshot(&idle, 1, quiet, || 0) {
                // (The poll without waiting finds nothing here.)
                let completed_before = wake_done.load(Ordering::SeqCst);
                let advance = advance_if_still_idle(
                    &idle,
                    &paused.clock,
                    1,
                    before,
                    quiet,
                    || 0,
                    || paused.earliest(),
                );
                if completed_before {
                    assert!(
                        !matches!(advance, Advance::Jumped(_)),
                        "the clock jumped past a wake that had completed"
                    );
                }
                sleep = !matches!(advance, Advance::Jumped(_) | Advance::NotQuiet(Quiet::Work));
            }
            if sleep {
                parkers[0].park_condvar(None);
            }
            searching = idle.transition_from_parked(0) == Woke::ByUnpark;
        }
        waker.join().unwrap();
    });
}

/// A thread outside the workers (a `block_on` caller) writes to a socket and goes
/// idle while the holder of the poller decides. Its write lands after the holder's
/// poll: the second check must see that it ran (its entry) and not jump with the
/// I/O unread. `io_ready` stands for the socket; the poll dispatches it as a task.
#[test]
fn loom_auto_advance_io_sent_by_a_thread_that_went_idle_is_read_before_the_jump() {
    use crate::runtime::timers::auto_advance::{
        advance_if_still_idle, idle_snapshot, Advance, Quiet,
    };
    use crate::runtime::timers::outside_activity::OutsideActivity;
    model(|| {
        let idle = Idle::new(1);
        let outside = Arc::new(OutsideActivity::new());
        let io_ready = Arc::new(AtomicBool::new(false));
        let sender_left = Arc::new(AtomicBool::new(false));
        let sender = {
            let (outside, io_ready, sender_left) =
                (outside.clone(), io_ready.clone(), sender_left.clone());
            thread::spawn(move || {
                outside.enter();
                io_ready.store(true, Ordering::SeqCst);
                outside.leave();
                sender_left.store(true, Ordering::SeqCst);
            })
        };
        let paused = PausedClock::new();
        let tasks = AtomicUsize::new(0);
        let quiet = || {
            let waiting = !outside.is_idle();
            if tasks.load(Ordering::SeqCst) != 0 {
                Quiet::Work
            } else if waiting {
                Quiet::Waiting
            } else {
                Quiet::Yes
            }
        };
        idle.transition_to_parked(0, false);
        // One decision, as `before_sleep` takes it.
        if let Ok(before) = idle_snapshot(&idle, 1, quiet, || outside.entries()) {
            // The poll without waiting: whatever arrived becomes a runnable task.
            if io_ready.swap(false, Ordering::SeqCst) {
                tasks.fetch_add(1, Ordering::SeqCst);
            }
            // Whether the sender was done before the second check began. (A sender
            // that starts after the check's reads is legally after the jump: its
            // I/O may still be unread when the jump happens.)
            let left_before = sender_left.load(Ordering::SeqCst);
            let advance = advance_if_still_idle(
                &idle,
                &paused.clock,
                1,
                before,
                quiet,
                || outside.entries(),
                || {
                    // At the jump: a sender done before the check has had its I/O read.
                    assert!(
                        !(left_before && io_ready.load(Ordering::SeqCst)),
                        "the clock jumped with I/O unread from a thread that went idle"
                    );
                    paused.earliest()
                },
            );
            if matches!(advance, Advance::Jumped(_)) {
                assert!(paused.jumped());
            }
        }
        sender.join().unwrap();
    });
}
