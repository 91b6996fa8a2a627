//! `ticktock::sim`: a seeded simulation runtime, for deterministic tests of
//! timing logic on ticktock's own scheduler.
//!
//! A [`Runtime`] built by [`Builder`] has n *logical* workers: the real runtime's
//! cores (local queue, LIFO cell, timer store each), the real queue policy, timer
//! stores, firing and stealing code, but no worker thread. The thread inside
//! [`Runtime::block_on`] steps them: each step, a worker drawn from the seed does
//! one unit of the real worker loop (a maintenance pass on its tick, its next
//! task, else a search that fires due timers and steals), or the main future is
//! polled, or a queued `spawn_blocking` job runs inline. Every choice that is a
//! race on the real runtime comes from the seed; the same seed gives the same
//! execution, step for step, and [`Runtime::trace_hash`] digests it.
//!
//! Time is virtual: the clock starts paused and jumps to the earliest timer when
//! nothing else can happen (no task runnable, no timer due, the main future not
//! woken, no blocking job queued). A main future still pending when nothing can
//! happen and no timer is left is a deadlock: `block_on` panics and names the seed.
//! `TICKTOCK_SEED` overrides the builder's seed; any panic out of `block_on`
//! prints `ticktock::sim: seed = N (TICKTOCK_SEED=N replays it)` first.
//!
//! Inside, everything a task uses on the real runtime works unchanged: `spawn`,
//! `JoinSet`, `sleep`, `interval`, `timeout`, `time::Instant`, `yield_now`,
//! abort, `tokio::sync`, `spawn_blocking` (run inline, at a step the seed picks),
//! `block_in_place` (runs inline). Not deterministic: wakes from threads the
//! simulation does not own (they land on the global queue whenever the OS runs
//! them). Design: docs/design.md, section 9b.
//!
//! # Examples
//! ```
//! use std::time::Duration;
//! use ticktock_executor::{sim, time};
//!
//! let run = |seed| {
//!     let rt = sim::Builder::new().seed(seed).worker_threads(4).build().unwrap();
//!     let result = rt.block_on(async {
//!         let slow = ticktock_executor::spawn(time::sleep(Duration::from_secs(30)));
//!         time::timeout(Duration::from_secs(10), slow).await.is_err()
//!     });
//!     (result, rt.trace_hash())
//! };
//! let (timed_out, digest) = run(42);
//! assert!(timed_out);
//! assert_eq!(run(42).1, digest);
//! ```

mod builder;
pub mod net;
mod runtime;
mod scheduler;
mod seed;
mod trace;

pub use builder::Builder;
pub use runtime::Runtime;
