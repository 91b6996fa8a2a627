//! The LIFO cell: the task a worker woke last, which it runs next.
//!
//! # What it owns
//! [`LifoCell`]: one task in a one-word lock-free cell, plus an `occupied` hint, so
//! that another worker can take the task when the owner is stuck inside a long
//! poll (Go steals `runnext` likewise). Nothing here knows about workers or the
//! runtime: the queue policy that fills and drains it is in `scheduler/core.rs`.
//!
//! # Invariants
//! - Only the owning worker puts a task in (`push`); anyone may `take`.
//! - `occupied` is a hint: an exact check would need a compare-exchange, which
//!   `Runnable` does not allow. It is set after a push and cleared after a take that
//!   found a task. A stale "occupied" costs one failed `take`; a stale "empty" only
//!   delays the task to the owner's next pick (the owner reads its own writes).
//!   Neither loses a task: the task itself is only ever moved by `swap`/`take`.

use async_task::Runnable;
use crossbeam_utils::atomic::AtomicCell;

use crate::loom::sync::atomic::{AtomicBool, Ordering};

/// See the module docs.
///
/// Aligned to a cache-line pair: the cells of all workers sit side by side in one
/// slice, and sharing a line made every push and take of one worker evict it from
/// the other's cache (measured: 30 % of a 100-pair ping-pong went to `push_local`).
#[repr(align(128))]
pub(crate) struct LifoCell {
    task: AtomicCell<Option<Runnable>>,
    occupied: AtomicBool,
}

impl LifoCell {
    pub(crate) fn new() -> LifoCell {
        LifoCell {
            task: AtomicCell::new(None),
            occupied: AtomicBool::new(false),
        }
    }

    /// Puts `runnable` in the cell, returning the task it displaces.
    pub(crate) fn push(&self, runnable: Runnable) -> Option<Runnable> {
        let previous = self.task.swap(Some(runnable));
        self.occupied.store(true, Ordering::Relaxed);
        previous
    }

    /// Takes the task out of the cell.
    pub(crate) fn take(&self) -> Option<Runnable> {
        let task = self.task.take();
        if task.is_some() {
            self.occupied.store(false, Ordering::Relaxed);
        }
        task
    }

    /// The hint: `true` if the cell probably holds a task. Two plain loads' worth
    /// cheaper than a `take`, which is an atomic swap.
    pub(crate) fn looks_occupied(&self) -> bool {
        self.occupied.load(Ordering::Relaxed)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering as StdOrdering};
    use std::sync::Arc;

    use async_task::Runnable;

    use super::LifoCell;

    /// A runnable whose run adds `id + 1` to `ran` (so runs can be told apart and
    /// counted).
    fn task(id: usize, ran: &Arc<AtomicUsize>) -> Runnable {
        let ran = ran.clone();
        let (runnable, task) = async_task::spawn(
            async move {
                ran.fetch_add(id + 1, StdOrdering::SeqCst);
            },
            |_| {},
        );
        task.detach();
        runnable
    }

    #[test]
    fn push_displaces_and_take_empties() {
        let ran = Arc::new(AtomicUsize::new(0));
        let cell = LifoCell::new();
        assert!(!cell.looks_occupied());
        assert!(cell.take().is_none());
        assert!(cell.push(task(0, &ran)).is_none());
        assert!(cell.looks_occupied());
        // The second push hands back the first task.
        cell.push(task(1, &ran)).expect("displaced task").run();
        assert_eq!(ran.load(StdOrdering::SeqCst), 1);
        cell.take().expect("the last task pushed").run();
        assert_eq!(ran.load(StdOrdering::SeqCst), 1 + 2);
        assert!(!cell.looks_occupied());
        assert!(cell.take().is_none());
    }

    /// The owner pushes while a thief takes: every task comes out exactly once
    /// (taken, displaced, or left in the cell), none lost, none twice.
    #[test]
    fn owner_and_thief_never_lose_or_duplicate_a_task() {
        const TASKS: usize = 20_000;
        let ran = Arc::new(AtomicUsize::new(0));
        let cell = Arc::new(LifoCell::new());
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thief = {
            let (cell, done) = (cell.clone(), done.clone());
            std::thread::spawn(move || {
                let mut taken = 0;
                while !done.load(StdOrdering::SeqCst) {
                    if cell.looks_occupied() {
                        if let Some(runnable) = cell.take() {
                            runnable.run();
                            taken += 1;
                        }
                    }
                }
                taken
            })
        };
        let mut displaced = 0;
        for id in 0..TASKS {
            if let Some(previous) = cell.push(task(id, &ran)) {
                previous.run();
                displaced += 1;
            }
        }
        done.store(true, StdOrdering::SeqCst);
        let taken = thief.join().unwrap();
        let left = cell.take().map(Runnable::run).into_iter().count();
        assert_eq!(taken + displaced + left, TASKS);
        // Each id ran exactly once: the sum of (id + 1) over all ids.
        assert_eq!(ran.load(StdOrdering::SeqCst), TASKS * (TASKS + 1) / 2);
    }
}
