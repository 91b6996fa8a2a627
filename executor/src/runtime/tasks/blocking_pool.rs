//! The blocking pool behind [`spawn_blocking`](crate::task::spawn_blocking).
//!
//! # What it owns
//! A queue of blocking jobs (as `async-task` runnables, so their join handles are the
//! ordinary [`JoinHandle`](crate::task::JoinHandle)) and the threads that run them.
//! Threads are started on demand up to a cap and exit after idling for
//! [`KEEP_ALIVE`]. At shutdown, queued jobs that no thread was started for are
//! dropped (their handles report cancellation) and idle threads exit; running jobs
//! finish on their own.
//!
//! # Paused time
//! `in_flight` counts jobs queued or running. While it is not zero, a runtime with a
//! paused clock does not auto-advance (tokio's rule: the job may be what the idle
//! runtime waits for, and it runs in real time); the job that brings it back to
//! zero unparks the workers so they re-evaluate.
//!
//! # Shutdown
//! Jobs a thread was already started or woken for (`promised`) still run after
//! shutdown, as in tokio, where such a thread has taken its job; the rest of the
//! queue (jobs waiting for a thread under the cap) is dropped, cancelling them.
//!
//! # Ground rules
//! The pool lock guards the queue and the thread counts; jobs run without it. The
//! pool starts no thread and knows no runtime: its caller (`scheduler/threads.rs`)
//! starts the threads it asks for, inside the runtime's context.

use std::collections::VecDeque;
use std::time::Duration;

use async_task::Runnable;

use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::{Condvar, Mutex};
use crate::loom::{lock, wait_until, Waited};

/// How long an idle blocking thread waits for a job before exiting. Long enough
/// that a steady trickle of blocking calls reuses threads, short enough that a burst
/// does not pin hundreds of idle threads for long (tokio uses the same figure).
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// Default cap on blocking threads (tokio's default too): blocking calls beyond it
/// queue rather than exhaust the process's threads.
pub(crate) const DEFAULT_MAX_BLOCKING_THREADS: usize = 512;

struct PoolState {
    queue: VecDeque<Runnable>,
    threads: usize,
    idle: usize,
    /// Queued jobs a thread was started or woken for and has not popped yet: they
    /// survive shutdown (the first `promised` jobs of the queue).
    promised: usize,
    shutdown: bool,
}

/// What [`BlockingPool::schedule`] asks of its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Queued {
    /// Nothing: an idle thread takes the job, or a busy one will (or, after
    /// shutdown, it was dropped).
    Done,
    /// A thread was counted in for the job: start one that runs
    /// [`BlockingPool::run_thread`], or call [`BlockingPool::thread_not_started`].
    StartThread,
}

/// See the module docs.
pub(crate) struct BlockingPool {
    state: Mutex<PoolState>,
    condvar: Condvar,
    max_threads: usize,
    /// Jobs queued or running (see the module docs on paused time).
    in_flight: AtomicUsize,
}

impl BlockingPool {
    /// A pool that starts at most `max_threads` threads. With 0 (a simulation,
    /// `sim/`) it never asks for one: jobs stay queued until
    /// [`BlockingPool::run_one_queued`] runs them on the caller's thread.
    pub(crate) fn new(max_threads: usize) -> BlockingPool {
        BlockingPool {
            state: Mutex::new(PoolState {
                queue: VecDeque::new(),
                threads: 0,
                idle: 0,
                promised: 0,
                shutdown: false,
            }),
            condvar: Condvar::new(),
            max_threads,
            in_flight: AtomicUsize::new(0),
        }
    }

    /// Queues a job. If no thread is idle and the cap allows, counts a new thread
    /// in and asks the caller to start it ([`Queued::StartThread`]). After shutdown
    /// the job is dropped, which cancels it.
    pub(crate) fn schedule(&self, runnable: Runnable) -> Queued {
        let mut state = lock(&self.state);
        if state.shutdown {
            drop(state);
            drop(runnable);
            return Queued::Done;
        }
        state.queue.push_back(runnable);
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        if state.idle > state.promised {
            state.promised += 1;
            drop(state);
            self.condvar.notify_one();
            Queued::Done
        } else if state.threads < self.max_threads {
            state.threads += 1;
            state.promised += 1;
            Queued::StartThread
        } else {
            Queued::Done
        }
    }

    /// The thread [`Queued::StartThread`] asked for could not be started: counts it
    /// out again. The job stays queued for an existing thread, if there is one.
    pub(crate) fn thread_not_started(&self) {
        let mut state = lock(&self.state);
        state.threads -= 1;
        state.promised -= 1;
    }

    /// The body of a pool thread (started after [`Queued::StartThread`]): runs queued
    /// jobs until it idles for [`KEEP_ALIVE`] or the pool shuts down. `all_done` runs
    /// when a job it ran was the last one in flight (see the module docs on paused
    /// time).
    pub(crate) fn run_thread(&self, all_done: &dyn Fn()) {
        let mut state = lock(&self.state);
        loop {
            if let Some(runnable) = state.queue.pop_front() {
                state.promised = state.promised.saturating_sub(1);
                drop(state);
                runnable.run();
                if self.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
                    all_done();
                }
                state = lock(&self.state);
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let keep_alive = Some(std::time::Instant::now() + KEEP_ALIVE);
            let (next, waited) = wait_until(&self.condvar, state, keep_alive);
            state = next;
            state.idle -= 1;
            if waited == Waited::DeadlinePassed && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
    }

    /// Whether a job is queued or running (a paused clock must not jump meanwhile).
    /// Runs the oldest queued job on this thread, if there is one and no thread
    /// was promised it (a simulation's pool has no thread: `sim/` calls this as one
    /// of its steps). Returns whether a job ran.
    pub(crate) fn run_one_queued(&self) -> bool {
        let runnable = {
            let mut state = lock(&self.state);
            if state.promised >= state.queue.len() {
                return false;
            }
            match state.queue.pop_front() {
                Some(runnable) => runnable,
                None => return false,
            }
        };
        runnable.run();
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        true
    }

    /// Whether a job waits in the queue with no thread promised to it.
    pub(crate) fn has_unpromised_jobs(&self) -> bool {
        let state = lock(&self.state);
        state.queue.len() > state.promised
    }

    pub(crate) fn has_jobs_in_flight(&self) -> bool {
        self.in_flight.load(Ordering::SeqCst) != 0
    }

    /// Refuses new jobs, drops the queued jobs no thread was started or woken for,
    /// and lets idle threads exit once the rest ran.
    pub(crate) fn shutdown(&self) {
        let dropped = {
            let mut state = lock(&self.state);
            state.shutdown = true;
            let keep = state.promised.min(state.queue.len());
            state.queue.split_off(keep)
        };
        self.condvar.notify_all();
        // No `all_done`: the runtime is going away, nobody needs waking.
        self.in_flight.fetch_sub(dropped.len(), Ordering::SeqCst);
        drop(dropped);
    }
}
