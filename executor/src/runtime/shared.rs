//! The state every thread of one runtime shares, in one documented struct.
//!
//! # What it owns
//! | field | what | who touches it |
//! |---|---|---|
//! | `injector` | global FIFO of runnable tasks | anyone pushes (spawns and wake-ups from outside the workers); workers pop |
//! | `stealers` | the stealing ends of the workers' local queues | workers steal from each other |
//! | `lifo` | each worker's LIFO cell (last woken task, run next) | its worker; others only take from a worker stuck in one poll |
//! | `parking` | the mio poller, the parked set, one parker per worker | see `scheduler/wake_workers.rs` |
//! | `timers` | one timer store per worker plus one for other threads | see `timers/stores.rs` |
//! | `registry` | every live task's waker, for shutdown | spawn inserts, tasks remove themselves |
//! | `blocking` | the `spawn_blocking` pool | anyone |
//! | `outside` | threads outside the workers polling this runtime's futures now | `block_on` callers, `block_in_place`; auto-advance reads it |
//! | `idle_cores` | cores not driven by any thread (current-thread flavor between `block_on` calls; a simulation's workers started by a resize, until it adopts them) | `block_on`, the simulation, shutdown |
//! | `threads` | count of worker threads alive, for shutdown to wait on | worker threads at start and exit |
//! | `draining` | set once by a graceful shutdown; listeners stop accepting | `shutdown_timeout` sets, listeners read |
//! | `shutdown` | set once; nothing is scheduled after it | shutdown sets, everyone reads |
//! | `ANY_RUNTIME_SHUT_DOWN` (a static) | set forever, before the first `shutdown` flag of the process | shutdown sets; a task polled to `Pending` reads it first |
//! | `config` | name, scheduling intervals, thread hooks | `build` sets; read-only after |
//! | `elastic` | the target worker count and which workers have a thread | resizes, retiring workers; see `elastic/states.rs` |
//! | `network` | the simulated network, when the builder asked for one (`None`: sockets are the OS's) | `construct` sets; sockets created on the runtime read it (`sim/net/`) |
//! | `simulated` | whether the workers are logical, stepped by `sim::Runtime` (`sim/`) | `construct` sets; read-only after |
//!
//! # Invariants
//! - After `shutdown` is set, a scheduled task is dropped instead of queued, which
//!   cancels it. A push that races with shutdown re-checks the flag after pushing and
//!   drains the injector itself, so no runnable is stranded in a queue that nobody
//!   will ever pop (its future, and whatever it owns, is always dropped).

use std::time::{Duration, Instant};

use std::io;

use async_task::Runnable;
use crossbeam_deque::{Injector, Stealer, Worker};

use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::sync::{Arc, Condvar, Mutex};
use crate::loom::{lock, wait_until};
use crate::runtime::counters::WorkerCounters;
use crate::runtime::elastic::states::{Elastic, WorkerState};
use crate::runtime::scheduler::core::{retry_steal, Core, Queues};
use crate::runtime::scheduler::lifo_cell::LifoCell;
use crate::runtime::scheduler::wake_workers::Parking;
use crate::runtime::tasks::blocking_pool::BlockingPool;
use crate::runtime::tasks::registry::Registry;
use crate::runtime::timers::outside_activity::OutsideActivity;
use crate::runtime::timers::stores::Timers;
use crate::sim::net::fabric::Network;
// For `ANY_RUNTIME_SHUT_DOWN`: a `static`, which loom's atomics cannot be (as in clock.rs).
use std::sync::atomic::AtomicBool as StaticAtomicBool;

/// Starts a thread that runs worker `core` (`scheduler/threads.rs`'s
/// `spawn_worker_thread`). Held in [`Shared`] as a function pointer that the builder
/// installs, so that the resize path the worker loop calls (`elastic/resize.rs`)
/// starts threads without importing the file that runs the worker loop: the import
/// graph stays acyclic (checked by `executor/tests/layers.rs`). Answers the thread,
/// or `None` when no thread is needed: a simulation (`sim/`) takes the core into
/// [`Shared::idle_cores`] and steps it itself.
pub(crate) type StartWorkerThread =
    fn(&Handle, Box<Core>) -> io::Result<Option<std::thread::JoinHandle<()>>>;

