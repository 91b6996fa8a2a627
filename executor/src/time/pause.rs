//! Virtual time for tests: [`pause`], [`resume`], [`advance`].
//!
//! Only on a current-thread runtime (as in tokio): with several workers, "idle"
//! is not a state the clock could safely jump on.
//!
//! Everything that reads the runtime's clock follows it: the deadlines computed by
//! `sleep`, `timeout` and `interval`, and [`Instant::now`](crate::time::Instant::now)
//! and `elapsed`. Only `std::time::Instant::now()`, called directly, keeps reading
//! the wall clock.

use std::time::Duration;

use crate::runtime::Flavor;
use crate::runtime::Handle;

#[track_caller]
fn current_thread_handle(what: &str) -> Handle {
    let Ok(handle) = Handle::try_current() else {
        panic!("ticktock: `time::{what}` called outside a ticktock runtime");
    };
    if handle.shared.flavor != Flavor::CurrentThread {
        panic!(
            "ticktock: `time::{what}` requires a current-thread runtime \
             (`Builder::new_current_thread`)"
        );
    }
    handle
}

/// Freezes the runtime's clock. While it is frozen and the runtime has nothing to
/// run, the clock jumps straight to the next timer deadline (auto-advance), so
/// tests of timeouts and intervals finish instantly and deterministically.
///
/// # Panics
/// Panics outside a current-thread runtime, or if time is already paused.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let rt = ticktock_executor::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     ticktock_executor::time::pause();
///     let start = ticktock_executor::time::Instant::now();
///     let wall = std::time::Instant::now();
///     ticktock_executor::time::sleep(Duration::from_secs(3600)).await; // instant
///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
///     assert!(wall.elapsed() < Duration::from_secs(1));
/// });
/// ```
#[track_caller]
pub fn pause() {
    current_thread_handle("pause").shared.timers.clock.pause();
}

/// Lets a paused clock run again, from the instant it stood at.
///
/// # Panics
/// Panics outside a current-thread runtime, or if time is not paused.
///
/// # Examples
/// ```
/// let rt = ticktock_executor::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     ticktock_executor::time::pause();
///     ticktock_executor::time::resume();
/// });
/// ```
#[track_caller]
pub fn resume() {
    current_thread_handle("resume").shared.timers.clock.resume();
}

/// Moves a paused clock forward by `duration`, fires the timers that became due,
/// and yields so their tasks run before the caller continues.
///
/// # Panics
/// Panics outside a current-thread runtime, or if time is not paused.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use ticktock_executor::time;
/// let rt = ticktock_executor::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     time::pause();
///     let sleeper = ticktock_executor::spawn(time::sleep(Duration::from_secs(10)));
///     time::advance(Duration::from_secs(10)).await;
///     assert!(sleeper.is_finished());
/// });
/// ```
#[track_caller]
pub fn advance(duration: Duration) -> impl std::future::Future<Output = ()> {
    let handle = current_thread_handle("advance");
    handle.shared.timers.clock.advance(duration);
    async move {
        crate::runtime::worker::fire_all_due(&handle);
        crate::task::yield_now().await;
    }
}
