//! A simulation's record of what it did: the step digest and the tasks' per-run
//! numbers.
//!
//! # What it owns
//! - [`Step`] and [`StepKind`]: one step of a simulation, as the digest sees it.
//! - [`Trace`]: the FNV-1a 64-bit digest of every step so far (what
//!   `sim::Runtime::trace_hash` returns) and the number of steps.
//! - [`TaskNumbers`]: a number per task, in the order the simulation first ran
//!   each one. Task [`Id`](crate::task::Id)s come from a process-wide counter, so
//!   two simulations running at once in one process (parallel tests) would see
//!   different ids; the numbers here depend on the simulation alone.
//!
//! # How a task is recognised
//! By the address of its allocation (`Waker::data`, the same for every waker and
//! runnable of one task). An address is reused only after the task is freed, so
//! [`TaskNumbers`] keeps one waker of each task it numbered: the task cannot be
//! freed, nor its address reused, while it holds that waker. It lets go of the
//! tasks that left the runtime's registry (finished or cancelled) when it has
//! numbered twice as many tasks as were live at its previous look, so what it keeps
//! stays proportional to the live tasks (a finished task keeps only its header and
//! output slot meanwhile).
//!
//! # Ground rules
//! Only the thread inside `sim::Runtime::block_on` touches these (they live in
//! its state); the digest is published in an atomic that `trace_hash` reads from
//! anywhere. Addresses are never hashed: they differ between runs.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::task::Waker;

use crate::runtime::tasks::registry::Registry;

/// The offset basis and prime of 64-bit FNV-1a (Fowler, Noll and Vo).
const FNV_OFFSET: u64 = 0xCBF2_9CE4_8422_2325;
/// See [`FNV_OFFSET`].
const FNV_PRIME: u64 = 0x0000_0100_0000_01B3;

/// Fewest numbered tasks before [`TaskNumbers`] looks for finished ones: below
/// it, the look costs more than the few wakers it would free.
const FORGET_MIN: usize = 1024;

/// What a step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StepKind {
    /// The main future of `block_on` was polled.
    PollMain = 1,
    /// A worker ran a task of its own (LIFO cell, local queue, or the global queue
    /// on its turn).
    RunLocal = 2,
    /// A worker ran a task its search found (due timers it fired, a steal, the
    /// global queue).
    RunFound = 3,
    /// A worker found nothing to run (on the real runtime it would park).
    Idle = 4,
    /// A `spawn_blocking` job ran, inline.
    Blocking = 5,
    /// The clock jumped to the earliest deadline (nothing else could happen).
    Advance = 6,
    /// A worker asked to retire by a shrink retired (or kept running: a grow
    /// cancelled it).
    Retire = 7,
    /// A worker's search fired due timers (the step's task field holds how many);
    /// it picks their tasks at a later step.
    FireTimers = 8,
}

/// One step: who, what, which task, when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Step {
    /// The logical worker, or the number of workers for the main future, a
    /// blocking job and a clock jump (no worker took them).
    pub(crate) worker: usize,
    pub(crate) kind: StepKind,
    /// The task's [`TaskNumbers`] number for steps that ran a task, the number of
    /// timers fired for [`StepKind::FireTimers`], else 0.
    pub(crate) task: u64,
    /// Virtual nanoseconds since the simulation started, after the step.
    pub(crate) nanos: u64,
}

/// The digest of every step so far.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Trace {
    digest: u64,
    steps: u64,
}

impl Trace {
    pub(crate) fn new() -> Trace {
        Trace {
            digest: FNV_OFFSET,
            steps: 0,
        }
    }

    /// Folds `step` into the digest: its fields as little-endian bytes, FNV-1a.
    pub(crate) fn record(&mut self, step: Step) {
        let fields = [step.worker as u64, step.kind as u64, step.task, step.nanos];
        for field in fields {
            for byte in field.to_le_bytes() {
                self.digest ^= u64::from(byte);
                self.digest = self.digest.wrapping_mul(FNV_PRIME);
            }
        }
        self.steps += 1;
    }

    /// The digest so far.
    pub(crate) fn digest(&self) -> u64 {
        self.digest
    }

    /// Steps recorded so far.
    pub(crate) fn steps(&self) -> u64 {
        self.steps
    }
}

/// Hashes a task's address for [`TaskNumbers`]: one multiplication (Fibonacci
/// hashing) instead of SipHash, which took 7 % of a simulation's instructions in
/// a spawn-heavy probe (callgrind). Addresses are not attacker-controlled, and
/// nothing iterates the map in an order that matters.
#[derive(Default)]
struct AddressHasher(u64);

