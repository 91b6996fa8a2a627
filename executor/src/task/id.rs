//! Task identity: [`Id`], [`id`], [`try_id`].
//!
//! # What it owns
//! The process-wide counter ids are drawn from, and the thread-local "task being
//! polled" that [`id`] reads. A task's wrapper future sets the latter around each
//! poll of the user's future (and around its drop when aborted), restoring what was
//! there before, so nested polls (a `block_on` inside `block_in_place`) unwind right.
//!
//! # Invariants
//! Ids are unique among all tasks of the process, including finished ones (a `u64`
//! counter does not wrap in practice), and never zero.

use std::cell::Cell;
use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

/// An opaque identifier of a task, unique among all tasks of the process (tokio's
/// `task::Id`). Shown by [`JoinError`](crate::task::JoinError)'s `Debug` and
/// `Display`.
///
/// # Examples
/// ```
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let handle = ticktock_executor::spawn(async { ticktock_executor::task::id() });
///     let id = handle.id();
///     assert_eq!(handle.await.unwrap(), id);
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

impl Id {
    /// The raw counter value (for sharding; never zero).
    pub(crate) fn as_u64(self) -> u64 {
        self.0.get()
    }

    /// A fresh id. Relaxed: uniqueness needs only the atomicity of the increment.
    pub(crate) fn next() -> Id {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let raw = NEXT.fetch_add(1, Ordering::Relaxed);
        Id(NonZeroU64::new(raw).expect("ticktock: task id counter wrapped"))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

thread_local! {
    /// The id of the task whose future this thread is polling, if any.
    static CURRENT: Cell<Option<Id>> = const { Cell::new(None) };
}

/// Marks `id` as the task being polled on this thread until dropped.
pub(crate) struct CurrentTask(Option<Id>);

impl CurrentTask {
    #[inline]
    pub(crate) fn enter(id: Id) -> CurrentTask {
        CurrentTask(CURRENT.try_with(|c| c.replace(Some(id))).unwrap_or(None))
    }
}

impl Drop for CurrentTask {
    #[inline]
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.0));
    }
}

/// The id of the task being polled.
///
/// # Panics
/// Panics outside a task (for example in the future given to `block_on` itself);
/// see [`try_id`].
///
/// # Examples
/// ```
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let a = ticktock_executor::spawn(async { ticktock_executor::task::id() });
///     let b = ticktock_executor::spawn(async { ticktock_executor::task::id() });
///     assert_ne!(a.await.unwrap(), b.await.unwrap());
/// });
/// ```
#[track_caller]
pub fn id() -> Id {
    try_id().expect("ticktock: `task::id` called outside a task")
}

/// The id of the task being polled, or `None` outside a task.
///
/// # Examples
/// ```
/// assert!(ticktock_executor::task::try_id().is_none());
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// let inside = rt.block_on(rt.spawn(async {
///     ticktock_executor::task::try_id()
/// }));
/// assert!(inside.unwrap().is_some());
/// ```
pub fn try_id() -> Option<Id> {
    CURRENT.try_with(Cell::get).unwrap_or(None)
}
