//! Work a runtime's workers cannot see: futures polled on threads that are not
//! workers, counted so that paused time does not jump under them.
//!
//! # What it owns
//! - [`OutsideActivity`]: how many threads outside the workers are running (or about
//!   to run) the runtime's futures right now: a `block_on` caller whose main future
//!   is woken or being polled (any `block_on` on a multi-thread runtime, a second
//!   concurrent one on a current-thread runtime), a thread inside `block_in_place`.
//! - [`CountedMain`]: one such `block_on` caller's share of the count, and the lock
//!   that keeps its "woken" flag and its share in step.
//!
//! # Invariants
//! - A `block_on` caller is counted exactly while its main future is woken or being
//!   polled: from the wake (or the first poll) until it finds, under its lock, that
//!   it was not woken again and goes to sleep. The waker counts it *before* it
//!   returns, so a wake that completed before an auto-advance decision is seen by
//!   it (`auto_advance.rs`).
//! - The count goes to zero only through [`OutsideActivity::leave`], which says so:
//!   the caller then wakes the workers of a paused runtime so that they decide
//!   again (the last outside poll may have been what kept the clock still).
//!
//! # Ground rules
//! A [`CountedMain`]'s lock is held only to flip its two flags and the count; never
//! while polling, parking or waking.

use crate::loom::lock;
use crate::loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use crate::loom::sync::Mutex;

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

/// The state of one counted `block_on` caller, under its lock.
struct MainState {
    /// The main future was woken since its last poll.
    woken: bool,
    /// This caller holds one unit of [`OutsideActivity`].
    counted: bool,
}

/// One `block_on` caller's share of [`OutsideActivity`]: see the module docs.
///
/// | state (`woken`, `counted`) \ operation | `wake` (any thread) | `take_woken` (the caller, before a poll) | `try_sleep` (the caller, after a `Pending` poll) |
/// |---|---|---|---|
/// | not woken, not counted (asleep) | → woken, counted (`enter`); returns "unpark it" | → stays; returns `false` (spurious wake-up) | → stays; returns "sleep" |
/// | not woken, counted (polling) | → woken, counted; returns "unpark it" | → stays; returns `false` | → not counted (`leave`); returns "sleep" and what `leave` said |
/// | woken, counted | stays; returns "already woken" | → not woken, counted; returns `true` (poll it) | stays; returns "poll again" |
/// | woken, not counted | bug: a wake always counts | bug | bug |
pub(crate) struct CountedMain {
    state: Mutex<MainState>,
    /// `state.woken`, readable without the lock (for the caller's fast path).
    woken_hint: AtomicBool,
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
            state: Mutex::new(MainState {
                woken: true,
                counted: true,
            }),
            woken_hint: AtomicBool::new(true),
        }
    }

    /// The main future was woken. Returns `true` if it was not woken already (the
    /// caller then unparks the `block_on` thread).
    pub(crate) fn wake(&self, activity: &OutsideActivity) -> bool {
        let mut state = lock(&self.state);
        if state.woken {
            return false;
        }
        state.woken = true;
        self.woken_hint.store(true, Ordering::SeqCst);
        if !state.counted {
            state.counted = true;
            activity.enter();
        }
        debug_assert!(state.counted, "ticktock: a woken main future is counted");
        true
    }

    /// Takes the "woken" flag down before a poll. Returns `true` if it was up.
    pub(crate) fn take_woken(&self) -> bool {
        if !self.woken_hint.load(Ordering::SeqCst) {
            return false;
        }
        let mut state = lock(&self.state);
        let was_woken = std::mem::replace(&mut state.woken, false);
        self.woken_hint.store(false, Ordering::SeqCst);
        debug_assert!(
            !was_woken || state.counted,
            "ticktock: a woken main future is counted"
        );
        was_woken
    }

    /// The caller found nothing to poll: stop being counted unless woken meanwhile.
    pub(crate) fn try_sleep(&self, activity: &OutsideActivity) -> Sleep {
        let mut state = lock(&self.state);
        if state.woken {
            return Sleep::PollAgain;
        }
        if !state.counted {
            return Sleep::Park(None);
        }
        state.counted = false;
        Sleep::Park(Some(activity.leave()))
    }

    /// The caller is done (the future completed, or its poll panicked): stop being
    /// counted. Returns what `leave` said, if it was counted.
    pub(crate) fn finish(&self, activity: &OutsideActivity) -> Option<Left> {
        let mut state = lock(&self.state);
        state.woken = false;
        self.woken_hint.store(false, Ordering::SeqCst);
        std::mem::replace(&mut state.counted, false).then(|| activity.leave())
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
