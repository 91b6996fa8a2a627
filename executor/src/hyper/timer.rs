//! [`Timer`]: hyper's timer trait on ticktock's timers.
//!
//! hyper boxes each sleep as a `Pin<Box<dyn hyper::rt::Sleep>>`. The boxed value is
//! a private wrapper around a ticktock [`Sleep`](crate::time::Sleep), so that
//! [`Timer::reset`](hyper::rt::Timer::reset) can downcast it and move its deadline
//! in place (`Sleep::reset`: the timer entry is reused, nothing is allocated), which
//! is what hyper does on every keep-alive request. A sleep made by another timer
//! is replaced by a new one instead.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::time;

// hyper's trait speaks `std::time::Instant`; ticktock's `time::Instant` wraps one on
// the same timeline, so each boundary below converts for free.

/// hyper's [`Timer`](hyper::rt::Timer) on ticktock: header-read timeouts,
/// keep-alive timeouts and HTTP/2 pings become ticktock sleeps on the timer heap of
/// the worker that polls them.
///
/// # Panics
/// The sleeps it returns panic when polled outside a ticktock runtime.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use hyper::rt::Timer as _;
/// use ticktock_executor::hyper::Timer;
/// use ticktock_executor::time::Instant;
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     let mut sleep = Timer.sleep(Duration::from_secs(3600));
///     Timer.reset(&mut sleep, (Instant::now() + Duration::from_millis(2)).into_std());
///     sleep.await;
///     assert!(start.elapsed() < Duration::from_secs(3600));
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Timer;

impl ::hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(TimerSleep(time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(TimerSleep(time::sleep_until(time::Instant::from_std(
            deadline,
        ))))
    }

    /// Now on the runtime's clock, so hyper's own timing follows paused time.
    fn now(&self) -> Instant {
        time::Instant::now().into_std()
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn ::hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<TimerSleep>() {
            Some(ours) => {
                Pin::new(&mut ours.get_mut().0).reset(time::Instant::from_std(new_deadline))
            }
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// The sleep [`Timer`] hands to hyper: a ticktock sleep, under a type hyper's
/// downcast can recognise.
struct TimerSleep(time::Sleep);

impl Future for TimerSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // `time::Sleep` is `Unpin`, and so is this wrapper.
        Pin::new(&mut self.get_mut().0).poll(cx)
    }
}

impl ::hyper::rt::Sleep for TimerSleep {}
