//! Resizing a running runtime: [`resize`] (behind
//! [`Handle::set_worker_threads`](crate::Handle::set_worker_threads)) starts the
//! threads of a grow and sets the retire flags of a shrink, whose workers then retire
//! on their own threads (`elastic/retire.rs`); [`follow_cgroup`] resizes to the container's CPU
//! limit (`Builder::worker_threads_auto`).
//!
//! # Ground rules
//! The state machine (which worker is running, retiring, stopped) is `states.rs`'s;
//! this file only acts on what it answers. Threads are started through
//! `Shared::start_worker_thread`, a function the builder installs, so this file (which
//! the worker loop calls) does not import the file that runs the worker loop
//! (`scheduler/threads.rs`): the import graph stays acyclic.

use crate::loom::sync::atomic::Ordering;
use crate::runtime::elastic::states::Action;
use crate::runtime::shared::{Flavor, Handle};

/// `Handle::set_worker_threads`: asks for `target` workers. Starts the threads of
/// a grow before returning; a shrink's workers retire on their own threads.
pub(crate) fn resize(handle: &Handle, target: usize) {
    let shared = &*handle.shared;
    assert!(
        shared.flavor == Flavor::MultiThread,
        "ticktock: `set_worker_threads` needs a multi-thread runtime; a current-thread \
         runtime runs its tasks on the thread inside `block_on`"
    );
    let max = shared.elastic.max();
    assert!(
        (1..=max).contains(&target),
        "ticktock: `set_worker_threads({target})` is outside 1..={max} \
         (raise the bound with `Builder::max_worker_threads`)"
    );
    if shared.is_shutdown() {
        return;
    }
    for action in shared.elastic.request(target) {
        match action {
            Action::Unpark(index) => shared.parking.unpark(index),
            Action::Start(core) => {
                let index = core.index;
                match (shared.start_worker_thread)(handle, core) {
                    Ok(thread) => {
                        shared.elastic.started.fetch_add(1, Ordering::Relaxed);
                        // `None`: a simulation steps the core itself.
                        if let Some(thread) = thread {
                            shared.elastic.add_thread(thread);
                        }
                    }
                    Err(error) => panic!(
                        "ticktock: `set_worker_threads` could not start worker {index}: {error}"
                    ),
                }
            }
        }
    }
}

/// `Builder::worker_threads_auto`: at most once a second, re-reads the cgroup CPU
/// limit and resizes if the worker count it allows changed. Called by awake
/// workers (an idle runtime has nothing to resize); a few nanoseconds otherwise.
pub(crate) fn follow_cgroup(handle: &Handle) {
    let shared = &*handle.shared;
    let Some((root, available)) = shared
        .elastic
        .cgroup_check_due(shared.timers.runtime_nanos())
    else {
        return;
    };
    let Some(workers) = crate::runtime::elastic::cgroup::read_workers(root, available) else {
        return;
    };
    let workers = workers.min(shared.elastic.max());
    if workers != shared.elastic.target() {
        resize(handle, workers);
    }
}
