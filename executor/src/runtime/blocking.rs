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
//! The pool lock guards the queue and the thread counts; jobs run without it.

use std::collections::VecDeque;
use std::time::Duration;

use async_task::Runnable;

use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::{Condvar, Mutex};
use crate::loom::{lock, wait_until, Waited};
use crate::runtime::Handle;

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

/// See the module docs.
pub(crate) struct BlockingPool {
    state: Mutex<PoolState>,
    condvar: Condvar,
    max_threads: usize,
    thread_name: String,
    /// Jobs queued or running (see the module docs on paused time).
    in_flight: AtomicUsize,
}

impl BlockingPool {
    pub(crate) fn new(max_threads: usize, thread_name: String) -> BlockingPool {
        BlockingPool {
            state: Mutex::new(PoolState {
                queue: VecDeque::new(),
                threads: 0,
                idle: 0,
                promised: 0,
                shutdown: false,
            }),
            condvar: Condvar::new(),
            max_threads: max_threads.max(1),
            thread_name,
            in_flight: AtomicUsize::new(0),
        }
    }

    /// Queues a job, starting a thread if none is idle and the cap allows.
    /// After shutdown the job is dropped, which cancels it.
    pub(crate) fn schedule(&self, handle: &Handle, runnable: Runnable) {
        let mut state = lock(&self.state);
        if state.shutdown {
            drop(state);
            drop(runnable);
            return;
        }
        state.queue.push_back(runnable);
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        if state.idle > state.promised {
            state.promised += 1;
            drop(state);
            self.condvar.notify_one();
        } else if state.threads < self.max_threads {
            state.threads += 1;
            state.promised += 1;
            drop(state);
            let handle = handle.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("{}-blocking", self.thread_name))
                .spawn(move || handle.shared.blocking.run_thread(&handle));
            if let Err(error) = spawned {
                // The job stays queued for an existing thread, if there is one.
                let mut state = lock(&self.state);
                state.threads -= 1;
                state.promised -= 1;
                drop(state);
                panic!("ticktock: failed to start a blocking thread: {error}");
            }
        }
    }

    fn run_thread(&self, handle: &Handle) {
        let _hooks = super::config::ThreadHooks::start(&handle.shared.config);
        let _enter = crate::context::enter(handle.clone(), None);
        let mut state = lock(&self.state);
        loop {
            if let Some(runnable) = state.queue.pop_front() {
                state.promised = state.promised.saturating_sub(1);
                drop(state);
                runnable.run();
                self.jobs_done(handle, 1);
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
    pub(crate) fn has_jobs_in_flight(&self) -> bool {
        self.in_flight.load(Ordering::SeqCst) != 0
    }

    /// Counts `jobs` out of `in_flight`; the last one out wakes the workers of a
    /// paused runtime, which may now auto-advance.
    fn jobs_done(&self, handle: &Handle, jobs: usize) {
        let before = self.in_flight.fetch_sub(jobs, Ordering::SeqCst);
        if before == jobs && handle.shared.timers.clock.is_paused() {
            handle.shared.parking.unpark_each();
        }
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
        // Not `jobs_done`: the runtime is going away, nobody needs waking.
        self.in_flight.fetch_sub(dropped.len(), Ordering::SeqCst);
        drop(dropped);
    }
}
