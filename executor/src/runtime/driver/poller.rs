//! The mio poller that one parked worker sleeps in, and the wake-up signal for it.
//!
//! # What it owns
//! - The runtime's single [`mio::Poll`], behind a mutex. Whoever holds the mutex is
//!   *the poller*: a parked worker that waits in `epoll_wait` until the earliest timer
//!   deadline of every store. The other parked workers wait on their condition
//!   variables (see `scheduler/parked_and_searching.rs`).
//! - A [`mio::Waker`] that breaks the poller out of its wait (Go's `netpollBreak`).
//! - A precise timer (a `timerfd` on Linux, see `driver/timerfd_wait.rs`) that ends timed
//!   waits with nanosecond rather than millisecond resolution.
//! - The I/O [`Reactor`]: the events of the same `epoll_wait` are dispatched to it,
//!   so one wait serves timers and sockets alike.
//! - `poller_until`: the deadline the poller is sleeping until, so a thread that
//!   registers a timer can tell whether its deadline is earlier (Go's `sched.pollUntil`
//!   read by `wakeNetPoller`).
//!
//! # The earlier-deadline protocol (no lost wake-up)
//! See `driver/earlier_deadline.rs`: the poller publishes its deadline and re-reads the
//! stores; a registrant lowers its store's deadline and then the published one,
//! waking the poller only when its deadline is earlier. Later deadlines never wake
//! it (tested through the `earlier_deadline_wakeups` metric).
//!
//! # Ground rules
//! - Only the holder of the `poll` mutex calls [`Driver::poll`].
//! - Anyone may call [`Driver::wake`] and [`Driver::wake_for_deadline`].

use std::io;
use std::time::Duration;

use crate::io::reactor::Reactor;
use crate::loom::sync::atomic::{AtomicU64, Ordering};
use crate::loom::sync::{Mutex, MutexGuard};
use crate::runtime::driver::earlier_deadline::PollerDeadline;
use crate::runtime::driver::timerfd_wait::PreciseTimer;
use ticktock_timer::{Nanos, NO_DEADLINE};

/// The token of the waker's registration in the poll; I/O registrations never use it.
const WAKER_TOKEN: mio::Token = mio::Token(usize::MAX);

/// The token of the precise timer's registration (see `driver/timerfd_wait.rs`).
const TIMER_TOKEN: mio::Token = mio::Token(usize::MAX - 1);

/// The token of the signal pipe's registration (see `signal/registry.rs`).
const SIGNAL_TOKEN: mio::Token = mio::Token(usize::MAX - 2);

/// The driver's own tokens: their events are not for the reactor.
const DRIVER_TOKENS: [mio::Token; 3] = [WAKER_TOKEN, TIMER_TOKEN, SIGNAL_TOKEN];

/// Events taken out of the kernel per `epoll_wait` call.
const EVENTS_CAPACITY: usize = 256;

/// The poll state only the current poller touches.
pub(crate) struct PollState {
    poll: mio::Poll,
    events: mio::Events,
    precise: PreciseTimer,
}

/// The runtime's poller and its wake-up signal. See the module docs.
pub(crate) struct Driver {
    poll: Mutex<PollState>,
    waker: mio::Waker,
    /// Deadline (ns since the epoch) the poller sleeps until; `NO_DEADLINE` when it
    /// sleeps without a timeout.
    poller_until: PollerDeadline,
    /// Times a newly registered earlier deadline broke the poller's sleep.
    pub(crate) earlier_deadline_wakeups: AtomicU64,
    /// I/O registrations, fed by the events this poll returns.
    reactor: Reactor,
    /// The signal pipe, registered by the first signal listener of this runtime.
    #[cfg(unix)]
    signal_pipe: std::sync::OnceLock<mio::net::UnixStream>,
}

