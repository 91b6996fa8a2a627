//! The deadline the poller sleeps until, published for timer registrants: the
//! atomic half of Go's `wakeNetPoller` protocol, kept apart from mio so that loom
//! can model it.
//!
//! # Protocol
//! - The poller [`publish`](PollerDeadline::publish)es the deadline it will sleep
//!   until, then re-reads every store's earliest deadline and, if one is earlier,
//!   publishes again (the re-read is in the worker's `park`).
//! - A registrant that lowered its store's earliest deadline to `when` calls
//!   [`lower_to`](PollerDeadline::lower_to): if the poller sleeps past `when`, the
//!   published value is lowered to `when` and the caller must wake the poller.
//! - Both sides store, fence (`SeqCst`), then load the other side's atomic: either
//!   the poller's re-read sees the registrant's deadline, or the registrant sees
//!   the poller's published deadline. The fences live in `publish` and `lower_to`
//!   themselves, so the loom models check exactly this code.
//!
//! # Invariant
//! At most one wake-up per lowering: a burst of earlier deadlines costs one
//! wake-up for the earliest-first case, and later deadlines never cost one.

use ticktock_timer::Nanos;

use crate::loom::sync::atomic::{fence, AtomicU64, Ordering};

/// Value meaning "no worker is sleeping in the poller". Zero is safe as a sentinel:
/// a registrant wakes the poller only for a deadline strictly earlier than the
/// published one, and no deadline is earlier than zero.
pub(crate) const NOT_POLLING: Nanos = 0;

/// See the module docs.
pub(crate) struct PollerDeadline {
    until: AtomicU64,
}

impl PollerDeadline {
    pub(crate) fn new() -> PollerDeadline {
        PollerDeadline {
            until: AtomicU64::new(NOT_POLLING),
        }
    }

    /// The poller is about to sleep until `until` (clamped above [`NOT_POLLING`]).
    pub(crate) fn publish(&self, until: Nanos) {
        self.until
            .store(until.max(NOT_POLLING + 1), Ordering::SeqCst);
        // Orders this store before the caller's re-read of the stores' deadlines
        // (a store-load pair: see the module docs; loom checks it as written).
        fence(Ordering::SeqCst);
    }

    /// The poller woke up.
    pub(crate) fn clear(&self) {
        self.until.store(NOT_POLLING, Ordering::SeqCst);
    }

    /// Whether a worker is (about to be) sleeping in the poller.
    pub(crate) fn is_polling(&self) -> bool {
        self.until.load(Ordering::SeqCst) != NOT_POLLING
    }

    /// A store's earliest deadline dropped to `when`. Returns `true` if the poller
    /// sleeps past it: the published deadline was lowered and the caller must wake
    /// the poller.
    #[cfg(loom)]
    pub(crate) fn lower_to(&self, when: Nanos) -> bool {
        self.lower_to_within(when, 0)
    }

    /// [`lower_to`](Self::lower_to), except that a poller sleeping until at most
    /// `when + slack` is left alone: it wakes at most `slack` late for `when`, and
    /// no thread is woken. Returns `true` if the caller must wake the poller.
    pub(crate) fn lower_to_within(&self, when: Nanos, slack: Nanos) -> bool {
        // Orders the caller's store of its store's deadline before this load.
        fence(Ordering::SeqCst);
        let mut until = self.until.load(Ordering::SeqCst);
        while when.saturating_add(slack) < until {
            match self
                .until
                .compare_exchange(until, when, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return true,
                Err(current) => until = current,
            }
        }
        false
    }
}
