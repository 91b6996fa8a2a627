//! The simulation's scheduler: n logical workers stepped one at a time by the
//! thread inside `sim::Runtime::block_on`, every choice drawn from the seed.
//!
//! # What it owns
//! [`Simulation`]: the workers' cores (no thread drives them), the seeded stream,
//! the trace and the task numbers; and [`Simulation::run`], the loop that polls a
//! main future to completion one step at a time.
//!
//! # One step
//! ```text
//!   anything to do?  a task queued anywhere (global queue, a local queue or LIFO
//!                    cell), a store's published bound due, the main future woken,
//!                    a blocking job queued, a worker asked to retire
//!     no  ─► the exact earliest live deadline exists? jump the clock to it (Advance)
//!            else: deadlock: panic, naming the seed
//!     yes ─► draw one of: every live worker, the main future (if woken), the
//!            blocking queue (if a job waits); then the table below
//! ```
//!
//! | drawn | what it does (the real worker loop's pieces, in its order) | recorded |
//! |---|---|---|
//! | worker w, asked to retire | `retire` (tasks to the global queue, timers to the survivors); w stops being drawn unless a grow cancelled it | `Retire` |
//! | worker w, its own task | maintenance on its tick (fire own, steal others' due timers), then `next_local` (LIFO cell, local queue, global queue on its turn): run it | `RunLocal`, task number |
//! | worker w, nothing of its own, timers due | the search's first move: fire own and others' due timers; the step ends there (their tasks, and a main future they woke, race for the next draws) | `FireTimers`, how many |
//! | worker w, nothing of its own, none due | the rest of the search: queues again, steal half of a victim's queue (w's seeded RNG picks where to start), the global queue, a LIFO rescue: run what it found | `RunFound`, task number |
//! | worker w, nothing anywhere | nothing (a real worker would park) | `Idle` |
//! | the main future | poll it, in the runtime's context with no worker | `PollMain` |
//! | the blocking queue | run the oldest job inline, in the runtime's context with no worker | `Blocking` |
//! | bug | `Idle` [`STALL_LIMIT`] times in a row although there was work: panic, naming the seed | — |
//!
//! Every step is recorded in the trace (`sim/trace.rs`), after it, with the virtual
//! time.

//! # Resizing
//! `Handle::set_worker_threads` works inside a simulation up to the builder's
//! `max_worker_threads`: a grow's start function (`sim/builder.rs`) leaves the
//! started core in `Shared::idle_cores` instead of starting a thread, and the next
//! draw adopts it; a shrink's flagged worker runs the real `retire`
//! (`elastic/retire.rs`: tasks to the global queue, timers migrated to the
//! survivors) at its next step, and stops being drawn.
//!
//! # What is drawn from the seed
//! Which of the candidates steps (so the interleaving of workers, of the main
//! future and of blocking jobs), and each core's steal RNG (the victim a search
//! starts at). Everything else follows from those: which worker fires a due
//! timer (the first drawn after it became due), whether a LIFO task is rescued
//! (two looks of another worker between two steps of its owner). Timers due at
//! the same instant in one store fire in their store's order (deadline, then
//! insertion), as on the real runtime, where that order is not a race either.
//!
//! # What is not deterministic
//! Wakes from threads the simulation does not own (a `std::thread` the test
//! started, holding a channel sender) land on the global queue whenever that
//! thread runs: their place in the step sequence depends on the OS. And a
//! simulation whose main future waits only for such a thread is reported as a
//! deadlock when nothing else is left to do. Nothing in this file reads the real
//! clock or a thread's identity.
//!
//! # Ground rules
//! Only the thread inside `block_on` steps the simulation; a worker's core is in a
//! [`WorkerContext`] only during that worker's step, so a task can find its worker
//! (`schedule_local`) exactly as on the real runtime.

use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use ticktock_timer::NO_DEADLINE;

use crate::context::{self, WorkerContext};
use crate::loom::lock;
use crate::runtime::elastic::retire::retire;
use crate::runtime::elastic::states::Retire;
use crate::runtime::scheduler::core::Core;
use crate::runtime::scheduler::worker_loop::{fire_timers, found_work, search, wake_buffered};
use crate::runtime::shared::{Handle, Shared, SIMULATION_START};
use crate::runtime::timers::auto_advance::exact_earliest;
use crate::sim::seed::{seed_line, SeedRng};
use crate::sim::trace::{Step, StepKind, TaskNumbers, Trace};

