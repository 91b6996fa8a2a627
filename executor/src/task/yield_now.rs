//! [`yield_now`]: give the worker to other tasks for one round.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields once to the scheduler: the task goes to the back of its worker's queue
/// (not the LIFO cell), so every other runnable task on that worker runs first.
///
/// # Examples
/// ```
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     for _ in 0..3 {
///         ticktock_executor::task::yield_now().await;
///     }
/// });
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // Woken while running: the scheduler sees `woken_while_running` and puts
        // the task at the back of the queue.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
