//! The worker loop: run tasks, fire timers, steal, park.
//!
//! # What it owns
//! [`Core`]: a worker's private state (its local run queue, tick counter, random
//! state and a reusable buffer of fired wakers), and [`LifoSlot`]: the task it woke
//! last, kept in the shared state in a lock-free cell so that another worker can
//! take it if this one is stuck in a long poll (Go steals `runnext` likewise). A core is driven by exactly
//! one thread at a time: a worker thread, or, in the current-thread flavor, the thread
//! inside `block_on`. `block_in_place` hands a core to a fresh thread.
//!
//! # One turn of the loop
//! ```text
//!   ┌─► every EVENT_INTERVAL ticks: fire own due timers, steal others' due timers
//!   │   next task: LIFO slot (at most MAX_LIFO_STREAK in a row)
//!   │              └─ every GLOBAL_QUEUE_INTERVAL ticks the global queue goes first
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
//! task that wakes another task can push it onto the same worker's LIFO slot.
//! Tasks woken by fired timers go to the back of the queue in deadline order.

use std::cell::Cell;
use std::rc::Rc;
use std::task::Waker;

use async_task::Runnable;
use crossbeam_deque::{Steal, Worker};
use crossbeam_utils::atomic::AtomicCell;

use super::driver::timeout_until;
use super::Handle;
use crate::context::{self, WorkerContext};
use crate::loom::sync::atomic::{AtomicBool, Ordering};
use ticktock_timer::NO_DEADLINE;

/// Ticks between two maintenance passes (own timers, others' due timers) while the
/// worker has tasks to run. A prime, so it does not beat with GLOBAL_QUEUE_INTERVAL;
/// small enough that a busy worker checks timers every few microseconds of work.
const EVENT_INTERVAL: u32 = 61;

/// Ticks between two looks at the global queue before the local one, so tasks
/// spawned from outside cannot starve behind a worker that keeps itself busy.
const GLOBAL_QUEUE_INTERVAL: u32 = 31;

/// How long a parked worker that saw a task sitting in a busy worker's LIFO slot
/// waits before looking again (and taking it, if that worker is still inside the
/// same poll). Long enough that a worker in an ordinary poll has moved on (polls
/// take microseconds), short enough that a task behind a blocking call is rescued
/// within a few milliseconds (Go's sysmon retakes a P stuck in a syscall after
/// 20 µs to 10 ms).
const LIFO_RESCUE_DELAY: std::time::Duration = std::time::Duration::from_millis(1);

thread_local! {
    /// Set while this worker wakes the tasks of timers it just fired.
    static WAKING_FIRED_TIMERS: Cell<bool> = const { Cell::new(false) };
}

/// Tasks a current-thread `block_on` runs between two polls of its woken main
/// future when tasks are queued: the main future cannot starve the tasks it
/// spawns and wakes, nor they it (tokio uses the same figure as its event interval).
const MAIN_BATCH: u32 = EVENT_INTERVAL;

/// Most tasks taken from the LIFO slot in a row before the slot's task goes to the
/// back of the queue: ping-pong pairs keep their cache locality, but cannot starve
/// the rest of the queue.
const MAX_LIFO_STREAK: u32 = 3;

/// A worker's private state. See the module docs.
pub(crate) struct Core {
    pub(crate) index: usize,
    queue: Worker<Runnable>,
    lifo_streak: u32,
    /// Per victim: its poll count when this worker last saw a task in its LIFO
    /// slot ([`NOT_WATCHED`] if none). Seeing the same count twice means the victim
    /// is stuck inside one poll, and its LIFO task is taken.
    lifo_watch: Vec<u64>,
    tick: u32,
    rng: u64,
    /// Whether this worker holds a `searching` count in `Idle`.
    searching: bool,
    /// A task yielded since the last pick: the global queue goes first next time,
    /// so `yield_now` lets tasks waiting there run too, not only local ones.
    yielded: bool,
    /// Reused buffer of fired timers' wakers (woken after the store lock is released).
    wakers: Vec<Waker>,
}

impl Core {
    pub(crate) fn new(index: usize, queue: Worker<Runnable>) -> Core {
        Core {
            index,
            queue,
            lifo_streak: 0,
            lifo_watch: Vec::new(),
            tick: 0,
            // Any odd non-zero seed works for xorshift; spread the workers apart.
            rng: 0x9E37_79B9_7F4A_7C15 ^ ((index as u64 + 1) << 17) | 1,
            searching: false,
            yielded: false,
            wakers: Vec::new(),
        }
    }

