//! A worker's core and its queue policy: which task runs next, and where a woken
//! task queues.
//!
//! # What it owns
//! [`Core`]: a worker's private state (its local run queue, tick counter, random
//! state, the LIFO cells it watches and a reusable buffer of fired wakers), and the
//! policy that picks the next task (local LIFO cell, local queue, global queue,
//! other workers) and places a woken one ([`Placement`]). The LIFO cell itself sits
//! in the shared state (`scheduler/lifo_cell.rs`), so another worker can take it.
//!
//! # Ground rules
//! A core is driven by exactly one thread at a time: a worker thread, or, in the
//! current-thread flavor, the thread inside `block_on`; `block_in_place` hands it to
//! a fresh thread. Nothing here reads the thread-local context or `Shared`: the caller
//! passes a [`Queues`] view and says how a task was woken.

use std::task::Waker;

use async_task::Runnable;
use crossbeam_deque::{Injector, Steal, Stealer, Worker};

use crate::loom::sync::atomic::Ordering;
use crate::runtime::counters::WorkerCounters;
use crate::runtime::scheduler::lifo_cell::LifoCell;

/// Default ticks between two maintenance passes (`Builder::event_interval`; see
/// `config.rs` for why 61).
pub(crate) const EVENT_INTERVAL: u32 = crate::runtime::config::DEFAULT_EVENT_INTERVAL;

/// Most tasks taken from the LIFO cell in a row before the cell's task goes to the
/// back of the queue: ping-pong pairs keep their cache locality, but cannot starve
/// the rest of the queue.
const MAX_LIFO_STREAK: u32 = 3;

/// `lifo_watch` value for "no task seen in that worker's LIFO cell".
const NOT_WATCHED: u64 = u64::MAX;

/// The parts of the shared state the queue policy reads: the global queue and every
/// worker's stealer, LIFO cell and counters (`Shared::queues` lends them). Taking
/// this view rather than `Shared` keeps the policy below the shared state.
pub(crate) struct Queues<'a> {
    pub(crate) injector: &'a Injector<Runnable>,
    pub(crate) stealers: &'a [Stealer<Runnable>],
    pub(crate) lifo: &'a [LifoCell],
    pub(crate) counters: &'a [WorkerCounters],
}

/// Where a task woken on its own worker queues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placement {
    /// Woken by another task or an event: the LIFO cell, run next (the task it
    /// displaces goes to the back of the queue).
    Next,
    /// Woken by itself while running (`yield_now`): the back of this worker's own
    /// queue, and the global queue goes first at the next pick.
    Yielded,
    /// Woken by a timer this worker just fired: the back of the queue, in deadline
    /// order (the LIFO cell would reverse a batch), where idle workers can steal a
    /// burst of them.
    FiredTimer,
}

/// Whether a push put a task where other workers can steal it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Visible {
    /// Stealable: one other worker may be worth waking.
    ToOthers,
    /// Only this worker will run it (LIFO cell, or its own yield): wake nobody.
    OnlyHere,
}

/// A worker's private state. See the module docs.
pub(crate) struct Core {
    pub(crate) index: usize,
    pub(crate) queue: Worker<Runnable>,
    lifo_streak: u32,
    /// Per victim: its poll count when this worker last saw a task in its LIFO
    /// cell ([`NOT_WATCHED`] if none). Seeing the same count twice means the victim
    /// is stuck inside one poll, and its LIFO task is taken.
    lifo_watch: Vec<u64>,
    tick: u32,
    /// Ticks between maintenance passes (`Builder::event_interval`).
    event_interval: u32,
    /// Ticks between looks at the global queue first (`Builder::global_queue_interval`).
    global_queue_interval: u32,
    rng: XorShift,
    /// Whether this worker holds a `searching` count in `Idle`.
    pub(crate) searching: bool,
    /// A task yielded since the last pick: the global queue goes first next time,
    /// so `yield_now` lets tasks waiting there run too, not only local ones.
    yielded: bool,
    /// Reused buffer of fired timers' wakers (woken after the store lock is released).
    pub(crate) wakers: Vec<Waker>,
}

impl Core {
    pub(crate) fn new(index: usize, queue: Worker<Runnable>) -> Core {
        Core {
            index,
            queue,
            lifo_streak: 0,
            lifo_watch: Vec::new(),
            tick: 0,
            event_interval: EVENT_INTERVAL,
            global_queue_interval: crate::runtime::config::DEFAULT_GLOBAL_QUEUE_INTERVAL,
            rng: XorShift::for_worker(index),
            searching: false,
            yielded: false,
            wakers: Vec::new(),
        }
    }

    /// Takes the runtime's scheduling intervals (`Builder::event_interval` and
    /// `Builder::global_queue_interval`).
    pub(crate) fn configure(&mut self, config: &crate::runtime::config::Config) {
        self.event_interval = config.event_interval;
        self.global_queue_interval = config.global_queue_interval;
    }

