//! Task-local values: [`task_local!`](crate::task_local) declares a [`LocalKey`];
//! [`LocalKey::scope`] gives a future a value that code polled inside it reads
//! with [`LocalKey::with`] or [`LocalKey::get`], wherever the task runs.
//!
//! # What it owns
//! Each key is a thread-local slot (`RefCell<Option<T>>`). A [`TaskLocalFuture`]
//! owns its value between polls; each poll swaps the value into the slot of the
//! polling thread, polls the inner future, and swaps it back out (also when the
//! poll unwinds). So the value follows the task across workers, and a task polled
//! on the same thread after another never sees the other's value.
//!
//! # Ground rules
//! - Between polls the slot holds whatever it held before (the value of an
//!   enclosing scope, or nothing): scopes nest.
//! - Entering a scope while a `with` on the same key is running on this thread
//!   panics (the slot is borrowed); `with` inside `with` is fine.
//! - Dropping an unfinished [`TaskLocalFuture`] drops its inner future inside the
//!   scope, so the inner future's destructors can read the value.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread;

/// Declares task-local keys ([`LocalKey`]), as tokio's `task_local!`.
///
/// # Examples
/// ```
/// ticktock_executor::task_local! {
///     static REQUEST_ID: u64;
///     pub static USER: String;
/// }
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(REQUEST_ID.scope(7, async {
///     assert_eq!(REQUEST_ID.get(), 7);
///     assert!(USER.try_with(|user| user.clone()).is_err());
/// }));
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::__task_local_key!($(#[$attr])* $vis $name, $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $crate::__task_local_key!($(#[$attr])* $vis $name, $t);
    };
}

/// One key of [`task_local!`]: a thread-local slot wrapped in a [`LocalKey`].
#[doc(hidden)]
#[macro_export]
macro_rules! __task_local_key {
    ($(#[$attr:meta])* $vis:vis $name:ident, $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static SLOT: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey { slot: &SLOT }
        };
    };
}

/// A task-local key, declared with [`task_local!`](crate::task_local). Unlike a
/// thread-local, it has no value until a [`scope`](LocalKey::scope) gives one.
///
/// # Examples
/// ```
/// ticktock_executor::task_local! {
///     static DEPTH: u32;
/// }
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(DEPTH.scope(1, async {
///     assert_eq!(DEPTH.get(), 1);
///     DEPTH.scope(2, async { assert_eq!(DEPTH.get(), 2) }).await;
///     assert_eq!(DEPTH.get(), 1);
/// }));
/// ```
pub struct LocalKey<T: 'static> {
    /// The thread-local slot; public only for [`task_local!`](crate::task_local).
    #[doc(hidden)]
    pub slot: &'static thread::LocalKey<RefCell<Option<T>>>,
}

/// The error of [`LocalKey::try_with`] and [`LocalKey::try_get`]: no scope of the
/// key encloses the caller (or the thread is being torn down).
///
/// # Examples
/// ```
/// ticktock_executor::task_local! {
///     static NAME: &'static str;
/// }
/// let error: ticktock_executor::task::AccessError = NAME.try_get().unwrap_err();
/// assert_eq!(error.to_string(), "task-local value not set");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessError(());

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task-local value not set")
    }
}

impl std::error::Error for AccessError {}

impl<T: 'static> LocalKey<T> {
    /// Runs `future` with `value` as this key's value; the value is dropped when
    /// the returned future is.
    ///
    /// # Panics
    /// A poll of the returned future panics if it happens inside [`with`](Self::with)
    /// on the same key.
    ///
    /// # Examples
    /// ```
    /// ticktock_executor::task_local! {
    ///     static TRACE: &'static str;
    /// }
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let task = rt.spawn(TRACE.scope("abc", async { TRACE.get() }));
    /// assert_eq!(rt.block_on(task).unwrap(), "abc");
    /// ```
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            key: self,
            value: Some(value),
            future: Some(future),
        }
    }

    /// Runs the closure `f` with `value` as this key's value, and returns its result.
    ///
    /// # Panics
    /// If called inside [`with`](Self::with) on the same key.
    ///
    /// # Examples
    /// ```
    /// ticktock_executor::task_local! {
    ///     static LIMIT: usize;
    /// }
    /// assert_eq!(LIMIT.sync_scope(3, || LIMIT.get() * 2), 6);
    /// ```
    pub fn sync_scope<R>(&'static self, value: T, f: impl FnOnce() -> R) -> R {
        let mut value = Some(value);
        self.enter(&mut value, f)
    }

    /// Runs `f` with a reference to this key's value.
    ///
    /// # Panics
    /// If no [`scope`](Self::scope) of this key encloses the caller.
    ///
    /// # Examples
    /// ```
    /// ticktock_executor::task_local! {
    ///     static NAMES: Vec<&'static str>;
    /// }
    /// NAMES.sync_scope(vec!["a", "b"], || assert_eq!(NAMES.with(|names| names.len()), 2));
    /// ```
    #[track_caller]
    pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        match self.try_with(f) {
            Ok(result) => result,
            Err(_) => panic!(
                "ticktock: cannot access a task-local value outside of its scope \
                 (no `LocalKey::scope` or `sync_scope` of this key encloses this code)"
            ),
        }
    }

    /// Runs `f` with a reference to this key's value, or returns [`AccessError`] if
    /// no scope of this key encloses the caller.
    ///
    /// # Examples
    /// ```
    /// ticktock_executor::task_local! {
    ///     static COUNT: u32;
    /// }
    /// assert!(COUNT.try_with(|count| *count).is_err());
    /// assert_eq!(COUNT.sync_scope(5, || COUNT.try_with(|count| *count)), Ok(5));
    /// ```
    pub fn try_with<R>(&'static self, f: impl FnOnce(&T) -> R) -> Result<R, AccessError> {
        let mut f = Some(f);
        self.slot
            .try_with(|slot| {
                let value = slot.borrow();
                value
                    .as_ref()
                    .map(|value| (f.take().expect("called once"))(value))
            })
            .ok()
            .flatten()
            .ok_or(AccessError(()))
    }

    /// Enters the scope: swaps `value` into this thread's slot, runs `f`, and swaps
    /// the slot's content back into `value` (also when `f` unwinds).
    fn enter<R>(&'static self, value: &mut Option<T>, f: impl FnOnce() -> R) -> R {
        /// Swaps the value back out when dropped.
        struct Leave<'a, T: 'static> {
            key: &'static LocalKey<T>,
            value: &'a mut Option<T>,
        }
        impl<T: 'static> Drop for Leave<'_, T> {
            fn drop(&mut self) {
                // `try_with`: the thread may be tearing down; the value then stays
                // in the slot and drops with it.
                let _ = self.key.slot.try_with(|slot| {
                    if let Ok(mut slot) = slot.try_borrow_mut() {
                        std::mem::swap(self.value, &mut *slot);
                    }
                });
            }
        }
        let swapped = self.slot.try_with(|slot| match slot.try_borrow_mut() {
            Ok(mut slot) => std::mem::swap(value, &mut *slot),
            Err(_) => panic!(
                "ticktock: a task-local scope was entered inside `LocalKey::with` on the \
                 same key"
            ),
        });
        if swapped.is_err() {
            panic!("ticktock: a task-local scope was entered while its thread is being torn down");
        }
        let _leave = Leave { key: self, value };
        f()
    }
}

