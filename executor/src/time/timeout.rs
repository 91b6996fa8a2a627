//! [`timeout`] and [`timeout_at`]: bound a future by a deadline.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::error::Elapsed;
use super::instant::Instant;
use super::sleep::{deadline_nanos_after, Sleep};

/// Runs `future` until it completes or `duration` passes, whichever comes first.
///
/// The inner future is polled first, so a future that is ready in time always wins,
/// even if the deadline also passed. `Duration::MAX` means "no deadline" in
/// practice (it is clamped, never overflowed).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use ticktock_executor::time::{sleep, timeout};
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     assert_eq!(timeout(Duration::from_secs(1), async { 5 }).await, Ok(5));
///     assert!(timeout(Duration::from_millis(1), sleep(Duration::from_secs(60))).await.is_err());
/// });
/// ```
#[track_caller]
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        value: future,
        delay: Sleep::at_nanos(deadline_nanos_after(duration)),
    }
}

/// Like [`timeout`], with an absolute deadline.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use ticktock_executor::time::Instant;
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(1);
///     let result = ticktock_executor::time::timeout_at(deadline, std::future::pending::<()>()).await;
///     assert!(result.is_err());
/// });
/// ```
#[track_caller]
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        value: future,
        delay: Sleep::new(deadline.into_std()),
    }
}

pin_project_lite::pin_project! {
    /// A future bounded by a deadline; see [`timeout`].
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let t: ticktock_executor::time::Timeout<_> =
    ///         ticktock_executor::time::timeout(Duration::from_secs(1), async { 1 });
    ///     assert_eq!(t.await, Ok(1));
    /// });
    /// ```
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Timeout<F> {
        #[pin]
        value: F,
        delay: Sleep,
    }
}

impl<F> Timeout<F> {
    /// The wrapped future.
    ///
    /// # Examples
    /// ```
    /// let t = ticktock_executor::time::timeout(std::time::Duration::from_secs(1), async { 1 });
    /// let _inner = t.get_ref();
    /// ```
    pub fn get_ref(&self) -> &F {
        &self.value
    }

    /// The wrapped future, mutably.
    ///
    /// # Examples
    /// ```
    /// let mut t = ticktock_executor::time::timeout(std::time::Duration::from_secs(1), async { 1 });
    /// let _inner = t.get_mut();
    /// ```
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.value
    }

    /// Unwraps the inner future, dropping (and so cancelling) the deadline.
    ///
    /// # Examples
    /// ```
    /// let t = ticktock_executor::time::timeout(std::time::Duration::from_secs(1), async { 1 });
    /// let _inner = t.into_inner();
    /// ```
    pub fn into_inner(self) -> F {
        self.value
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.value.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        // Unconstrained: if the inner future spent the task's budget, a budgeted
        // poll of the delay would return `Pending` without looking at the clock,
        // and a future that always spends it would never time out.
        match crate::coop::unconstrained(|| Pin::new(this.delay).poll(cx)) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed::new())),
            Poll::Pending => Poll::Pending,
        }
    }
}
