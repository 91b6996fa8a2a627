//! Two small public types that tokio's `runtime` module has and code ported from it
//! names: [`RuntimeFlavor`] (from [`Handle::runtime_flavor`]) and
//! [`TryCurrentError`] (from [`Handle::try_current`]).
//!
//! # What it owns
//! Nothing beyond the types: the flavor is read from the runtime's shared state
//! (`Shared::flavor`), the current handle from the thread's context.

use std::fmt;

use crate::runtime::shared::{Flavor, Handle};

/// Which scheduler a runtime uses, as tokio's `RuntimeFlavor`.
///
/// # Examples
/// ```
/// use ticktock_executor::runtime::{Builder, RuntimeFlavor};
///
/// let rt = Builder::new_current_thread().build().unwrap();
/// assert_eq!(rt.handle().runtime_flavor(), RuntimeFlavor::CurrentThread);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// Every task runs on the thread inside `block_on`.
    CurrentThread,
    /// Tasks run on work-stealing worker threads.
    MultiThread,
}

/// The error of [`Handle::try_current`]: this thread is not inside a ticktock
/// runtime (or is being torn down, its thread-locals gone).
///
/// # Examples
/// ```
/// let error = ticktock_executor::Handle::try_current().unwrap_err();
/// assert!(error.is_missing_context());
/// assert!(!error.is_thread_local_destroyed());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TryCurrentError {
    kind: MissingKind,
}

/// Why [`TryCurrentError`] found no handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MissingKind {
    /// No runtime entered on this thread.
    NoContext,
    /// The thread's context is gone (thread-local destructors are running).
    ThreadLocalDestroyed,
}

impl TryCurrentError {
    /// `true` if no runtime is entered on this thread.
    ///
    /// # Examples
    /// ```
    /// assert!(ticktock_executor::Handle::try_current().unwrap_err().is_missing_context());
    /// ```
    pub fn is_missing_context(&self) -> bool {
        self.kind == MissingKind::NoContext
    }

    /// `true` if the thread's context was already destroyed (the call came from a
    /// thread-local destructor).
    ///
    /// # Examples
    /// ```
    /// let error = ticktock_executor::Handle::try_current().unwrap_err();
    /// assert!(!error.is_thread_local_destroyed());
    /// ```
    pub fn is_thread_local_destroyed(&self) -> bool {
        self.kind == MissingKind::ThreadLocalDestroyed
    }
}

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            MissingKind::NoContext => f.write_str(
                "no ticktock runtime is running on this thread: call from a task, from inside \
                 `block_on`, or after `Runtime::enter`",
            ),
            MissingKind::ThreadLocalDestroyed => {
                f.write_str("the ticktock runtime context of this thread was already destroyed")
            }
        }
    }
}

impl std::error::Error for TryCurrentError {}

/// The current handle, or why there is none.
pub(crate) fn try_current() -> Result<Handle, TryCurrentError> {
    match crate::context::try_current_handle() {
        Ok(Some(handle)) => Ok(handle),
        Ok(None) => Err(TryCurrentError {
            kind: MissingKind::NoContext,
        }),
        Err(_) => Err(TryCurrentError {
            kind: MissingKind::ThreadLocalDestroyed,
        }),
    }
}

impl Handle {
    /// Which scheduler this runtime uses.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::runtime::RuntimeFlavor;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// assert_eq!(rt.handle().runtime_flavor(), RuntimeFlavor::MultiThread);
    /// ```
    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        match self.shared.flavor {
            Flavor::CurrentThread => RuntimeFlavor::CurrentThread,
            Flavor::MultiThread => RuntimeFlavor::MultiThread,
        }
    }
}
