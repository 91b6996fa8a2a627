//! [`JoinHandle`] and [`JoinError`]: the user's side of a spawned task.
//!
//! # What it owns
//! A handle owns the `async-task` [`FallibleTask`] of its task (or, after
//! [`JoinHandle::abort`], the cancellation in progress). Dropping the handle detaches
//! the task: it keeps running. A task that panicked or was cancelled resolves to a
//! [`JoinError`] saying which.
//!
//! # Ground rules
//! `poll` has `&mut self` and reads the state without locking; `abort` and
//! `is_finished` take `&self` (tokio's signatures) and lock the state, which only
//! they and `poll` touch, so the lock is never contended in practice.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use async_task::FallibleTask;

/// What a task produces: its output, or why it has none.
pub(crate) type TaskOutput<T> = Result<T, JoinError>;

/// A boxed cancellation in flight (see [`JoinHandle::abort`]).
type Cancelling<T> = Pin<Box<dyn Future<Output = Option<TaskOutput<T>>> + Send>>;

enum JoinState<T> {
    /// The task runs (or is queued); awaiting the handle awaits it.
    Running(FallibleTask<TaskOutput<T>>),
    /// `abort` was called: awaiting the handle awaits the cancellation. It still
    /// yields the output if the task completed before the abort took effect.
    Aborting(Cancelling<T>),
    /// The output was taken (the handle returned `Ready`).
    Done,
}

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
    state: Mutex<JoinState<T>>,
}

impl<T: Send + 'static> JoinHandle<T> {
    pub(crate) fn new(task: FallibleTask<TaskOutput<T>>) -> JoinHandle<T> {
        JoinHandle {
            state: Mutex::new(JoinState::Running(task)),
        }
    }

    /// Cancels the task. Awaiting the handle then yields a cancelled [`JoinError`],
    /// unless the task had already completed, in which case it yields the output.
    ///
    /// The task's future is dropped on the worker that runs it next (right away if
    /// it is idle); a task that is in the middle of a poll finishes that poll first.
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
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let JoinState::Running(_) = &*state {
            let JoinState::Running(task) = std::mem::replace(&mut *state, JoinState::Done) else {
                unreachable!("checked above");
            };
            let mut cancelling: Cancelling<T> = Box::pin(task.cancel());
            // The cancellation takes effect on its first poll: do it now, so the
            // task stops even if nobody awaits this handle.
            let mut cx = Context::from_waker(Waker::noop());
            *state = match cancelling.as_mut().poll(&mut cx) {
                Poll::Ready(output) => JoinState::Aborting(Box::pin(std::future::ready(output))),
                Poll::Pending => JoinState::Aborting(cancelling),
            };
        }
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
        match &*self.state.lock().unwrap_or_else(|p| p.into_inner()) {
            JoinState::Running(task) => task.is_finished(),
            JoinState::Aborting(_) | JoinState::Done => true,
        }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if crate::coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let state = self
            .get_mut()
            .state
            .get_mut()
            .unwrap_or_else(|p| p.into_inner());
        let output = match state {
            JoinState::Running(task) => Pin::new(task).poll(cx),
            JoinState::Aborting(cancelling) => cancelling.as_mut().poll(cx),
            JoinState::Done => panic!("ticktock: a JoinHandle was polled after it completed"),
        };
        match output {
            Poll::Pending => Poll::Pending,
            Poll::Ready(output) => {
                *state = JoinState::Done;
                // `None`: the task was cancelled before it produced an output.
                Poll::Ready(output.unwrap_or_else(|| Err(JoinError::cancelled())))
            }
        }
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        if let JoinState::Running(task) = std::mem::replace(state, JoinState::Done) {
            task.detach();
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").finish_non_exhaustive()
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
}

enum Repr {
    Cancelled,
    /// The payload sits behind a mutex only to make `JoinError` `Sync`.
    Panic(Mutex<Box<dyn Any + Send + 'static>>),
}

impl JoinError {
    pub(crate) fn cancelled() -> JoinError {
        JoinError {
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            repr: Repr::Panic(Mutex::new(payload)),
        }
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
        Some(if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "<non-string panic payload>".to_string()
        })
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.panic_message() {
            None => f.write_str("task was cancelled"),
            Some(message) => write!(f, "task panicked with message {message:?}"),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.panic_message() {
            None => f.write_str("JoinError::Cancelled"),
            Some(message) => write!(f, "JoinError::Panic({message:?})"),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(error: JoinError) -> std::io::Error {
        std::io::Error::other(error.to_string())
    }
}