impl Driver {
    /// Creates the poll and its waker.
    pub(crate) fn new() -> io::Result<Driver> {
        let poll = mio::Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKER_TOKEN)?;
        let precise = PreciseTimer::new(poll.registry(), TIMER_TOKEN)?;
        let reactor = Reactor::new(poll.registry().try_clone()?);
        Ok(Driver {
            poll: Mutex::new(PollState {
                poll,
                events: mio::Events::with_capacity(EVENTS_CAPACITY),
                precise,
            }),
            waker,
            poller_until: PollerDeadline::new(),
            earlier_deadline_wakeups: AtomicU64::new(0),
            reactor,
            #[cfg(unix)]
            signal_pipe: std::sync::OnceLock::new(),
        })
    }

    /// Tries to become the poller. `None` means another worker holds the poll.
    pub(crate) fn try_acquire(&self) -> Option<MutexGuard<'_, PollState>> {
        self.poll.try_lock().ok()
    }

    /// Publishes the deadline the poller is about to sleep until (see module docs).
    pub(crate) fn publish_poller_until(&self, until: Nanos) {
        self.poller_until.publish(until);
    }

    /// The poller leaves without having polled (an unpark was already pending): no
    /// worker sleeps in the poller any more, so registrants must not count on one
    /// (`poll` does the same after a wait). The caller still holds the poll.
    pub(crate) fn withdraw_poller_until(&self) {
        self.poller_until.clear();
    }

    /// Whether a worker is (about to be) sleeping in the poller.
    pub(crate) fn is_polling(&self) -> bool {
        self.poller_until.is_polling()
    }

    /// Waits in the poller for at most `timeout` (`None`: until woken).
    ///
    /// The caller holds the poll (`state` comes from [`Driver::try_acquire`]) and has
    /// published its deadline. Returns after an event, a wake-up or the timeout, with
    /// `poller_until` reset to [`NOT_POLLING`].
    pub(crate) fn poll(&self, state: &mut PollState, timeout: Option<Duration>) {
        let PollState {
            poll,
            events,
            precise,
        } = state;
        let timeout = precise.arm(timeout);
        match poll.poll(events, timeout) {
            Ok(()) => {}
            // A signal interrupted the wait: the caller re-checks its work anyway.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("ticktock: the mio poller failed: {e}"),
        }
        self.poller_until.clear();
        let mut io_events = false;
        for event in events.iter() {
            match event.token() {
                // The waker is edge-triggered: nothing to drain.
                WAKER_TOKEN => {}
                TIMER_TOKEN => precise.on_expired(),
                #[cfg(unix)]
                SIGNAL_TOKEN => crate::signal::registry::dispatch(),
                _ => io_events = true,
            }
        }
        if io_events {
            let io = events
                .iter()
                .filter(|event| !DRIVER_TOKENS.contains(&event.token()));
            self.reactor.dispatch(io);
        }
    }

    /// Registers the signal pipe in this poll (once), so signals wake the poller.
    #[cfg(unix)]
    pub(crate) fn enable_signals(&self) -> io::Result<()> {
        if self.signal_pipe.get().is_some() {
            return Ok(());
        }
        let mut pipe = mio::net::UnixStream::from_std(crate::signal::registry::receiver()?);
        self.reactor
            .registry()
            .register(&mut pipe, SIGNAL_TOKEN, mio::Interest::READABLE)?;
        if let Err(pipe) = self.signal_pipe.set(pipe) {
            // Another thread registered first: this duplicate leaves the poll again.
            let mut pipe = pipe;
            let _ = self.reactor.registry().deregister(&mut pipe);
        }
        Ok(())
    }

    /// The reactor fed by this driver's poll.
    pub(crate) fn reactor(&self) -> &Reactor {
        &self.reactor
    }

    /// Breaks the poller out of its wait (or makes its next wait return at once).
    pub(crate) fn wake(&self) {
        if let Err(e) = self.waker.wake() {
            panic!("ticktock: waking the mio poller failed: {e}");
        }
    }

    /// Called after a store's earliest deadline dropped to `when`: wakes the poller
    /// only if it sleeps past `when + slack` (Go's `wakeNetPoller`, which has no
    /// slack: see `wake_slack` in `timers/stores.rs`). Returns whether it woke it.
    pub(crate) fn wake_for_deadline(&self, when: Nanos, slack: Nanos) -> bool {
        if self.poller_until.lower_to_within(when, slack) {
            self.earlier_deadline_wakeups
                .fetch_add(1, Ordering::Relaxed);
            self.wake();
            true
        } else {
            false
        }
    }
}

/// Converts a deadline into a poll timeout from `now` (`None` for no deadline).
pub(crate) fn timeout_until(deadline: Nanos, now: Nanos) -> Option<Duration> {
    if deadline == NO_DEADLINE {
        None
    } else {
        Some(Duration::from_nanos(deadline.saturating_sub(now)))
    }
}
