//! Creating a task: the wrapper every spawned future runs in.
//!
//! # What it owns
//! [`new_task`]: registers a future in the runtime's task registry and builds its
//! `async-task` raw task, whose schedule function is [`Handle::schedule`]. The
//! future runs inside [`TaskFuture`], which catches its panics (a panicking task
//! never takes its worker down: the panic becomes a [`JoinError`]), acts on an
//! abort request, and takes the task out of the registry when it completes or is
//! dropped.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::runtime::scheduler::worker_loop::Wake;
use crate::runtime::shared::Handle;
use crate::runtime::tasks::registry::TaskKey;
use crate::task::abort::{AbortFlag, Remote};
use crate::task::id::{CurrentTask, Id};
use crate::task::join::{JoinError, JoinHandle, TaskOutput};

/// Creates the task for `future` on `handle`'s runtime, registering it, and returns
/// its runnable (not yet scheduled) and join handle. `None` after shutdown.
pub(crate) fn new_task<F>(
    handle: &Handle,
    future: F,
) -> Option<(async_task::Runnable, JoinHandle<F::Output>)>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let shared = &handle.shared;
    let id = Id::next();
    // Consecutive ids go to different shards, so a worker spawning while another
    // removes the tasks it stole rarely waits on the same shard lock.
    shared.registry.insert(id.as_u64() as usize, |key| {
        let scheduler = handle.clone();
        let abort = AbortFlag::default();
        let wrapped = TaskFuture {
            future: Some(future),
            abort: abort.clone(),
            id,
            key: Some(key),
            runtime_id: handle.id(),
        };
        let (runnable, task) = async_task::Builder::new().spawn(
            move |_| wrapped,
            async_task::WithInfo(move |runnable, info: async_task::ScheduleInfo| {
                let wake = if info.woken_while_running {
                    Wake::Yielded
                } else {
                    Wake::Woken
                };
                scheduler.schedule(runnable, wake)
            }),
        );
        let waker = runnable.waker();
        let remote = Remote::new(abort, waker.clone());
        (
            waker,
            (runnable, JoinHandle::new(task.fallible(), id, remote)),
        )
    })
}

pin_project_lite::pin_project! {
    /// A spawned future, wrapped: catches its panics (in `poll` and in `Drop`),
    /// acts on an abort request, and leaves the registry when done.
    ///
    /// The user's future is dropped here, under `catch_unwind`, as soon as it
    /// completes, panics or is aborted, never inside async-task (which aborts the
    /// process on a panic in a future's destructor).
    pub(crate) struct TaskFuture<F> {
        // `None` once the user's future was dropped.
        #[pin]
        future: Option<F>,
        abort: AbortFlag,
        id: Id,
        // `Some` until the task has left the registry.
        key: Option<TaskKey>,
        // Identity of the runtime whose registry holds `key`.
        runtime_id: usize,
    }

    impl<F> PinnedDrop for TaskFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // Cancelled by shutdown (or never finished): a panic in the future's
            // destructor has nobody to be reported to, and must not escape.
            let _current = CurrentTask::enter(*this.id);
            let _ = drop_future(this.future);
            deregister(this.key, *this.runtime_id);
        }
    }
}

impl<F> TaskFuture<F> {
    /// A wrapper for a task that is in no runtime's registry (a `LocalSet` task):
    /// it never deregisters, and runtime shutdown does not concern it.
    pub(crate) fn unregistered(future: F, abort: AbortFlag, id: Id) -> TaskFuture<F> {
        TaskFuture {
            future: Some(future),
            abort,
            id,
            key: None,
            runtime_id: NO_RUNTIME,
        }
    }
}

/// `runtime_id` of an unregistered task: no runtime's shared state sits at address 0.
const NO_RUNTIME: usize = 0;

/// Drops the user's future in place, returning the payload if its destructor panicked.
fn drop_future<F>(mut future: Pin<&mut Option<F>>) -> Result<(), Box<dyn std::any::Any + Send>> {
    catch_unwind(AssertUnwindSafe(|| future.set(None)))
}

/// Takes the task out of its runtime's registry, once.
fn deregister(key: &mut Option<TaskKey>, runtime_id: usize) {
    if let Some(key) = key.take() {
        crate::context::with_handle(|handle| {
            // The task runs and is dropped only on its own runtime's threads, or at
            // that runtime's shutdown, when the registry is already drained.
            if let Some(handle) = handle.filter(|h| h.id() == runtime_id) {
                handle.shared.registry.remove(key);
            }
        });
    }
}

/// After a poll returned `Pending`: if the task's runtime is shutting down, wake
/// the task so the scheduler drops it. Shutdown wakes every registered task once,
/// but a task already queued then ignores that wake (it is scheduled already), and
/// would otherwise be polled to `Pending` by a worker and never woken again: its
/// `JoinHandle` would never resolve (tokio's `spawn_after_runtime_dropped`). The
/// shutdown flag (and the process-wide one before it) is set before that wake, and
/// the wake precedes this poll, so this poll sees the flag. While no runtime of the
/// process has shut down, one load answers.
#[inline]
fn cancel_if_shutting_down(runtime_id: usize, cx: &Context<'_>) {
    if crate::runtime::shared::any_runtime_shut_down() {
        wake_if_shut_down(runtime_id, cx);
    }
}

/// The rare half of [`cancel_if_shutting_down`], out of the poll path.
#[cold]
#[inline(never)]
fn wake_if_shut_down(runtime_id: usize, cx: &Context<'_>) {
    crate::context::with_handle(|handle| {
        if handle.is_some_and(|h| h.id() == runtime_id && h.shared.is_shutdown()) {
            cx.waker().wake_by_ref();
        }
    });
}

impl<F: Future> Future for TaskFuture<F> {
    type Output = TaskOutput<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let id = *this.id;
        // The task's identity in traces: the address of its future, stable while pinned.
        #[allow(clippy::let_unit_value)]
        let _span = crate::trace::task_poll(std::ptr::addr_of!(*this.key) as usize);
        let _current = CurrentTask::enter(id);
        let mut future = this.future;
        if this.abort.is_set() {
            let output = match drop_future(future) {
                Ok(()) => Err(JoinError::cancelled(id)),
                Err(payload) => Err(JoinError::panic(id, payload)),
            };
            deregister(this.key, *this.runtime_id);
            return Poll::Ready(output);
        }
        let result = crate::coop::with_budget(|| {
            catch_unwind(AssertUnwindSafe(|| match future.as_mut().as_pin_mut() {
                Some(future) => future.poll(cx),
                None => panic!("ticktock: a task was polled after it completed"),
            }))
        });
        let output = match result {
            Ok(Poll::Pending) => {
                cancel_if_shutting_down(*this.runtime_id, cx);
                return Poll::Pending;
            }
            Ok(Poll::Ready(output)) => match drop_future(future) {
                Ok(()) => Ok(output),
                Err(payload) => Err(JoinError::panic(id, payload)),
            },
            Err(payload) => {
                // The poll's panic is the one reported; a second one from the
                // destructor is dropped.
                let _ = drop_future(future);
                Err(JoinError::panic(id, payload))
            }
        };
        deregister(this.key, *this.runtime_id);
        Poll::Ready(output)
    }
}