/// A simulation's state between and during `block_on` calls.
pub(crate) struct Simulation {
    /// The logical workers' cores, in worker order.
    cores: Vec<Option<Box<Core>>>,
    rng: SeedRng,
    trace: Trace,
    tasks: TaskNumbers,
    seed: u64,
    /// `Idle` steps in a row (see [`Simulation::check_progress`]).
    idle_streak: u64,
}

/// `Idle` steps in a row after which the simulation is stuck. A legitimate streak
/// is a few times the worker count (the one worker with a task is not drawn); 2^20
/// is far beyond any, and about a second of steps.
const STALL_LIMIT: u64 = 1 << 20;

/// The candidates of one draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Candidate {
    Worker(usize),
    Main,
    Blocking,
}

/// The main future's waker: a flag (woken at first, so the future is polled once
/// before anything waits). A wake from any thread only sets it; the simulation
/// sees it at its next draw.
struct MainWaker {
    woken: AtomicBool,
}

impl Wake for MainWaker {
    fn wake(self: StdArc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
    }

    fn wake_by_ref(self: &StdArc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
    }
}

impl Simulation {
    /// A simulation under `seed` of `cores`, the workers that start now (each
    /// core's steal RNG seeded from the seed's stream), out of `max_workers`, the
    /// most a resize may reach (the others wait, stopped, in the runtime's elastic
    /// state).
    #[allow(clippy::vec_box)] // cores are boxed as everywhere in the runtime
    pub(crate) fn new(seed: u64, cores: Vec<Box<Core>>, max_workers: usize) -> Simulation {
        let mut simulation = Simulation {
            cores: (0..max_workers).map(|_| None).collect(),
            rng: SeedRng::new(seed),
            trace: Trace::new(),
            tasks: TaskNumbers::default(),
            seed,
            idle_streak: 0,
        };
        for core in cores {
            simulation.adopt(core);
        }
        simulation
    }

    /// Makes `core` a logical worker that steps from now on, its steal RNG seeded
    /// from the stream.
    fn adopt(&mut self, mut core: Box<Core>) {
        core.seed_rng(self.rng.next_u64());
        let index = core.index;
        debug_assert!(
            self.cores[index].is_none(),
            "ticktock::sim: worker {index} started twice"
        );
        self.cores[index] = Some(core);
    }

    /// Adopts the cores a resize started since the previous step (the runtime's
    /// start function left them in `Shared::idle_cores`), in index order.
    fn adopt_started(&mut self, shared: &Shared) {
        let mut started = std::mem::take(&mut *lock(&shared.idle_cores));
        if started.is_empty() {
            return;
        }
        started.sort_by_key(|core| core.index);
        for core in started {
            self.adopt(core);
        }
    }

    /// The trace so far.
    pub(crate) fn trace(&self) -> Trace {
        self.trace
    }

    /// Polls `future` to completion, stepping the simulation between polls.
    /// `published` receives the digest after every step (for `trace_hash`).
    ///
    /// # Panics
    /// If nothing is runnable, no timer is pending and `future` is still pending
    /// (a deadlock); the message names the seed.
    pub(crate) fn run<F: Future>(
        &mut self,
        handle: &Handle,
        future: F,
        published: &AtomicU64,
    ) -> F::Output {
        let mut future = pin!(future);
        let main = StdArc::new(MainWaker {
            woken: AtomicBool::new(true),
        });
        let waker = Waker::from(main.clone());
        let shared = &*handle.shared;
        loop {
            let candidate = match self.draw(shared, &main) {
                Some(candidate) => candidate,
                None => {
                    self.advance_or_report_deadlock(shared);
                    published.store(self.trace.digest(), Ordering::Release);
                    continue;
                }
            };
            let step = match candidate {
                Candidate::Main => {
                    main.woken.store(false, Ordering::SeqCst);
                    let _enter = context::enter(handle.clone(), None);
                    let output = future.as_mut().poll(&mut Context::from_waker(&waker));
                    self.record(shared, self.cores.len(), StepKind::PollMain, 0);
                    published.store(self.trace.digest(), Ordering::Release);
                    if let Poll::Ready(output) = output {
                        return output;
                    }
                    continue;
                }
                Candidate::Blocking => {
                    let _enter = context::enter(handle.clone(), None);
                    shared.blocking.run_one_queued();
                    (self.cores.len(), StepKind::Blocking, 0)
                }
                Candidate::Worker(index) => self.step_worker(handle, index),
            };
            self.check_progress(step.1);
            self.record(shared, step.0, step.1, step.2);
            published.store(self.trace.digest(), Ordering::Release);
        }
    }

