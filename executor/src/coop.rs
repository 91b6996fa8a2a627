//! Cooperative scheduling budget: one task cannot starve the others by looping over
//! always-ready timers or join handles.
//!
//! # What it owns
//! A per-thread counter, reset to [`BUDGET_PER_POLL`] before each task poll. Leaf
//! futures (`Sleep`, `JoinHandle`) call [`poll_proceed`] before doing work; when the
//! budget is spent they wake their task and return `Pending`, so the task goes back
//! to the queue and the worker gets to its timers, other tasks and the injector.
//! Outside a task poll (e.g. in `block_on`'s own future) the budget is unlimited.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Leaf-future operations a task may complete per poll before it must yield.
///
/// Large enough that ordinary tasks never notice it, small enough that a task
/// draining a stream of ready timers yields within a few microseconds (tokio chose
/// the same order of magnitude).
pub(crate) const BUDGET_PER_POLL: u32 = 128;

/// Budget value meaning "unlimited" (outside task polls).
const UNLIMITED: u32 = u32::MAX;

thread_local! {
    static BUDGET: Cell<u32> = const { Cell::new(UNLIMITED) };
}

/// Runs `f` with the budget set to `budget`, restoring the previous one after
/// (also when `f` unwinds).
fn with_budget_set<R>(budget: u32, f: impl FnOnce() -> R) -> R {
    struct Restore(u32);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = BUDGET.try_with(|budget| budget.set(self.0));
        }
    }
    let previous = BUDGET.with(|current| current.replace(budget));
    let _restore = Restore(previous);
    f()
}

/// Runs `f` (one task poll) with a fresh budget.
pub(crate) fn with_budget<R>(f: impl FnOnce() -> R) -> R {
    with_budget_set(BUDGET_PER_POLL, f)
}

/// Runs `f` with an unlimited budget. For a future that must observe something
/// even when its siblings spent the task's budget: a `Timeout` whose inner future
/// exhausts the budget on every poll must still see its deadline pass.
pub(crate) fn unconstrained<R>(f: impl FnOnce() -> R) -> R {
    with_budget_set(UNLIMITED, f)
}

/// Whether the current poll has budget left (`true` outside task polls).
pub(crate) fn has_budget_remaining() -> bool {
    BUDGET.try_with(|budget| budget.get() != 0).unwrap_or(true)
}

/// Spends one unit of budget. Returns `Pending` (after waking the task so it is
/// polled again soon) when the budget is exhausted.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    let exhausted = BUDGET
        .try_with(|budget| match budget.get() {
            0 => true,
            UNLIMITED => false,
            left => {
                budget.set(left - 1);
                false
            }
        })
        .unwrap_or(false);
    if exhausted {
        cx.waker().wake_by_ref();
        Poll::Pending
    } else {
        Poll::Ready(())
    }
}