    fn next_random(&mut self, bound: usize) -> usize {
        // xorshift64*: cheap, good enough to pick a victim.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as usize % bound.max(1)
    }

    /// Queues a task woken on this worker. Returns `true` if it landed where other
    /// workers can steal it (so one of them may be worth waking).
    fn push_local(&mut self, handle: &Handle, runnable: Runnable, yielded: bool) -> bool {
        if WAKING_FIRED_TIMERS.with(Cell::get) {
            // Tasks of fired timers queue in deadline order (the LIFO slot would
            // reverse a batch), where idle workers can steal a burst of them.
            self.queue.push(runnable);
            return true;
        }
        if yielded {
            // Back of this worker's own queue: it will run it, nobody else needs
            // waking (tokio does not wake anyone for a yield either).
            self.queue.push(runnable);
            self.yielded = true;
            return false;
        }
        match handle.shared.lifo[self.index].push(runnable) {
            Some(previous) => {
                self.queue.push(previous);
                true
            }
            None => false,
        }
    }

    fn next_local(&mut self, handle: &Handle) -> Option<Runnable> {
        self.tick = self.tick.wrapping_add(1);
        let yielded = std::mem::replace(&mut self.yielded, false);
        // `is_empty` is two plain loads; `pop_global` would pay a fence each time.
        if (yielded || self.tick % GLOBAL_QUEUE_INTERVAL == 0) && !handle.shared.injector.is_empty()
        {
            if let Some(runnable) = handle.shared.pop_global() {
                return Some(runnable);
            }
        }
        // The hint first: `take` is an atomic swap, not worth paying on every pick
        // when the slot is empty (a stale "empty" hint only delays the task to
        // the next pick; only this worker fills its own slot).
        let lifo = &handle.shared.lifo[self.index];
        if let Some(runnable) = lifo.looks_occupied().then(|| lifo.take()).flatten() {
            if self.lifo_streak < MAX_LIFO_STREAK {
                self.lifo_streak += 1;
                return Some(runnable);
            }
            self.queue.push(runnable);
        }
        self.lifo_streak = 0;
        if let Some(runnable) = self.queue.pop() {
            return Some(runnable);
        }
        steal_global_batch(handle, &self.queue)
    }

    fn steal_work(&mut self, handle: &Handle) -> Option<Runnable> {
        let stealers = &handle.shared.stealers;
        let workers = stealers.len();
        let start = self.next_random(workers);
        for offset in 0..workers {
            let victim = (start + offset) % workers;
            if victim == self.index {
                continue;
            }
            loop {
                match stealers[victim].steal_batch_and_pop(&self.queue) {
                    Steal::Success(runnable) => {
                        handle.shared.counters[self.index].steals.bump();
                        return Some(runnable);
                    }
                    Steal::Empty => break,
                    Steal::Retry => continue,
                }
            }
        }
        if let Some(runnable) = steal_global_batch(handle, &self.queue) {
            return Some(runnable);
        }
        self.rescue_lifo(handle)
    }

    /// Takes a task from the LIFO slot of a worker that has been inside the same
    /// poll since this worker's previous look (it is blocked: Go steals `runnext`
    /// from such a P). Records the victims it saw with an occupied slot.
    fn rescue_lifo(&mut self, handle: &Handle) -> Option<Runnable> {
        let shared = &handle.shared;
        let workers = shared.workers();
        self.lifo_watch.resize(workers, NOT_WATCHED);
        for victim in 0..workers {
            if victim == self.index {
                continue;
            }
            let slot = &shared.lifo[victim];
            if !slot.looks_occupied() {
                self.lifo_watch[victim] = NOT_WATCHED;
                continue;
            }
            let polls = shared.counters[victim].polls.load(Ordering::Relaxed);
            if self.lifo_watch[victim] == polls {
                self.lifo_watch[victim] = NOT_WATCHED;
                if let Some(runnable) = slot.take() {
                    shared.counters[self.index].steals.bump();
                    return Some(runnable);
                }
            } else {
                self.lifo_watch[victim] = polls;
            }
        }
        None
    }

