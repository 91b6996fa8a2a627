//! Starting the runtime's threads: worker threads at build and for
//! `block_in_place` (which hands a worker's core to a fresh thread that carries on
//! as the same worker), and the blocking pool's threads when it asks for one.
//!
//! # Ground rules
//! Every worker thread is counted in the runtime's live threads
//! (`Shared::thread_started` / `thread_stopped`) so shutdown can wait for it, and
//! drops the tasks left in its queue inside the runtime's context.

use std::rc::Rc;

use async_task::Runnable;

use crate::context::{self, WorkerContext};
use crate::runtime::config::ThreadHooks;
use crate::runtime::elastic::retire::retire;
use crate::runtime::elastic::states::Retire;
use crate::runtime::scheduler::core::Core;
use crate::runtime::scheduler::worker_loop::{run, Exit};
use crate::runtime::shared::Flavor;
use crate::runtime::shared::Handle;
use crate::runtime::tasks::blocking_pool::Queued;

/// Starts a worker thread driving `core`, counted in the runtime's live threads.
pub(crate) fn spawn_worker_thread(
    handle: &Handle,
    core: Box<Core>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let handle = handle.clone();
    let shared = handle.shared.clone();
    shared.thread_started();
    let name = format!("{}-{}", shared.thread_name, core.index);
    let spawned = std::thread::Builder::new().name(name).spawn(move || {
        let worker = Rc::new(WorkerContext::new(core));
        {
            let _hooks = ThreadHooks::start(&handle.shared.config);
            let _enter = context::enter(handle.clone(), Some(worker.clone()));
            while let Exit::Retire = run(&handle, &worker, None) {
                if retire(&handle.shared, &worker) == Retire::Proceed {
                    break;
                }
            }
            // Drop the tasks still queued while the context is entered. Dropping the
            // core alone would not: the queue's buffer is shared with its stealer,
            // which `Shared` keeps, and each queued task keeps `Shared` alive.
            let core = worker.core.borrow_mut().take();
            if let Some(core) = core {
                while let Some(runnable) = core.queue.pop() {
                    drop(runnable);
                }
            }
        }
        handle.shared.thread_stopped();
    });
    if spawned.is_err() {
        // The thread never ran, so it never counts itself out.
        shared.thread_stopped();
    }
    spawned
}

/// Starts the worker threads of a runtime just built, one per core in `cores`; on a
/// current-thread runtime the one core waits in `Shared::idle_cores` for `block_on`.
/// If a thread cannot be started, shuts down the ones started and fails.
#[allow(clippy::vec_box)] // cores move between threads boxed (see `Shared::idle_cores`)
pub(crate) fn start_workers(
    handle: &Handle,
    cores: Vec<Box<Core>>,
) -> std::io::Result<Vec<std::thread::JoinHandle<()>>> {
    let mut threads = Vec::new();
    match handle.shared.flavor {
        Flavor::CurrentThread => {
            crate::loom::lock(&handle.shared.idle_cores).extend(cores);
        }
        Flavor::MultiThread => {
            for core in cores {
                match spawn_worker_thread(handle, core) {
                    Ok(thread) => threads.push(thread),
                    Err(error) => {
                        handle.shared.shutdown(None);
                        return Err(error);
                    }
                }
            }
        }
    }
    Ok(threads)
}

/// `block_in_place`: if this thread drives a core of a multi-thread runtime, hands
/// the core to a new thread that carries on as the same worker.
pub(crate) fn hand_off_core() {
    context::with_worker(|worker| {
        let Some((handle, worker)) = worker else {
            return;
        };
        if handle.shared.flavor == Flavor::CurrentThread {
            panic!(
                "ticktock: `block_in_place` cannot be used on a current-thread runtime: \
                 there is no other thread to hand its tasks to; use `spawn_blocking`, \
                 or a multi-thread runtime"
            );
        }
        if handle.shared.simulated {
            // A simulation has one thread: the closure runs inline, in this step,
            // and the logical worker keeps its core (nothing else could run it).
            return;
        }
        let Some(core) = worker.core.borrow_mut().take() else {
            // Already handed off by an outer `block_in_place`.
            return;
        };
        if let Err(error) = spawn_worker_thread(handle, core) {
            panic!(
                "ticktock: `block_in_place` could not start a replacement worker thread: {error}"
            );
        }
    });
}

/// The schedule function of `spawn_blocking` jobs: queues the job on the pool and
/// starts the thread the pool asks for, if any.
pub(crate) fn schedule_blocking(handle: &Handle, runnable: Runnable) {
    let pool = &handle.shared.blocking;
    if pool.schedule(runnable) == Queued::StartThread {
        let thread_handle = handle.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("{}-blocking", handle.shared.thread_name))
            .spawn(move || run_blocking_thread(&thread_handle));
        if let Err(error) = spawned {
            pool.thread_not_started();
            panic!("ticktock: failed to start a blocking thread: {error}");
        }
    }
}

/// A blocking-pool thread: the thread hooks, the runtime's context, the pool's loop.
fn run_blocking_thread(handle: &Handle) {
    let shared = &handle.shared;
    let _hooks = ThreadHooks::start(&shared.config);
    let _enter = context::enter(handle.clone(), None);
    shared.blocking.run_thread(&|| {
        // The last job in flight ended: a paused runtime may auto-advance now.
        if shared.timers.clock.is_paused() {
            shared.parking.unpark_each();
        }
    });
}
