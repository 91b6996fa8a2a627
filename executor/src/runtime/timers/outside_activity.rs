//! Work a runtime's workers cannot see: futures polled on threads that are not
//! workers, counted so that paused time does not jump under them.
//!
//! # What it owns
//! - [`OutsideActivity`]: how many threads outside the workers are running (or about
//!   to run) the runtime's futures right now: a `block_on` caller whose main future
//!   is woken or being polled (any `block_on` on a multi-thread runtime, a second
//!   concurrent one on a current-thread runtime), a thread inside `block_in_place`.
//! - [`CountedMain`]: one such `block_on` caller's share of the count, in one state
//!   word with its "woken" flag.
//!
//! # Invariants
//! - A `block_on` caller is counted exactly while its main future is woken or being
//!   polled: from the wake (or the first poll) until it finds, in one
//!   compare-and-swap, that it was not woken again and goes to sleep. The waker
//!   counts it *before* it returns, so a wake that completed before an
//!   auto-advance decision is seen by it (`auto_advance.rs`).
//! - After `block_on` returns (`finish`), a late wake counts nothing: a waker kept
//!   somewhere past the call must not hold a paused clock still forever.
//! - The count goes to zero only through [`OutsideActivity::leave`], which says so:
//!   the caller then wakes the workers of a paused runtime so that they decide
//!   again (the last outside poll may have been what kept the clock still).
//!
//! # Ground rules
//! Only the `block_on` caller clears `COUNTED` (and calls `leave` for it); any
//! thread may set it through `wake` (and then calls `enter`).

use crate::loom::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
// `AtomicU8` is not in the loom facade; no loom model runs `CountedMain` (its
// table is checked by the unit tests below).
use std::sync::atomic::AtomicU8;

/// See the module docs.
pub(crate) struct OutsideActivity {
    /// Threads outside the workers that run the runtime's futures now.
    active: AtomicUsize,
    /// Entries so far: two reads that agree, with nobody active at both, prove
    /// no outside thread ran between them.
    entries: AtomicU64,
}

/// What [`OutsideActivity::leave`] left behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Left {
    /// Other outside threads are still active.
    OthersActive,
    /// This was the last one: a paused runtime must decide again whether to jump.
    NoneActive,
}

impl OutsideActivity {
    pub(crate) fn new() -> OutsideActivity {
        OutsideActivity {
            active: AtomicUsize::new(0),
            entries: AtomicU64::new(0),
        }
    }

    /// Whether no thread outside the workers runs the runtime's futures now.
    pub(crate) fn is_idle(&self) -> bool {
        self.active.load(Ordering::SeqCst) == 0
    }

    /// Counts one more active outside thread.
    pub(crate) fn enter(&self) {
        // Active first: a check that reads `entries` and then finds nobody active
        // (auto-advance reads in that order) either sees this entry or reads
        // `entries` before it, and a later check sees it changed (loom:
        // `loom_auto_advance_io_sent_by_a_thread_that_went_idle_is_read_before_the_jump`
        // fails with the two lines swapped).
        self.active.fetch_add(1, Ordering::SeqCst);
        self.entries.fetch_add(1, Ordering::SeqCst);
    }

    /// Entries so far (see `entries`).
    pub(crate) fn entries(&self) -> u64 {
        self.entries.load(Ordering::SeqCst)
    }

    /// Counts one active outside thread out, and says whether it was the last.
    pub(crate) fn leave(&self) -> Left {
        match self.active.fetch_sub(1, Ordering::SeqCst) {
            0 => unreachable!("ticktock: outside activity counted out more often than in"),
            1 => Left::NoneActive,
            _ => Left::OthersActive,
        }
    }
}

/// [`CountedMain`] state bit: the main future was woken since its last poll.
const WOKEN: u8 = 1 << 0;
/// [`CountedMain`] state bit: this caller holds one unit of [`OutsideActivity`]
/// (or its waker is about to take it: the count follows the bit).
const COUNTED: u8 = 1 << 1;
/// [`CountedMain`] state bit: `block_on` returned; wakes change nothing any more.
const DONE: u8 = 1 << 2;

/// One `block_on` caller's share of [`OutsideActivity`]: a state word of
/// [`WOKEN`], [`COUNTED`] and [`DONE`]. Whoever sets `COUNTED` calls `enter`;
/// whoever clears it calls `leave`. `WOKEN` is never set without `COUNTED`.
///
/// | state \ operation | `wake` (any thread) | `take_woken` (the caller, before a poll) | `try_sleep` (the caller, after a `Pending` poll) | `finish` (the caller) |
/// |---|---|---|---|---|
/// | 0 (asleep) | → `WOKEN\|COUNTED`, `enter`; returns "unpark it" | stays; `false` (spurious wake-up) | stays; "park" | → `DONE` |
/// | `COUNTED` (polling) | → `WOKEN\|COUNTED`; "unpark it" | stays; `false` | → 0, `leave`; "park" and what `leave` said | → `DONE`, `leave` |
/// | `WOKEN\|COUNTED` | stays; "already woken" | → `COUNTED`; `true` (poll it) | stays; "poll again" | → `DONE`, `leave` |
/// | `DONE` (any other bits) | bits set, no `enter`: nothing is counted after `block_on` returned | bug: the caller is gone | bug | stays |
/// | `WOKEN` without `COUNTED` | bug: `wake` sets both at once | bug | bug | bug |
///
/// Lock-free: a mutex here cost ~315 instructions per `block_on` round trip
/// (callgrind, 1-worker runtime, `block_on(spawn(async {}))`: +9 %).
pub(crate) struct CountedMain {
    state: AtomicU8,
}

