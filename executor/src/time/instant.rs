//! [`Instant`]: a point in time on the runtime's clock, as tokio's `time::Instant`.
//!
//! # What it owns
//! Only the public face of "now". An `Instant` wraps a `std::time::Instant`; the
//! clock behind [`Instant::now`] is the current runtime's (`runtime/timers/clock.rs`, looked
//! up through `context::current_runtime_instant`), so under
//! [`pause`](crate::time::pause) it stands still and moves only by
//! [`advance`](crate::time::advance) and auto-advance, as the deadlines of `sleep`,
//! `timeout` and `interval` already do.
//!
//! # Invariants
//! - The wrapped value is on the same timeline as `std::time::Instant` (the runtime's
//!   clock measures from a process epoch that is a real `std` instant), so
//!   [`Instant::from_std`] and [`Instant::into_std`] are free and exact, and a
//!   deadline round-trips: `sleep_until(x).deadline() == x`.
//! - Outside any runtime, and in a runtime whose clock runs (never paused, or
//!   resumed), `Instant::now()` is the real clock.
//! - `now()` takes no lock: one relaxed load of a process-wide flag while no
//!   runtime ever paused time, else one thread-local look-up and the clock's atomics.
//!
//! # Ground rules
//! The timer machinery below this layer keeps nanoseconds and `std::time::Instant`;
//! the public time API converts at its boundary (`into_std` in, `from_std` out).

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

/// A measurement of a monotonic clock: the runtime's clock, which follows
/// [`pause`](crate::time::pause) and [`advance`](crate::time::advance), and the
/// real clock everywhere else.
///
/// It is a thin wrapper around [`std::time::Instant`] (convert with
/// [`from_std`](Instant::from_std), [`into_std`](Instant::into_std) or `From`), and
/// every ticktock time API takes and returns it.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use ticktock_executor::time::{self, Instant};
///
/// let rt = ticktock_executor::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     time::pause();
///     let start = Instant::now();
///     time::advance(Duration::from_millis(10)).await;
///     assert_eq!(start.elapsed(), Duration::from_millis(10));
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    std: std::time::Instant,
}

impl Instant {
    /// Now, on the clock of the current thread's runtime: the paused clock where
    /// time is paused, the real clock otherwise and outside any runtime.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::time::Instant;
    /// let earlier = Instant::now();
    /// assert!(Instant::now() >= earlier);
    /// ```
    #[must_use]
    pub fn now() -> Instant {
        Instant::from_std(crate::context::current_runtime_instant())
    }

    /// Wraps a `std::time::Instant` (the two share one timeline).
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::time::Instant;
    /// let std_now = std::time::Instant::now();
    /// assert_eq!(Instant::from_std(std_now).into_std(), std_now);
    /// ```
    #[must_use]
    pub fn from_std(std: std::time::Instant) -> Instant {
        Instant { std }
    }

    /// The `std::time::Instant` this wraps.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::time::Instant;
    /// let now = Instant::now();
    /// let std_now: std::time::Instant = now.into_std();
    /// assert_eq!(Instant::from_std(std_now), now);
    /// ```
    #[must_use]
    pub fn into_std(self) -> std::time::Instant {
        self.std
    }

    /// The time from `earlier` to `self`; zero if `earlier` is later.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use ticktock_executor::time::Instant;
    /// let start = Instant::now();
    /// let later = start + Duration::from_secs(2);
    /// assert_eq!(later.duration_since(start), Duration::from_secs(2));
    /// assert_eq!(start.duration_since(later), Duration::ZERO);
    /// ```
    #[must_use]
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// The time from `earlier` to `self`, or `None` if `earlier` is later.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use ticktock_executor::time::Instant;
    /// let start = Instant::now();
    /// let later = start + Duration::from_secs(2);
    /// assert_eq!(later.checked_duration_since(start), Some(Duration::from_secs(2)));
    /// assert_eq!(start.checked_duration_since(later), None);
    /// ```
    #[must_use]
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.std.checked_duration_since(earlier.std)
    }

    /// The time from `earlier` to `self`; zero if `earlier` is later.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use ticktock_executor::time::Instant;
    /// let start = Instant::now();
    /// let later = start + Duration::from_secs(2);
    /// assert_eq!(later.saturating_duration_since(start), Duration::from_secs(2));
    /// assert_eq!(start.saturating_duration_since(later), Duration::ZERO);
    /// ```
    #[must_use]
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// The time since `self` on the current runtime's clock (see [`Instant::now`]);
    /// zero if `self` is in the future.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use ticktock_executor::time::{self, Instant};
    ///
    /// let rt = ticktock_executor::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     time::pause();
    ///     let start = Instant::now();
    ///     time::sleep(Duration::from_secs(5)).await; // auto-advance: no real wait
    ///     assert_eq!(start.elapsed(), Duration::from_secs(5));
    /// });
    /// ```
    #[must_use]
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + duration`, or `None` if that cannot be represented.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use ticktock_executor::time::Instant;
    /// let now = Instant::now();
    /// assert!(now.checked_add(Duration::from_secs(1)).is_some_and(|later| later > now));
    /// assert_eq!(now.checked_add(Duration::MAX), None);
    /// ```
    #[must_use]
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_add(duration).map(Instant::from_std)
    }

    /// `self - duration`, or `None` if that cannot be represented.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use ticktock_executor::time::Instant;
    /// let now = Instant::now();
    /// assert!(now.checked_sub(Duration::from_millis(1)).is_some_and(|earlier| earlier < now));
    /// assert_eq!(now.checked_sub(Duration::MAX), None);
    /// ```
    #[must_use]
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_sub(duration).map(Instant::from_std)
    }
}

