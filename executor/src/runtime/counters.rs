//! Per-worker counters: cheap to bump on the hot path, readable at any time.
//!
//! # What it owns
//! [`WorkerCounters`]: relaxed atomic counters that only their worker increments
//! (each on its own cache line, so counting never contends). The metrics snapshot
//! (`metrics.rs`) reads them; nothing here knows about the runtime.

use crate::loom::sync::atomic::{AtomicU64, Ordering};

/// A counter only one thread writes (its worker) and anyone reads.
#[derive(Default)]
pub(crate) struct OwnedCounter(AtomicU64);

impl OwnedCounter {
    /// Adds one. A load and a store, not a read-modify-write: with a single
    /// writer nothing can be lost, and it avoids a locked instruction per poll.
    pub(crate) fn bump(&self) {
        self.add(1);
    }

    /// Adds `n` (single writer, see [`OwnedCounter::bump`]).
    pub(crate) fn add(&self, n: u64) {
        self.0.store(
            self.0.load(Ordering::Relaxed).wrapping_add(n),
            Ordering::Relaxed,
        );
    }

    pub(crate) fn load(&self, order: Ordering) -> u64 {
        self.0.load(order)
    }
}

/// Counters one worker increments. Aligned to a cache line pair so two workers'
/// counters never share a line (false sharing would make counting contend).
/// Each is written only by the thread driving that worker's core (a core moves
/// between threads only with a happens-before edge: a thread spawn).
#[derive(Default)]
#[repr(align(128))]
pub(crate) struct WorkerCounters {
    pub(crate) polls: OwnedCounter,
    pub(crate) steals: OwnedCounter,
    pub(crate) parks: OwnedCounter,
    pub(crate) unparks: OwnedCounter,
    pub(crate) timers_fired: OwnedCounter,
}