/// What [`CountedMain::try_sleep`] tells the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sleep {
    /// Woken meanwhile: poll again, still counted.
    PollAgain,
    /// Not woken: park the thread. `Some` if this caller just stopped being counted
    /// (with what [`OutsideActivity::leave`] said).
    Park(Option<Left>),
}

impl CountedMain {
    /// A caller about to poll its main future for the first time: woken and
    /// counted (`activity.enter()` is called here).
    pub(crate) fn new(activity: &OutsideActivity) -> CountedMain {
        activity.enter();
        CountedMain {
            state: AtomicU8::new(WOKEN | COUNTED),
        }
    }

    /// The main future was woken. Returns `true` if it was not woken already (the
    /// caller then unparks the `block_on` thread).
    pub(crate) fn wake(&self, activity: &OutsideActivity) -> bool {
        let previous = self.state.fetch_or(WOKEN | COUNTED, Ordering::SeqCst);
        if previous & DONE != 0 {
            return false;
        }
        if previous & COUNTED == 0 {
            activity.enter();
        }
        previous & WOKEN == 0
    }

    /// Takes the "woken" flag down before a poll. Returns `true` if it was up.
    pub(crate) fn take_woken(&self) -> bool {
        if self.state.load(Ordering::SeqCst) & WOKEN == 0 {
            return false;
        }
        let previous = self.state.fetch_and(!WOKEN, Ordering::SeqCst);
        debug_assert!(
            previous & COUNTED != 0,
            "ticktock: a woken main future is counted (state {previous:#b})"
        );
        previous & WOKEN != 0
    }

    /// The caller found nothing to poll: stop being counted unless woken meanwhile.
    pub(crate) fn try_sleep(&self, activity: &OutsideActivity) -> Sleep {
        let mut state = self.state.load(Ordering::SeqCst);
        loop {
            if state & WOKEN != 0 {
                return Sleep::PollAgain;
            }
            if state & COUNTED == 0 {
                return Sleep::Park(None);
            }
            match self.state.compare_exchange(
                state,
                state & !COUNTED,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return Sleep::Park(Some(activity.leave())),
                Err(actual) => state = actual,
            }
        }
    }

    /// The caller is done (the future completed, or its poll panicked): stop being
    /// counted, and for good. Returns what `leave` said, if it was counted.
    pub(crate) fn finish(&self, activity: &OutsideActivity) -> Option<Left> {
        let previous = self.state.swap(DONE, Ordering::SeqCst);
        (previous & (COUNTED | DONE) == COUNTED).then(|| activity.leave())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{CountedMain, Left, OutsideActivity, Sleep};

    #[test]
    fn a_main_future_is_counted_while_woken_or_polled() {
        let activity = OutsideActivity::new();
        let main = CountedMain::new(&activity);
        assert!(!activity.is_idle(), "counted from the first poll");
        assert!(main.take_woken());
        // Polled to Pending, not woken: it leaves, the last one.
        assert_eq!(
            main.try_sleep(&activity),
            Sleep::Park(Some(Left::NoneActive))
        );
        assert!(activity.is_idle());
        // A spurious wake-up: still not counted, parks again without leaving twice.
        assert!(!main.take_woken());
        assert_eq!(main.try_sleep(&activity), Sleep::Park(None));
        // A wake counts it before returning.
        assert!(main.wake(&activity));
        assert!(!activity.is_idle());
        assert!(!main.wake(&activity), "a second wake is not news");
        assert!(main.take_woken());
        // Woken again during the poll: poll again, still counted.
        assert!(main.wake(&activity));
        assert_eq!(main.try_sleep(&activity), Sleep::PollAgain);
        assert!(!activity.is_idle());
        assert_eq!(main.finish(&activity), Some(Left::NoneActive));
        assert!(activity.is_idle());
        assert_eq!(main.finish(&activity), None, "finishing twice leaves once");
        // A waker kept past `block_on` counts nothing.
        assert!(!main.wake(&activity));
        assert!(activity.is_idle(), "a wake after finish counted the caller");
    }

    #[test]
    fn two_callers_leave_in_turn() {
        let activity = OutsideActivity::new();
        let first = CountedMain::new(&activity);
        let second = CountedMain::new(&activity);
        assert_eq!(first.finish(&activity), Some(Left::OthersActive));
        assert!(!activity.is_idle());
        assert_eq!(second.finish(&activity), Some(Left::NoneActive));
        assert!(activity.is_idle());
    }
}
