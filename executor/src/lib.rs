//! The ticktock scheduler: work-stealing workers, each with its own timer store
//! (an exact 4-ary heap for near deadlines, a wheel for far ones), parking in a
//! mio poller, and the `task` and `time` APIs in tokio's
//! vocabulary. Users normally depend on the `ticktock` facade crate, which
//! re-exports everything here.
//!
//! # Architecture in one paragraph
//! A [`Runtime`] owns N workers. Each worker has a local run queue (crossbeam-deque)
//! with a LIFO cell, and a timer store (slab entries, a 4-ary min-heap for near
//! deadlines and a hierarchical wheel for far ones, from `ticktock-timer`). Tasks are `async-task` raw tasks. A worker with nothing to run
//! fires its due timers, steals due timers from the other workers' stores, steals
//! tasks, then parks: one parked worker sleeps in the mio poller until the earliest
//! deadline of all stores; the others sleep on condition variables. A timer earlier
//! than the poller's deadline wakes it; a later one does not. `block_in_place` hands
//! a worker's queue and timer store to a fresh thread. Dropping the runtime cancels
//! every task and frees every timer.
//!
//! # Examples
//! ```
//! use std::time::Duration;
//! use ticktock_executor::{time, Runtime};
//!
//! let rt = Runtime::new().unwrap();
//! let total = rt.block_on(async {
//!     let tasks: Vec<_> = (0..10u64)
//!         .map(|i| {
//!             ticktock_executor::spawn(async move {
//!                 time::sleep(Duration::from_millis(i)).await;
//!                 i
//!             })
//!         })
//!         .collect();
//!     let mut total = 0;
//!     for task in tasks {
//!         total += task.await.unwrap();
//!     }
//!     total
//! });
//! assert_eq!(total, 45);
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(feature = "tokio-compat")]
pub mod compat;
mod context;
mod coop;
#[cfg(feature = "http-client")]
pub mod http;
#[cfg(feature = "hyper")]
pub mod hyper;
mod io;
mod loom;
pub mod net;
pub mod runtime;
#[cfg(feature = "http")]
pub mod serve;
#[cfg(unix)]
pub mod signal;
pub mod sim;
pub mod task;
pub mod time;
mod trace;

pub use runtime::{
    Builder, EnterGuard, Handle, Runtime, RuntimeMetrics, StoreStats, TimerMetrics, TimerSite,
    WorkerMetrics,
};
pub use task::spawn;

#[cfg(feature = "http")]
pub use serve::serve;

/// Compile-time checks that the types users share across threads are `Send`/`Sync`
/// where tokio's are.
#[allow(dead_code)]
fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Runtime>();
    send_sync::<Handle>();
    send_sync::<task::JoinError>();
    send_sync::<task::JoinHandle<()>>();
    send_sync::<task::JoinSet<()>>();
    send_sync::<task::AbortHandle>();
    send_sync::<task::Id>();
    send_sync::<time::Sleep>();
    send_sync::<time::Interval>();
    send_sync::<time::error::Elapsed>();
    send::<time::Timeout<std::future::Ready<()>>>();
    send_sync::<sim::Runtime>();
    send_sync::<sim::Builder>();
}
