//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A multi-thread runtime with `workers` workers.
pub fn runtime(workers: usize) -> ticktock::Runtime {
    ticktock::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .expect("runtime builds")
}

/// Sets its flag when dropped: proves a future (and what it owns) was freed.
pub struct DropFlag(pub Arc<AtomicBool>);

impl DropFlag {
    pub fn new() -> (DropFlag, Arc<AtomicBool>) {
        let flag = Arc::new(AtomicBool::new(false));
        (DropFlag(flag.clone()), flag)
    }
}

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Sum of a timer metric over every store of the runtime.
pub fn total_timers(
    metrics: &ticktock::RuntimeMetrics,
    field: fn(&ticktock::TimerMetrics) -> usize,
) -> usize {
    metrics
        .per_worker
        .iter()
        .map(|w| field(&w.timers))
        .sum::<usize>()
        + field(&metrics.external_timers)
}

/// Polls `condition` until it holds or `limit` passes.
pub fn wait_until(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    condition()
}
