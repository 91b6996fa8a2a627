//! The runtime: its builder, its handle, and the machinery behind them.
//!
//! Files by layer (see the layer table at the top of docs/design.md: an import may
//! point only at its own layer or a lower one, never up).
//!
//! | layer | file | owns |
//! |---|---|---|
//! | mechanism | `clock.rs` | the runtime's clock, real or paused |
//! | mechanism | `timers.rs` | per-worker timer stores, firing and stealing |
//! | mechanism | `idle.rs` | the parked set and the searching count (worker accounting table) |
//! | mechanism | `parker.rs` | one worker's parker (transition table) |
//! | mechanism | `driver.rs` | the mio poller and its earlier-deadline wake-up |
//! | mechanism | `poller_deadline.rs` | the atomic protocol behind that wake-up (loom-checked) |
//! | mechanism | `precise.rs` | sub-millisecond timed waits (timerfd on Linux) |
//! | mechanism | `parking.rs` | the bundle of driver, idle set and parkers that timer stores also reach |
//! | mechanism | `cgroup.rs` | reading the container's CPU limit (cgroup v2 and v1) |
//! | mechanism | `config.rs` | the builder's settings the scheduler reads: name, intervals, thread hooks |
//! | mechanism | `counters.rs` | per-worker counters, bumped by their worker only |
//! | mechanism | `lifo.rs` | the LIFO cell: a worker's next task, stealable |
//! | mechanism | `registry.rs` | every live task's waker, for shutdown |
//! | mechanism | `blocking.rs` | the `spawn_blocking` pool (see its note in design.md) |
//! | shared state | `shared.rs` | the one struct every thread of a runtime shares; [`Handle`]'s declaration |
//! | shared state | `worker_core.rs` | a worker's core and its queue policy |
//! | shared state | `elastic.rs` | which workers have a thread: the resize state machine |
//! | behaviour | `worker.rs` | the worker loop, search, firing timers onto the core |
//! | behaviour | `park.rs` | the park policy: where and how long a worker sleeps |
//! | behaviour | `worker_thread.rs` | starting worker threads, `block_in_place`'s hand-off |
//! | behaviour | `retire.rs` | resizing: starting workers, retiring them and moving their timers |
//! | behaviour | `block_on.rs` | blocking a thread on a future |
//! | behaviour | `spawn.rs` | the wrapper every spawned task runs in |
//! | behaviour | `handle.rs` | [`Handle`]'s methods |
//! | behaviour | `metrics.rs` | the public metrics snapshot |
//! | behaviour | `sites.rs` | the timer leak report (live timers by creation site) |
//! | public API | `mod.rs` | [`Builder`], [`Runtime`] |
//!
//! The thread-local context (`context.rs`, one layer above shared state) is the only
//! place that reads "the current runtime".

mod block_on;
mod blocking;
mod cgroup;
pub(crate) mod clock;
mod config;
mod counters;
mod driver;
mod elastic;
mod handle;
mod idle;
mod lifo;
#[cfg(all(test, loom))]
mod loom_tests;
mod metrics;
mod park;
mod parker;
mod parking;
mod poller_deadline;
mod precise;
mod registry;
mod retire;
pub(crate) mod shared;
mod sites;
mod spawn;
pub(crate) mod timers;
pub(crate) mod worker;
pub(crate) mod worker_core;
pub(crate) mod worker_thread;

use std::fmt;
use std::io;
use std::time::Duration;

use crossbeam_deque::Worker;

pub use handle::EnterGuard;
pub use metrics::{RuntimeMetrics, TimerMetrics, WorkerMetrics};
pub use shared::Handle;
pub use sites::TimerSite;

pub(crate) use spawn::TaskFuture;

use crate::loom::sync::atomic::AtomicBool;
use crate::loom::sync::{Arc, Mutex};
use parking::Parking;
pub(crate) use shared::Flavor;
use shared::Shared;
use worker_core::Core;

/// Default worker thread name prefix (the worker index is appended).
const DEFAULT_THREAD_NAME: &str = "ticktock-worker";

