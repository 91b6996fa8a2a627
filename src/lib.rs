//! # ticktock
//!
//! An async runtime whose timers are built the way Go's runtime builds them — one
//! timer store per worker (Go's 4-ary heap for near deadlines, a hierarchical wheel
//! for far ones), idle workers stealing expired timers, a poller woken only by
//! earlier deadlines — and made leak-proof by
//! Rust ownership: dropping a `Sleep`, `Interval` or `Timeout` frees its timer, so
//! Go's classic leaks (a `Ticker` never stopped, `time.After` in a loop) cannot
//! happen. The API uses tokio's names.
//!
//! This crate only re-exports: the scheduler and the task/time APIs live in
//! `ticktock-executor`, the timer data structures in `ticktock-timer`.
//!
//! # The timer model
//! - **Per-worker stores.** A `Sleep` registers, on its first poll, in the timer
//!   store of the worker polling it (threads that are not workers share one more
//!   store). Deadlines are kept in nanoseconds since the runtime started.
//! - **Two tiers.** Deadlines within about a millisecond sit in an exact 4-ary
//!   min-heap; later ones in a hierarchical wheel, from which they cascade into the
//!   heap as their time comes. Everything fires from the heap, at its nanosecond
//!   deadline.
//! - **Cheap cancel and reset, at any scale.** Dropping a far sleep takes it out of
//!   its wheel bucket in O(1); a near one's heap element goes stale in O(1) and is
//!   removed at the top or when stale elements exceed a quarter of the heap.
//!   `Sleep::reset` reuses the entry and moves it between buckets in O(1).
//! - **Stealing.** A worker with nothing to run fires the due timers of every other
//!   worker's heap, so a worker stuck in blocking code does not delay its timers.
//! - **Parking.** One parked worker sleeps in the mio poller until the earliest
//!   deadline over all heaps; an earlier new deadline wakes it, a later one does not.
//!
//! # Guarantees
//! Timers never fire early, a cancelled or reset timer never wakes its task for an
//! old deadline, timers of one store fire in deadline order, and dropping the
//! runtime cancels every task and frees every timer.
//!
//! # Examples
//! ```
//! use std::time::Duration;
//! use ticktock::time::{interval, sleep, timeout};
//!
//! let rt = ticktock::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let worker = ticktock::spawn(async {
//!         sleep(Duration::from_millis(5)).await;
//!         "slept"
//!     });
//!     let mut ticks = interval(Duration::from_millis(1));
//!     for _ in 0..3 {
//!         ticks.tick().await;
//!     }
//!     assert_eq!(worker.await.unwrap(), "slept");
//!     assert!(timeout(Duration::from_millis(1), sleep(Duration::MAX)).await.is_err());
//! });
//! ```
//!
//! # Attribute macros
//! With the default `macros` feature, [`macro@main`] and [`macro@test`] run an
//! `async fn` on a runtime they build, with tokio's options (`flavor`,
//! `worker_threads`):
//! ```
//! #[ticktock::main(flavor = "current_thread")]
//! async fn main() {
//!     let task = ticktock::spawn(async { "spawned" });
//!     assert_eq!(task.await.unwrap(), "spawned");
//! }
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub use ticktock_executor::{
    runtime, spawn, task, time, Builder, EnterGuard, Handle, Runtime, RuntimeMetrics, StoreStats,
    TimerMetrics, TimerSite, WorkerMetrics,
};

pub use ticktock_executor::net;

pub use ticktock_executor::sim;

#[cfg(unix)]
pub use ticktock_executor::signal;

#[cfg(feature = "hyper")]
pub use ticktock_executor::hyper;

#[cfg(feature = "http")]
pub use ticktock_executor::serve;

#[cfg(feature = "http-client")]
pub use ticktock_executor::http;

/// The tokio bridge (feature `tokio-compat`): a small tokio runtime whose handle is
/// current on ticktock's threads, for libraries that call tokio's runtime themselves.
#[cfg(feature = "tokio-compat")]
pub use ticktock_executor::compat;

// `task_local!`, as tokio's (its keys are `ticktock::task::LocalKey`).
pub use ticktock_executor::task_local;

// The attribute macros; their docs and examples come from `ticktock-macros`.
#[cfg(feature = "macros")]
pub use ticktock_macros::{main, test};

/// The timer data structures (per-worker store: heap and wheel), for inspection and
/// for building other schedulers on them.
pub use ticktock_timer as timer;
