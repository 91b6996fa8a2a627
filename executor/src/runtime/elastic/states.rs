//! Elastic workers: which workers have a thread, and the bookkeeping of
//! [`Handle::set_worker_threads`](crate::Handle::set_worker_threads).
//!
//! # What it owns
//! [`Elastic`]: the target worker count, one retire flag per worker (read by
//! its worker between polls, one relaxed load), and under one mutex the state of
//! every worker plus the join handles of threads started by a resize. Workers for the
//! maximum are allocated at build time (queues, LIFO cells, parkers, counters, timer
//! stores); a worker without a thread keeps its core here. The behaviour (handing a
//! retiring worker's tasks and timers to the survivors, starting threads) is in
//! `elastic/retire.rs`.
//!
//! # Worker states: transition table
//! | state \ event | resize keeps the worker (`index < target`) | resize drops it (`index >= target`) | its worker sees the flag (`begin_retire`) | its worker is done handing off (`finish_retire`) |
//! |---|---|---|---|---|
//! | `Running` | stays | → `Retiring`, flag set, worker unparked | flag is clear: not called | bug: it never began |
//! | `Retiring` | → `Running`, flag cleared | stays | → `Exiting`, flag cleared; the worker hands off | bug: it never began |
//! | `Exiting` | stays (the worker resumes when done) | stays | bug: flag is clear | `index < target`: → `Running`, the thread carries on; else → `Stopped(core)`, the thread exits |
//! | `Stopped` | → `Running`: a thread is started with the core | stays | bug: no thread | bug: no thread |
//!
//! # Invariants
//! - A worker has a thread exactly when it is `Running`, `Retiring` or `Exiting`.
//! - Worker 0 never retires (the target is at least 1), so a retiring worker always
//!   has a survivor to hand its tasks and timers to.
//! - A `Stopped` worker's queue and LIFO cell are empty and nothing pushes onto them:
//!   only the thread driving a core pushes onto its queue and cell, and its store gets
//!   new timers only from that thread (`context::home_store`).
//!
//! # Ground rules
//! The mutex is held for bookkeeping only: never while starting a thread's work,
//! migrating timers or waking anything.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use crate::loom::lock;
use crate::loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use crate::loom::sync::Mutex;
use crate::runtime::scheduler::core::Core;

/// One worker's state. See the module's transition table.
pub(crate) enum WorkerState {
    /// A thread drives the core.
    Running,
    /// Asked to retire; its thread has not noticed yet.
    Retiring,
    /// Its thread is handing its tasks and timers to the survivors.
    Exiting,
    /// No thread; the core waits here for a grow.
    Stopped(Box<Core>),
}

/// What the caller of [`Elastic::request`] must do, outside the lock.
pub(crate) enum Action {
    /// Start a thread driving this core (its worker is `Running` already).
    Start(Box<Core>),
    /// Wake this worker so it sees its retire flag.
    Unpark(usize),
}

/// What [`Elastic::begin_retire`] and [`Elastic::finish_retire`] tell the worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Retire {
    /// Carry on running (a grow cancelled or reversed the retirement).
    KeepRunning,
    /// Hand off (after `begin_retire`) or exit the thread (after `finish_retire`).
    Proceed,
}

struct Workers {
    states: Vec<WorkerState>,
    /// Join handles of the threads resizes started, joined at shutdown.
    threads: Vec<JoinHandle<()>>,
}

/// Following the cgroup CPU limit (`Builder::worker_threads_auto`).
pub(crate) struct Auto {
    /// The cgroup directory read (`/sys/fs/cgroup` unless a test points elsewhere).
    pub(crate) root: PathBuf,
    /// CPUs available to the process: the count when no quota is set.
    pub(crate) available: usize,
    /// Clock reading (runtime nanoseconds) before which nobody re-reads the limit.
    next_check: AtomicU64,
}

/// How often the limit is re-read at most (Go 1.25 re-reads it once a second).
const AUTO_PERIOD_NANOS: u64 = 1_000_000_000;

/// See the module docs.
pub(crate) struct Elastic {
    /// The worker count last asked for (`Handle::worker_threads`).
    target: AtomicUsize,
    retire: Box<[AtomicBool]>,
    workers: Mutex<Workers>,
    /// Threads started by resizes.
    pub(crate) started: AtomicU64,
    /// Workers retired by resizes (each counted when its thread exits).
    pub(crate) retired: AtomicU64,
    /// Set when the worker count follows the cgroup CPU limit.
    auto: Option<Auto>,
}

impl Elastic {
    /// `max` workers, the first `initial` of which get threads at build time; the
    /// others start `Stopped` with the given cores.
    pub(crate) fn new(max: usize, initial: usize) -> Elastic {
        Elastic {
            target: AtomicUsize::new(initial),
            retire: (0..max).map(|_| AtomicBool::new(false)).collect(),
            workers: Mutex::new(Workers {
                states: Vec::with_capacity(max),
                threads: Vec::new(),
            }),
            started: AtomicU64::new(0),
            retired: AtomicU64::new(0),
            auto: None,
        }
    }