/// Configures and builds a [`Runtime`], with tokio's names.
///
/// # Examples
/// ```
/// let rt = ticktock_executor::Builder::new_multi_thread()
///     .worker_threads(2)
///     .thread_name("my-service")
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
pub struct Builder {
    flavor: Flavor,
    worker_threads: Option<usize>,
    max_worker_threads: Option<usize>,
    /// `worker_threads_auto`: the cgroup directory whose CPU limit to follow.
    auto: Option<std::path::PathBuf>,
    thread_name: String,
    max_blocking_threads: usize,
    config: config::Config,
    start_paused: bool,
}

impl Builder {
    /// A builder for a work-stealing runtime with one worker per core by default.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Builder::new_multi_thread().build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn new_multi_thread() -> Builder {
        Builder {
            flavor: Flavor::MultiThread,
            worker_threads: None,
            max_worker_threads: None,
            auto: None,
            thread_name: DEFAULT_THREAD_NAME.to_string(),
            max_blocking_threads: blocking::DEFAULT_MAX_BLOCKING_THREADS,
            config: config::Config::default(),
            start_paused: false,
        }
    }

    /// A builder for a single-threaded runtime: tasks run on the thread that calls
    /// [`Runtime::block_on`], which suits embedding in a service or a test.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Builder::new_current_thread().build().unwrap();
    /// let answer = rt.block_on(async { ticktock_executor::spawn(async { 42 }).await.unwrap() });
    /// assert_eq!(answer, 42);
    /// ```
    pub fn new_current_thread() -> Builder {
        Builder {
            flavor: Flavor::CurrentThread,
            worker_threads: Some(1),
            ..Builder::new_multi_thread()
        }
    }

    /// Number of worker threads (multi-thread flavor; ignored by current-thread).
    ///
    /// # Panics
    /// Panics if `threads` is zero.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Builder::new_multi_thread().worker_threads(3).build().unwrap();
    /// assert_eq!(rt.handle().metrics().workers, 3);
    /// ```
    pub fn worker_threads(&mut self, threads: usize) -> &mut Builder {
        assert!(threads > 0, "ticktock: `worker_threads` must be at least 1");
        if self.flavor == Flavor::MultiThread {
            self.worker_threads = Some(threads);
        }
        self
    }

    /// The most workers [`Handle::set_worker_threads`] may ask for (multi-thread
    /// flavor; ignored by current-thread). Defaults to the initial count
    /// ([`Builder::worker_threads`]), and is raised to it if smaller. Each worker
    /// (queue, timer store, counters) is allocated at build time; a worker
    /// without a thread costs a few hundred bytes and nothing at run time.
    ///
    /// # Panics
    /// Panics if `threads` is zero.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Builder::new_multi_thread()
    ///     .worker_threads(1)
    ///     .max_worker_threads(4)
    ///     .build()
    ///     .unwrap();
    /// rt.handle().set_worker_threads(4);
    /// assert_eq!(rt.handle().worker_threads(), 4);
    /// ```
    #[track_caller]
    pub fn max_worker_threads(&mut self, threads: usize) -> &mut Builder {
        assert!(
            threads > 0,
            "ticktock: `max_worker_threads` must be at least 1"
        );
        if self.flavor == Flavor::MultiThread {
            self.max_worker_threads = Some(threads);
        }
        self
    }

    /// Sizes the runtime by the container's CPU limit and keeps following it, the
    /// way Go 1.25 sets GOMAXPROCS: the worker count is the cgroup's CPU quota
    /// (v2 `cpu.max`, or v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`) rounded up,
    /// at least 1 and at most the CPUs available, or the CPUs available when no
    /// quota is set. The limit is re-read at most once a second, by a worker that is
    /// awake, which resizes the runtime ([`Handle::set_worker_threads`]) when the
    /// count changes. The bound ([`Builder::max_worker_threads`]) defaults to the
    /// CPUs available. Overrides [`Builder::worker_threads`].
    ///
    /// The environment variable `TICKTOCK_WORKER_THREADS`, if set to a positive
    /// number, wins: the runtime starts with that many workers and does not follow
    /// the limit. The cgroup directory is `/sys/fs/cgroup` (the process's own cgroup
    /// in a container with a cgroup namespace); [`Builder::cgroup_root`] changes it.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Builder::new_multi_thread()
    ///     .worker_threads_auto()
    ///     .build()
    ///     .unwrap();
    /// assert!(rt.handle().worker_threads() >= 1);
    /// ```
    pub fn worker_threads_auto(&mut self) -> &mut Builder {
        if self.flavor == Flavor::MultiThread && self.auto.is_none() {
            self.auto = Some(std::path::PathBuf::from("/sys/fs/cgroup"));
        }
        self
    }

    /// The cgroup directory [`Builder::worker_threads_auto`] reads (default
    /// `/sys/fs/cgroup`): for a process that knows its cgroup lives elsewhere, and
    /// for tests, which point it at a directory of their own. Implies
    /// `worker_threads_auto` on a multi-thread builder.
    ///
    /// # Examples
    /// ```
    /// let dir = std::env::temp_dir().join(format!("cgroup-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("cpu.max"), "100000 100000\n").unwrap(); // one CPU
    /// let rt = ticktock_executor::Builder::new_multi_thread()
    ///     .cgroup_root(&dir)
    ///     .build()
    ///     .unwrap();
    /// # if std::env::var_os("TICKTOCK_WORKER_THREADS").is_none() {
    /// assert_eq!(rt.handle().worker_threads(), 1);
    /// # }
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn cgroup_root(&mut self, root: impl Into<std::path::PathBuf>) -> &mut Builder {
        if self.flavor == Flavor::MultiThread {
            self.auto = Some(root.into());
        }
        self
    }

    /// Name prefix of the runtime's threads (`{name}-{index}` for workers).
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Builder::new_multi_thread()
    ///     .worker_threads(1)
    ///     .thread_name("svc")
    ///     .build()
    ///     .unwrap();
    /// let name = rt.block_on(async {
    ///     ticktock_executor::spawn(async { std::thread::current().name().map(String::from) })
    ///         .await
    ///         .unwrap()
    /// });
    /// assert_eq!(name.as_deref(), Some("svc-0"));
    /// ```
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Builder {
        self.thread_name = name.into();
        self
    }

    /// Cap on the threads of the `spawn_blocking` pool (default 512).
    ///
    /// # Panics
    /// Panics if `threads` is zero.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Builder::new_multi_thread().max_blocking_threads(4).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn max_blocking_threads(&mut self, threads: usize) -> &mut Builder {
        assert!(
            threads > 0,
            "ticktock: `max_blocking_threads` must be at least 1"
        );
        self.max_blocking_threads = threads;
        self
    }

    /// Accepted for tokio compatibility; does nothing: timers and I/O are always
    /// on in ticktock (one poller serves both, at no cost while unused).
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Builder::new_multi_thread().enable_all().build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn enable_all(&mut self) -> &mut Builder {
        self
    }

    /// Accepted for tokio compatibility; does nothing: timers are always on.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Builder::new_current_thread().enable_time().build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn enable_time(&mut self) -> &mut Builder {
        self
    }

    /// Accepted for tokio compatibility; does nothing: I/O is always on.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Builder::new_current_thread().enable_io().build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn enable_io(&mut self) -> &mut Builder {
        self
    }

    /// Names the runtime; [`Handle::name`] returns it.
    ///
    /// # Panics
    /// Panics if `name` is empty.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Builder::new_current_thread().name("ingest").build().unwrap();
    /// assert_eq!(rt.handle().name(), Some("ingest"));
    /// ```
    #[track_caller]
    pub fn name(&mut self, name: impl Into<String>) -> &mut Builder {
        let name = name.into();
        assert!(
            !name.is_empty(),
            "ticktock: a runtime name must not be empty"
        );
        self.config.name = Some(name);
        self
    }

    /// Scheduler ticks (task polls, roughly) between two looks at the global
    /// queue before a worker's own queue (default 31). Smaller is fairer to tasks
    /// spawned or woken from outside the workers, at some synchronization cost; 1
    /// always looks at the global queue first.
    ///
    /// # Panics
    /// Panics if `interval` is zero.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Builder::new_multi_thread()
    ///     .global_queue_interval(7)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
    /// ```
    #[track_caller]
    pub fn global_queue_interval(&mut self, interval: u32) -> &mut Builder {
        assert!(
            interval > 0,
            "ticktock: `global_queue_interval` must be at least 1"
        );
        self.config.global_queue_interval = interval;
        self
    }

    /// Scheduler ticks between two passes over timers and I/O events while a
    /// worker has tasks to run (default 61). Smaller delivers timer and socket
    /// events sooner to a worker busy with short polls, at the cost of more
    /// clock reads and `epoll_wait` calls.
    ///
    /// # Panics
    /// Panics if `interval` is zero.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Builder::new_current_thread().event_interval(11).build().unwrap();
    /// rt.block_on(ticktock_executor::time::sleep(std::time::Duration::from_millis(1)));
    /// ```
    #[track_caller]
    pub fn event_interval(&mut self, interval: u32) -> &mut Builder {
        assert!(
            interval > 0,
            "ticktock: `event_interval` must be at least 1"
        );
        self.config.event_interval = interval;
        self
    }

    /// Runs `f` on every thread the runtime starts (worker threads, the threads
    /// `block_in_place` starts, blocking-pool threads), first thing. Not on the
    /// thread of a current-thread runtime's `block_on`, which is the caller's.
    ///
    /// # Examples
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// let started = Arc::new(AtomicUsize::new(0));
    /// let counter = started.clone();
    /// let rt = ticktock_executor::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .on_thread_start(move || {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(rt.spawn_blocking(|| ())).unwrap();
    /// drop(rt);
    /// assert!(started.load(Ordering::SeqCst) >= 3); // 2 workers + 1 blocking thread
    /// ```
    pub fn on_thread_start<F>(&mut self, f: F) -> &mut Builder
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.config.on_thread_start = Some(std::sync::Arc::new(f));
        self
    }

    /// Runs `f` on every thread the runtime started, last thing before it exits.
    ///
    /// # Examples
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// let stopped = Arc::new(AtomicUsize::new(0));
    /// let counter = stopped.clone();
    /// let rt = ticktock_executor::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .on_thread_stop(move || {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// drop(rt); // waits for the workers
    /// assert_eq!(stopped.load(Ordering::SeqCst), 2);
    /// ```
    pub fn on_thread_stop<F>(&mut self, f: F) -> &mut Builder
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.config.on_thread_stop = Some(std::sync::Arc::new(f));
        self
    }

    /// Runs `f` on a worker (or a current-thread `block_on` thread) just before it
    /// goes to sleep for lack of work.
    ///
    /// # Examples
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// let parks = Arc::new(AtomicUsize::new(0));
    /// let counter = parks.clone();
    /// let rt = ticktock_executor::Builder::new_current_thread()
    ///     .on_thread_park(move || {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(ticktock_executor::time::sleep(std::time::Duration::from_millis(5)));
    /// assert!(parks.load(Ordering::SeqCst) >= 1);
    /// ```
    pub fn on_thread_park<F>(&mut self, f: F) -> &mut Builder
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.config.on_thread_park = Some(std::sync::Arc::new(f));
        self
    }

    /// Runs `f` on a worker (or a current-thread `block_on` thread) right after
    /// it wakes from a sleep that [`Builder::on_thread_park`] announced.
    ///
    /// # Examples
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// let unparks = Arc::new(AtomicUsize::new(0));
    /// let counter = unparks.clone();
    /// let rt = ticktock_executor::Builder::new_current_thread()
    ///     .on_thread_unpark(move || {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(ticktock_executor::time::sleep(std::time::Duration::from_millis(5)));
    /// assert!(unparks.load(Ordering::SeqCst) >= 1);
    /// ```
    pub fn on_thread_unpark<F>(&mut self, f: F) -> &mut Builder
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.config.on_thread_unpark = Some(std::sync::Arc::new(f));
        self
    }

    /// Starts the runtime with its clock paused, as if the first thing
    /// `block_on` did were [`time::pause`](crate::time::pause) (tokio's
    /// `start_paused`, used by `#[tokio::test(start_paused = true)]`).
    ///
    /// # Panics
    /// `build` panics if this is set on a multi-thread builder: paused time needs
    /// a current-thread runtime.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let rt = ticktock_executor::Builder::new_current_thread().start_paused(true).build().unwrap();
    /// let start = std::time::Instant::now();
    /// rt.block_on(ticktock_executor::time::sleep(Duration::from_secs(3600)));
    /// assert!(start.elapsed() < Duration::from_secs(60));
    /// ```
    pub fn start_paused(&mut self, start_paused: bool) -> &mut Builder {
        self.start_paused = start_paused;
        self
    }

    /// Builds the runtime and starts its worker threads.
    ///
    /// # Errors
    /// Fails if the OS refuses the poller (`epoll_create`), its waker (`eventfd`), or
    /// a worker thread.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Builder::new_multi_thread().build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn build(&mut self) -> io::Result<Runtime> {
        let available = std::thread::available_parallelism().map_or(1, |n| n.get());
        let sizing = cgroup::sizing(
            self.auto.as_deref(),
            cgroup::env_workers(),
            self.worker_threads,
            available,
        );
        let workers = sizing.initial;
        let max = self
            .max_worker_threads
            .unwrap_or(sizing.default_max)
            .max(workers);
        let queues: Vec<Worker<_>> = (0..max).map(|_| Worker::new_fifo()).collect();
        let stealers = queues.iter().map(Worker::stealer).collect();
        assert!(
            !(self.start_paused && self.flavor == Flavor::MultiThread),
            "ticktock: `start_paused` requires a current-thread runtime (`Builder::new_current_thread`)"
        );
        let parking = Arc::new(Parking::new(max)?);
        let mut shared = Shared::new(
            self.flavor,
            stealers,
            parking,
            self.max_blocking_threads,
            self.thread_name.clone(),
        );
        shared.config = self.config.clone();
        shared.elastic = elastic::Elastic::new(max, workers);
        if let Some(root) = sizing.follow {
            let now = shared.timers.runtime_nanos();
            shared
                .elastic
                .follow_cgroup(root.to_path_buf(), available, now);
        }
        if self.start_paused {
            shared.timers.clock.pause();
        }
        let handle = Handle {
            shared: Arc::new(shared),
        };
        let config = &handle.shared.config;
        let mut cores = Vec::with_capacity(workers);
        for (index, queue) in queues.into_iter().enumerate() {
            let mut core = Box::new(Core::new(index, queue));
            core.configure(config);
            if index < workers {
                handle
                    .shared
                    .elastic
                    .push_worker(elastic::WorkerState::Running);
                cores.push(core);
            } else {
                handle
                    .shared
                    .elastic
                    .push_worker(elastic::WorkerState::Stopped(core));
            }
        }
        let mut threads = Vec::new();
        match self.flavor {
            Flavor::CurrentThread => {
                crate::loom::lock(&handle.shared.idle_cores).extend(cores);
            }
            Flavor::MultiThread => {
                for core in cores {
                    match worker_thread::spawn_worker_thread(&handle, core) {
                        Ok(thread) => threads.push(thread),
                        Err(error) => {
                            handle.shared.shutdown(None);
                            return Err(error);
                        }
                    }
                }
            }
        }
        Ok(Runtime {
            handle,
            threads: Mutex::new(threads),
            shut_down: AtomicBool::new(false),
        })
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("flavor", &self.flavor)
            .field("worker_threads", &self.worker_threads)
            .field("max_worker_threads", &self.max_worker_threads)
            .field("auto", &self.auto)
            .field("thread_name", &self.thread_name)
            .field("config", &self.config)
            .field("start_paused", &self.start_paused)
            .finish()
    }
}

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
    /// A multi-thread runtime with one worker per available core.
    ///
    /// # Errors
    /// See [`Builder::build`].
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
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
