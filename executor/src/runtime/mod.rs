//! The runtime: its builder, its handle, and the machinery behind them.
//!
//! The folders are the runtime's parts; docs/design.md, section 0, is the one map of
//! every file, its layer and what it owns (`executor/tests/layers.rs` checks it):
//!
//! - `scheduler/`: the worker loop, a worker's core and LIFO cell, parking and waking
//!   workers, worker threads, `block_on`;
//! - `timers/`: the per-worker timer stores, firing and stealing due timers, the
//!   clock and when a paused clock jumps, the leak report;
//! - `driver/`: the mio poller one parked worker sleeps in, the earlier-deadline
//!   wake-up, the timerfd wait;
//! - `elastic/`: which workers have a thread, resizing, retiring (and migrating a
//!   retiring worker's timers), the cgroup CPU limit;
//! - `tasks/`: the task wrapper, the live-task registry, the blocking pool;
//! - here: [`Builder`] (`builder.rs`), [`Runtime`] (`runtime.rs`), [`Handle`]'s state
//!   (`shared.rs`) and methods (`handle.rs`), settings, counters and metrics.

mod builder;
pub(crate) mod config;
mod counters;
pub(crate) mod driver;
pub(crate) mod elastic;
mod flavor;
mod handle;
#[cfg(all(test, loom))]
mod loom_tests;
mod metrics;
// `Runtime` in `runtime.rs`, as tokio names it.
#[allow(clippy::module_inception)]
mod runtime;
pub(crate) mod scheduler;
pub(crate) mod shared;
pub(crate) mod tasks;
pub(crate) mod timers;
#[cfg(feature = "tokio-compat")]
mod tokio_compat;

pub use builder::Builder;
pub use flavor::{RuntimeFlavor, TryCurrentError};
pub use handle::EnterGuard;
pub use metrics::{RuntimeMetrics, StoreStats, TimerMetrics, WorkerMetrics};
pub use runtime::Runtime;
pub use shared::Handle;
pub use timers::leak_report::TimerSite;

pub(crate) use tasks::task_wrapper::TaskFuture;