    /// Whether this worker is watching a LIFO slot and must look again soon.
    fn watching_lifo(&self) -> bool {
        self.lifo_watch.iter().any(|&polls| polls != NOT_WATCHED)
    }
}

/// `lifo_watch` value for "no task seen in that worker's LIFO slot".
const NOT_WATCHED: u64 = u64::MAX;

/// A worker's LIFO slot: the task it woke last, which it runs next.
///
/// The task sits in a one-word lock-free cell, so another worker can take it when
/// the owner is stuck inside a long poll. `occupied` is a hint for those lookers
/// (an exact check would need a compare-exchange, which `Runnable` does not allow);
/// a stale hint costs one failed `take`, never a lost task.
///
/// Aligned to a cache-line pair: the slots of all workers sit side by side in one
/// slice, and sharing a line made every push and take of one worker evict it from
/// the other's cache (measured: 30 % of a 100-pair ping-pong went to `push_local`).
#[repr(align(128))]
pub(crate) struct LifoSlot {
    task: AtomicCell<Option<Runnable>>,
    occupied: AtomicBool,
}

impl LifoSlot {
    pub(crate) fn new() -> LifoSlot {
        LifoSlot {
            task: AtomicCell::new(None),
            occupied: AtomicBool::new(false),
        }
    }

    /// Puts `runnable` in the slot, returning the task it displaces.
    fn push(&self, runnable: Runnable) -> Option<Runnable> {
        let previous = self.task.swap(Some(runnable));
        self.occupied.store(true, Ordering::Relaxed);
        previous
    }

    /// Takes the task out of the slot.
    pub(crate) fn take(&self) -> Option<Runnable> {
        let task = self.task.take();
        if task.is_some() {
            self.occupied.store(false, Ordering::Relaxed);
        }
        task
    }

    fn looks_occupied(&self) -> bool {
        self.occupied.load(Ordering::Relaxed)
    }
}

fn steal_global_batch(handle: &Handle, queue: &Worker<Runnable>) -> Option<Runnable> {
    loop {
        match handle.shared.injector.steal_batch_and_pop(queue) {
            Steal::Success(runnable) => return Some(runnable),
            Steal::Empty => return None,
            Steal::Retry => continue,
        }
    }
}

