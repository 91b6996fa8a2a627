//! The cooperative budget, as tokio's `task::coop` shows it: [`consume_budget`],
//! [`unconstrained`] and [`has_budget_remaining`].
//!
//! # What it owns
//! Nothing: the budget itself (128 leaf operations per task poll, reset before each
//! poll, unlimited outside task polls) lives in the crate's private `coop` module,
//! which `Sleep`, `JoinHandle` and socket readiness already spend. This module lets
//! user code spend it ([`consume_budget`]), opt a future out of it
//! ([`unconstrained`]), or read it ([`has_budget_remaining`]).
//!
//! # Ground rules
//! An unconstrained future restores the budget its task had when its poll returns
//! (also when it unwinds), so opting one future out never refills its siblings'.
//! tokio's lower-level `poll_proceed`/`RestoreOnPending` and `cooperative`/`Coop` are
//! not mirrored: ticktock's budget has no "give the unit back on `Pending`" step.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Spends one unit of the task's cooperative budget, and yields to the runtime if
/// the budget was already spent (the task is woken and polled again soon, after
/// other tasks and the timers had their turn). Outside a task poll the budget is
/// unlimited and this completes at once.
///
/// For a loop that does work without awaiting anything that already spends the
/// budget (a socket, a timer, a join handle), so it cannot hog its worker.
///
/// # Examples
/// ```
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let total = ticktock_executor::spawn(async {
///         let mut total = 0u64;
///         for i in 0..1000u64 {
///             total += i;
///             ticktock_executor::task::consume_budget().await;
///         }
///         total
///     });
///     assert_eq!(total.await.unwrap(), 499_500);
/// });
/// ```
pub async fn consume_budget() {
    poll_fn(crate::coop::poll_proceed).await;
}

/// Whether the current task's cooperative budget has units left (always `true`
/// outside a task poll, where the budget is unlimited).
///
/// # Examples
/// ```
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let fresh = ticktock_executor::spawn(async {
///         ticktock_executor::task::coop::has_budget_remaining()
///     });
///     assert!(fresh.await.unwrap());
/// });
/// ```
pub fn has_budget_remaining() -> bool {
    crate::coop::has_budget_remaining()
}

/// Runs `future` without the cooperative budget: the leaf futures it polls never
/// yield because the task spent its budget. The task's budget is restored when each
/// poll of `future` returns.
///
/// A future that never waits may then keep its worker busy forever: use this for
/// code that must observe something promptly (a deadline check), not for loops.
///
/// # Examples
/// ```
/// use ticktock_executor::task::{consume_budget, unconstrained};
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let task = ticktock_executor::spawn(unconstrained(async {
///         // Far more than one poll's budget, and never a forced yield.
///         for _ in 0..10_000 {
///             consume_budget().await;
///         }
///         "done"
///     }));
///     assert_eq!(task.await.unwrap(), "done");
/// });
/// ```
pub fn unconstrained<F: Future>(future: F) -> Unconstrained<F> {
    Unconstrained { inner: future }
}

pin_project_lite::pin_project! {
    /// The future of [`unconstrained`]: polls its inner future with an unlimited
    /// cooperative budget.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::task::{unconstrained, Unconstrained};
    ///
    /// let future: Unconstrained<_> = unconstrained(async { 1 });
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// assert_eq!(rt.block_on(future), 1);
    /// ```
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    #[derive(Debug)]
    pub struct Unconstrained<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let inner = self.project().inner;
        crate::coop::unconstrained(|| inner.poll(cx))
    }
}
