//! The runtime's timers: one store per worker plus one for other threads, the clock
//! their deadlines are measured on, and the leak report.
//!
//! Files (docs/design.md, section 0): the store cells, and firing and stealing due
//! timers (`stores.rs`), the clock, real or paused (`clock.rs`), when a paused clock may
//! jump (`auto_advance.rs`) and the outside threads it waits for
//! (`outside_activity.rs`), live timers by creation site (`leak_report.rs`), cancels
//! from threads other than a store's owner, queued instead of taking its lock
//! (`remote_cancel.rs`, over the lock-free queue of `cancel_queue.rs`; loom models in
//! `remote_cancel_loom.rs`). The data structures themselves are the
//! `ticktock-timer` crate's.

pub(crate) mod auto_advance;
#[cfg(all(test, loom))]
mod auto_advance_loom;
pub(crate) mod cancel_queue;
pub(crate) mod clock;
pub(crate) mod leak_report;
pub(crate) mod outside_activity;
pub(crate) mod remote_cancel;
#[cfg(all(test, loom))]
mod remote_cancel_loom;
pub(crate) mod stores;