    /// Reseeds the random state that picks steal victims (`sim/`: every steal
    /// victim of a simulation comes from its seed, not from the worker's index).
    pub(crate) fn seed_rng(&mut self, seed: u64) {
        self.rng = XorShift(seed | 1);
    }

    /// Whether this turn of the loop is due a maintenance pass (every
    /// `event_interval` ticks, [`EVENT_INTERVAL`] by default).
    pub(crate) fn maintenance_due(&self) -> bool {
        self.tick % self.event_interval == 0
    }

    /// Queues a task woken on this worker. See [`Visible`] for the answer.
    pub(crate) fn push_local(
        &mut self,
        queues: &Queues<'_>,
        runnable: Runnable,
        placement: Placement,
    ) -> Visible {
        match placement {
            Placement::FiredTimer => {
                self.queue.push(runnable);
                Visible::ToOthers
            }
            Placement::Yielded => {
                // It will run here; nobody else needs waking (tokio does not wake
                // anyone for a yield either).
                self.queue.push(runnable);
                self.yielded = true;
                Visible::OnlyHere
            }
            Placement::Next => match queues.lifo[self.index].push(runnable) {
                Some(previous) => {
                    self.queue.push(previous);
                    Visible::ToOthers
                }
                None => Visible::OnlyHere,
            },
        }
    }

    /// The next task of this worker's own: the global queue now and then (or after
    /// a yield), its LIFO cell (bounded streak), its queue, then a batch of the
    /// global queue.
    pub(crate) fn next_local(&mut self, queues: &Queues<'_>) -> Option<Runnable> {
        self.tick = self.tick.wrapping_add(1);
        let yielded = std::mem::replace(&mut self.yielded, false);
        // `is_empty` is two plain loads; `pop_global` would pay a fence each time.
        if (yielded || self.tick % self.global_queue_interval == 0) && !queues.injector.is_empty() {
            if let Some(runnable) = retry_steal(|| queues.injector.steal()) {
                return Some(runnable);
            }
        }
        // The hint first: `take` is an atomic swap, not worth paying on every pick
        // when the cell is empty (a stale "empty" hint only delays the task to
        // the next pick; only this worker fills its own cell).
        let lifo = &queues.lifo[self.index];
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
        retry_steal(|| queues.injector.steal_batch_and_pop(&self.queue))
    }

    /// Takes work from elsewhere: half of a random victim's queue, a batch of the
    /// global queue, or the LIFO task of a worker stuck in one poll.
    pub(crate) fn steal_work(&mut self, queues: &Queues<'_>) -> Option<Runnable> {
        let stealers = queues.stealers;
        let workers = stealers.len();
        let start = self.rng.below(workers);
        for offset in 0..workers {
            let victim = (start + offset) % workers;
            if victim == self.index {
                continue;
            }
            if let Some(runnable) =
                retry_steal(|| stealers[victim].steal_batch_and_pop(&self.queue))
            {
                queues.counters[self.index].steals.bump();
                return Some(runnable);
            }
        }
        if let Some(runnable) = retry_steal(|| queues.injector.steal_batch_and_pop(&self.queue)) {
            return Some(runnable);
        }
        self.rescue_lifo(queues)
    }

    /// Takes a task from the LIFO cell of a worker that has been inside the same
    /// poll since this worker's previous look (it is blocked: Go steals `runnext`
    /// from such a P). Records the victims it saw with an occupied cell.
    fn rescue_lifo(&mut self, queues: &Queues<'_>) -> Option<Runnable> {
        let workers = queues.stealers.len();
        self.lifo_watch.resize(workers, NOT_WATCHED);
        for victim in 0..workers {
            if victim == self.index {
                continue;
            }
            let cell = &queues.lifo[victim];
            if !cell.looks_occupied() {
                self.lifo_watch[victim] = NOT_WATCHED;
                continue;
            }
            let polls = queues.counters[victim].polls.load(Ordering::Relaxed);
            if self.lifo_watch[victim] == polls {
                self.lifo_watch[victim] = NOT_WATCHED;
                if let Some(runnable) = cell.take() {
                    queues.counters[self.index].steals.bump();
                    return Some(runnable);
                }
            } else {
                self.lifo_watch[victim] = polls;
            }
        }
        None
    }

    /// Whether this worker is watching a LIFO cell and must look again soon.
    pub(crate) fn watching_lifo(&self) -> bool {
        self.lifo_watch.iter().any(|&polls| polls != NOT_WATCHED)
    }
}

/// Runs a crossbeam steal until it gives an answer: `Retry` means a race with
/// another thief, not emptiness, so it is tried again.
pub(crate) fn retry_steal<T>(mut steal: impl FnMut() -> Steal<T>) -> Option<T> {
    loop {
        match steal() {
            Steal::Success(item) => return Some(item),
            Steal::Empty => return None,
            Steal::Retry => continue,
        }
    }
}

/// xorshift64*: cheap, good enough to pick a victim.
struct XorShift(u64);

