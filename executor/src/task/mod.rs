//! Tasks: spawning, joining, yielding, and running blocking code.
//!
//! The public face of tasks. A task is an `async-task` raw task whose future is
//! wrapped to catch panics (a panicking task never takes its worker down: the panic
//! becomes a [`JoinError`]) and to leave the runtime's task registry when it ends;
//! that wrapping, the registry and the blocking pool live under `runtime/`
//! (`tasks/task_wrapper.rs`, `tasks/registry.rs`, `tasks/blocking_pool.rs`).
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

pub(crate) mod abort;
pub mod coop;
pub(crate) mod id;
pub(crate) mod join;
mod join_set;
mod local;
mod task_local;
mod yield_now;

use std::future::Future;

pub use abort::AbortHandle;
pub(crate) use abort::{AbortFlag, Remote};
pub use id::{id, try_id, Id};
pub use join::{JoinError, JoinHandle};
pub use join_set::JoinSet;
pub use local::{spawn_local, LocalEnterGuard, LocalSet, RunUntil};
pub use yield_now::yield_now;

pub use coop::{consume_budget, unconstrained, Unconstrained};
pub use task_local::{AccessError, LocalKey};

/// The futures of this module: [`TaskLocalFuture`](futures::TaskLocalFuture), as in
/// tokio's `task::futures`.
pub mod futures {
    pub use super::task_local::TaskLocalFuture;
}

/// Spawns a future onto the current runtime and returns a handle to its output.
///
/// The task starts running right away on some worker; it does not wait for the
/// handle to be awaited. Dropping the handle detaches the task.
///
/// # Panics
/// Panics if called outside a ticktock runtime (use [`Handle::spawn`](crate::Handle::spawn) from other
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
/// queue, LIFO cell and timer store) to a new thread, which carries on as that
/// worker, so queued tasks keep running and the worker's timers keep firing while
/// `f` blocks. When `f` returns, the calling task finishes its current poll on this
/// thread, which then leaves the runtime. Outside a runtime, or on a thread that is
/// not a worker (a `block_on` caller, a blocking-pool thread), `f` just runs.
///
/// While `f` runs, the thread is outside the asynchronous context, as in tokio: it
/// may call `block_on` (on this runtime's [`Handle`](crate::Handle) or another runtime) and build
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
    crate::runtime::scheduler::threads::hand_off_core();
    // Paused time must not jump while `f` runs: no worker sees this thread.
    let _counted = crate::runtime::timers::auto_advance::OutsideGuard::enter_current();
    crate::context::outside_async_context(f)
}
