//! The driver: the mio poller that one parked worker sleeps in until the earliest
//! deadline of all stores, and how an earlier deadline wakes it.
//!
//! Files (docs/design.md, section 0): the poller and its waker (`poller.rs`), the
//! atomic protocol by which an earlier deadline wakes the poller
//! (`earlier_deadline.rs`, loom-checked), the timerfd that gives timed waits
//! nanosecond resolution (`timerfd_wait.rs`). The I/O reactor the same wait serves is
//! `io/reactor.rs`.

pub(crate) mod earlier_deadline;
pub(crate) mod poller;
pub(crate) mod timerfd_wait;