    /// What may step now, drawn from the seed; `None` if nothing can happen
    /// until the clock moves.
    fn draw(&mut self, shared: &Shared, main: &MainWaker) -> Option<Candidate> {
        self.adopt_started(shared);
        let main_woken = main.woken.load(Ordering::SeqCst);
        let blocking = shared.blocking.has_unpromised_jobs();
        let retiring = self.retire_requested(shared);
        if !main_woken && !blocking && !retiring && !tasks_runnable(shared) && !timer_due(shared) {
            return None;
        }
        let workers = self.cores.iter().filter(|core| core.is_some()).count();
        let count = workers + usize::from(main_woken) + usize::from(blocking);
        let mut pick = self.rng.below(count);
        if pick < workers {
            let index = self
                .cores
                .iter()
                .enumerate()
                .filter(|(_, core)| core.is_some())
                .nth(pick)
                .map(|(index, _)| index)
                .expect("ticktock::sim: drew a worker out of range");
            return Some(Candidate::Worker(index));
        }
        pick -= workers;
        if main_woken {
            if pick == 0 {
                return Some(Candidate::Main);
            }
            pick -= 1;
        }
        debug_assert!(blocking && pick == 0, "ticktock::sim: a draw out of range");
        Some(Candidate::Blocking)
    }

    /// Counts `Idle` steps in a row and panics past [`STALL_LIMIT`]: the draws
    /// said there was work, yet no worker found any, so the simulation would spin
    /// forever instead of hanging quietly (a bug of ticktock's, not of the program
    /// under test).
    fn check_progress(&mut self, kind: StepKind) {
        if kind != StepKind::Idle {
            self.idle_streak = 0;
            return;
        }
        self.idle_streak += 1;
        assert!(
            self.idle_streak < STALL_LIMIT,
            "ticktock::sim: {STALL_LIMIT} steps in a row found nothing to do although work \
             was reported (a bug in ticktock's simulation; please report it with the seed: {})",
            seed_line(self.seed)
        );
    }

    /// Whether a logical worker was asked to retire (a shrink) and has not yet.
    fn retire_requested(&self, shared: &Shared) -> bool {
        self.cores
            .iter()
            .enumerate()
            .any(|(index, core)| core.is_some() && shared.elastic.retire_requested(index))
    }

    /// Nothing can happen at this instant: jump the clock to the earliest live
    /// deadline, or panic if there is none.
    fn advance_or_report_deadlock(&mut self, shared: &Shared) {
        let earliest = exact_earliest(shared);
        if earliest == NO_DEADLINE {
            panic!(
                "ticktock::sim: deadlock: the main future of `block_on` is pending, no task \
                 can run and no timer is pending, after {} steps at {:?} of virtual time \
                 ({})",
                self.trace.steps(),
                std::time::Duration::from_nanos(virtual_nanos(shared)),
                seed_line(self.seed),
            );
        }
        shared.timers.clock.advance_to(earliest);
        self.record(shared, self.cores.len(), StepKind::Advance, 0);
    }

