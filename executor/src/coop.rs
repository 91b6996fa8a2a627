//! Cooperative scheduling budget: one task cannot starve the others by looping over
//! always-ready timers or join handles.
//!
//! # What it owns
//! A per-thread counter, reset to [`BUDGET_PER_POLL`] before each task poll. Leaf
//! futures (`Sleep`, `JoinHandle`) call [`poll_proceed`] before doing work; when the
//! budget is spent they wake their task and return `Pending`, so the task goes back
//! to the queue and the worker gets to its timers, other tasks and the injector.
//! Outside a task poll (e.g. in `block_on`'s own future) the budget is unlimited.
//!
//! # Ground rules: what charges the budget
//! Every operation that can complete without waiting charges one unit *before* it
//! does its work, on every path, its error paths included: readiness waits
//! (`PollEvented::poll_ready`: reads, writes, sends, receives, `readable`/`writable`),
//! accepts (also when a draining runtime refuses them), connects (also when the
//! socket call fails at once), address resolution, `Sleep` (also when polled again
//! after it elapsed) and `JoinHandle`. A loop over any of them therefore yields
//! after at most [`BUDGET_PER_POLL`] completions, so its worker runs other tasks
//! and shutdown can take the task off the worker. An operation that did not charge
//! could spin its worker forever: issue 22, where `loop { let _ =
//! listener.accept().await; }` on a draining runtime kept a worker at 100 % after
//! `shutdown_timeout` returned, with the task's future and the runtime's
//! descriptors never freed (`tests/coop.rs` has one test per path).
//!
//! Unlike tokio, a unit is not handed back when the operation then returns
//! `Pending` (tokio's `RestoreOnPending`), and error paths charge too (tokio gives
//! the unit back when its I/O driver is shut down): a waiting operation costs its
//! task one unit of 128, which never changes which task runs next, and charging
//! before the work keeps each operation's code to one line.

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

/// Spends one unit of budget, waiting (one yield) first if it is spent: the
/// opening of an `async fn` operation whose body may complete at once, such as a
/// connect whose socket call fails.
pub(crate) async fn charge() {
    std::future::poll_fn(poll_proceed).await
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