/// Schedules a woken task on the current worker if the current thread drives a core
/// of `handle`'s runtime. Gives the task back otherwise.
pub(crate) fn schedule_local(
    handle: &Handle,
    runnable: Runnable,
    yielded: bool,
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
        if core.push_local(handle, runnable, yielded) {
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
}

/// Runs the worker loop on this thread for the core in `worker` until shutdown,
/// until the core is taken away, or until `main` (if any) completes.
pub(crate) fn run(
    handle: &Handle,
    worker: &WorkerContext,
    mut main: Option<&mut dyn MainFuture>,
) -> Exit {
    let shared = &handle.shared;
    let index = worker.index;
    let mut tasks_since_main = MAIN_BATCH;
    loop {
        if let Some(main) = main.as_mut() {
            // A woken main future waits for up to MAIN_BATCH queued tasks first, so
            // that the tasks it woke (or that fired while it yielded) get to run.
            if main.is_woken()
                && (tasks_since_main >= MAIN_BATCH || local_queue_is_empty(handle, worker))
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
        let mut fired = 0;
        let mut maintenance = false;
        let step = {
            let mut core = worker.core.borrow_mut();
            match core.as_mut() {
                None => Step::CoreGone,
                Some(core) => {
                    if core.tick % EVENT_INTERVAL == 0 {
                        maintenance = true;
                        fired = fire_timers(handle, core);
                    }
                    match core.next_local(handle) {
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
            poll_io_now(handle);
        }
        let runnable = match step {
            Step::CoreGone => return Exit::CoreGone,
            Step::Run(runnable) => runnable,
            Step::Park => match search(handle, worker) {
                Some(runnable) => runnable,
                None => {
                    let has_main_work = main.as_ref().is_some_and(|m| m.is_woken());
                    if !has_main_work {
                        park(handle, worker, main.as_deref());
                    }
                    continue;
                }
            },
        };
        found_work(handle, worker);
        shared.counters[index].polls.bump();
        tasks_since_main = tasks_since_main.saturating_add(1);
        runnable.run();
    }
}

/// Whether this worker's own queue and LIFO slot are empty.
fn local_queue_is_empty(handle: &Handle, worker: &WorkerContext) -> bool {
    let lifo_empty = !handle.shared.lifo[worker.index].looks_occupied();
    lifo_empty
        && worker
            .core
            .borrow()
            .as_ref()
            .is_none_or(|core| core.queue.is_empty())
}

/// A searching worker found a task: if it was the last searcher, wake another
/// worker so the search goes on (there may be more work).
fn found_work(handle: &Handle, worker: &WorkerContext) {
    let mut core = worker.core.borrow_mut();
    if let Some(core) = core.as_mut() {
        if core.searching {
            core.searching = false;
            if handle.shared.parking.idle.transition_from_searching() {
                handle.shared.parking.notify_one();
            }
        }
    }
}

/// Fires this worker's due timers and steals the due timers of every other store,
/// waking their tasks (onto this worker's queue). Returns the number fired.
fn fire_timers(handle: &Handle, core: &mut Core) -> usize {
    let timers = &handle.shared.timers;
    let now = timers.now_nanos();
    let mut wakers = std::mem::take(&mut core.wakers);
    let own = timers.slot(core.index);
    let mut fired = own.fire_due(now, &mut wakers, true);
    fired += timers.steal_due(Some(core.index), now, &mut wakers);
    if fired != 0 {
        handle.shared.counters[core.index]
            .timers_fired
            .add(fired as u64);
    }
    // The core is borrowed by our caller and waking pushes onto it, so the wakers
    // stay buffered until `wake_buffered` runs with the core released.
    core.wakers = wakers;
    fired
}

/// Wakes the wakers buffered in the core, with the core not borrowed.
fn wake_buffered(worker: &WorkerContext) {
    let wakers = {
        let mut core = worker.core.borrow_mut();
        match core.as_mut() {
            Some(core) if !core.wakers.is_empty() => std::mem::take(&mut core.wakers),
            _ => return,
        }
    };
    let mut wakers = wakers;
    WAKING_FIRED_TIMERS.with(|flag| flag.set(true));
    for waker in wakers.drain(..) {
        waker.wake();
    }
    WAKING_FIRED_TIMERS.with(|flag| flag.set(false));
    if let Some(core) = worker.core.borrow_mut().as_mut() {
        core.wakers = wakers;
    }
}

/// Fires every due timer of every store now and wakes their tasks (in deadline
/// order onto this thread's queue if it drives a core). Used by `time::advance`.
pub(crate) fn fire_all_due(handle: &Handle) {
    let timers = &handle.shared.timers;
    let mut wakers = Vec::new();
    timers.steal_due(None, timers.now_nanos(), &mut wakers);
    WAKING_FIRED_TIMERS.with(|flag| flag.set(true));
    for waker in wakers {
        waker.wake();
    }
    WAKING_FIRED_TIMERS.with(|flag| flag.set(false));
}

/// A busy worker's look at the sockets: if any are registered and no worker sits
/// in the poller, poll without blocking so their events are not held up until some
/// worker parks.
fn poll_io_now(handle: &Handle) {
    let driver = &handle.shared.parking.driver;
    if driver.reactor().live() == 0 {
        return;
    }
    if let Some(mut poll) = driver.try_acquire() {
        driver.poll(&mut poll, Some(std::time::Duration::ZERO));
    }
}

/// Looks for work beyond the local queue: due timers anywhere, then other workers'
/// queues, then the global queue.
fn search(handle: &Handle, worker: &WorkerContext) -> Option<Runnable> {
    {
        let mut core = worker.core.borrow_mut();
        let core = core.as_mut()?;
        fire_timers(handle, core);
    }
    wake_buffered(worker);
    let mut core = worker.core.borrow_mut();
    let core = core.as_mut()?;
    if let Some(runnable) = core.next_local(handle) {
        return Some(runnable);
    }
    core.steal_work(handle)
}

/// Whether a parking worker must stay up: work it could take, a due timer, shutdown.
fn must_stay_awake(handle: &Handle, main: Option<&dyn MainFuture>) -> bool {
    let shared = &handle.shared;
    shared.is_shutdown()
        || shared.has_visible_work()
        || shared.timers.earliest() <= shared.timers.now_nanos()
        || main.is_some_and(|m| m.is_woken())
}

/// Parks the worker until there may be work (see `idle.rs` for the protocol).
fn park(handle: &Handle, worker: &WorkerContext, main: Option<&dyn MainFuture>) {
    let shared = &handle.shared;
    let parking = &shared.parking;
    let index = worker.index;
    let (was_searching, watching_lifo) = match worker.core.borrow_mut().as_mut() {
        Some(core) => (
            std::mem::replace(&mut core.searching, false),
            core.watching_lifo(),
        ),
        None => return,
    };
    parking.idle.transition_to_parked(index, was_searching);
    if shared.timers.clock.is_paused() && shared.flavor == super::Flavor::CurrentThread {
        // Paused time and nothing to run: jump to the next deadline instead of
        // sleeping (auto-advance). With no deadline pending, park as usual.
        let earliest = shared.timers.earliest();
        // A blocking job in flight runs in real time and may be what the runtime
        // waits for: no jump until it ends (it unparks us then).
        if earliest != NO_DEADLINE
            && !must_stay_awake(handle, main)
            && !shared.blocking.has_jobs_in_flight()
        {
            shared.timers.clock.advance_to(earliest);
            let self_woken = parking.idle.transition_from_parked(index);
            if let Some(core) = worker.core.borrow_mut().as_mut() {
                core.searching = !self_woken;
            }
            return;
        }
    }
    let self_woken = if !must_stay_awake(handle, main) {
        shared.counters[index].parks.bump();
        let self_woken = match parking.driver.try_acquire() {
            Some(mut poll) => {
                // Publish the deadline we will sleep until, then re-read the stores:
                // a timer registered in between either sees our deadline (and wakes
                // us if earlier) or is seen by the re-read.
                let deadline = loop {
                    let earliest = shared.timers.earliest();
                    parking.driver.publish_poller_until(earliest);
                    if shared.timers.earliest() >= earliest {
                        break earliest;
                    }
                };
                let mut timeout = if shared.timers.clock.is_paused() {
                    // Virtual deadlines mean nothing to the OS: wait to be woken.
                    None
                } else {
                    timeout_until(deadline, shared.timers.now_nanos())
                };
                if watching_lifo {
                    timeout = Some(timeout.map_or(LIFO_RESCUE_DELAY, |t| t.min(LIFO_RESCUE_DELAY)));
                }
                parking.parkers[index].park_driver(|| parking.driver.poll(&mut poll, timeout));
                drop(poll);
                parking.idle.transition_from_parked(index)
                // No hand-off here: the workers parked on condition variables wait
                // no longer than the earliest deadline, so timers stay watched while
                // this worker runs what it woke; waking one of them on every event
                // would bounce each socket round trip between threads.
            }
            None => {
                // Another worker holds the poller, but it may leave it to run a
                // long task: wake up by the earliest deadline of all stores anyway
                // (then fire what is due, and take the poller if it is free).
                let now = shared.timers.now_nanos();
                let mut timeout = if shared.timers.clock.is_paused() {
                    None
                } else {
                    timeout_until(shared.timers.earliest(), now)
                };
                if watching_lifo {
                    timeout = Some(timeout.map_or(LIFO_RESCUE_DELAY, |t| t.min(LIFO_RESCUE_DELAY)));
                }
                parking.parkers[index].park_condvar(timeout);
                parking.idle.transition_from_parked(index)
            }
        };
        shared.counters[index].unparks.bump();
        self_woken
    } else {
        parking.idle.transition_from_parked(index)
    };
    if let Some(core) = worker.core.borrow_mut().as_mut() {
        // Removed from the parked set by an unparker: it counted us as searching.
        // Woken by ourselves (deadline, event, re-check): not a searcher.
        core.searching = !self_woken;
    }
}

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
        let worker = Rc::new(WorkerContext {
            index: core.index,
            core: std::cell::RefCell::new(Some(core)),
        });
        {
            let _enter = context::enter(handle.clone(), Some(worker.clone()));
            run(&handle, &worker, None);
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

/// `block_in_place`: if this thread drives a core of a multi-thread runtime, hands
/// the core to a new thread that carries on as the same worker.
pub(crate) fn hand_off_core() {
    context::with_worker(|worker| {
        let Some((handle, worker)) = worker else {
            return;
        };
        if handle.shared.flavor == super::Flavor::CurrentThread {
            panic!(
                "ticktock: `block_in_place` cannot be used on a current-thread runtime: \
                 there is no other thread to hand its tasks to; use `spawn_blocking`, \
                 or a multi-thread runtime"
            );
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