    /// One step of logical worker `index`, in its context: the worker loop's
    /// pieces in the worker loop's order. Returns what to record.
    fn step_worker(&mut self, handle: &Handle, index: usize) -> (usize, StepKind, u64) {
        let shared = &*handle.shared;
        let core = self.cores[index]
            .take()
            .expect("ticktock::sim: a logical worker's core is missing (an earlier step panicked)");
        let worker = Rc::new(WorkerContext::new(core));
        let found = {
            let _enter = context::enter(handle.clone(), Some(worker.clone()));
            if shared.elastic.retire_requested(index) {
                // As the worker loop does between two polls: hand its tasks on,
                // migrate its timers. `Proceed` left the core stopped in the
                // elastic state (a later grow starts it again); `KeepRunning`
                // gave it back.
                let outcome = retire(shared, &worker);
                let core = worker.core.borrow_mut().take();
                debug_assert_eq!(core.is_none(), outcome == Retire::Proceed);
                self.cores[index] = core;
                return (index, StepKind::Retire, 0);
            }
            match find_task(shared, &worker) {
                Found::Task(kind, runnable) => {
                    found_work(shared, &worker);
                    shared.counters[index].polls.bump();
                    let task = self.tasks.number(&runnable.waker(), &shared.registry);
                    runnable.run();
                    (index, kind, task)
                }
                Found::Fired(count) => (index, StepKind::FireTimers, count),
                Found::Nothing => (index, StepKind::Idle, 0),
            }
        };
        let core = worker.core.borrow_mut().take();
        self.cores[index] = Some(core.expect("ticktock::sim: a task took its worker's core"));
        found
    }

    fn record(&mut self, shared: &Shared, worker: usize, kind: StepKind, task: u64) {
        self.trace.record(Step {
            worker,
            kind,
            task,
            nanos: virtual_nanos(shared),
        });
    }

    /// The cores, for the runtime to drop in its context (their queues are
    /// empty by then: shutdown drained them through the stealers).
    #[allow(clippy::vec_box)]
    pub(crate) fn take_cores(&mut self) -> Vec<Box<Core>> {
        self.cores.iter_mut().filter_map(Option::take).collect()
    }
}

/// What a worker's turn found.
enum Found {
    /// A task to run, and how it was found (`RunLocal` or `RunFound`).
    Task(StepKind, async_task::Runnable),
    /// Its search fired this many due timers (their tasks are queued): the step
    /// ends here.
    Fired(u64),
    /// Nothing.
    Nothing,
}

/// The worker loop's turn up to "run": maintenance (on its tick), the worker's own
/// queues, then the search. A search that fires due timers ends the step there:
/// on the real runtime, the tasks and the main future those timers woke race
/// with this worker's next pick (another worker may steal them, a `block_on`
/// thread may poll first), so the pick is the worker's next step, drawn like any
/// other.
fn find_task(shared: &Shared, worker: &WorkerContext) -> Found {
    let mut fired = 0;
    let local = {
        let mut core = worker.core.borrow_mut();
        let Some(core) = core.as_mut() else {
            return Found::Nothing;
        };
        if core.maintenance_due() {
            fired = fire_timers(shared, core);
        }
        core.next_local(&shared.queues())
    };
    if fired != 0 {
        wake_buffered(worker);
    }
    if let Some(runnable) = local {
        return Found::Task(StepKind::RunLocal, runnable);
    }
    // The search's first move (`worker_loop::search`): fire own and others' due
    // timers.
    let fired = {
        let mut core = worker.core.borrow_mut();
        match core.as_mut() {
            Some(core) => fire_timers(shared, core),
            None => return Found::Nothing,
        }
    };
    if fired != 0 {
        wake_buffered(worker);
        return Found::Fired(fired as u64);
    }
    match search(shared, worker) {
        Some(runnable) => Found::Task(StepKind::RunFound, runnable),
        None => Found::Nothing,
    }
}

/// Whether a task waits in any queue or LIFO cell.
fn tasks_runnable(shared: &Shared) -> bool {
    shared.has_visible_work() || shared.lifo.iter().any(|cell| cell.looks_occupied())
}

/// Whether a timer may be due now, by the stores' published bounds (O(stores)).
/// A bound may be stale-low after a cancel: then a worker drawn for it finds
/// nothing to fire, and its search republishes the exact bound, so the next draw
/// sees the truth. Cheaper than the exact look on every step of a busy simulation.
fn timer_due(shared: &Shared) -> bool {
    shared.timers.earliest() <= shared.timers.runtime_nanos()
}

/// Virtual nanoseconds since the simulation started.
pub(crate) fn virtual_nanos(shared: &Shared) -> u64 {
    shared
        .timers
        .runtime_nanos()
        .saturating_sub(SIMULATION_START)
}
