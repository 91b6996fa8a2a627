//! Sub-millisecond poller wake-ups on Linux, with a `timerfd`.
//!
//! # What it owns
//! One `timerfd` (CLOCK_MONOTONIC, the clock of `std::time::Instant` on Linux)
//! registered with the mio poll. `epoll_wait` takes its timeout in whole
//! milliseconds (mio rounds up), so a 100 µs sleep would otherwise take over a
//! millisecond. Before a timed wait the poller arms the timerfd with the exact
//! nanosecond timeout and gives mio only a coarse fallback timeout; the timerfd's
//! readiness ends the wait on time. No busy spinning anywhere.
//!
//! On other platforms there is no timerfd and the poll timeout is used as is.
//!
//! # Invariants
//! - `timerfd_settime` resets the expiration count, so re-arming makes the fd
//!   unreadable again and the next expiry produces a fresh edge for mio's
//!   edge-triggered registration; an expiry that did wake the poll is also drained.
//! - A stale expiry (the timer armed for a wait that ended early) can only cause a
//!   spurious wake-up of a later wait, which re-checks and parks again.
//! - The timerfd is armed only for a wait shorter than [`PRECISE_WINDOW`]. A longer
//!   wait gives mio a timeout that ends it up to a window early (epoll rounds up to
//!   the next millisecond), and the worker, finding nothing due yet, parks again
//!   for the rest, which is shorter than the window: that wait is the precise one.
//!   Most long waits of a server end on an I/O event long before their deadline, so
//!   they no longer pay a `timerfd_settime` each (measured under wrk at 50
//!   connections with a per-request timeout: 0.063 per request before, see
//!   docs/benchmarks.md); a wait that does reach its deadline pays one extra
//!   wake-up, in its last two milliseconds.

use std::time::Duration;

/// Added to the timeout given to mio when the timerfd is armed: mio is only a
/// safety net, so this is comfortably above the timerfd's own accuracy.
const FALLBACK_SLACK: Duration = Duration::from_millis(2);

/// Waits at least this long are left to mio's millisecond timeout, shortened by
/// this much, so they end before their deadline and the last stretch is waited
/// precisely (see the invariants). Two milliseconds: one for epoll's rounding up,
/// one for the kernel's timer slack and a late wake-up.
const PRECISE_WINDOW: Duration = Duration::from_millis(2);

#[cfg(target_os = "linux")]
mod imp {
    use std::io;
    use std::os::fd::{AsRawFd, OwnedFd};
    use std::time::Duration;

    use rustix::time::{
        timerfd_create, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags,
        TimerfdTimerFlags, Timespec,
    };

    pub(crate) struct PreciseTimer {
        fd: OwnedFd,
        armed: bool,
    }

    fn timespec(duration: Duration) -> Timespec {
        Timespec {
            tv_sec: duration.as_secs().try_into().unwrap_or(i64::MAX),
            tv_nsec: duration.subsec_nanos().into(),
        }
    }

    impl PreciseTimer {
        pub(crate) fn new(registry: &mio::Registry, token: mio::Token) -> io::Result<PreciseTimer> {
            let fd = timerfd_create(
                TimerfdClockId::Monotonic,
                TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
            )?;
            registry.register(
                &mut mio::unix::SourceFd(&fd.as_raw_fd()),
                token,
                mio::Interest::READABLE,
            )?;
            Ok(PreciseTimer { fd, armed: false })
        }

        fn set(&mut self, value: Duration) -> io::Result<()> {
            let spec = Itimerspec {
                it_interval: timespec(Duration::ZERO),
                it_value: timespec(value),
            };
            timerfd_settime(&self.fd, TimerfdTimerFlags::empty(), &spec)?;
            self.armed = !value.is_zero();
            Ok(())
        }

        /// Prepares a wait of `timeout` and returns the timeout to give mio.
        pub(crate) fn arm(&mut self, timeout: Option<Duration>) -> Option<Duration> {
            match timeout {
                // Far: mio's timeout ends the wait inside the window; a stale
                // arming from an earlier wait can only wake this one early.
                Some(timeout) if timeout >= super::PRECISE_WINDOW => {
                    Some(timeout - super::PRECISE_WINDOW)
                }
                Some(timeout) if !timeout.is_zero() => match self.set(timeout) {
                    Ok(()) => Some(timeout + super::FALLBACK_SLACK),
                    // Could not arm: fall back to mio's millisecond timeout.
                    Err(_) => Some(timeout),
                },
                other => {
                    if self.armed {
                        // Best effort: a stale expiry only causes a spurious wake-up.
                        let _ = self.set(Duration::ZERO);
                    }
                    other
                }
            }
        }

        /// The timerfd fired: drain its expiration count.
        pub(crate) fn on_expired(&mut self) {
            let mut count = [0u8; 8];
            let _ = rustix::io::read(&self.fd, &mut count);
            self.armed = false;
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::io;
    use std::time::Duration;

    /// No timerfd here: waits use mio's (millisecond) timeout.
    pub(crate) struct PreciseTimer;

    impl PreciseTimer {
        pub(crate) fn new(_: &mio::Registry, _: mio::Token) -> io::Result<PreciseTimer> {
            Ok(PreciseTimer)
        }

        pub(crate) fn arm(&mut self, timeout: Option<Duration>) -> Option<Duration> {
            timeout
        }

        pub(crate) fn on_expired(&mut self) {}
    }
}

pub(crate) use imp::PreciseTimer;
