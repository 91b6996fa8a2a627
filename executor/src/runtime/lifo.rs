//! The LIFO cell: the task a worker woke last, which it runs next.
//!
//! # What it owns
//! [`LifoCell`]: one task in a one-word lock-free cell, plus an `occupied` hint, so
//! that another worker can take the task when the owner is stuck inside a long
//! poll (Go steals `runnext` likewise). Nothing here knows about workers or the
//! runtime: the queue policy that fills and drains it is in `worker_core.rs`.
//!
//! # Invariants
//! - Only the owning worker puts a task in (`push`); anyone may `take`.
//! - `occupied` is a hint: an exact check would need a compare-exchange, which
//!   `Runnable` does not allow. It is set after a push and cleared after a take that
//!   found a task. A stale "occupied" costs one failed `take`; a stale "empty" only
//!   delays the task to the owner's next pick (the owner reads its own writes).
//!   Neither loses a task: the task itself is only ever moved by `swap`/`take`.

use async_task::Runnable;
use crossbeam_utils::atomic::AtomicCell;

use crate::loom::sync::atomic::{AtomicBool, Ordering};

/// See the module docs.
///
/// Aligned to a cache-line pair: the cells of all workers sit side by side in one
/// slice, and sharing a line made every push and take of one worker evict it from
/// the other's cache (measured: 30 % of a 100-pair ping-pong went to `push_local`).
#[repr(align(128))]
pub(crate) struct LifoCell {
    task: AtomicCell<Option<Runnable>>,
    occupied: AtomicBool,
}

impl LifoCell {
    pub(crate) fn new() -> LifoCell {
        LifoCell {
            task: AtomicCell::new(None),
            occupied: AtomicBool::new(false),
        }
    }

    /// Puts `runnable` in the cell, returning the task it displaces.
    pub(crate) fn push(&self, runnable: Runnable) -> Option<Runnable> {
        let previous = self.task.swap(Some(runnable));
        self.occupied.store(true, Ordering::Relaxed);
        previous
    }

    /// Takes the task out of the cell.
    pub(crate) fn take(&self) -> Option<Runnable> {
        let task = self.task.take();
        if task.is_some() {
            self.occupied.store(false, Ordering::Relaxed);
        }
        task
    }

    /// The hint: `true` if the cell probably holds a task. Two plain loads' worth
    /// cheaper than a `take`, which is an atomic swap.
    pub(crate) fn looks_occupied(&self) -> bool {
        self.occupied.load(Ordering::Relaxed)
    }
}
