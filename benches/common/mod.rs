//! Helpers shared by every bench file: the two runtimes, built the same way, and
//! the criterion settings that keep the whole suite to a few minutes.
//!
//! Each bench file writes its workload once, as a macro over the runtime crate's
//! name (`ticktock` or `tokio`), so both runtimes run the very same code; only
//! the paths `$rt::spawn`, `$rt::task::yield_now` and `$rt::time::*` differ.
//! A workload that several files run lives in a submodule here and exports its
//! macro (`#[macro_use] mod common;`): [`timeout`] (`timer_timeout.rs`,
//! `scaling.rs`). The echo servers of the socket benches are in [`echo`].

#![allow(dead_code)]

pub mod echo;
#[macro_use]
pub mod timeout;

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, SamplingMode};

/// Worker threads of both runtimes: the bench machine has 2 cores, and the
/// comparison is only fair when both schedulers get the same number.
pub const WORKERS: usize = 2;

/// Leaf-future polls per batch before a task yields. Both runtimes give a task a
/// cooperative budget of 128 leaf polls per scheduling; a batch of 64 stays well
/// inside it, so every `Sleep` poll really registers its timer instead of
/// returning `Pending` for lack of budget.
pub const BATCH: u64 = 64;

/// A ticktock multi-thread runtime with [`WORKERS`] workers.
pub fn ticktock_rt() -> ticktock::Runtime {
    ticktock_rt_with(WORKERS)
}

/// A tokio multi-thread runtime with [`WORKERS`] workers and its timer enabled.
pub fn tokio_rt() -> tokio::runtime::Runtime {
    tokio_rt_with(WORKERS)
}

/// A ticktock multi-thread runtime with `workers` workers (`scaling.rs`).
pub fn ticktock_rt_with(workers: usize) -> ticktock::Runtime {
    ticktock::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .expect("build ticktock runtime")
}

/// A tokio multi-thread runtime with `workers` workers and its timer enabled
/// (`scaling.rs`).
pub fn tokio_rt_with(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_time()
        .build()
        .expect("build tokio runtime")
}

/// Short runs: 10 samples, 1 s warm-up, `secs` of measurement. Flat sampling
/// (every sample runs the same iteration count) suits the benches whose single
/// iteration takes milliseconds.
pub fn configure(group: &mut BenchmarkGroup<'_, WallTime>, secs: u64, flat: bool) {
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(secs));
    if flat {
        group.sampling_mode(SamplingMode::Flat);
    }
}
