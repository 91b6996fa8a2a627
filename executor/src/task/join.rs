//! [`JoinHandle`] and [`JoinError`]: the user's side of a spawned task.
//!
//! # What it owns
//! A handle owns the `async-task` [`FallibleTask`] of its task, the task's [`Id`],
//! and a [`Remote`]: the task's abort flag and a waker to make it act on it.
//! Dropping the handle detaches the task: it keeps running. A task that panicked
//! or was cancelled resolves to a [`JoinError`] saying which.
//!
//! # Aborting
//! `abort` does not use async-task's cancellation (which drops the future inside
//! async-task, where a panic in the future's `Drop` aborts the process). It sets
//! the abort flag and wakes the task; the task's wrapper future sees the flag on
//! its next poll, drops the user's future under `catch_unwind` and completes with
//! a cancelled `JoinError`, or a panic one if that drop panicked (as tokio does).
//! A task that completed before that poll keeps its output.
//!
//! # Ground rules
//! `poll` has `&mut self`; `abort`, `abort_handle`, `id` and `is_finished` take
//! `&self` (tokio's signatures) and touch only atomics.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use async_task::FallibleTask;

use super::abort::{AbortHandle, Remote};
use super::id::Id;

/// What a task produces: its output, or why it has none.
pub(crate) type TaskOutput<T> = Result<T, JoinError>;

/// An owned permission to await a spawned task's output.
///
/// Awaiting it gives `Ok(output)`, or a [`JoinError`] if the task panicked or was
/// cancelled (by [`JoinHandle::abort`] or by runtime shutdown). Dropping it detaches
/// the task, which keeps running.
///
/// # Examples
/// ```
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// let sum = rt.block_on(async {
///     let handle = ticktock_executor::spawn(async { 20 + 22 });
///     handle.await.unwrap()
/// });
/// assert_eq!(sum, 42);
/// ```
pub struct JoinHandle<T> {
    /// `None` once the output was taken (the handle returned `Ready`).
    task: Option<FallibleTask<TaskOutput<T>>>,
    id: Id,
    remote: Remote,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: FallibleTask<TaskOutput<T>>, id: Id, remote: Remote) -> JoinHandle<T> {
        JoinHandle {
            task: Some(task),
            id,
            remote,
        }
    }

    /// Cancels the task. Awaiting the handle then yields a cancelled [`JoinError`]
    /// (a panic one if dropping the task's future panicked), unless the task had
    /// already completed, in which case it yields the output.
    ///
    /// The task's future is dropped on the worker that runs it next (right away if
    /// it is idle); a task that is in the middle of a poll finishes that poll first.
    /// A `spawn_blocking` job that has started cannot be cancelled; one still queued
    /// is cancelled.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = ticktock_executor::spawn(async {
    ///         ticktock_executor::time::sleep(Duration::from_secs(3600)).await;
    ///     });
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        self.remote.abort();
    }

    /// A handle that can abort the task without owning its output (tokio's
    /// `JoinHandle::abort_handle`). It keeps working after this handle is dropped.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = ticktock_executor::spawn(std::future::pending::<()>());
    ///     let abort = handle.abort_handle();
    ///     abort.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort_handle(&self) -> AbortHandle {
        AbortHandle::new(self.id, self.remote.clone())
    }

    /// The task's [`Id`].
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = ticktock_executor::spawn(async { ticktock_executor::task::id() });
    ///     assert_eq!(handle.id(), handle.await.unwrap());
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.id
    }

    /// Returns `true` if the task has finished: completed, panicked or cancelled.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = ticktock_executor::spawn(async {});
    ///     while !handle.is_finished() {
    ///         ticktock_executor::task::yield_now().await;
    ///     }
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(|task| task.is_finished())
    }
}

