//! [`Runtime`]: a seeded simulation's owner: `block_on`, `spawn`, `handle`,
//! `trace_hash`, and its drop.
//!
//! # What it owns
//! The runtime's [`Handle`] (the real shared state, built for a simulation) and the
//! [`Simulation`] (`sim/scheduler.rs`) that steps its logical workers, behind a
//! mutex that `block_on` holds while it runs. The digest of the steps so far is
//! also published in an atomic, so `trace_hash` can be read from inside `block_on`.
//!
//! # Shutdown
//! Dropping the runtime shuts its shared state down as the real runtime's drop
//! does (every task cancelled and its future dropped, every timer freed), then drops
//! the cores; no thread is waited for: there is none.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::runtime::scheduler::core::Core;
use crate::runtime::shared::Handle;
use crate::runtime::EnterGuard;
use crate::sim::scheduler::Simulation;
use crate::sim::seed::SeedReport;
use crate::task::JoinHandle;

/// A seeded simulation runtime: the real scheduler's parts, driven one step at a
/// time by the thread inside [`Runtime::block_on`], every race drawn from the seed.
/// See the [module docs](crate::sim).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use ticktock_executor::{sim, time};
///
/// let rt = sim::Builder::new().seed(11).worker_threads(2).build().unwrap();
/// let waited = rt.block_on(async {
///     let start = time::Instant::now();
///     time::sleep(Duration::from_secs(3600)).await; // virtual: takes no real time
///     start.elapsed()
/// });
/// assert_eq!(waited, Duration::from_secs(3600));
/// ```
pub struct Runtime {
    handle: Handle,
    seed: u64,
    simulation: Mutex<Simulation>,
    /// The trace digest after the latest step.
    digest: AtomicU64,
}

impl Runtime {
    #[allow(clippy::vec_box)] // cores are boxed as everywhere in the runtime
    pub(crate) fn from_parts(handle: Handle, seed: u64, cores: Vec<Box<Core>>) -> Runtime {
        let simulation = Simulation::new(seed, cores, handle.shared.workers());
        let digest = AtomicU64::new(simulation.trace().digest());
        Runtime {
            handle,
            seed,
            simulation: Mutex::new(simulation),
            digest,
        }
    }

    /// Runs `future` to completion, stepping the simulation: each step, a logical
    /// worker (or the main future when woken, or a queued blocking job) drawn from
    /// the seed does one unit of work; when nothing can happen, the virtual clock
    /// jumps to the earliest timer. Tasks spawned before or during the call run
    /// while it runs. Make `future`'s timers inside it (an `async` block) or under
    /// [`Runtime::enter`]: a `time::sleep(d)` evaluated outside every runtime takes
    /// its deadline from the real clock.
    ///
    /// # Panics
    /// If `future` panics (a task's panic reaches it through its `JoinHandle`), and
    /// if the simulation deadlocks: `future` is pending with no task runnable and no
    /// timer pending. Either way the seed is printed first, as
    /// `ticktock::sim: seed = N (TICKTOCK_SEED=N replays it)`. Also if called from
    /// inside a runtime (a task, another `block_on`).
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::sim::Builder::new().build().unwrap();
    /// let task = rt.spawn(async { "spawned" });
    /// assert_eq!(rt.block_on(task).unwrap(), "spawned");
    /// ```
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _block_on = crate::context::enter_block_on();
        let _report = SeedReport { seed: self.seed };
        let mut simulation = self
            .simulation
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        simulation.run(&self.handle, future, &self.digest)
    }

    /// Spawns a task onto the simulation; it runs when `block_on` steps it.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::sim::Builder::new().seed(5).build().unwrap();
    /// let tasks: Vec<_> = (0..3u32).map(|i| rt.spawn(async move { i * 2 })).collect();
    /// let total = rt.block_on(async {
    ///     let mut total = 0;
    ///     for task in tasks {
    ///         total += task.await.unwrap();
    ///     }
    ///     total
    /// });
    /// assert_eq!(total, 6);
    /// ```
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// The runtime's [`Handle`]: the real one, so `Handle::current`, `spawn`,
    /// `spawn_blocking` and `time` work unchanged inside. Its `block_on` refuses
    /// (no thread runs a simulation's workers): use [`Runtime::block_on`].
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::sim::Builder::new().build().unwrap();
    /// let task = rt.handle().spawn(async { 1 });
    /// assert_eq!(rt.block_on(task).unwrap(), 1);
    /// ```
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Enters the simulation's context until the guard drops, as
    /// [`crate::Runtime::enter`]: `spawn` and `time::sleep` called outside
    /// `block_on` then use this runtime and its virtual clock. A `Sleep` (or
    /// `Interval`, `Timeout`) made outside every runtime takes its deadline from the
    /// real clock, far from the simulation's: make timers inside `block_on`, a task,
    /// or this guard.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use ticktock_executor::{sim, time};
    ///
    /// let rt = sim::Builder::new().build().unwrap();
    /// let start = {
    ///     let _guard = rt.enter();
    ///     time::Instant::now()
    /// };
    /// let nap = {
    ///     let _guard = rt.enter();
    ///     time::sleep(Duration::from_secs(5))
    /// };
    /// rt.block_on(nap);
    /// rt.block_on(async move { assert_eq!(start.elapsed(), Duration::from_secs(5)) });
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// The seed this simulation draws from (the builder's, or `TICKTOCK_SEED`'s).
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::sim::Builder::new().seed(9).build().unwrap();
    /// if std::env::var_os("TICKTOCK_SEED").is_none() {
    ///     assert_eq!(rt.seed(), 9);
    /// }
    /// ```
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A digest of the execution so far: FNV-1a 64 over every step's logical
    /// worker, kind (ran a task, polled the main future, found nothing, ran a
    /// blocking job, moved the clock), task (numbered per simulation, in the order
    /// first run) and virtual time. The same seed and the same program give the
    /// same digest, step for step; readable from inside `block_on`.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use ticktock_executor::{sim, time};
    ///
    /// let digest = |seed| {
    ///     let rt = sim::Builder::new().seed(seed).worker_threads(3).build().unwrap();
    ///     rt.block_on(async {
    ///         let mut set = ticktock_executor::task::JoinSet::new();
    ///         for i in 0..8u64 {
    ///             set.spawn(async move { time::sleep(Duration::from_millis(i % 3)).await });
    ///         }
    ///         while set.join_next().await.is_some() {}
    ///     });
    ///     rt.trace_hash()
    /// };
    /// assert_eq!(digest(1), digest(1));
    /// ```
    pub fn trace_hash(&self) -> u64 {
        self.digest.load(Ordering::Acquire)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // No thread to wait for: every task is cancelled and every timer freed now.
        self.handle.shared.shutdown(Some(Duration::ZERO));
        let cores = self
            .simulation
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take_cores();
        drop(cores);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("sim::Runtime")
            .field("seed", &self.seed)
            .field("workers", &self.handle.shared.workers())
            .field("trace_hash", &self.trace_hash())
            .finish()
    }
}