/// What `Builder::build` decided, for [`Handle::construct`].
pub(crate) struct Blueprint {
    pub(crate) flavor: Flavor,
    /// Workers that start with a thread (or, current-thread: the one core).
    pub(crate) workers: usize,
    /// The most workers a resize may reach: queues, LIFO cells, parkers, counters and
    /// timer stores are allocated for all of them now.
    pub(crate) max_workers: usize,
    pub(crate) max_blocking_threads: usize,
    pub(crate) thread_name: String,
    pub(crate) config: crate::runtime::config::Config,
    /// `worker_threads_auto`: the cgroup directory to follow and the CPUs available.
    pub(crate) follow_cgroup: Option<(std::path::PathBuf, usize)>,
    pub(crate) start_paused: bool,
    pub(crate) start_worker_thread: StartWorkerThread,
    /// A simulation (`sim/`): no thread runs the workers (the caller of
    /// `sim::Runtime::block_on` steps them), the clock starts paused at
    /// [`SIMULATION_START`], and blocking jobs wait for the simulation to run them.
    pub(crate) simulated: bool,
}

/// Where a simulation's paused clock starts, in nanoseconds since the process epoch:
/// a fixed value, so that the same seed gives the same deadlines (and the same
/// wheel slots) in every run, whenever the process started. 2^40 ns is about 18
/// minutes: far from 0, so a deadline computed as "now minus a little" stays valid.
pub(crate) const SIMULATION_START: ticktock_timer::Nanos = 1 << 40;

/// Which scheduler a runtime uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// Work-stealing worker threads.
    MultiThread,
    /// No threads: tasks run on the thread inside `block_on`.
    CurrentThread,
}

/// A handle to a runtime: spawn onto it, block on it, enter it, read its metrics,
/// from any thread. Cloning it is cheap; it does not keep the runtime running (after
/// the [`Runtime`](crate::Runtime) is dropped, spawned tasks are cancelled at once).
///
/// # Examples
/// ```
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// let answer = std::thread::spawn(move || {
///     let task = handle.spawn(async { 40 + 2 });
///     handle.block_on(task).unwrap()
/// })
/// .join()
/// .unwrap();
/// assert_eq!(answer, 42);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

/// Set forever once any runtime of the process starts shutting down, before its
/// `shutdown` flag. Until then a task polled to `Pending` need not look its runtime
/// up to ask whether it is shutting down (`tasks/task_wrapper.rs`): one load instead of a
/// thread-local look-up, a `RefCell` borrow and two comparisons per poll.
/// Process-wide and never cleared, as the clock's `ANY_CLOCK_ALTERED` is: a worker of
/// a runtime shut down in the background may still be polling.
static ANY_RUNTIME_SHUT_DOWN: StaticAtomicBool = StaticAtomicBool::new(false);

/// Whether any runtime of the process has started shutting down (see
/// [`ANY_RUNTIME_SHUT_DOWN`]). A task woken by a shutdown is polled after the flag
/// was set, so it reads `true`.
#[inline]
pub(crate) fn any_runtime_shut_down() -> bool {
    ANY_RUNTIME_SHUT_DOWN.load(Ordering::SeqCst)
}