impl<T> Unpin for JoinHandle<T> {}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if crate::coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let this = self.get_mut();
        let Some(task) = this.task.as_mut() else {
            panic!("ticktock: a JoinHandle was polled after it completed");
        };
        match Pin::new(task).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(output) => {
                this.task = None;
                // `None`: the task was dropped (runtime shutdown) before it produced
                // an output.
                Poll::Ready(output.unwrap_or_else(|| Err(JoinError::cancelled(this.id))))
            }
        }
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.detach();
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Why a task produced no output: it panicked, or it was cancelled.
///
/// # Examples
/// ```
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let err = ticktock_executor::spawn(async { panic!("boom") }).await.unwrap_err();
///     assert!(err.is_panic());
///     let payload = err.into_panic();
///     assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
/// });
/// ```
pub struct JoinError {
    repr: Repr,
    id: Id,
}

enum Repr {
    Cancelled,
    /// The payload sits behind a mutex only to make `JoinError` `Sync`.
    Panic(Mutex<Box<dyn Any + Send + 'static>>),
}

impl JoinError {
    pub(crate) fn cancelled(id: Id) -> JoinError {
        JoinError {
            repr: Repr::Cancelled,
            id,
        }
    }

    pub(crate) fn panic(id: Id, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            repr: Repr::Panic(Mutex::new(payload)),
            id,
        }
    }

    /// The [`Id`] of the task that failed.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = ticktock_executor::spawn(async { panic!("boom") });
    ///     let id = handle.id();
    ///     assert_eq!(handle.await.unwrap_err().id(), id);
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.id
    }

    /// Returns `true` if the task was cancelled (aborted, or dropped at shutdown).
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = ticktock_executor::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// Returns `true` if the task panicked.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let err = ticktock_executor::spawn(async { panic!("boom") }).await.unwrap_err();
    ///     assert!(err.is_panic());
    /// });
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic payload.
    ///
    /// # Panics
    /// Panics if the error is not a panic (see [`JoinError::try_into_panic`]).
    ///
    /// # Examples
    /// Re-raise a task's panic in the awaiting code:
    /// ```should_panic
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let err = ticktock_executor::spawn(async { panic!("boom") }).await.unwrap_err();
    ///     std::panic::resume_unwind(err.into_panic());
    /// });
    /// ```
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("ticktock: `JoinError::into_panic` called on a cancelled task's error")
    }

    /// The panic payload, or the error itself if the task was cancelled.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = ticktock_executor::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().try_into_panic().is_err());
    /// });
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(payload) => Ok(payload.into_inner().unwrap_or_else(|p| p.into_inner())),
            Repr::Cancelled => Err(self),
        }
    }

    fn panic_message(&self) -> Option<String> {
        let Repr::Panic(payload) = &self.repr else {
            return None;
        };
        let payload = payload.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = payload.downcast_ref::<&str>() {
            Some((*s).to_string())
        } else {
            payload.downcast_ref::<String>().cloned()
        }
    }
}

/// tokio's wording: `task 7 was cancelled`, `task 7 panicked with message "boom"`,
/// or `task 7 panicked` for a payload that is not a string.
impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.id;
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => write!(f, "task {id} was cancelled"),
            (Repr::Panic(_), Some(message)) => {
                write!(f, "task {id} panicked with message {message:?}")
            }
            (Repr::Panic(_), None) => write!(f, "task {id} panicked"),
        }
    }
}

/// tokio's shape: `JoinError::Cancelled(Id(7))`, `JoinError::Panic(Id(7), "boom", ...)`.
impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.id;
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => write!(f, "JoinError::Cancelled({id:?})"),
            (Repr::Panic(_), Some(message)) => {
                write!(f, "JoinError::Panic({id:?}, {message:?}, ...)")
            }
            (Repr::Panic(_), None) => write!(f, "JoinError::Panic({id:?}, ...)"),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(error: JoinError) -> std::io::Error {
        std::io::Error::other(match error.repr {
            Repr::Cancelled => "task was cancelled",
            Repr::Panic(_) => "task panicked",
        })
    }
}
