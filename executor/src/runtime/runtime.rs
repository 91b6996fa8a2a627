//! [`Runtime`]: the owner of a runtime's threads; `block_on`, spawning, entering, and the
//! three ways to shut down (`shutdown_timeout`, `shutdown_background`, drop).
//!
//! # What it owns
//! The [`Handle`] to the shared state and the join handles of the worker threads
//! started at build. Shutdown itself is the shared state's (`Shared::drain`,
//! `Shared::shutdown` in `shared.rs`); this file decides how long to wait for it.

use std::fmt;
use std::time::Duration;

use crate::loom::sync::atomic::AtomicBool;
use crate::loom::sync::Mutex;
use crate::runtime::handle::EnterGuard;
use crate::runtime::metrics::RuntimeMetrics;
use crate::runtime::shared::Handle;

/// A ticktock runtime: worker threads (or the current thread), their per-worker
/// timer heaps, the poller and the blocking pool.
///
/// Dropping it shuts it down: every task is cancelled and dropped, every timer is
/// freed, and the call waits for the worker threads to finish their current poll
/// (forever, for a poll that never returns, as tokio does: use
/// [`Runtime::shutdown_timeout`] to bound the wait). Once it returns, no worker
/// thread is left and the runtime's descriptors (poller, wake-up eventfd, timerfd,
/// signal pipe, the tasks' sockets) are closed, unless a handle, socket, `Sleep`
/// or `JoinHandle` outlives it; running `spawn_blocking` jobs finish on their own.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     ticktock_executor::time::sleep(Duration::from_millis(1)).await;
/// });
/// ```
pub struct Runtime {
    handle: Handle,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// Set by the first shutdown, so `shutdown_timeout` followed by drop waits once.
    shut_down: AtomicBool,
}

impl Runtime {
    /// The runtime that owns `handle`'s shared state and the worker `threads`
    /// started for it (`Builder::build`).
    pub(crate) fn from_parts(handle: Handle, threads: Vec<std::thread::JoinHandle<()>>) -> Runtime {
        Runtime {
            handle,
            threads: Mutex::new(threads),
            shut_down: AtomicBool::new(false),
        }
    }

    /// Runs `future` to completion on the current thread, inside this runtime's
    /// context (so it can `spawn` and `sleep`). On a current-thread runtime the
    /// spawned tasks run on this thread meanwhile.
    ///
    /// # Panics
    /// Panics if called from inside `block_on` or from a runtime worker (nesting
    /// would deadlock), and if `future` panics.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// assert_eq!(rt.block_on(async { 6 * 7 }), 42);
    /// ```
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Spawns a task on this runtime. See [`crate::spawn`].
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let handle = rt.spawn(async { 5 });
    /// assert_eq!(rt.block_on(handle).unwrap(), 5);
    /// ```
    pub fn spawn<F>(&self, future: F) -> crate::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs a blocking closure on the blocking pool. See [`crate::task::spawn_blocking`].
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let handle = rt.spawn_blocking(|| 1 + 1);
    /// assert_eq!(rt.block_on(handle).unwrap(), 2);
    /// ```
    pub fn spawn_blocking<F, R>(&self, f: F) -> crate::task::JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// This runtime's handle.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// std::thread::spawn(move || handle.block_on(async { 1 })).join().unwrap();
    /// ```
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Makes this runtime the current one on this thread until the guard drops, so
    /// `spawn` and `sleep` work outside `block_on`.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let _guard = rt.enter();
    /// let handle = ticktock_executor::spawn(async { 3 });
    /// assert_eq!(rt.block_on(handle).unwrap(), 3);
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// A snapshot of the runtime's counters. See [`RuntimeMetrics`].
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// assert!(rt.metrics().workers >= 1);
    /// ```
    pub fn metrics(&self) -> RuntimeMetrics {
        self.handle.metrics()
    }

