//! [`LocalSet`] and [`spawn_local`]: tasks whose futures are not `Send`.
//!
//! # What it owns
//! A local set owns its tasks: `async-task` local tasks (their futures stay on the
//! thread that spawned them; async-task checks it) wrapped in the same panic- and
//! abort-handling wrapper as other tasks, a queue of the ones woken, and the wakers
//! of all of them (so dropping the set can cancel the idle ones). The set's tasks
//! run while the thread polls one of its drivers: [`LocalSet::run_until`],
//! [`LocalSet::block_on`], or the set itself awaited as a future.
//!
//! # How a wake reaches a local task
//! A waker may be used on any thread: the schedule function only pushes the task
//! onto the set's queue (a mutex-guarded deque, shared through an `Arc`) and wakes
//! whoever drives the set (an `AtomicWaker`). Only the driving thread runs or drops
//! a queued task.
//!
//! # Ground rules
//! The set is `!Send` (it holds an `Rc`): every method runs on its thread. The
//! queue lock is held only to push or pop. Tasks run with the set entered (see
//! `CURRENT`), so [`spawn_local`] inside them reaches it.
//!
//! # Known limit
//! A task woken from another thread after the set was dropped lands in a queue
//! nobody drains; the task's memory is then kept until the process exits (its
//! future was already dropped when the set was). Its `JoinHandle` resolves to a
//! cancellation.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use futures::task::AtomicWaker;
use slab::Slab;

use super::{AbortFlag, Id, JoinHandle, Remote};
use crate::runtime::TaskFuture;

/// Tasks a driver runs per poll before it yields to its own scheduler (and polls
/// the `run_until` future again): as many as a worker runs between two looks at
/// timers, so a busy set delays the rest of the runtime no more than a busy task
/// queue does.
const MAX_TASKS_PER_POLL: u32 = 61;

/// The part of a set that other threads reach through wakers.
struct Queue {
    runnables: Mutex<VecDeque<async_task::Runnable>>,
    /// The waker of whoever drives the set.
    driver: AtomicWaker,
}

impl Queue {
    fn push(&self, runnable: async_task::Runnable) {
        self.runnables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(runnable);
        self.driver.wake();
    }

    fn pop(&self) -> Option<async_task::Runnable> {
        self.runnables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
    }
}

/// The set's state on its own thread.
struct Inner {
    queue: Arc<Queue>,
    /// A waker of every live task, removed by the task when its future is dropped.
    tasks: RefCell<Slab<Waker>>,
    /// Set when the set is dropped: no more spawning.
    closed: Cell<bool>,
}

thread_local! {
    /// The local set entered on this thread, for `spawn_local`.
    static CURRENT: RefCell<Option<Rc<Inner>>> = const { RefCell::new(None) };
}

/// Restores the previously entered set when dropped.
struct Entered(Option<Rc<Inner>>);

fn enter(inner: &Rc<Inner>) -> Entered {
    Entered(CURRENT.with(|current| current.replace(Some(inner.clone()))))
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.0.take();
        let _ = CURRENT.try_with(|current| current.replace(previous));
    }
}

pin_project_lite::pin_project! {
    /// A local task's future, which leaves its set's task list when dropped.
    struct Tracked<F> {
        #[pin]
        future: F,
        set: Weak<Inner>,
        key: usize,
    }

    impl<F> PinnedDrop for Tracked<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(inner) = this.set.upgrade() {
                if let Ok(mut tasks) = inner.tasks.try_borrow_mut() {
                    tasks.try_remove(*this.key);
                }
            }
        }
    }
}

impl<F: Future> Future for Tracked<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().future.poll(cx)
    }
}

