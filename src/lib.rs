//! # ticktock
//!
//! An async runtime whose timers are built the way Go's runtime builds them — one
//! 4-ary timer heap per worker, lazy deletion with compaction, idle workers stealing
//! expired timers, a poller woken only by earlier deadlines — and made leak-proof by
//! Rust ownership: dropping a `Sleep`, `Interval` or `Timeout` frees its timer, so
//! Go's classic leaks (a `Ticker` never stopped, `time.After` in a loop) cannot
//! happen. The API uses tokio's names.
//!
//! This crate only re-exports: the scheduler and the task/time APIs live in
//! `ticktock-executor`, the timer data structures in `ticktock-timer`.
//!
//! # The timer model
//! - **Per-worker heaps.** A `Sleep` registers, on its first poll, in the 4-ary
//!   min-heap of the worker polling it (threads that are not workers share one more
//!   heap). Deadlines are kept in nanoseconds since the runtime started.
//! - **Cheap cancel and reset.** Dropping a sleep marks its heap element stale in
//!   O(1); stale elements are removed when they reach the top, or all at once when
//!   they exceed a quarter of the heap. `Sleep::reset` reuses the entry.
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
    runtime, spawn, task, time, Builder, EnterGuard, Handle, Runtime, RuntimeMetrics, TimerMetrics,
    TimerSite, WorkerMetrics,
};

pub use ticktock_executor::net;

#[cfg(unix)]
pub use ticktock_executor::signal;

#[cfg(feature = "hyper")]
pub use ticktock_executor::hyper;

// The attribute macros; their docs and examples come from `ticktock-macros`.
#[cfg(feature = "macros")]
pub use ticktock_macros::{main, test};

/// The timer data structures (per-worker 4-ary heap store), for inspection and
/// for building other schedulers on them.
pub use ticktock_timer as timer;
