//! The tokio bridge (feature `tokio-compat`): one small tokio runtime per process,
//! whose handle is current on ticktock's threads, so that libraries which call
//! tokio's runtime themselves (`tokio::spawn`, `tokio::time`, `tokio::net`:
//! reqwest, tonic's `Channel`, sqlx, tower-http's `TimeoutLayer`) work when polled
//! by ticktock tasks.
//!
//! # What it owns
//! - The bridge runtime: a tokio multi-thread runtime with [`BRIDGE_WORKER_THREADS`]
//!   worker thread, named [`BRIDGE_THREAD_NAME`], with tokio's I/O and time drivers.
//!   It is built on first need (the first ticktock runtime thread or `block_on` call
//!   that enters it) and lives until the process exits (a `static`, never dropped).
//! - Nothing per ticktock runtime: each runtime thread holds a `TokioContext`
//!   guard (tokio's `EnterGuard`) for its whole life, and each `block_on` call for
//!   its duration. `Builder::tokio_compat(false)` makes the guard empty.
//!
//! # How a library call runs
//! The library's future is polled by a ticktock task, on a ticktock worker. What it
//! hands to tokio runs on the bridge runtime instead:
//! - `tokio::spawn` queues the task on the bridge runtime's worker;
//! - a `tokio::net` socket registers with the bridge runtime's reactor, whose
//!   thread wakes the ticktock task (through its ticktock waker) when the socket is
//!   ready;
//! - a `tokio::time::sleep` is a timer in tokio's wheel (millisecond resolution),
//!   fired by the bridge runtime's thread.
//!
//! # What it costs
//! - **Threads**: one tokio worker thread for the whole process, plus tokio's
//!   blocking threads when a library calls `spawn_blocking` (reqwest's DNS
//!   resolver does, for names; not for IP addresses). Idle, the worker sleeps in
//!   epoll: no CPU.
//! - **A cross-thread wake per library I/O event and per library timer**: the
//!   bridge's thread sees the event, then wakes the ticktock task, which a ticktock
//!   worker picks up (an unpark when that worker sleeps). ticktock's own sockets
//!   and timers are driven by the worker that polls them. docs/benchmarks.md
//!   measures the difference (a TCP round trip on `tokio::net` through the bridge
//!   against `ticktock::net`).
//! - **Library timers run on tokio's wheel**, with its millisecond rounding, not on
//!   ticktock's per-worker heaps; `ticktock::time::pause` does not pause them.
//! - **Library tasks run on the bridge's single worker**: a library that spawns CPU
//!   work with `tokio::spawn` gets one thread for all of it, not ticktock's workers.
//!
//! # Ground rules
//! - The guard is entered before anything else on a runtime thread (before the
//!   `on_thread_start` hook) and dropped after everything else, so guards nest in
//!   order: tokio panics if its guards are dropped out of order.
//! - This module knows tokio only: no ticktock runtime state (layer 0).

use std::sync::OnceLock;

/// Worker threads of the bridge runtime. One: the bridge only drives library I/O,
/// timers and the small tasks libraries spawn (connection drivers, pool
/// maintenance), while the application's tasks run on ticktock's workers.
pub const BRIDGE_WORKER_THREADS: usize = 1;

/// The bridge runtime's thread name, so it is recognisable in `top -H` and
/// debuggers.
pub const BRIDGE_THREAD_NAME: &str = "ticktock-tokio-compat";

/// The bridge runtime, built on first need.
static BRIDGE: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

/// The handle of the process's bridge runtime, building the runtime (and starting
/// its thread) if this is the first need. Code that wants to run something on
/// tokio's runtime explicitly can spawn onto it.
///
/// # Panics
/// If the bridge runtime cannot be built (the OS refuses a thread or an epoll
/// instance), with tokio's error in the message.
///
/// # Examples
/// ```
/// let tokio_handle = ticktock_executor::compat::tokio_handle();
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// let answer = rt.block_on(async {
///     // Runs on the bridge's tokio worker; awaited from ticktock.
///     tokio_handle.spawn(async { 6 * 7 }).await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
pub fn tokio_handle() -> &'static tokio::runtime::Handle {
    BRIDGE
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(BRIDGE_WORKER_THREADS)
                .thread_name(BRIDGE_THREAD_NAME)
                .enable_all()
                .build()
                .unwrap_or_else(|error| {
                    panic!("ticktock: could not start the tokio-compat runtime: {error}")
                })
        })
        .handle()
}

/// Whether the bridge runtime has been built in this process (by a ticktock
/// runtime thread, a `block_on` call or [`tokio_handle`]).
///
/// # Examples
/// ```
/// let _ = ticktock_executor::compat::tokio_handle();
/// assert!(ticktock_executor::compat::is_started());
/// ```
pub fn is_started() -> bool {
    BRIDGE.get().is_some()
}

/// Makes the bridge's handle current on this thread until dropped (empty when the
/// runtime turned the bridge off).
pub(crate) struct TokioContext {
    _guard: Option<tokio::runtime::EnterGuard<'static>>,
}

/// Enters the bridge runtime's context on this thread if `enabled` (the runtime's
/// `Builder::tokio_compat` setting), building the bridge on first need.
pub(crate) fn enter(enabled: bool) -> TokioContext {
    TokioContext {
        _guard: enabled.then(|| tokio_handle().enter()),
    }
}
