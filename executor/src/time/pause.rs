//! Virtual time for tests: [`pause`], [`resume`], [`advance`].
//!
//! On every flavour. The clock of a paused runtime moves only by [`advance`] and
//! by auto-advance, which jumps it to the next timer deadline when the runtime is
//! idle (see [`pause`] for the definition, and `runtime/timers/auto_advance.rs`).
//!
//! Everything that reads the runtime's clock follows it: the deadlines computed by
//! `sleep`, `timeout` and `interval`, and [`Instant::now`](crate::time::Instant::now)
//! and `elapsed`. Only `std::time::Instant::now()`, called directly, keeps reading
//! the wall clock.

use std::time::Duration;

use crate::runtime::Handle;

#[track_caller]
fn current_handle(what: &str) -> Handle {
    match Handle::try_current() {
        Ok(handle) => handle,
        Err(_) => panic!("ticktock: `time::{what}` called outside a ticktock runtime"),
    }
}

/// Freezes the runtime's clock. While it is frozen and the runtime is *idle*, the
/// clock jumps straight to the next timer deadline (auto-advance), so tests of
/// timeouts, retries and intervals finish at once and the same way every run.
///
/// Works on a current-thread and on a multi-thread runtime. The runtime is idle,
/// and the clock may jump, only when nothing else can happen (Go's
/// `testing/synctest` calls this "durably blocked"):
/// - every worker is parked and no task is runnable: every queue is empty, no timer
///   is due;
/// - no task is being polled, on a worker or on a thread outside the workers (a
///   `block_on` caller's future, user code inside
///   [`block_in_place`](crate::task::block_in_place));
/// - no I/O event is ready: the runtime polls its sockets *without waiting* just
///   before it jumps, and runs what that wakes first (a reply already sent over
///   loopback is read before a timeout fires);
/// - no [`spawn_blocking`](crate::task::spawn_blocking) job is queued or running.
///
/// A task waiting on a socket does not keep the clock still (as in tokio; Go never
/// jumps while a goroutine waits on the network): only I/O that has already arrived
/// does. A wake from a thread outside the runtime that completed before the runtime
/// decided to jump is seen: its task runs before the jump.
///
/// In a [`sim::Runtime`](crate::sim::Runtime), whose clock is virtual from the
/// start, it does nothing (so a test written for paused time runs unchanged).
///
/// # Panics
/// Panics outside a ticktock runtime, or if time is already paused (outside a
/// simulation).
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
///
/// On a multi-thread runtime, with tasks on several workers:
/// ```
/// use std::time::Duration;
/// use ticktock_executor::time::{self, Instant};
/// let rt = ticktock_executor::Builder::new_multi_thread().worker_threads(2).build().unwrap();
/// rt.block_on(async {
///     time::pause();
///     let start = Instant::now();
///     let tasks: Vec<_> = (1..=3u64)
///         .map(|i| ticktock_executor::spawn(async move {
///             time::sleep(Duration::from_secs(60 * i)).await;
///             start.elapsed()
///         }))
///         .collect();
///     for (i, task) in (1..=3u64).zip(tasks) {
///         assert_eq!(task.await.unwrap(), Duration::from_secs(60 * i));
///     }
/// });
/// ```
#[track_caller]
pub fn pause() {
    let handle = current_handle("pause");
    if handle.shared.simulated {
        return;
    }
    handle.shared.timers.clock.pause();
    // Workers asleep until a real deadline decide again, under paused time.
    handle.shared.parking.unpark_each();
}

/// Lets a paused clock run again, from the instant it stood at.
///
/// # Panics
/// Panics outside a ticktock runtime, if time is not paused, and in a
/// [`sim::Runtime`](crate::sim::Runtime), whose clock cannot run on real time.
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
    let handle = current_handle("resume");
    assert!(
        !handle.shared.simulated,
        "ticktock: `time::resume` in a simulation: its clock is virtual and cannot run on \
         real time"
    );
    handle.shared.timers.clock.resume();
    // Workers asleep without a timeout (paused time) must sleep until real
    // deadlines again.
    handle.shared.parking.unpark_each();
}

/// Moves a paused clock forward by `duration`, fires the timers that became due,
/// and yields so their tasks run before the caller continues (on a multi-thread
/// runtime they run on the workers, concurrently with the caller).
///
/// # Panics
/// Panics outside a ticktock runtime, or if time is not paused.
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
    let handle = current_handle("advance");
    handle.shared.timers.clock.advance(duration);
    async move {
        crate::runtime::scheduler::worker_loop::fire_all_due(&handle);
        crate::task::yield_now().await;
    }
}