/// A set of tasks that run on the current thread, so their futures need not be
/// `Send` (tokio's `task::LocalSet`). Works inside any runtime's `block_on`, on
/// either flavor, and the tasks can use timers and sockets as other tasks do.
///
/// Dropping the set cancels its unfinished tasks (their `JoinHandle`s report a
/// cancellation).
///
/// # Examples
/// ```
/// use std::rc::Rc;
/// use ticktock_executor::task::{self, LocalSet};
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// let local = LocalSet::new();
/// let answer = local.block_on(&rt, async {
///     let shared = Rc::new(40); // not Send
///     let clone = shared.clone();
///     let handle = task::spawn_local(async move { *clone + 2 });
///     handle.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
pub struct LocalSet {
    inner: Rc<Inner>,
}

impl LocalSet {
    /// An empty set.
    ///
    /// # Examples
    /// ```
    /// let local = ticktock_executor::task::LocalSet::new();
    /// # drop(local);
    /// ```
    pub fn new() -> LocalSet {
        LocalSet {
            inner: Rc::new(Inner {
                queue: Arc::new(Queue {
                    runnables: Mutex::new(VecDeque::new()),
                    driver: AtomicWaker::new(),
                }),
                tasks: RefCell::new(Slab::new()),
                closed: Cell::new(false),
            }),
        }
    }

    /// Spawns a `!Send` future onto this set. It runs when the set is driven
    /// (`run_until`, `block_on`, or the set awaited).
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Builder::new_current_thread().build().unwrap();
    /// let local = ticktock_executor::task::LocalSet::new();
    /// let handle = local.spawn_local(async { std::rc::Rc::new(7) });
    /// let value = local.block_on(&rt, handle).unwrap();
    /// assert_eq!(*value, 7);
    /// ```
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        spawn_into(&self.inner, future)
    }

    /// Runs `future` on the current thread, with this set's tasks running
    /// alongside it, until `future` completes (unfinished tasks stay in the set).
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let local = ticktock_executor::task::LocalSet::new();
    /// rt.block_on(local.run_until(async {
    ///     let cell = std::rc::Rc::new(std::cell::Cell::new(0));
    ///     let writer = cell.clone();
    ///     ticktock_executor::task::spawn_local(async move { writer.set(5) }).await.unwrap();
    ///     assert_eq!(cell.get(), 5);
    /// }));
    /// ```
    pub fn run_until<F: Future>(&self, future: F) -> RunUntil<'_, F> {
        RunUntil { set: self, future }
    }

    /// `runtime.block_on(self.run_until(future))`.
    ///
    /// # Panics
    /// As [`Runtime::block_on`](crate::Runtime::block_on).
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Builder::new_current_thread().build().unwrap();
    /// let local = ticktock_executor::task::LocalSet::new();
    /// assert_eq!(local.block_on(&rt, async { 3 }), 3);
    /// ```
    pub fn block_on<F: Future>(&self, runtime: &crate::Runtime, future: F) -> F::Output {
        runtime.block_on(self.run_until(future))
    }

    /// Makes this set the target of [`spawn_local`] on this thread until the guard
    /// drops (the tasks still run only when the set is driven).
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Builder::new_current_thread().build().unwrap();
    /// let local = ticktock_executor::task::LocalSet::new();
    /// let handle = {
    ///     let _guard = local.enter();
    ///     ticktock_executor::task::spawn_local(async { 1 })
    /// };
    /// assert_eq!(local.block_on(&rt, handle).unwrap(), 1);
    /// ```
    pub fn enter(&self) -> LocalEnterGuard {
        LocalEnterGuard {
            _entered: enter(&self.inner),
        }
    }

    /// Runs up to [`MAX_TASKS_PER_POLL`] queued tasks. Returns `true` if tasks are
    /// still queued after that.
    fn run_queued(&self) -> bool {
        let _entered = enter(&self.inner);
        for _ in 0..MAX_TASKS_PER_POLL {
            match self.inner.queue.pop() {
                Some(runnable) => {
                    runnable.run();
                }
                None => return false,
            }
        }
        !self
            .inner
            .queue
            .runnables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }
}