/// See the module docs.
pub(crate) struct Shared {
    pub(crate) flavor: Flavor,
    pub(crate) injector: Injector<Runnable>,
    pub(crate) stealers: Box<[Stealer<Runnable>]>,
    /// Each worker's LIFO cell: the task it woke last, run next. Lock-free (one
    /// word), so a worker stuck in a blocking poll can have it taken by another.
    pub(crate) lifo: Box<[LifoCell]>,
    pub(crate) parking: Arc<Parking>,
    pub(crate) timers: Timers,
    pub(crate) registry: Registry,
    pub(crate) blocking: BlockingPool,
    /// Threads outside the workers that poll this runtime's futures now (paused
    /// time does not jump while there are any).
    pub(crate) outside: OutsideActivity,
    // Boxed: a core moves between threads and in and out of this list, and a
    // pointer moves cheaper than the core itself.
    #[allow(clippy::vec_box)]
    pub(crate) idle_cores: Mutex<Vec<Box<Core>>>,
    pub(crate) counters: Box<[WorkerCounters]>,
    pub(crate) thread_name: String,
    /// The builder's settings (name, intervals, hooks); set by `build`, then read-only.
    pub(crate) config: crate::runtime::config::Config,
    /// Workers with and without threads (`Handle::set_worker_threads`); set
    /// by `build`.
    pub(crate) elastic: Elastic,
    /// See [`StartWorkerThread`].
    pub(crate) start_worker_thread: StartWorkerThread,
    /// The simulated network that this runtime's sockets use instead of the OS's
    /// (`Builder::simulated_network`); `None` for real sockets. Set by `construct`.
    pub(crate) network: Option<Arc<Network>>,
    /// Whether this runtime is a simulation (`sim/`, see [`Blueprint::simulated`]);
    /// set by `construct`, then read-only.
    pub(crate) simulated: bool,
    threads: Mutex<usize>,
    threads_changed: Condvar,
    /// Set when a graceful shutdown starts: listeners stop accepting, tasks finish.
    draining: AtomicBool,
    shutdown: AtomicBool,
}

impl Handle {
    /// Constructs a runtime's shared state from what the builder decided: queues, LIFO
    /// cells, parkers, counters and timer stores for `max_workers` workers, the poller,
    /// the elastic bookkeeping (following the cgroup limit if asked), the clock (paused
    /// if asked). Returns the handle and the cores of the workers that start now; the
    /// other workers' cores wait, stopped, in `Shared::elastic`.
    ///
    /// # Errors
    /// Fails if the OS refuses the poller (`epoll_create`) or its waker (`eventfd`).
    #[allow(clippy::vec_box)] // cores move between threads boxed (see `idle_cores`)
    pub(crate) fn construct(blueprint: Blueprint) -> io::Result<(Handle, Vec<Box<Core>>)> {
        let Blueprint {
            flavor,
            workers,
            max_workers,
            max_blocking_threads,
            thread_name,
            config,
            follow_cgroup,
            start_paused,
            start_worker_thread,
            simulated,
        } = blueprint;
        // A simulation's jobs never get a thread: the pool queues them for it.
        let max_blocking_threads = if simulated { 0 } else { max_blocking_threads };
        let queues: Vec<Worker<Runnable>> = (0..max_workers).map(|_| Worker::new_fifo()).collect();
        let stealers = queues.iter().map(Worker::stealer).collect();
        let parking = Arc::new(Parking::new(max_workers)?);
        let mut shared = Shared::new(
            flavor,
            stealers,
            parking,
            max_blocking_threads,
            thread_name,
            start_worker_thread,
        );
        shared.network = config
            .simulated_network
            .map(|seed| Arc::new(Network::new(seed)));
        shared.config = config;
        shared.elastic = Elastic::new(max_workers, workers);
        if let Some((root, available)) = follow_cgroup {
            let now = shared.timers.runtime_nanos();
            shared.elastic.follow_cgroup(root, available, now);
        }
        shared.simulated = simulated;
        if simulated {
            // One shard: a shard is picked by the process-wide task id, which
            // differs between runs; with one, the registry's order (in which the
            // drop cancels tasks) depends on the simulation alone.
            shared.registry = Registry::new(1);
            shared.timers.clock.pause_at(SIMULATION_START);
        } else if start_paused {
            shared.timers.clock.pause();
        }
        let handle = Handle {
            shared: Arc::new(shared),
        };
        let mut cores = Vec::with_capacity(workers);
        for (index, queue) in queues.into_iter().enumerate() {
            let mut core = Box::new(Core::new(index, queue));
            core.configure(&handle.shared.config);
            if index < workers {
                handle.shared.elastic.push_worker(WorkerState::Running);
                cores.push(core);
            } else {
                handle
                    .shared
                    .elastic
                    .push_worker(WorkerState::Stopped(core));
            }
        }
        Ok((handle, cores))
    }
}

