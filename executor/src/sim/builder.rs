//! [`Builder`]: the settings of a simulation (seed, logical workers) and `build`.
//!
//! # What it owns
//! Only the settings, and the [`Blueprint`] they become: the runtime's parts are
//! the real ones (`Handle::construct`, `runtime/shared.rs`), built for a
//! simulation (no worker thread, the clock paused at a fixed start, blocking jobs
//! left to the simulation). Further options for the parts (a simulated network's
//! settings, say) go into that blueprint here.

use std::io;

use crate::loom::lock;
use crate::runtime::config::Config;
use crate::runtime::scheduler::core::Core;
use crate::runtime::shared::{Blueprint, Flavor, Handle};
use crate::sim::runtime::Runtime;
use crate::sim::seed::seed_from_env;

/// The seed of a builder that was not given one.
const DEFAULT_SEED: u64 = 0;

/// Logical workers of a builder that was not told how many: enough for steals and
/// timers firing across workers to happen, few enough to keep steps cheap.
const DEFAULT_WORKERS: usize = 4;

/// Builds a [`Runtime`], a seeded simulation (see the [module docs](crate::sim)).
///
/// # Examples
/// ```
/// let rt = ticktock_executor::sim::Builder::new()
///     .seed(7)
///     .worker_threads(2)
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 6 * 7 }), 42);
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    seed: u64,
    workers: usize,
    max_workers: Option<usize>,
    config: Config,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    /// A builder with seed 0 and 4 logical workers.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::sim::Builder::new().build().unwrap();
    /// assert_eq!(rt.handle().worker_threads(), 4);
    /// ```
    pub fn new() -> Builder {
        Builder {
            seed: DEFAULT_SEED,
            workers: DEFAULT_WORKERS,
            max_workers: None,
            config: Config::default(),
        }
    }

    /// The seed every choice of the simulation is drawn from. The environment
    /// variable `TICKTOCK_SEED` (a decimal or `0x`-prefixed hexadecimal `u64`)
    /// overrides it, so a failure's seed can be replayed without editing the test.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::sim::Builder;
    ///
    /// let run = |seed| {
    ///     let rt = Builder::new().seed(seed).build().unwrap();
    ///     rt.block_on(async {
    ///         let tasks: Vec<_> = (0..4).map(|i| ticktock_executor::spawn(async move { i })).collect();
    ///         for task in tasks {
    ///             task.await.unwrap();
    ///         }
    ///     });
    ///     rt.trace_hash()
    /// };
    /// assert_eq!(run(3), run(3));
    /// ```
    pub fn seed(&mut self, seed: u64) -> &mut Builder {
        self.seed = seed;
        self
    }

    /// The number of logical workers: cores with their own queue, LIFO cell and
    /// timer store, all stepped by the thread inside [`Runtime::block_on`].
    ///
    /// # Panics
    /// If `workers` is 0.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::sim::Builder::new().worker_threads(3).build().unwrap();
    /// assert_eq!(rt.handle().worker_threads(), 3);
    /// ```
    #[track_caller]
    pub fn worker_threads(&mut self, workers: usize) -> &mut Builder {
        assert!(
            workers > 0,
            "ticktock::sim: `worker_threads` must be at least 1"
        );
        self.workers = workers;
        self
    }

    /// The most logical workers [`Handle::set_worker_threads`](crate::Handle::set_worker_threads)
    /// may grow the simulation to (default: `worker_threads`, no growth). A grow
    /// adopts stopped workers (no thread starts); a shrink retires workers as the
    /// real runtime does, migrating their timers to the survivors.
    ///
    /// # Panics
    /// If `workers` is 0.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::sim::Builder::new()
    ///     .worker_threads(2)
    ///     .max_worker_threads(4)
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     ticktock_executor::Handle::current().set_worker_threads(4);
    /// });
    /// assert_eq!(rt.handle().worker_threads(), 4);
    /// ```
    #[track_caller]
    pub fn max_worker_threads(&mut self, workers: usize) -> &mut Builder {
        assert!(
            workers > 0,
            "ticktock::sim: `max_worker_threads` must be at least 1"
        );
        self.max_workers = Some(workers);
        self
    }

    /// Ticks between two maintenance passes of a logical worker (firing its due
    /// timers while it has tasks to run), as [`crate::Builder::event_interval`].
    ///
    /// # Panics
    /// If `interval` is 0.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::sim::Builder::new().event_interval(7).build().unwrap();
    /// rt.block_on(async {});
    /// ```
    #[track_caller]
    pub fn event_interval(&mut self, interval: u32) -> &mut Builder {
        assert!(
            interval > 0,
            "ticktock::sim: `event_interval` must be at least 1"
        );
        self.config.event_interval = interval;
        self
    }

    /// Ticks between a logical worker's looks at the global queue first, as
    /// [`crate::Builder::global_queue_interval`].
    ///
    /// # Panics
    /// If `interval` is 0.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::sim::Builder::new().global_queue_interval(5).build().unwrap();
    /// rt.block_on(async {});
    /// ```
    #[track_caller]
    pub fn global_queue_interval(&mut self, interval: u32) -> &mut Builder {
        assert!(
            interval > 0,
            "ticktock::sim: `global_queue_interval` must be at least 1"
        );
        self.config.global_queue_interval = interval;
        self
    }

    /// Builds the simulation: the real runtime's parts for the logical workers,
    /// the clock paused at a fixed start, no thread, and a simulated network
    /// (`sim::net`) for the sockets created inside, seeded from the simulation's
    /// seed.
    ///
    /// # Errors
    /// If `TICKTOCK_SEED` is set to something that is not a seed
    /// ([`io::ErrorKind::InvalidInput`]), or if the OS refuses the runtime's
    /// poller (`epoll_create`, `eventfd`).
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::sim::Builder::new().seed(1).build().unwrap();
    /// let task = rt.spawn(async { "ran" });
    /// assert_eq!(rt.block_on(task).unwrap(), "ran");
    /// ```
    pub fn build(&mut self) -> io::Result<Runtime> {
        let seed = seed_from_env()
            .map_err(|message| io::Error::new(io::ErrorKind::InvalidInput, message))?
            .unwrap_or(self.seed);
        let mut blueprint = self.blueprint();
        // Sockets inside a simulation go through its own network (`sim/net/`),
        // whose loss draws are seeded from the simulation's seed.
        blueprint.config.simulated_network = Some(network_seed(seed));
        let (handle, cores) = Handle::construct(blueprint)?;
        Ok(Runtime::from_parts(handle, seed, cores))
    }

    /// What the runtime's parts are built from.
    fn blueprint(&self) -> Blueprint {
        Blueprint {
            flavor: Flavor::MultiThread,
            workers: self.workers,
            max_workers: self.max_workers.unwrap_or(self.workers).max(self.workers),
            max_blocking_threads: 0,
            thread_name: "ticktock-sim".to_string(),
            config: self.config.clone(),
            follow_cgroup: None,
            start_paused: true,
            start_worker_thread: adopt_core,
            simulated: true,
        }
    }
}

/// XORed into a simulation's seed to seed its network: the network's loss draws and
/// the scheduler's choices come from different streams of the same seed.
/// ("net" in ASCII; any constant would do.)
const NETWORK_SEED_SALT: u64 = 0x6E_6574;

/// The seed of a simulation's network (see [`NETWORK_SEED_SALT`]).
fn network_seed(seed: u64) -> u64 {
    seed ^ NETWORK_SEED_SALT
}

/// A grow's start function: no thread; the core waits in `Shared::idle_cores`
/// until the simulation adopts it at its next draw (`sim/scheduler.rs`).
fn adopt_core(handle: &Handle, core: Box<Core>) -> io::Result<Option<std::thread::JoinHandle<()>>> {
    lock(&handle.shared.idle_cores).push(core);
    Ok(None)
}
