//! Helpers of the stress tests (`tests/stress.rs`, `tests/stress_volume.rs`): a seeded
//! plan generator, the never-early check, registering a sleep without awaiting it, and
//! the quiescence check every stress run ends with.

use std::pin::Pin;
use std::time::Duration;

use futures::FutureExt;
use proptest::prelude::RngExt;
use proptest::test_runner::TestRng;
use ticktock::time::{Instant, Sleep};

use super::{total_timers, wait_until};

/// How long the runtime gets to drop finished tasks and free their timers before a
/// leftover counts as a leak.
pub const SETTLE: Duration = Duration::from_secs(5);

/// A seeded, reproducible source of plans (the seed is in every failure message):
/// the tests' shared generator ([`super::seeded_rng`]).
pub struct Rng(TestRng);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(super::seeded_rng(seed))
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.0.random_range(0..bound.max(1))
    }

    pub fn millis(&mut self, max: u64) -> Duration {
        Duration::from_millis(self.below(max + 1))
    }
}

/// Awaits `sleep` and panics if it completed before its deadline.
pub async fn await_never_early(mut sleep: Pin<Box<Sleep>>, what: &str) {
    sleep.as_mut().await;
    let deadline = sleep.deadline();
    let now = Instant::now();
    assert!(now >= deadline, "{what} fired {:?} early", deadline - now);
}

/// Sleeps a task registers between two yields: well under the cooperative budget
/// (128 leaf polls per task poll).
pub const REGISTER_BATCH: usize = 64;

/// Registers `sleep` with the runtime (polls it once) without waiting for it. The
/// caller's task must have cooperative budget left.
pub fn register(sleep: &mut Pin<Box<Sleep>>) {
    assert!(sleep.as_mut().now_or_never().is_none(), "sleep already due");
}

/// Waits until no task is alive and no timer entry is left in any store; panics with
/// the metrics otherwise.
pub fn assert_quiescent(rt: &ticktock::Runtime, context: &str) {
    let settled = wait_until(SETTLE, || {
        let m = rt.metrics();
        m.alive_tasks == 0
            && total_timers(&m, |t| t.live) == 0
            && total_timers(&m, |t| t.heap_len) == 0
            && total_timers(&m, |t| t.slab_len) == 0
    });
    let m = rt.metrics();
    assert!(
        settled,
        "{context}: not quiescent: alive_tasks {}, live {}, heap_len {}, slab_len {}",
        m.alive_tasks,
        total_timers(&m, |t| t.live),
        total_timers(&m, |t| t.heap_len),
        total_timers(&m, |t| t.slab_len),
    );
}
