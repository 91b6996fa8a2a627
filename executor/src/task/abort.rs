//! [`AbortHandle`] and the abort flag a task shares with its handles.
//!
//! # What it owns
//! [`Remote`]: a task's abort flag (an `Arc<AtomicBool>`, shared by the task's
//! wrapper future, its [`JoinHandle`](crate::task::JoinHandle) and every
//! [`AbortHandle`]) and a waker of the task. Aborting sets the flag, then wakes the
//! task; the wrapper reads the flag at the start of each poll (see `join.rs`).
//!
//! # Ordering
//! The flag is stored (`Release`) before the wake, and read (`Acquire`) at the
//! start of a poll. A wake that lands while the task runs makes async-task run it
//! again after that poll, so an abort is never missed: at worst it takes effect
//! one poll later.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Waker;

use super::id::Id;

/// A task's abort flag, as its wrapper future sees it.
#[derive(Clone, Default)]
pub(crate) struct AbortFlag(Arc<AtomicBool>);

impl AbortFlag {
    /// Returns `true` if the task was asked to abort.
    #[inline]
    pub(crate) fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// The handles' side: the flag and a way to wake the task.
#[derive(Clone)]
pub(crate) struct Remote {
    flag: AbortFlag,
    waker: Waker,
}

impl Remote {
    pub(crate) fn new(flag: AbortFlag, waker: Waker) -> Remote {
        Remote { flag, waker }
    }

    /// Asks the task to abort: flag first, then the wake that makes it look.
    pub(crate) fn abort(&self) {
        if !self.flag.0.swap(true, Ordering::AcqRel) {
            self.waker.wake_by_ref();
        }
    }
}

/// Aborts a task without owning its output (tokio's `task::AbortHandle`). Get one
/// from [`JoinHandle::abort_handle`](crate::task::JoinHandle::abort_handle) or
/// [`JoinSet::spawn`](crate::task::JoinSet::spawn). Dropping it does nothing to the
/// task.
///
/// # Examples
/// ```
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let handle = ticktock_executor::spawn(std::future::pending::<()>());
///     let abort = handle.abort_handle();
///     assert_eq!(abort.id(), handle.id());
///     std::thread::spawn(move || abort.abort()).join().unwrap();
///     assert!(handle.await.unwrap_err().is_cancelled());
/// });
/// ```
#[derive(Clone)]
pub struct AbortHandle {
    id: Id,
    remote: Remote,
}

impl AbortHandle {
    pub(crate) fn new(id: Id, remote: Remote) -> AbortHandle {
        AbortHandle { id, remote }
    }

    /// Cancels the task, as [`JoinHandle::abort`](crate::task::JoinHandle::abort).
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = ticktock_executor::spawn(std::future::pending::<()>());
    ///     handle.abort_handle().abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        self.remote.abort();
    }

    /// Returns `true` once abort was requested through any handle of the task (the
    /// task may still be finishing its current poll).
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = ticktock_executor::spawn(std::future::pending::<()>());
    ///     let abort = handle.abort_handle();
    ///     assert!(!abort.is_aborted());
    ///     handle.abort();
    ///     assert!(abort.is_aborted());
    /// });
    /// ```
    pub fn is_aborted(&self) -> bool {
        self.remote.flag.is_set()
    }

    /// The task's [`Id`].
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = ticktock_executor::spawn(async {});
    ///     assert_eq!(handle.abort_handle().id(), handle.id());
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.id
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}
