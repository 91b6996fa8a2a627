//! The runtime's timers: one store per worker plus one for other threads, the clock
//! their deadlines are measured on, and the leak report.
//!
//! Files (docs/design.md, section 0):
//! - `stores.rs`: the store cells (lock, published deadline) and `Timers`;
//! - `fire_and_steal.rs`: firing due timers, a store's own and other workers';
//! - `remote_cancel.rs` over `cancel_queue.rs`: cancels from threads other than a
//!   store's owner, queued instead of taking its lock (loom: `remote_cancel_loom.rs`);
//! - `clock.rs`: the clock, real or paused; `auto_advance.rs`: when a paused clock may
//!   jump, and `outside_activity.rs`, the outside threads it waits for (loom:
//!   `auto_advance_loom.rs`);
//! - `leak_report.rs`: live timers by creation site.
//!
//! The data structures themselves are the `ticktock-timer` crate's.

pub(crate) mod auto_advance;
#[cfg(all(test, loom))]
mod auto_advance_loom;
pub(crate) mod cancel_queue;
pub(crate) mod clock;
pub(crate) mod fire_and_steal;
pub(crate) mod leak_report;
pub(crate) mod outside_activity;
pub(crate) mod remote_cancel;
#[cfg(all(test, loom))]
mod remote_cancel_loom;
pub(crate) mod stores;
