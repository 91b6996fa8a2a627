//! Time: [`sleep`], [`interval`] and [`timeout`], in tokio's vocabulary, on
//! ticktock's per-worker timer heaps, and [`Instant`], "now" on the runtime's clock
//! (which [`pause`] freezes).
//!
//! # The timer model
//! Every worker owns a timer store (Go's design): near deadlines in a 4-ary
//! min-heap, far ones in a hierarchical wheel that cascades them into the heap as
//! their time comes. A [`Sleep`] registers in the store of the worker that first
//! polls it, in nanoseconds (no rounding to milliseconds), and fires when that
//! worker, or any idle worker stealing expired timers, finds its deadline passed. A
//! parked worker sleeps in the poller until the earliest deadline of all stores;
//! registering an earlier deadline wakes it only if it would otherwise wake too late
//! by more than a small slack, and a later one never does.
//!
//! # Guarantees
//! - Never early: a sleep completes at or after its deadline.
//! - No stale fires: a dropped or reset sleep never wakes its task for the old deadline.
//! - No leaks: dropping a `Sleep`, `Interval` or `Timeout` frees its timer (lazily, in
//!   O(1); the heap compacts when more than a quarter of it is stale).
//! - No overflow: `Duration::MAX` and far-future instants mean "never".
//!
//! # Examples
//! ```
//! use std::time::Duration;
//! use ticktock_executor::time::{interval, sleep, timeout};
//!
//! let rt = ticktock_executor::Runtime::new().unwrap();
//! rt.block_on(async {
//!     sleep(Duration::from_millis(1)).await;
//!     let mut ticks = interval(Duration::from_millis(1));
//!     ticks.tick().await;
//!     assert!(timeout(Duration::from_millis(1), sleep(Duration::MAX)).await.is_err());
//! });
//! ```

pub mod error;
mod instant;
mod interval;
mod pause;
mod sleep;
mod timeout;

/// Re-exported from the standard library, as tokio's `time` module does, so that
/// `use tokio::time::{self, Duration, Instant}` ports by changing `tokio` to `ticktock`.
///
/// # Examples
/// ```
/// use ticktock_executor::time::{self, Duration, Instant};
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     time::sleep(Duration::from_millis(1)).await;
///     assert!(start.elapsed() >= Duration::from_millis(1));
/// });
/// ```
pub use std::time::Duration;

pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use pause::{advance, pause, resume};
pub use sleep::Sleep;
pub use timeout::{timeout, timeout_at, Timeout};

/// Waits until `duration` has elapsed. `Duration::MAX` sleeps forever (clamped, no
/// overflow). Zero completes on first poll.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     ticktock_executor::time::sleep(Duration::from_millis(1)).await;
/// });
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::at_nanos(sleep::deadline_nanos_after(duration))
}

/// Waits until `deadline`. A deadline in the past completes on first poll.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use ticktock_executor::time::Instant;
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(1);
///     ticktock_executor::time::sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline.into_std())
}