    /// Shuts down gracefully within `timeout`: listeners stop accepting at once
    /// (pending and later accepts fail), the tasks already running keep running
    /// until they all finish or most of `timeout` passes (the last tenth, at most
    /// 100 ms, is kept for the next step), then every remaining task is
    /// cancelled and dropped and every timer freed. Returns after that, waiting
    /// for worker threads no longer than what is left of `timeout`; a thread still
    /// busy then (say, in blocking code) is left to finish on its own.
    ///
    /// When it returns, every task's future has been dropped except one that a
    /// worker is polling at that moment: that one is dropped when its poll
    /// returns, and every operation that can complete at once charges the
    /// cooperative budget, so a task yields within 128 of them. A poll that never
    /// returns (a `loop {}` without `.await`) cannot be interrupted, as in tokio:
    /// its worker thread keeps running, its future is never dropped, and the
    /// runtime's descriptors stay open until it returns;
    /// [`RuntimeMetrics::worker_threads`] (read through a [`Handle`] kept from
    /// before) counts such workers, and the `tracing` feature reports them.
    /// Running `spawn_blocking` jobs finish on their own, then their threads exit.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.spawn(std::future::pending::<()>());
    /// rt.shutdown_timeout(Duration::from_secs(1));
    /// ```
    pub fn shutdown_timeout(self, timeout: Duration) {
        let deadline = std::time::Instant::now() + timeout;
        /// The share of `timeout` kept for cancelling what the drain left, so the
        /// workers' exits are waited for even when tasks pending forever use up
        /// the drain; capped, since cancelling takes microseconds per worker.
        const CANCEL_RESERVE_DIVISOR: u32 = 10;
        const CANCEL_RESERVE_MAX: Duration = Duration::from_millis(100);
        let cancel_reserve = (timeout / CANCEL_RESERVE_DIVISOR).min(CANCEL_RESERVE_MAX);
        self.handle.shared.drain(deadline - cancel_reserve);
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        self.shutdown(Some(left));
    }

    /// Shuts down without waiting: every task is cancelled and dropped and every
    /// timer freed as by a drop, but threads still busy (a task in a long poll, a
    /// blocking job) are not waited for: once they finish, every future is
    /// dropped, no runtime thread is left and the runtime's descriptors are closed
    /// (see [`Runtime::shutdown_timeout`] for a poll that never returns). Unlike a
    /// drop it may be called inside an asynchronous context. The same as
    /// `shutdown_timeout(Duration::ZERO)`.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.spawn_blocking(|| std::thread::sleep(std::time::Duration::from_millis(50)));
    /// rt.shutdown_background(); // returns at once
    ///
    /// // Also from inside another runtime's `block_on`:
    /// let outer = ticktock_executor::Builder::new_current_thread().build().unwrap();
    /// let inner = ticktock_executor::Runtime::new().unwrap();
    /// outer.block_on(async move { inner.shutdown_background() });
    /// ```
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }

    fn shutdown(&self, timeout: Option<Duration>) {
        if self
            .shut_down
            .swap(true, crate::loom::sync::atomic::Ordering::SeqCst)
        {
            return;
        }
        if crate::context::is_in_async_context() && timeout.is_none() {
            panic!(
                "ticktock: a runtime was dropped inside an asynchronous context (a task, \
                 `block_on`, or a worker thread), where waiting for its workers could \
                 deadlock; drop it from synchronous code, or call `shutdown_timeout`"
            );
        }
        let all_stopped = self.handle.shared.shutdown(timeout);
        let threads = std::mem::take(&mut *crate::loom::lock(&self.threads));
        if all_stopped {
            for thread in threads {
                let _ = thread.join();
            }
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if std::thread::panicking() && crate::context::is_in_async_context() {
            // Unwinding out of a task or block_on: do not wait, do not double-panic.
            self.shutdown(Some(Duration::ZERO));
        } else {
            self.shutdown(None);
        }
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("flavor", &self.handle.shared.flavor)
            .field("workers", &self.handle.shared.workers())
            .finish()
    }
}