impl XorShift {
    /// A distinct odd (so non-zero) seed per worker: spreads the workers' first
    /// victims apart.
    fn for_worker(index: usize) -> XorShift {
        XorShift(0x9E37_79B9_7F4A_7C15 ^ ((index as u64 + 1) << 17) | 1)
    }

    /// A number in `0..bound` (0 if `bound` is 0).
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as usize % bound.max(1)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::{Arc, Mutex};

    use async_task::Runnable;

    use super::{Core, Placement, Visible, MAX_LIFO_STREAK};
    use crate::runtime::shared::Shared;

    /// One worker's core and a shared state around it (no threads started).
    fn setup() -> (Core, Shared) {
        Shared::one_worker_for_tests()
    }

    /// A runnable that records `id` in `log` when run.
    fn task(id: u32, log: &Arc<Mutex<Vec<u32>>>) -> Runnable {
        let log = log.clone();
        let (runnable, task) =
            async_task::spawn(async move { log.lock().unwrap().push(id) }, |_| {});
        task.detach();
        runnable
    }

    /// Runs every task `next_local` hands out, in order.
    fn drain(core: &mut Core, shared: &Shared) {
        while let Some(runnable) = core.next_local(&shared.queues()) {
            runnable.run();
        }
    }

    #[test]
    fn woken_task_runs_next_and_the_one_it_displaces_becomes_stealable() {
        let (mut core, shared) = setup();
        let log = Arc::new(Mutex::new(Vec::new()));
        assert_eq!(
            core.push_local(&shared.queues(), task(1, &log), Placement::Next),
            Visible::OnlyHere
        );
        assert_eq!(
            core.push_local(&shared.queues(), task(2, &log), Placement::Next),
            Visible::ToOthers
        );
        drain(&mut core, &shared);
        assert_eq!(*log.lock().unwrap(), [2, 1]);
    }

    #[test]
    fn fired_timers_queue_in_deadline_order() {
        let (mut core, shared) = setup();
        let log = Arc::new(Mutex::new(Vec::new()));
        for id in 1..=4 {
            let visible = core.push_local(&shared.queues(), task(id, &log), Placement::FiredTimer);
            assert_eq!(visible, Visible::ToOthers);
        }
        drain(&mut core, &shared);
        assert_eq!(*log.lock().unwrap(), [1, 2, 3, 4]);
    }

    #[test]
    fn a_yield_lets_the_global_queue_go_first() {
        let (mut core, shared) = setup();
        let log = Arc::new(Mutex::new(Vec::new()));
        shared.injector.push(task(1, &log));
        let visible = core.push_local(&shared.queues(), task(2, &log), Placement::Yielded);
        assert_eq!(visible, Visible::OnlyHere);
        drain(&mut core, &shared);
        assert_eq!(*log.lock().unwrap(), [1, 2]);
    }

    #[test]
    fn the_lifo_streak_is_bounded() {
        let (mut core, shared) = setup();
        let log = Arc::new(Mutex::new(Vec::new()));
        core.push_local(&shared.queues(), task(100, &log), Placement::FiredTimer);
        // A ping-pong: each task run from the LIFO cell wakes the next one into it.
        let mut id = 0;
        core.push_local(&shared.queues(), task(id, &log), Placement::Next);
        for _ in 0..=MAX_LIFO_STREAK {
            core.next_local(&shared.queues()).expect("a task").run();
            id += 1;
            core.push_local(&shared.queues(), task(id, &log), Placement::Next);
        }
        // After MAX_LIFO_STREAK picks from the cell, the queued task gets its turn.
        let ran = log.lock().unwrap().clone();
        let streak = MAX_LIFO_STREAK as usize;
        assert_eq!(ran[..streak], (0..MAX_LIFO_STREAK).collect::<Vec<_>>()[..]);
        assert_eq!(ran[streak], 100);
        drop(shared.lifo[0].take());
    }

    #[test]
    fn maintenance_and_the_global_queue_come_round_at_their_intervals() {
        let (mut core, shared) = setup();
        core.configure(&crate::runtime::config::Config {
            event_interval: 4,
            global_queue_interval: 3,
            ..Default::default()
        });
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut maintenance_turns = Vec::new();
        let mut global_picks = Vec::new();
        for turn in 0..12 {
            if core.maintenance_due() {
                maintenance_turns.push(turn);
            }
            // One task in each queue: the global one is taken first only on its turn.
            shared.injector.push(task(1000 + turn, &log));
            core.push_local(&shared.queues(), task(turn, &log), Placement::FiredTimer);
            let before = log.lock().unwrap().len();
            core.next_local(&shared.queues()).expect("a task").run();
            if log.lock().unwrap()[before] >= 1000 {
                global_picks.push(turn);
            }
            // Leave both queues empty for the next turn, without a pick.
            while let Some(runnable) = core.queue.pop() {
                runnable.run();
            }
            while let Some(runnable) = shared.injector.steal().success() {
                runnable.run();
            }
        }
        assert_eq!(maintenance_turns, [0, 4, 8]);
        assert_eq!(global_picks, [2, 5, 8, 11]);
    }
}
