//! [`Handle`]'s methods: spawn onto a runtime, block on it, enter it, read its
//! metrics, from any thread. (The struct itself is declared with the shared state,
//! in `shared.rs`, so the thread-local context can hold one without importing the
//! behaviour defined here.)

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::task::Waker;

use crate::loom::sync::Arc;
use crate::runtime::metrics::{self, RuntimeMetrics};
use crate::runtime::scheduler::worker_loop::Wake;
use crate::runtime::shared::Handle;
use crate::task::abort::{AbortFlag, Remote};
use crate::task::id::{CurrentTask, Id};
use crate::task::join::{JoinError, JoinHandle};

impl Handle {
    /// The handle of the runtime the current thread is in.
    ///
    /// # Panics
    /// Panics if the current thread is not inside a ticktock runtime (see
    /// [`Handle::try_current`]).
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = ticktock_executor::Handle::current();
    ///     handle.spawn(async {}).await.unwrap();
    /// });
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(handle) => handle,
            Err(_) => panic!(
                "ticktock: `Handle::current` called outside a ticktock runtime; call it \
                 from a task, from inside `block_on`, or after `Runtime::enter`"
            ),
        }
    }

    /// The handle of the runtime the current thread is in, or why there is none
    /// (tokio's signature).
    ///
    /// # Examples
    /// ```
    /// assert!(ticktock_executor::Handle::try_current().is_err());
    /// ```
    pub fn try_current() -> Result<Handle, super::flavor::TryCurrentError> {
        super::flavor::try_current()
    }

    /// Spawns a task on this runtime. After shutdown the returned handle resolves
    /// to a cancelled [`JoinError`](crate::task::JoinError).
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let task = rt.handle().spawn(async { 1 });
    /// assert_eq!(rt.block_on(task).unwrap(), 1);
    /// ```
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match crate::runtime::tasks::task_wrapper::new_task(self, future) {
            Some((runnable, join)) => {
                runnable.schedule();
                join
            }
            None => cancelled_handle(),
        }
    }

    /// Runs a blocking closure on this runtime's blocking pool.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let task = rt.handle().spawn_blocking(|| std::thread::current().name().map(String::from));
    /// assert!(rt.block_on(task).unwrap().unwrap().ends_with("-blocking"));
    /// ```
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let pool_handle = self.clone();
        let id = Id::next();
        let abort = AbortFlag::default();
        let job_abort = abort.clone();
        let (runnable, task) = async_task::spawn(
            async move {
                let _current = CurrentTask::enter(id);
                if job_abort.is_set() {
                    // Aborted while queued: never started, so it can be cancelled.
                    return Err(JoinError::cancelled(id));
                }
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
                    .map_err(|payload| JoinError::panic(id, payload))
            },
            move |runnable| {
                crate::runtime::scheduler::threads::schedule_blocking(&pool_handle, runnable)
            },
        );
        let remote = Remote::new(abort, runnable.waker());
        runnable.schedule();
        JoinHandle::new(task.fallible(), id, remote)
    }

    /// Runs `future` to completion on the current thread inside this runtime's
    /// context. See [`Runtime::block_on`](crate::Runtime::block_on).
    ///
    /// # Panics
    /// Panics if called from inside `block_on` or from a runtime worker.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// assert_eq!(rt.handle().block_on(async { 2 }), 2);
    /// ```
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        crate::runtime::scheduler::block_on::block_on(self, future)
    }

    /// Makes this runtime the current one on this thread until the guard drops.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// let _guard = handle.enter();
    /// assert!(ticktock_executor::Handle::try_current().is_ok());
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _inner: crate::context::enter(self.clone(), None),
            _handle: PhantomData,
        }
    }

    /// A snapshot of the runtime's counters. See [`RuntimeMetrics`].
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let metrics = rt.handle().metrics();
    /// assert_eq!(metrics.alive_tasks, 0);
    /// ```
    pub fn metrics(&self) -> RuntimeMetrics {
        metrics::snapshot(&self.shared)
    }

    /// Live timers grouped by the source location that created them, most
    /// numerous first: the leak detector. A site whose count keeps growing is
    /// keeping timers it no longer needs. Walks every store (O(timers)): a
    /// diagnostic, not for hot paths.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let kept = rt.block_on(async {
    ///     let mut kept = Vec::new();
    ///     for _ in 0..3 {
    ///         let mut ticker = ticktock_executor::time::interval(Duration::from_secs(10));
    ///         ticker.tick().await; // immediate
    ///         let _ = futures::poll!(Box::pin(ticker.tick())); // arms the next tick
    ///         kept.push(ticker);
    ///     }
    ///     kept
    /// });
    /// let sites = rt.handle().timer_sites();
    /// assert_eq!(sites[0].live, 3);
    /// drop(kept);
    /// assert!(rt.handle().timer_sites().is_empty());
    /// ```
    pub fn timer_sites(&self) -> Vec<crate::runtime::timers::leak_report::TimerSite> {
        crate::runtime::timers::leak_report::timer_sites(&self.shared)
    }

    /// Asks for `threads` worker threads on a running multi-thread runtime, between
    /// 1 and the bound set by [`Builder::max_worker_threads`](crate::Builder::max_worker_threads).
    ///
    /// Returns once the change is *requested*, without waiting for it: a grow has
    /// started its threads (with empty timer stores; new timers and stealing fill
    /// them), while each worker dropped by a shrink retires on its own thread after
    /// its current poll: it hands its queued tasks to the global queue and moves its
    /// pending timers to the surviving workers' stores, spread over them a slice at a
    /// time (Go's `moveTimers`, but without stopping the world: the other workers keep
    /// running tasks and firing timers meanwhile). Safe to call from a task, and
    /// again before an earlier change completed (the last call wins).
    /// [`RuntimeMetrics::active_workers`](crate::RuntimeMetrics::active_workers)
    /// counts the threads there are now.
    ///
    /// # Panics
    /// Panics on a current-thread runtime, and if `threads` is outside
    /// `1..=max_worker_threads`.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .build()
    ///     .unwrap();
    /// rt.handle().set_worker_threads(1);
    /// assert_eq!(rt.handle().worker_threads(), 1);
    /// assert_eq!(rt.block_on(rt.spawn(async { 7 })).unwrap(), 7);
    /// ```
    #[track_caller]
    pub fn set_worker_threads(&self, threads: usize) {
        crate::runtime::elastic::resize::resize(self, threads);
    }

    /// The worker count last asked for (at build time or by
    /// [`Handle::set_worker_threads`]); 1 on a current-thread runtime.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Builder::new_multi_thread().worker_threads(3).build().unwrap();
    /// assert_eq!(rt.handle().worker_threads(), 3);
    /// ```
    pub fn worker_threads(&self) -> usize {
        self.shared.elastic.target()
    }

    /// The runtime's name, if [`Builder::name`](crate::Builder::name) gave it one.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Builder::new_multi_thread().name("api").build().unwrap();
    /// let name = rt.block_on(async {
    ///     ticktock_executor::Handle::current().name().map(String::from)
    /// });
    /// assert_eq!(name.as_deref(), Some("api"));
    /// assert_eq!(ticktock_executor::Runtime::new().unwrap().handle().name(), None);
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.shared.config.name.as_deref()
    }

    /// Identity of the runtime (the address of its shared state).
    pub(crate) fn id(&self) -> usize {
        Arc::as_ptr(&self.shared) as usize
    }

    /// The scheduling function of every task of this runtime.
    pub(crate) fn schedule(&self, runnable: async_task::Runnable, wake: Wake) {
        if self.shared.is_shutdown() {
            drop(runnable);
            return;
        }
        if let Err(runnable) =
            crate::runtime::scheduler::worker_loop::schedule_local(self, runnable, wake)
        {
            self.shared.push_global(runnable);
        }
    }
}

/// A join handle that is already cancelled (spawn after shutdown).
fn cancelled_handle<T: Send + 'static>() -> JoinHandle<T> {
    let (runnable, task) = async_task::spawn(
        async { unreachable!("a task spawned after shutdown never runs") },
        |_runnable| {},
    );
    drop(runnable);
    let remote = Remote::new(AbortFlag::default(), Waker::noop().clone());
    JoinHandle::new(task.fallible(), Id::next(), remote)
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("flavor", &self.shared.flavor)
            .field("workers", &self.shared.workers())
            .finish()
    }
}

/// Returned by [`Handle::enter`] and [`Runtime::enter`](crate::Runtime::enter): the
/// runtime stays current on this thread until it drops.
///
/// # Examples
/// ```
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// {
///     let _guard = rt.enter();
///     assert!(ticktock_executor::Handle::try_current().is_ok());
/// }
/// assert!(ticktock_executor::Handle::try_current().is_err());
/// ```
pub struct EnterGuard<'a> {
    _inner: crate::context::EnterGuard,
    _handle: PhantomData<&'a Handle>,
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}
