//! [`Builder`]: the settings of a runtime, with tokio's names, and `build`, which
//! sizes the runtime and asks each part to construct itself.
//!
//! # What it owns
//! Only the settings. Construction belongs to the parts: the shared state and the
//! workers' cores come from `Handle::construct` (`shared.rs`), the worker threads from
//! `scheduler/threads.rs`, the worker count from the cgroup reader
//! (`elastic/cgroup.rs`); [`Runtime`] (`runtime.rs`) owns the result.

use std::fmt;
use std::io;

use crate::runtime::config;
use crate::runtime::elastic::cgroup;
use crate::runtime::runtime::Runtime;
use crate::runtime::scheduler::threads;
use crate::runtime::shared::{Blueprint, Flavor, Handle};
use crate::runtime::tasks::blocking_pool;

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
    /// `pub(super)`: `tokio_compat.rs` sets its feature-gated field.
    pub(super) config: config::Config,
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
            max_blocking_threads: blocking_pool::DEFAULT_MAX_BLOCKING_THREADS,
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
    /// Works on both flavours: the clock jumps to the next deadline only when
    /// the whole runtime is idle (see [`time::pause`](crate::time::pause)).
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

    /// Gives the runtime a simulated network: `net`'s TCP and UDP sockets created on
    /// it talk through an in-memory network in the runtime's (virtual, with
    /// [`start_paused`](Builder::start_paused)) time, with no socket and no file
    /// descriptor, and `sim::net`'s controls set its links' latency and loss and
    /// cut and heal them; `seed` seeds its loss draws. `ticktock::sim::Builder`
    /// sets this; a paused current-thread runtime with it is deterministic too (one
    /// thread), and a multi-thread one works but is not (its threads race). Unix
    /// sockets are refused on such a runtime, and `into_std`/`from_std` answer
    /// `Unsupported` (there is no descriptor).
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::{TcpListener, TcpStream};
    ///
    /// let rt = ticktock_executor::Builder::new_current_thread()
    ///     .start_paused(true)
    ///     .simulated_network(7)
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     // No OS socket: 10.0.0.1 need not be an address of this machine.
    ///     let listener = TcpListener::bind("10.0.0.1:80").await.unwrap();
    ///     let client = TcpStream::connect("10.0.0.1:80").await.unwrap();
    ///     let (_server, peer) = listener.accept().await.unwrap();
    ///     assert_eq!(peer, client.local_addr().unwrap());
    /// });
    /// ```
    pub fn simulated_network(&mut self, seed: u64) -> &mut Builder {
        self.config.simulated_network = Some(seed);
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
        let max_workers = self
            .max_worker_threads
            .unwrap_or(sizing.default_max)
            .max(sizing.initial);
        let (handle, cores) = Handle::construct(Blueprint {
            flavor: self.flavor,
            workers: sizing.initial,
            max_workers,
            max_blocking_threads: self.max_blocking_threads,
            thread_name: self.thread_name.clone(),
            config: self.config.clone(),
            follow_cgroup: sizing.follow.map(|root| (root.to_path_buf(), available)),
            start_paused: self.start_paused,
            start_worker_thread: |handle, core| {
                threads::spawn_worker_thread(handle, core).map(Some)
            },
            simulated: false,
        })?;
        let threads = threads::start_workers(&handle, cores)?;
        Ok(Runtime::from_parts(handle, threads))
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

// `Runtime::new` is the default build, so it lives with the builder: `runtime.rs` does not
// import this file, and the import graph stays one-way (builder -> runtime).
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
}
