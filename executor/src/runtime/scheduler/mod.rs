//! The scheduler: which task runs where, and how workers sleep and wake.
//!
//! Files (their layers and owners: docs/design.md, section 0): the worker loop
//! (`worker_loop.rs`), a worker's core and queue policy (`core.rs`), its LIFO cell
//! (`lifo_cell.rs`), the park policy (`park_policy.rs`), one worker's parker
//! (`parker.rs`), the parked set and searching count (`parked_and_searching.rs`),
//! whom new work wakes (`wake_workers.rs`), worker threads and `block_in_place`
//! (`threads.rs`), and `block_on` (`block_on.rs`).

pub(crate) mod block_on;
pub(crate) mod core;
pub(crate) mod lifo_cell;
pub(crate) mod park_policy;
pub(crate) mod parked_and_searching;
pub(crate) mod parker;
pub(crate) mod threads;
pub(crate) mod wake_workers;
pub(crate) mod worker_loop;