    /// Follow the CPU limit in the cgroup directory `root` from now on.
    pub(crate) fn follow_cgroup(&mut self, root: PathBuf, available: usize, now: u64) {
        self.auto = Some(Auto {
            root,
            available,
            next_check: AtomicU64::new(now.saturating_add(AUTO_PERIOD_NANOS)),
        });
    }

    /// If this runtime follows a cgroup limit and a second passed since the last
    /// read, claims the next read (one caller wins) and says where to read.
    pub(crate) fn cgroup_check_due(&self, now: u64) -> Option<(&Path, usize)> {
        let auto = self.auto.as_ref()?;
        let due = auto.next_check.load(Ordering::Relaxed);
        if now < due {
            return None;
        }
        auto.next_check
            .compare_exchange(
                due,
                now.saturating_add(AUTO_PERIOD_NANOS),
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .ok()?;
        Some((&auto.root, auto.available))
    }

    /// Records the state of the next worker at build time (in index order).
    pub(crate) fn push_worker(&self, state: WorkerState) {
        lock(&self.workers).states.push(state);
    }

    /// The worker count last asked for.
    pub(crate) fn target(&self) -> usize {
        self.target.load(Ordering::SeqCst)
    }

    /// Number of workers (the maximum worker count).
    pub(crate) fn max(&self) -> usize {
        self.retire.len()
    }

    /// Whether worker `index` was asked to retire (one relaxed load: the worker
    /// confirms under the lock in [`Elastic::begin_retire`]).
    pub(crate) fn retire_requested(&self, index: usize) -> bool {
        self.retire[index].load(Ordering::Relaxed)
    }

    /// Workers that have a thread now.
    pub(crate) fn threads_alive(&self) -> usize {
        lock(&self.workers)
            .states
            .iter()
            .filter(|state| !matches!(state, WorkerState::Stopped(_)))
            .count()
    }

    /// A resize to `target` workers (`1..=max`, checked by the caller): updates the
    /// states and says what to do outside the lock.
    pub(crate) fn request(&self, target: usize) -> Vec<Action> {
        let mut workers = lock(&self.workers);
        self.target.store(target, Ordering::SeqCst);
        let mut actions = Vec::new();
        for (index, state) in workers.states.iter_mut().enumerate() {
            let keep = index < target;
            match state {
                WorkerState::Running if !keep => {
                    *state = WorkerState::Retiring;
                    self.retire[index].store(true, Ordering::SeqCst);
                    actions.push(Action::Unpark(index));
                }
                WorkerState::Retiring if keep => {
                    *state = WorkerState::Running;
                    self.retire[index].store(false, Ordering::SeqCst);
                }
                WorkerState::Stopped(_) if keep => {
                    let WorkerState::Stopped(core) = std::mem::replace(state, WorkerState::Running)
                    else {
                        unreachable!()
                    };
                    actions.push(Action::Start(core));
                }
                _ => {}
            }
        }
        actions
    }

    /// Keeps the join handle of a thread a resize started.
    pub(crate) fn add_thread(&self, thread: JoinHandle<()>) {
        let mut workers = lock(&self.workers);
        workers.threads.retain(|thread| !thread.is_finished());
        workers.threads.push(thread);
    }

    /// Worker `index` saw its retire flag: `Proceed` if it must hand off now.
    pub(crate) fn begin_retire(&self, index: usize) -> Retire {
        let mut workers = lock(&self.workers);
        match workers.states[index] {
            WorkerState::Retiring => {
                workers.states[index] = WorkerState::Exiting;
                self.retire[index].store(false, Ordering::SeqCst);
                Retire::Proceed
            }
            // A grow cancelled the retirement after the worker read the flag.
            WorkerState::Running => Retire::KeepRunning,
            WorkerState::Exiting | WorkerState::Stopped(_) => {
                unreachable!("ticktock: worker {index} began retiring twice")
            }
        }
    }

    /// Worker `index` handed everything off. `KeepRunning` gives the core back to
    /// the caller (a grow wants the worker again); `Proceed` keeps the core here and
    /// the thread exits.
    pub(crate) fn finish_retire(&self, core: Box<Core>) -> Result<Box<Core>, Retire> {
        let index = core.index;
        let mut workers = lock(&self.workers);
        debug_assert!(matches!(workers.states[index], WorkerState::Exiting));
        if index < self.target() {
            workers.states[index] = WorkerState::Running;
            return Ok(core);
        }
        workers.states[index] = WorkerState::Stopped(core);
        self.retired.fetch_add(1, Ordering::Relaxed);
        Err(Retire::Proceed)
    }

    /// Shutdown: the join handles of resize-started threads, and the parked cores
    /// (dropped by the caller).
    #[allow(clippy::vec_box)]
    pub(crate) fn take_at_shutdown(&self) -> (Vec<JoinHandle<()>>, Vec<Box<Core>>) {
        let mut workers = lock(&self.workers);
        let threads = std::mem::take(&mut workers.threads);
        let mut cores = Vec::new();
        for state in workers.states.iter_mut() {
            if matches!(state, WorkerState::Stopped(_)) {
                if let WorkerState::Stopped(core) = std::mem::replace(state, WorkerState::Exiting) {
                    cores.push(core);
                }
            }
        }
        (threads, cores)
    }
}
