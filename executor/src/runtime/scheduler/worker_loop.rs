//! The worker loop: run tasks, fire timers, search, park.
//!
//! # What it owns
//! The loop a worker thread (or a current-thread `block_on` caller) runs over its core, the
//! search for work beyond the core's own queue, the firing of due timers onto the core, and
//! the scheduling of a task woken on a worker. The queue policy is in `scheduler/core.rs`,
//! the park policy in `scheduler/park_policy.rs`, starting worker threads (at build and for
//! `block_in_place`) in `scheduler/threads.rs`.
//!
//! # One turn of the loop
//! ```text
//!   ┌─► every event_interval ticks (61): fire own due timers, steal others' due timers
//!   │   next task: LIFO cell (at most MAX_LIFO_STREAK in a row)
//!   │              └─ every global_queue_interval ticks (31) the global queue goes first
//!   │              └─ local queue ─ global queue
//!   │   none? search: fire own due timers ─ steal due timers of every other store
//!   │                 ─ steal half of a random victim's queue ─ global queue
//!   │                 ─ the LIFO task of a worker stuck in one poll since last look
//!   │   none? park: announce ─ re-check queues and deadlines ─ sleep until the
//!   │         earliest deadline of all stores (in the mio poller if it is free,
//!   │         else on the condition variable)
//!   └── run the task (with a fresh cooperative budget)
//! ```
//! Nothing here is O(number of timers): a park reads one atomic per store.
//!
//! # Ground rules
//! The core is borrowed from the thread-local context only between task polls, so a
//! task that wakes another task can push it onto the same worker's LIFO cell.
//! Tasks woken by fired timers go to the back of the queue in deadline order: they
//! are woken under a [`FiredTimerWakes`](crate::context::FiredTimerWakes) guard.

use async_task::Runnable;

use crate::context::{self, WorkerContext};
use crate::runtime::elastic::resize::follow_cgroup;
use crate::runtime::scheduler::core::{Core, Placement, Visible, EVENT_INTERVAL};
use crate::runtime::scheduler::park_policy::park;
use crate::runtime::shared::Handle;
use crate::runtime::shared::Shared;
use crate::runtime::timers::stores::LockWait;

/// Tasks a current-thread `block_on` runs between two polls of its woken main
/// future when tasks are queued: the main future cannot starve the tasks it
/// spawns and wakes, nor they it (tokio uses the same figure as its event interval).
const MAIN_BATCH: u32 = EVENT_INTERVAL;

/// How a task came to be scheduled ([`Handle::schedule`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wake {
    /// Woken by another task, an event or a timer.
    Woken,
    /// Woken by itself while it was running (`yield_now`).
    Yielded,
}

/// Schedules a woken task on the current worker if the current thread drives a core
/// of `handle`'s runtime. Gives the task back otherwise.
#[inline]
pub(crate) fn schedule_local(
    handle: &Handle,
    runnable: Runnable,
    wake: Wake,
) -> Result<(), Runnable> {
    context::with_worker(|worker| {
        let Some((current, worker)) = worker else {
            return Err(runnable);
        };
        if current.id() != handle.id() {
            return Err(runnable);
        }
        let Ok(mut core) = worker.core.try_borrow_mut() else {
            return Err(runnable);
        };
        let Some(core) = core.as_mut() else {
            return Err(runnable);
        };
        let placement = if worker.is_waking_fired_timers() {
            Placement::FiredTimer
        } else if wake == Wake::Yielded {
            Placement::Yielded
        } else {
            Placement::Next
        };
        if core.push_local(&handle.shared.queues(), runnable, placement) == Visible::ToOthers {
            handle.shared.parking.notify_one();
        }
        Ok(())
    })
}

/// What the loop should do next, decided while the core is borrowed.
enum Step {
    Run(Runnable),
    Park,
    CoreGone,
}

/// Hooks for a `block_on` caller that drives a core (current-thread flavor).
pub(crate) trait MainFuture {
    /// Whether the main future was woken since it was last polled.
    fn is_woken(&self) -> bool;
    /// Polls the main future if woken. Returns `true` when it has completed.
    fn poll_if_woken(&mut self) -> bool;
}

/// Why [`run`] returned.
pub(crate) enum Exit {
    Shutdown,
    /// `block_in_place` took the core to another thread.
    CoreGone,
    /// The main future completed.
    MainDone,
    /// A resize asked this worker to retire (`elastic/retire.rs`).
    Retire,
}

