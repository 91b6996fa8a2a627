//! [`Interval`]: ticks at a fixed period, with a policy for missed ticks.
//!
//! An interval is one [`Sleep`] re-armed with `reset` after every tick, so a ticking
//! interval owns exactly one timer entry and never allocates per tick. Dropping it
//! frees the entry: unlike Go's `Ticker`, there is no `Stop` to forget.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::instant::Instant;
use super::sleep::{deadline_after, Sleep};

/// Creates an interval whose first tick completes immediately and whose later ticks
/// come every `period`.
///
/// # Panics
/// Panics if `period` is zero (an interval that ticks continuously would spin).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let mut interval = ticktock_executor::time::interval(Duration::from_millis(2));
///     let first = interval.tick().await;
///     let second = interval.tick().await;
///     assert!(second - first >= Duration::from_millis(2));
/// });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "ticktock: `interval` period must be non-zero (a zero period would tick continuously)"
    );
    interval_at(Instant::now(), period)
}

/// Creates an interval whose first tick completes at `start` and whose later ticks
/// come every `period` after it. A `start` in the past makes the first tick
/// immediate and then follows the missed-tick policy.
///
/// # Panics
/// Panics if `period` is zero.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use ticktock_executor::time::Instant;
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let start = Instant::now() + Duration::from_millis(5);
///     let mut interval = ticktock_executor::time::interval_at(start, Duration::from_millis(5));
///     assert_eq!(interval.tick().await, start);
/// });
/// ```
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "ticktock: `interval_at` period must be non-zero (a zero period would tick continuously)"
    );
    Interval {
        delay: Sleep::new(start.into_std()),
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

/// What an [`Interval`] does when ticks were missed (the task was busy past one or
/// more deadlines).
///
/// # Examples
/// ```
/// use ticktock_executor::time::{interval, MissedTickBehavior};
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let mut interval = interval(std::time::Duration::from_millis(10));
///     interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
///     assert_eq!(interval.missed_tick_behavior(), MissedTickBehavior::Skip);
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks as fast as possible until caught up, keeping the
    /// original schedule (the default).
    #[default]
    Burst,
    /// Tick once now, then every `period` from now: the schedule shifts.
    Delay,
    /// Tick once now, then at the next multiple of `period` on the original
    /// schedule: missed ticks are dropped.
    Skip,
}

impl MissedTickBehavior {
    /// The deadline after a tick that was due at `due` and observed at `now`.
    fn next_deadline(
        self,
        due: std::time::Instant,
        now: std::time::Instant,
        period: Duration,
    ) -> std::time::Instant {
        match self {
            MissedTickBehavior::Burst => deadline_after(due, period),
            MissedTickBehavior::Delay => deadline_after(now, period),
            MissedTickBehavior::Skip => {
                let behind = now.saturating_duration_since(due).as_nanos();
                let periods = behind / period.as_nanos() + 1;
                let skip = period.saturating_mul(u32::try_from(periods).unwrap_or(u32::MAX));
                deadline_after(due, skip)
            }
        }
    }
}

/// How late a tick may be before it counts as missed. Ticks are always observed a
/// little after their deadline (scheduling and wake-up latency); only lateness past
/// this threshold triggers the missed-tick policy, so `Delay` and `Skip` do not
/// drift on ordinary jitter.
const MISSED_TICK_THRESHOLD: Duration = Duration::from_millis(5);