impl std::hash::Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(FIBONACCI);
        }
    }

    fn write_usize(&mut self, address: usize) {
        self.0 = (address as u64).wrapping_mul(FIBONACCI);
    }
}

/// 2^64 divided by the golden ratio, odd: multiplying by it spreads the low bits
/// of an address (allocations are 16-byte aligned) into the high bits the map uses.
const FIBONACCI: u64 = 0x9E37_79B9_7F4A_7C15;

/// Per-simulation task numbers (see the module docs).
#[derive(Default)]
pub(crate) struct TaskNumbers {
    /// Task address to (number, a waker that keeps the address the task's).
    known: HashMap<usize, (u64, Waker), BuildHasherDefault<AddressHasher>>,
    next: u64,
    /// `known.len()` at which to look for finished tasks next.
    forget_at: usize,
}

impl TaskNumbers {
    /// The number of the task `waker` belongs to, numbering it if it is new.
    /// `registry` is the runtime's, whose live tasks are kept when finished ones
    /// are forgotten.
    pub(crate) fn number(&mut self, waker: &Waker, registry: &Registry) -> u64 {
        let address = waker.data() as usize;
        if let Some((number, _)) = self.known.get(&address) {
            return *number;
        }
        if self.known.len() >= self.forget_at.max(FORGET_MIN) {
            self.forget_finished(registry);
        }
        self.next += 1;
        self.known.insert(address, (self.next, waker.clone()));
        self.next
    }

    /// Lets go of the tasks that are no longer in `registry`.
    fn forget_finished(&mut self, registry: &Registry) {
        let mut live: HashSet<usize, BuildHasherDefault<AddressHasher>> = HashSet::default();
        registry.for_each_live(|waker| {
            live.insert(waker.data() as usize);
        });
        self.known.retain(|address, _| live.contains(address));
        self.forget_at = self.known.len() * 2;
    }

    /// Tasks numbered and not yet forgotten.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn kept(&self) -> usize {
        self.known.len()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{Step, StepKind, TaskNumbers, Trace, FORGET_MIN};
    use crate::runtime::tasks::registry::Registry;

    fn step(worker: usize, task: u64) -> Step {
        Step {
            worker,
            kind: StepKind::RunLocal,
            task,
            nanos: 5,
        }
    }

    #[test]
    fn the_digest_depends_on_every_field_and_the_order() {
        let digest = |steps: &[Step]| {
            let mut trace = Trace::new();
            for &step in steps {
                trace.record(step);
            }
            trace.digest()
        };
        let base = digest(&[step(0, 1), step(1, 2)]);
        assert_eq!(base, digest(&[step(0, 1), step(1, 2)]));
        assert_ne!(base, digest(&[step(1, 2), step(0, 1)]));
        assert_ne!(base, digest(&[step(0, 1), step(1, 3)]));
        let mut later = step(1, 2);
        later.nanos += 1;
        assert_ne!(base, digest(&[step(0, 1), later]));
        let mut idle = step(1, 2);
        idle.kind = StepKind::Idle;
        assert_ne!(base, digest(&[step(0, 1), idle]));
        // FNV-1a of nothing is its offset basis.
        assert_eq!(Trace::new().digest(), 0xCBF2_9CE4_8422_2325);
    }

    #[test]
    fn tasks_are_numbered_in_first_seen_order_and_finished_ones_forgotten() {
        let registry = Registry::new(4);
        let mut numbers = TaskNumbers::default();
        let mut tasks = Vec::new();
        for _ in 0..FORGET_MIN {
            let (runnable, task) = async_task::spawn(async {}, |_| {});
            tasks.push((runnable, task));
        }
        for (index, (runnable, _)) in tasks.iter().enumerate() {
            assert_eq!(
                numbers.number(&runnable.waker(), &registry),
                index as u64 + 1
            );
        }
        // Seen again: the same number.
        assert_eq!(numbers.number(&tasks[3].0.waker(), &registry), 4);
        // None of them is in the registry: numbering one more forgets them all.
        let (extra, _extra_task) = async_task::spawn(async {}, |_| {});
        let next = FORGET_MIN as u64 + 1;
        assert_eq!(numbers.number(&extra.waker(), &registry), next);
        assert_eq!(numbers.kept(), 1);
    }
}
