//! Tasks: spawning, joining, yielding, and running blocking code.
//!
//! A task is an `async-task` raw task whose future is wrapped to catch panics (a
//! panicking task never takes its worker down: the panic becomes a
//! [`JoinError`]) and to leave the runtime's task registry when it ends.
//!
//! # Examples
//! ```
//! use ticktock_executor::task;
//!
//! let rt = ticktock_executor::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let handle = task::spawn(async { 1 });
//!     task::yield_now().await;
//!     let blocking = task::spawn_blocking(|| 2);
//!     assert_eq!(handle.await.unwrap() + blocking.await.unwrap(), 3);
//! });
//! ```

mod abort;
mod blocking;
mod id;
mod join;
mod registry;
mod yield_now;

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

pub use abort::AbortHandle;
pub(crate) use abort::{AbortFlag, Remote};
pub(crate) use blocking::{BlockingPool, DEFAULT_MAX_BLOCKING_THREADS};
pub(crate) use id::CurrentTask;
pub use id::{id, try_id, Id};
pub(crate) use join::TaskOutput;
pub use join::{JoinError, JoinHandle};
pub(crate) use registry::{Registry, TaskKey};
pub use yield_now::yield_now;

use crate::runtime::Handle;

/// Spawns a future onto the current runtime and returns a handle to its output.
///
/// The task starts running right away on some worker; it does not wait for the
/// handle to be awaited. Dropping the handle detaches the task.
///
/// # Panics
/// Panics if called outside a ticktock runtime (use [`Handle::spawn`] from other
/// threads).
///
/// # Examples
/// ```
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let handle = ticktock_executor::task::spawn(async { "hello" });
///     assert_eq!(handle.await.unwrap(), "hello");
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    crate::context::with_handle(|handle| match handle {
        Some(handle) => handle.spawn(future),
        None => panic!(
            "ticktock: `spawn` called outside a ticktock runtime; call it from a task or \
             from inside `Runtime::block_on`, or use `Handle::spawn` with a handle to the \
             runtime"
        ),
    })
}

/// Runs a blocking closure on the runtime's blocking thread pool and returns a
/// handle to its result, so async tasks never block a worker.
///
/// # Panics
/// Panics if called outside a ticktock runtime.
///
/// # Examples
/// ```
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let len = ticktock_executor::task::spawn_blocking(|| {
///         std::thread::sleep(std::time::Duration::from_millis(5));
///         "blocking".len()
///     });
///     assert_eq!(len.await.unwrap(), 8);
/// });
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    crate::context::with_handle(|handle| match handle {
        Some(handle) => handle.spawn_blocking(f),
        None => panic!(
            "ticktock: `spawn_blocking` called outside a ticktock runtime; call it from a \
             task or from inside `Runtime::block_on`, or use `Handle::spawn_blocking`"
        ),
    })
}

/// Runs blocking code on the current worker thread without stalling the runtime.
///
/// On a worker of a multi-thread runtime, the worker first hands its duties (its run
/// queue, LIFO slot and timer store) to a new thread, which carries on as that
/// worker, so queued tasks keep running and the worker's timers keep firing while
/// `f` blocks. When `f` returns, the calling task finishes its current poll on this
/// thread, which then leaves the runtime. Outside a runtime, or on a thread that is
/// not a worker (a `block_on` caller, a blocking-pool thread), `f` just runs.
///
/// While `f` runs, the thread is outside the asynchronous context, as in tokio: it
/// may call `block_on` (on this runtime's [`Handle`] or another runtime) and build
/// or drop another runtime; `Handle::current` and `spawn` still reach this runtime.
///
/// # Panics
/// Panics on the worker of a current-thread runtime, where there is nobody to hand
/// the work to (tokio behaves the same).
///
/// # Examples
/// ```
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let handle = ticktock_executor::spawn(async {
///         ticktock_executor::task::block_in_place(|| {
///             std::thread::sleep(std::time::Duration::from_millis(5));
///             7
///         })
///     });
///     assert_eq!(handle.await.unwrap(), 7);
/// });
/// ```
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    crate::runtime::worker::hand_off_core();
    crate::context::outside_async_context(f)
}

/// Creates the task for `future` on `handle`'s runtime, registering it, and returns
/// its runnable (not yet scheduled) and join handle. `None` after shutdown.
pub(crate) fn new_task<F>(
    handle: &Handle,
    shard_hint: usize,
    future: F,
) -> Option<(async_task::Runnable, JoinHandle<F::Output>)>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let shared = &handle.shared;
    shared.registry.insert(shard_hint, |key| {
        let scheduler = handle.clone();
        let id = Id::next();
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
                scheduler.schedule(runnable, info.woken_while_running)
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
    struct TaskFuture<F> {
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
/// shutdown flag is set before that wake, and the wake precedes this poll, so this
/// poll sees the flag.
fn cancel_if_shutting_down(runtime_id: usize, cx: &Context<'_>) {
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