impl From<std::time::Instant> for Instant {
    /// # Examples
    /// ```
    /// let std_now = std::time::Instant::now();
    /// let now: ticktock_executor::time::Instant = std_now.into();
    /// assert_eq!(now.into_std(), std_now);
    /// ```
    fn from(std: std::time::Instant) -> Instant {
        Instant::from_std(std)
    }
}

impl From<Instant> for std::time::Instant {
    /// # Examples
    /// ```
    /// let now = ticktock_executor::time::Instant::now();
    /// let std_now: std::time::Instant = now.into();
    /// assert_eq!(std_now, now.into_std());
    /// ```
    fn from(instant: Instant) -> std::time::Instant {
        instant.std
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    /// Panics if the result cannot be represented; see [`Instant::checked_add`].
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let now = ticktock_executor::time::Instant::now();
    /// assert_eq!((now + Duration::from_secs(1)) - now, Duration::from_secs(1));
    /// ```
    fn add(self, duration: Duration) -> Instant {
        Instant::from_std(self.std + duration)
    }
}

impl AddAssign<Duration> for Instant {
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let start = ticktock_executor::time::Instant::now();
    /// let mut later = start;
    /// later += Duration::from_secs(1);
    /// assert_eq!(later - start, Duration::from_secs(1));
    /// ```
    fn add_assign(&mut self, duration: Duration) {
        *self = *self + duration;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    /// Panics if the result cannot be represented; see [`Instant::checked_sub`].
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let now = ticktock_executor::time::Instant::now();
    /// assert_eq!(now - (now - Duration::from_millis(1)), Duration::from_millis(1));
    /// ```
    fn sub(self, duration: Duration) -> Instant {
        Instant::from_std(self.std - duration)
    }
}

impl SubAssign<Duration> for Instant {
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let now = ticktock_executor::time::Instant::now();
    /// let mut earlier = now;
    /// earlier -= Duration::from_millis(1);
    /// assert_eq!(now - earlier, Duration::from_millis(1));
    /// ```
    fn sub_assign(&mut self, duration: Duration) {
        *self = *self - duration;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// The time from `earlier` to `self`; zero if `earlier` is later (as
    /// [`Instant::duration_since`]).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let start = ticktock_executor::time::Instant::now();
    /// let later = start + Duration::from_secs(3);
    /// assert_eq!(later - start, Duration::from_secs(3));
    /// assert_eq!(start - later, Duration::ZERO);
    /// ```
    fn sub(self, earlier: Instant) -> Duration {
        self.duration_since(earlier)
    }
}

impl fmt::Debug for Instant {
    /// Formats as the wrapped `std::time::Instant` does.
    ///
    /// # Examples
    /// ```
    /// let now = std::time::Instant::now();
    /// assert_eq!(
    ///     format!("{:?}", ticktock_executor::time::Instant::from_std(now)),
    ///     format!("{now:?}"),
    /// );
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}

/// Compile-time checks: an `Instant` is as small as the `std::time::Instant` it wraps
/// (the conversions are free), and it may cross threads.
const _: () = {
    assert!(std::mem::size_of::<Instant>() == std::mem::size_of::<std::time::Instant>());
    const fn send_sync<T: Send + Sync + Unpin>() {}
    send_sync::<Instant>();
};