/// Spawns `future` into the set `inner`.
fn spawn_into<F>(inner: &Rc<Inner>, future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    assert!(
        !inner.closed.get(),
        "ticktock: `spawn_local` on a LocalSet that is being dropped"
    );
    let id = Id::next();
    let abort = AbortFlag::default();
    let key = inner.tasks.borrow().vacant_key();
    let tracked = Tracked {
        future,
        set: Rc::downgrade(inner),
        key,
    };
    let wrapped = TaskFuture::unregistered(tracked, abort.clone(), id);
    let queue = inner.queue.clone();
    let (runnable, task) = async_task::Builder::new()
        .spawn_local(move |_| wrapped, move |runnable| queue.push(runnable));
    let waker = runnable.waker();
    let inserted = inner.tasks.borrow_mut().insert(waker.clone());
    debug_assert_eq!(inserted, key, "the vacant key was taken in between");
    runnable.schedule();
    JoinHandle::new(task.fallible(), id, Remote::new(abort, waker))
}

/// Spawns a `!Send` future onto the [`LocalSet`] entered on this thread (the one
/// being driven, or entered with [`LocalSet::enter`]).
///
/// # Panics
/// Panics outside a `LocalSet`.
///
/// # Examples
/// ```
/// let rt = ticktock_executor::Builder::new_current_thread().build().unwrap();
/// let local = ticktock_executor::task::LocalSet::new();
/// local.block_on(&rt, async {
///     let text = std::rc::Rc::new(String::from("local"));
///     let handle = ticktock_executor::task::spawn_local(async move { text.len() });
///     assert_eq!(handle.await.unwrap(), 5);
/// });
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let inner = CURRENT.with(|current| current.borrow().clone());
    match inner {
        Some(inner) => spawn_into(&inner, future),
        None => panic!(
            "ticktock: `spawn_local` called outside a `task::LocalSet`; run the code with \
             `LocalSet::run_until` or `LocalSet::block_on`"
        ),
    }
}

pin_project_lite::pin_project! {
    /// The future of [`LocalSet::run_until`]: `future`'s output, with the set's
    /// tasks run alongside it.
    pub struct RunUntil<'a, F> {
        set: &'a LocalSet,
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for RunUntil<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let set = *this.set;
        set.inner.queue.driver.register(cx.waker());
        {
            let _entered = enter(&set.inner);
            if let Poll::Ready(output) = this.future.poll(cx) {
                return Poll::Ready(output);
            }
        }
        if set.run_queued() {
            // Budget spent with tasks left: come back after the runtime's others.
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

impl<F> fmt::Debug for RunUntil<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunUntil").finish_non_exhaustive()
    }
}

/// Awaiting a set runs its tasks until all of them have finished.
impl Future for LocalSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.inner.queue.driver.register(cx.waker());
        if self.run_queued() {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if self.inner.tasks.borrow().is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Default for LocalSet {
    fn default() -> LocalSet {
        LocalSet::new()
    }
}

/// Cancels the tasks still in the set: each one's future is dropped here, on the
/// set's thread.
impl Drop for LocalSet {
    fn drop(&mut self) {
        self.inner.closed.set(true);
        let _entered = enter(&self.inner);
        loop {
            // Waking an idle task queues it; dropping a queued task drops its future.
            let wakers = std::mem::take(&mut *self.inner.tasks.borrow_mut());
            for (_, waker) in wakers {
                waker.wake();
            }
            let mut dropped = false;
            while let Some(runnable) = self.inner.queue.pop() {
                drop(runnable);
                dropped = true;
            }
            if !dropped && self.inner.tasks.borrow().is_empty() {
                break;
            }
        }
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet")
            .field("tasks", &self.inner.tasks.borrow().len())
            .finish()
    }
}

/// Returned by [`LocalSet::enter`]: [`spawn_local`] targets the set until it drops.
///
/// # Examples
/// ```
/// let local = ticktock_executor::task::LocalSet::new();
/// let guard = local.enter();
/// drop(guard);
/// ```
pub struct LocalEnterGuard {
    _entered: Entered,
}

impl fmt::Debug for LocalEnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalEnterGuard").finish_non_exhaustive()
    }
}
