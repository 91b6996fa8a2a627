//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod stress;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use proptest::test_runner::{RngAlgorithm, TestRng};

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

/// The one random source of the integration tests: proptest's ChaCha generator,
/// seeded from `seed` (a constant in each test), so every run draws the same numbers.
/// Draw from it with `proptest::prelude::RngExt` (`random_range`).
pub fn seeded_rng(seed: u64) -> TestRng {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}