impl Shared {
    pub(crate) fn new(
        flavor: Flavor,
        stealers: Box<[Stealer<Runnable>]>,
        parking: Arc<Parking>,
        max_blocking_threads: usize,
        thread_name: String,
        start_worker_thread: StartWorkerThread,
    ) -> Shared {
        let workers = stealers.len();
        let timers = Timers::new(workers, &parking);
        Shared {
            flavor,
            injector: Injector::new(),
            stealers,
            lifo: (0..workers).map(|_| LifoCell::new()).collect(),
            parking,
            timers,
            registry: Registry::new(workers.next_power_of_two() * 4),
            blocking: BlockingPool::new(max_blocking_threads),
            outside: OutsideActivity::new(),
            idle_cores: Mutex::new(Vec::new()),
            counters: (0..workers).map(|_| WorkerCounters::default()).collect(),
            thread_name,
            config: crate::runtime::config::Config::default(),
            elastic: Elastic::new(workers, workers),
            start_worker_thread,
            network: None,
            simulated: false,
            threads: Mutex::new(0),
            threads_changed: Condvar::new(),
            draining: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
        }
    }

    /// The view of the queues that a core's queue policy reads.
    pub(crate) fn queues(&self) -> Queues<'_> {
        Queues {
            injector: &self.injector,
            stealers: &self.stealers,
            lifo: &self.lifo,
            counters: &self.counters,
        }
    }

    /// Number of workers (the most workers this runtime can have).
    pub(crate) fn workers(&self) -> usize {
        self.stealers.len()
    }

    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Graceful shutdown, first phase: listeners stop accepting (their pending
    /// accepts fail), and the tasks already running get until `deadline` to finish.
    /// Returns when no task is left or the deadline passed. The caller then shuts
    /// down for real, cancelling what is left.
    pub(crate) fn drain(&self, deadline: Instant) {
        if self.draining.swap(true, Ordering::SeqCst) {
            return;
        }
        self.parking.driver.reactor().wake_all_readers();
        if let Some(network) = &self.network {
            network.wake_acceptors();
        }
        if self.flavor == Flavor::CurrentThread {
            // Its tasks only run inside `block_on`; nobody would run them now.
            return;
        }
        // Polled, not signalled: task completion is the hot path and must not pay
        // for this rare wait. The poll interval bounds the extra shutdown latency.
        const DRAIN_POLL: Duration = Duration::from_millis(1);
        while self.registry.len() != 0 && Instant::now() < deadline {
            std::thread::sleep(DRAIN_POLL.min(deadline.saturating_duration_since(Instant::now())));
        }
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// Pushes a task onto the global queue and wakes a worker for it.
    pub(crate) fn push_global(&self, runnable: Runnable) {
        if self.is_shutdown() {
            drop(runnable);
            return;
        }
        self.injector.push(runnable);
        if self.is_shutdown() {
            // Raced with shutdown, which may have drained the injector already.
            self.drain_injector();
            return;
        }
        self.parking.notify_one();
    }

    /// Takes one task from the global queue.
    pub(crate) fn pop_global(&self) -> Option<Runnable> {
        retry_steal(|| self.injector.steal())
    }

    /// Whether any queue other workers could take from holds a task.
    pub(crate) fn has_visible_work(&self) -> bool {
        !self.injector.is_empty() || self.stealers.iter().any(|stealer| !stealer.is_empty())
    }

    /// Drops every task in the global queue (cancelling them).
    pub(crate) fn drain_injector(&self) {
        while let Some(runnable) = self.pop_global() {
            drop(runnable);
        }
    }

    /// Counts a worker thread in; shutdown waits for it to count itself out.
    pub(crate) fn thread_started(&self) {
        *lock(&self.threads) += 1;
    }

    /// Worker threads running now (after a shutdown: those still in a poll).
    pub(crate) fn threads_running(&self) -> usize {
        *lock(&self.threads)
    }

    /// Counts a worker thread out.
    pub(crate) fn thread_stopped(&self) {
        let mut threads = lock(&self.threads);
        *threads -= 1;
        if *threads == 0 {
            self.threads_changed.notify_all();
        }
    }

    /// Shuts the runtime down: cancels every task, frees every timer, stops the
    /// workers and waits up to `timeout` (forever if `None`) for their threads.
    /// Returns `false` if the wait timed out. Idempotent.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) -> bool {
        ANY_RUNTIME_SHUT_DOWN.store(true, Ordering::SeqCst);
        let first = !self.shutdown.swap(true, Ordering::SeqCst);
        if first {
            // Wake every idle task: the scheduler drops it, which drops its future.
            for waker in self.registry.close() {
                waker.wake();
            }
            self.blocking.shutdown();
            self.parking.unpark_all();
            self.parking.driver.wake();
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut threads = lock(&self.threads);
        let mut all_stopped = true;
        while *threads != 0 {
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                all_stopped = false;
                break;
            }
            threads = wait_until(&self.threads_changed, threads, deadline).0;
        }
        if !all_stopped {
            crate::trace::shutdown_left_workers(*threads);
        }
        drop(threads);
        if first {
            self.free_leftovers();
        }
        all_stopped
    }

    /// Drops what no thread will run any more: queued tasks, idle cores and every
    /// timer (its waker is woken, then dropped: tasks are already cancelled, so
    /// this frees a task whose only waker it was).
    fn free_leftovers(&self) {
        self.drain_injector();
        // Queues of cores no thread drives any more (idle current-thread cores, or a
        // worker that outlived `shutdown_timeout`): their buffers live on in the
        // stealers, so empty them here or their tasks would never be dropped.
        for stealer in self.stealers.iter() {
            while let Some(runnable) = retry_steal(|| stealer.steal()) {
                drop(runnable);
            }
        }
        for cell in self.lifo.iter() {
            drop(cell.take());
        }
        let cores = std::mem::take(&mut *lock(&self.idle_cores));
        drop(cores);
        // Retired workers' cores (their queues are empty); the resize threads'
        // join handles are the `Runtime`'s business.
        let (threads, cores) = self.elastic.take_at_shutdown();
        drop(cores);
        drop(threads);
        let mut wakers = Vec::new();
        for cell in self.timers.stores() {
            cell.drain(&mut wakers);
        }
        // Woken, not just dropped: a `block_on` future awaiting a sleep must learn
        // that no timer will fire any more (its `Sleep` then panics with a message).
        for waker in wakers {
            waker.wake();
        }
    }
}

#[cfg(all(test, not(loom)))]
impl Shared {
    /// One worker's core and a multi-thread shared state around it, with no thread
    /// started (and none startable): for unit tests of the queue and park policies.
    pub(crate) fn one_worker_for_tests() -> (Core, Shared) {
        fn no_thread(_: &Handle, _: Box<Core>) -> io::Result<Option<std::thread::JoinHandle<()>>> {
            Err(io::Error::other("unit tests start no thread"))
        }
        let queue = Worker::new_fifo();
        let stealers = vec![queue.stealer()].into_boxed_slice();
        let parking = Arc::new(Parking::new(1).unwrap());
        let shared = Shared::new(
            Flavor::MultiThread,
            stealers,
            parking,
            1,
            "test".into(),
            no_thread,
        );
        (Core::new(0, queue), shared)
    }
}
