//! Runtime metrics: the snapshot users read.
//!
//! # What it owns
//! The public [`RuntimeMetrics`] / [`WorkerMetrics`] / [`TimerMetrics`] snapshots,
//! built on demand from the per-worker counters (`counters.rs`) and from the timer
//! stores (whose own counters live under the store lock).

use crate::loom::sync::atomic::Ordering;

pub use ticktock_timer::StoreStats;

use crate::runtime::shared::Shared;

/// A snapshot of a runtime's counters, from [`Handle::metrics`](crate::Handle::metrics).
///
/// Each timer store is read under its own lock, one store after the other, so the
/// snapshot is not atomic across workers: while a retiring worker moves its timers
/// (`Handle::set_worker_threads`), a slice may move between the reads of two
/// stores and the per-worker `live` counts then add up to fewer (or more) timers
/// than exist. Read again once the move is over for exact totals.
///
/// # Examples
/// ```
/// let rt = ticktock_executor::Builder::new_multi_thread().worker_threads(2).build().unwrap();
/// let metrics = rt.handle().metrics();
/// assert_eq!(metrics.workers, 2);
/// assert_eq!(metrics.per_worker.len(), 2);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RuntimeMetrics {
    /// Number of workers: the most workers the runtime can have
    /// ([`Builder::max_worker_threads`](crate::Builder::max_worker_threads)).
    pub workers: usize,
    /// Workers that have a thread now (a retiring worker counts until its
    /// thread exits). Follows [`Handle::set_worker_threads`](crate::Handle::set_worker_threads).
    pub active_workers: usize,
    /// Worker threads started by resizes (not those started at build time).
    pub workers_started: u64,
    /// Worker threads running now. After a shutdown returns it counts the workers
    /// still inside a task's poll that has not returned (a task that never
    /// yields): their tasks could not be dropped, and the runtime's descriptors
    /// stay open until those polls return. Zero once every worker has stopped.
    pub worker_threads: usize,
    /// Workers retired by resizes (counted when the retired thread exits, after
    /// its tasks and timers were handed over).
    pub workers_retired: u64,
    /// Tasks spawned and not yet finished.
    pub alive_tasks: usize,
    /// Tasks spawned since the runtime started (`spawn_blocking` jobs excluded).
    pub spawned_tasks: u64,
    /// Tasks waiting in the global queue.
    pub injector_depth: usize,
    /// I/O sources (sockets) registered with the reactor.
    pub io_registrations: usize,
    /// Accepts that failed with an error from the operating system (`EMFILE`,
    /// `ENFILE`, `ENOBUFS`, `ECONNABORTED`, ...) on any listener of this runtime,
    /// `serve`'s included. Refusals while the runtime drains are not counted.
    pub accept_errors: u64,
    /// Times a newly registered timer with an earlier deadline than the poller's
    /// woke the poller (Go's `wakeNetPoller`). Later deadlines never count here.
    pub earlier_deadline_wakeups: u64,
    /// One entry per worker (a worker without a thread keeps its counters).
    pub per_worker: Vec<WorkerMetrics>,
    /// The store of threads that are not workers (`block_on` callers and others).
    pub external_timers: TimerMetrics,
}

/// One worker's counters, part of [`RuntimeMetrics`].
///
/// # Examples
/// ```
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// for worker in rt.handle().metrics().per_worker {
///     println!("{} polls, {} live timers", worker.polls, worker.timers.live);
/// }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WorkerMetrics {
    /// Task polls run by this worker.
    pub polls: u64,
    /// Successful steals of tasks from other workers.
    pub steals: u64,
    /// Times this worker parked.
    pub parks: u64,
    /// Times this worker woke up from parking (an unpark, a deadline or an I/O event).
    pub unparks: u64,
    /// Timers (of any store) fired by this worker.
    pub timers_fired: u64,
    /// This worker's timer store.
    pub timers: TimerMetrics,
}

/// One timer store's state and counters, part of [`RuntimeMetrics`].
///
/// # Examples
/// ```
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// let external = rt.handle().metrics().external_timers;
/// assert_eq!(external.live, 0);
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct TimerMetrics {
    /// Pending timers.
    pub live: usize,
    /// Heap elements (the near tier), including stale ones awaiting lazy deletion.
    pub heap_len: usize,
    /// Timers in the wheel (the far tier: deadlines beyond the current millisecond
    /// window).
    pub wheel_len: usize,
    /// Stale heap elements (cancelled or reset timers).
    pub stale: usize,
    /// Occupied entries in the store's slab.
    pub slab_len: usize,
    /// What the store did (inserted, fired, cancelled, reset, compactions, cascaded,
    /// migrated out and in), as the timer crate counts it: its own
    /// [`StoreStats`], not a copy field by field.
    pub events: StoreStats,
    /// Timers of this store fired by a thread other than its owner (counted by the
    /// runtime, which knows who fires).
    pub stolen: u64,
}

pub(crate) fn snapshot(shared: &Shared) -> RuntimeMetrics {
    let timer_metrics = |id: usize| {
        let cell = shared.timers.store(id);
        // Cancels queued by other threads before this call are not live timers.
        cell.settle();
        let store = cell.lock();
        TimerMetrics {
            live: store.live(),
            heap_len: store.heap_len(),
            wheel_len: store.wheel_len(),
            stale: store.stale(),
            slab_len: store.slab_len(),
            events: store.stats().clone(),
            stolen: cell.counters.stolen.load(Ordering::Relaxed),
        }
    };
    let per_worker = (0..shared.workers())
        .map(|index| {
            let counters = &shared.counters[index];
            WorkerMetrics {
                polls: counters.polls.load(Ordering::Relaxed),
                steals: counters.steals.load(Ordering::Relaxed),
                parks: counters.parks.load(Ordering::Relaxed),
                unparks: counters.unparks.load(Ordering::Relaxed),
                timers_fired: counters.timers_fired.load(Ordering::Relaxed),
                timers: timer_metrics(index),
            }
        })
        .collect();
    RuntimeMetrics {
        workers: shared.workers(),
        active_workers: shared.elastic.threads_alive(),
        workers_started: shared.elastic.started.load(Ordering::Relaxed),
        workers_retired: shared.elastic.retired.load(Ordering::Relaxed),
        worker_threads: shared.threads_running(),
        alive_tasks: shared.registry.len(),
        spawned_tasks: shared.registry.spawned(),
        injector_depth: shared.injector.len(),
        io_registrations: shared.parking.driver.reactor().live(),
        accept_errors: shared.parking.driver.reactor().accept_errors(),
        earlier_deadline_wakeups: shared
            .parking
            .driver
            .earlier_deadline_wakeups
            .load(Ordering::Relaxed),
        per_worker,
        external_timers: timer_metrics(shared.timers.external_id()),
    }
}