/// Ticks at a fixed period. Created by [`interval`] and [`interval_at`].
///
/// It is a [`futures::Stream`] of tick instants too.
///
/// # Examples
/// ```
/// use futures::StreamExt;
/// use std::time::Duration;
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let ticks: Vec<_> = ticktock_executor::time::interval(Duration::from_millis(1))
///         .take(3)
///         .collect()
///         .await;
///     assert_eq!(ticks.len(), 3);
/// });
/// ```
#[derive(Debug)]
pub struct Interval {
    delay: Sleep,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Completes at the next tick and returns the instant it was scheduled for.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut interval = ticktock_executor::time::interval(std::time::Duration::from_millis(1));
    ///     interval.tick().await;
    /// });
    /// ```
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick: `Ready(instant)` when it is due.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut interval = ticktock_executor::time::interval(std::time::Duration::from_millis(1));
    ///     std::future::poll_fn(|cx| interval.poll_tick(cx)).await;
    /// });
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.delay).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let due = self.delay.deadline().into_std();
        let now = crate::context::current_runtime_instant();
        let next = if now.saturating_duration_since(due) > MISSED_TICK_THRESHOLD {
            self.missed_tick_behavior
                .next_deadline(due, now, self.period)
        } else {
            deadline_after(due, self.period)
        };
        Pin::new(&mut self.delay).reset(Instant::from_std(next));
        Poll::Ready(Instant::from_std(due))
    }

    /// Restarts the schedule: the next tick comes one period from now.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut interval = ticktock_executor::time::interval(std::time::Duration::from_millis(1));
    ///     interval.reset();
    ///     interval.tick().await;
    /// });
    /// ```
    pub fn reset(&mut self) {
        let next = deadline_after(crate::context::current_runtime_instant(), self.period);
        Pin::new(&mut self.delay).reset(Instant::from_std(next));
    }

    /// Moves the next tick to one period from now (tokio's `reset_after(period)`
    /// is [`Interval::reset`]).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let rt = ticktock_executor::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     ticktock_executor::time::pause();
    ///     let mut interval = ticktock_executor::time::interval(Duration::from_secs(10));
    ///     let first = interval.tick().await;
    ///     interval.reset_after(Duration::from_secs(3));
    ///     assert_eq!(interval.tick().await - first, Duration::from_secs(3));
    /// });
    /// ```
    pub fn reset_after(&mut self, after: Duration) {
        let next = deadline_after(crate::context::current_runtime_instant(), after);
        Pin::new(&mut self.delay).reset(Instant::from_std(next));
    }

    /// Moves the next tick to `deadline` (an instant in the past makes it due at
    /// once); later ticks follow one period apart from it.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let rt = ticktock_executor::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     ticktock_executor::time::pause();
    ///     let mut interval = ticktock_executor::time::interval(Duration::from_secs(10));
    ///     let first = interval.tick().await;
    ///     interval.reset_at(first + Duration::from_secs(4));
    ///     assert_eq!(interval.tick().await, first + Duration::from_secs(4));
    /// });
    /// ```
    pub fn reset_at(&mut self, deadline: Instant) {
        Pin::new(&mut self.delay).reset(deadline);
    }

    /// Makes the next tick due at once; later ticks follow one period apart from
    /// now.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let rt = ticktock_executor::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     ticktock_executor::time::pause();
    ///     let mut interval = ticktock_executor::time::interval(Duration::from_secs(10));
    ///     let first = interval.tick().await;
    ///     interval.reset_immediately();
    ///     assert_eq!(interval.tick().await, first);
    /// });
    /// ```
    pub fn reset_immediately(&mut self) {
        Pin::new(&mut self.delay).reset(Instant::now());
    }

    /// The period.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let _guard = rt.enter();
    /// let interval = ticktock_executor::time::interval(std::time::Duration::from_millis(7));
    /// assert_eq!(interval.period(), std::time::Duration::from_millis(7));
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The missed-tick policy.
    ///
    /// # Examples
    /// ```
    /// let interval = ticktock_executor::time::interval(std::time::Duration::from_millis(7));
    /// assert_eq!(interval.missed_tick_behavior(), ticktock_executor::time::MissedTickBehavior::Burst);
    /// ```
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Sets the missed-tick policy.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::time::MissedTickBehavior;
    /// let mut interval = ticktock_executor::time::interval(std::time::Duration::from_millis(7));
    /// interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }
}

impl futures::Stream for Interval {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}