/// Runs the worker loop on this thread for the core in `worker` until shutdown,
/// until the core is taken away, or until `main` (if any) completes.
pub(crate) fn run(
    handle: &Handle,
    worker: &WorkerContext,
    mut main: Option<&mut dyn MainFuture>,
) -> Exit {
    let shared = &*handle.shared;
    let index = worker.index;
    let mut tasks_since_main = MAIN_BATCH;
    loop {
        if let Some(main) = main.as_mut() {
            // A woken main future waits for up to MAIN_BATCH queued tasks first, so
            // that the tasks it woke (or that fired while it yielded) get to run.
            if main.is_woken()
                && (tasks_since_main >= MAIN_BATCH || local_queue_is_empty(shared, worker))
            {
                tasks_since_main = 0;
                if main.poll_if_woken() {
                    return Exit::MainDone;
                }
            }
        }
        if shared.is_shutdown() {
            return Exit::Shutdown;
        }
        if shared.elastic.retire_requested(index) {
            return Exit::Retire;
        }
        let mut fired = 0;
        let mut maintenance = false;
        let step = {
            let mut core = worker.core.borrow_mut();
            match core.as_mut() {
                None => Step::CoreGone,
                Some(core) => {
                    if core.maintenance_due() {
                        maintenance = true;
                        fired = fire_timers(shared, core);
                    }
                    match core.next_local(&shared.queues()) {
                        Some(runnable) => Step::Run(runnable),
                        None => Step::Park,
                    }
                }
            }
        };
        if fired != 0 {
            wake_buffered(worker);
        }
        if maintenance {
            poll_io_without_waiting(shared);
            follow_cgroup(handle);
        }
        let runnable = match step {
            Step::CoreGone => return Exit::CoreGone,
            Step::Run(runnable) => runnable,
            Step::Park => match search(shared, worker) {
                Some(runnable) => runnable,
                None => {
                    let has_main_work = main.as_ref().is_some_and(|m| m.is_woken());
                    if !has_main_work {
                        let main = main.as_deref();
                        park(shared, worker, &|| main.is_some_and(|m| m.is_woken()));
                        follow_cgroup(handle);
                    }
                    continue;
                }
            },
        };
        found_work(shared, worker);
        shared.counters[index].polls.bump();
        tasks_since_main = tasks_since_main.saturating_add(1);
        runnable.run();
    }
}

/// Whether this worker's own queue and LIFO cell are empty.
fn local_queue_is_empty(shared: &Shared, worker: &WorkerContext) -> bool {
    let lifo_empty = !shared.lifo[worker.index].looks_occupied();
    lifo_empty
        && worker
            .core
            .borrow()
            .as_ref()
            .is_none_or(|core| core.queue.is_empty())
}

/// A searching worker found a task: if it was the last searcher, wake another
/// worker so the search goes on (there may be more work).
pub(crate) fn found_work(shared: &Shared, worker: &WorkerContext) {
    let mut core = worker.core.borrow_mut();
    if let Some(core) = core.as_mut() {
        if core.searching {
            core.searching = false;
            if shared.parking.idle.transition_from_searching() {
                shared.parking.notify_one();
            }
        }
    }
}

/// Fires this worker's due timers and steals the due timers of every other store,
/// waking their tasks (onto this worker's queue). Returns the number fired.
pub(crate) fn fire_timers(shared: &Shared, core: &mut Core) -> usize {
    let timers = &shared.timers;
    let now = timers.runtime_nanos();
    let mut wakers = std::mem::take(&mut core.wakers);
    let own = timers.store(core.index);
    let mut fired = own.fire_due(now, &mut wakers, LockWait::Wait);
    fired += timers.steal_due(Some(core.index), now, &mut wakers);
    if fired != 0 {
        shared.counters[core.index].timers_fired.add(fired as u64);
    }
    // The core is borrowed by our caller and waking pushes onto it, so the wakers
    // stay buffered until `wake_buffered` runs with the core released.
    core.wakers = wakers;
    fired
}

/// Wakes the wakers buffered in the core, with the core not borrowed.
pub(crate) fn wake_buffered(worker: &WorkerContext) {
    let mut wakers = {
        let mut core = worker.core.borrow_mut();
        match core.as_mut() {
            Some(core) if !core.wakers.is_empty() => std::mem::take(&mut core.wakers),
            _ => return,
        }
    };
    {
        let _fired = worker.waking_fired_timers();
        for waker in wakers.drain(..) {
            waker.wake();
        }
    }
    if let Some(core) = worker.core.borrow_mut().as_mut() {
        core.wakers = wakers;
    }
}

/// Fires every due timer of every store now and wakes their tasks (in deadline
/// order onto this thread's queue if it drives a core). Used by `time::advance`.
pub(crate) fn fire_all_due(handle: &Handle) {
    let timers = &handle.shared.timers;
    let mut wakers = Vec::new();
    timers.steal_due(None, timers.runtime_nanos(), &mut wakers);
    let worker = context::current_worker();
    let _fired = worker.as_deref().map(WorkerContext::waking_fired_timers);
    for waker in wakers {
        waker.wake();
    }
}

/// A busy worker's look at the sockets: if any are registered and no worker sits
/// in the poller, poll without blocking so their events are not held up until some
/// worker parks.
fn poll_io_without_waiting(shared: &Shared) {
    let driver = &shared.parking.driver;
    if driver.reactor().live() == 0 {
        return;
    }
    if let Some(mut poll) = driver.try_acquire() {
        driver.poll(&mut poll, Some(std::time::Duration::ZERO));
    }
}

/// Looks for work beyond the local queue: due timers anywhere, then other workers'
/// queues, then the global queue.
pub(crate) fn search(shared: &Shared, worker: &WorkerContext) -> Option<Runnable> {
    {
        let mut core = worker.core.borrow_mut();
        let core = core.as_mut()?;
        fire_timers(shared, core);
    }
    wake_buffered(worker);
    let mut core = worker.core.borrow_mut();
    let core = core.as_mut()?;
    let queues = shared.queues();
    if let Some(runnable) = core.next_local(&queues) {
        return Some(runnable);
    }
    core.steal_work(&queues)
}