impl<T: Clone + 'static> LocalKey<T> {
    /// A copy of this key's value.
    ///
    /// # Panics
    /// If no [`scope`](Self::scope) of this key encloses the caller.
    ///
    /// # Examples
    /// ```
    /// ticktock_executor::task_local! {
    ///     static ID: u64;
    /// }
    /// assert_eq!(ID.sync_scope(9, || ID.get()), 9);
    /// ```
    #[track_caller]
    pub fn get(&'static self) -> T {
        self.with(T::clone)
    }

    /// A copy of this key's value, or [`AccessError`] outside its scopes.
    ///
    /// # Examples
    /// ```
    /// ticktock_executor::task_local! {
    ///     static ID: u64;
    /// }
    /// assert!(ID.try_get().is_err());
    /// ```
    pub fn try_get(&'static self) -> Result<T, AccessError> {
        self.try_with(T::clone)
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("LocalKey { .. }")
    }
}

pin_project_lite::pin_project! {
    /// The future of [`LocalKey::scope`]: polls its inner future with the key's
    /// value in place.
    ///
    /// # Examples
    /// ```
    /// ticktock_executor::task_local! {
    ///     static KEY: u8;
    /// }
    /// let future: ticktock_executor::task::futures::TaskLocalFuture<u8, _> =
    ///     KEY.scope(1, async { KEY.get() });
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// assert_eq!(rt.block_on(future), 1);
    /// ```
    pub struct TaskLocalFuture<T: 'static, F> {
        key: &'static LocalKey<T>,
        value: Option<T>,
        #[pin]
        future: Option<F>,
    }

    impl<T: 'static, F> PinnedDrop for TaskLocalFuture<T, F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            let mut future = this.future;
            if future.is_some() && this.value.is_some() {
                // Drop the inner future inside the scope; if the slot is busy (we are
                // inside a `with` of the key) or gone, the field's own drop drops it
                // outside instead.
                let key = *this.key;
                let slot_free = key
                    .slot
                    .try_with(|slot| slot.try_borrow_mut().is_ok())
                    .unwrap_or(false);
                if slot_free {
                    key.enter(this.value, || future.as_mut().set(None));
                }
            }
        }
    }
}

impl<T: 'static, F> TaskLocalFuture<T, F> {
    /// Takes the value out of an unfinished scope (the inner future then runs
    /// without it); `None` if already taken or the future completed.
    ///
    /// # Examples
    /// ```
    /// ticktock_executor::task_local! {
    ///     static KEY: u8;
    /// }
    /// let mut future = std::pin::pin!(KEY.scope(4, async {}));
    /// assert_eq!(future.as_mut().take_value(), Some(4));
    /// assert_eq!(future.as_mut().take_value(), None);
    /// ```
    pub fn take_value(self: Pin<&mut Self>) -> Option<T> {
        self.project().value.take()
    }
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let mut future = this.future;
        let poll = this
            .key
            .enter(this.value, || match future.as_mut().as_pin_mut() {
                Some(inner) => inner.poll(cx),
                None => panic!("ticktock: `TaskLocalFuture` polled after it completed"),
            });
        if poll.is_ready() {
            future.set(None);
        }
        poll
    }
}

impl<T: fmt::Debug + 'static, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture")
            .field("value", &self.value)
            .finish_non_exhaustive()
    }
}
