//! Instrumentation hooks, compiled to nothing unless the `tracing` feature is on.
//!
//! # What it owns
//! The few places the runtime reports to `tracing`: a span around every task poll
//! (target `ticktock::task`, with the task's id) and events for timers
//! (target `ticktock::timer`: registered, fired in a batch, cancelled), and a warning
//! when a shutdown leaves workers inside a poll (target `ticktock::runtime`). With the
//! feature off these are empty inline functions, so the hot paths carry no cost.

#[cfg(feature = "tracing")]
mod imp {
    /// Enters a span for one poll of task `id` until the guard drops.
    #[inline]
    pub(crate) fn task_poll(id: usize) -> tracing::span::EnteredSpan {
        tracing::trace_span!(target: "ticktock::task", "poll", task = id).entered()
    }

    /// A timer was registered in store `store` with deadline `when` (ns since epoch).
    #[inline]
    pub(crate) fn timer_registered(store: usize, when: u64, site: &std::panic::Location<'_>) {
        tracing::trace!(target: "ticktock::timer", store, when, %site, "registered");
    }

    /// A pass fired `count` timers of store `store`.
    #[inline]
    pub(crate) fn timers_fired(store: usize, count: usize) {
        tracing::trace!(target: "ticktock::timer", store, count, "fired");
    }

    /// A pending timer was cancelled (dropped before firing).
    #[inline]
    pub(crate) fn timer_cancelled(site: &std::panic::Location<'_>) {
        tracing::trace!(target: "ticktock::timer", %site, "cancelled");
    }

    /// A shutdown stopped waiting while `workers` worker threads were still in a
    /// task's poll (a task that never yields): those tasks are left.
    pub(crate) fn shutdown_left_workers(workers: usize) {
        tracing::warn!(
            target: "ticktock::runtime",
            workers,
            "shutdown timed out with workers still inside a task's poll; those tasks \
             were not dropped and the runtime's descriptors stay open until they return"
        );
    }
}

#[cfg(not(feature = "tracing"))]
mod imp {
    #[inline(always)]
    pub(crate) fn task_poll(_id: usize) {}

    #[inline(always)]
    pub(crate) fn timer_registered(_store: usize, _when: u64, _site: &std::panic::Location<'_>) {}

    #[inline(always)]
    pub(crate) fn timers_fired(_store: usize, _count: usize) {}

    #[inline(always)]
    pub(crate) fn timer_cancelled(_site: &std::panic::Location<'_>) {}

    pub(crate) fn shutdown_left_workers(_workers: usize) {}
}

pub(crate) use imp::*;
