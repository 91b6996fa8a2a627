//! Retiring a worker of a shrinking runtime, and migrating its timers to the survivors
//! (Go's `procresize` and `moveTimers`, without stopping the world). Resizing itself,
//! which sets the retire flags, is `resize.rs`.
//!
//! # What it owns
//! [`retire`], which a worker thread runs when it sees its retire flag, and
//! [`migrate_timers`], which moves its store's timers:
//! ```text
//!   finish the current poll (the flag is read between polls)
//!   confirm under the elastic lock (a grow may have cancelled it)   Retiring → Exiting
//!   take the core out of the thread's context: nothing pushes onto its queue or
//!     LIFO cell any more, and timers created on this thread go to the shared store
//!   give up its searching count (waking another searcher if it was the last)
//!   push its LIFO task and local queue onto the global queue (waking a worker)
//!   move its timer store to the survivors' stores a slice at a time, round robin
//!   (moveTimers, spread out): two store locks at a time, lower index first,
//!   and between slices a wait until the threads blocked on those locks had them;
//!   stop if the runtime is shutting down (its drain frees what is left)
//!   under the elastic lock: grown back meanwhile? carry on : park the core, exit
//! ```
//! The other workers keep running tasks and firing timers throughout: the timers
//! not yet moved still fire from the retiring store (every worker steals due timers
//! from every store), and a `Sleep` whose entry moved follows its tombstone.
//!
//! # Invariants
//! - A destination store's published deadline (`earliest_bound`) is lowered under its
//!   lock in the same critical section that moved entries into it, so no moved timer
//!   is watched later than its deadline.
//! - No slice moves after shutdown began: the flag is read under both store
//!   locks, and shutdown sets it before draining each store under its lock, so a
//!   slice either lands before both drains (which free it) or is not moved.
//! - Before an entry moves from store `from` to `to`, `from` holds a strong
//!   reference to `to` (`StoreCell::forward_to`; `to < from` always), so a `Sleep`
//!   can follow the tombstone even after the runtime is gone.
//! - Locks: the elastic lock is never held with a store lock; two store locks are
//!   taken only here, in index order, so two retiring workers cannot deadlock.

use crate::context::WorkerContext;
use crate::runtime::elastic::states::Retire;
use crate::runtime::shared::Shared;
use crate::runtime::timers::stores::StoreCell;

/// Far (wheel) entries moved per slice: with the destination's lock held for a
/// few hundred microseconds at most, its owner's timer operations never wait long.
const MIGRATE_SLICE: usize = 4096;

/// Runs on a worker thread whose retire flag is set, with its core in `worker`.
/// Returns `KeepRunning` if the thread must go back to its loop (the core is back
/// in `worker`), `Proceed` if it must exit (the core is parked in `Elastic`).
pub(crate) fn retire(shared: &Shared, worker: &WorkerContext) -> Retire {
    let index = worker.index;
    if worker.core.borrow().is_none() {
        // `block_in_place` took the core: this thread ends as it would have, and the
        // thread that drives the core now sees the flag and retires instead.
        return Retire::Proceed;
    }
    if shared.elastic.begin_retire(index) == Retire::KeepRunning {
        return Retire::KeepRunning;
    }
    let mut core = worker
        .core
        .borrow_mut()
        .take()
        .expect("ticktock: only this thread takes its core");
    if std::mem::replace(&mut core.searching, false)
        && shared.parking.idle.transition_from_searching()
    {
        shared.parking.notify_one();
    }
    // Buffered timer wakers are woken before the flag is read; any left now go to
    // the global queue like everything else (the core is out of the context).
    for waker in core.wakers.drain(..) {
        waker.wake();
    }
    if let Some(runnable) = shared.lifo[index].take() {
        shared.push_global(runnable);
    }
    while let Some(runnable) = core.queue.pop() {
        shared.push_global(runnable);
    }
    migrate_timers(shared, index);
    match shared.elastic.finish_retire(core) {
        Ok(core) => {
            *worker.core.borrow_mut() = Some(core);
            Retire::KeepRunning
        }
        Err(done) => done,
    }
}

/// Moves every pending timer of store `from` into the stores of the workers kept by
/// the current target, a slice at a time, round robin. Returns the number moved.
pub(crate) fn migrate_timers(shared: &Shared, from: usize) -> usize {
    let timers = &shared.timers;
    let source = timers.store(from);
    // This thread runs no more timer passes for `from`: cancels from now on take
    // its lock (and those queued so far are applied), so none waits in its queue
    // for a pass that never comes. A worker grown back claims it again.
    source.give_up_ownership();
    let mut moved = 0;
    // Retiring workers start at different survivors.
    let mut turn = from;
    loop {
        // Survivors as of now: a resize meanwhile changes where later slices go.
        let target = shared.elastic.target();
        if from < target {
            // Grown back to include this worker: its timers may stay.
            return moved;
        }
        let survivors: Vec<usize> = (0..target.min(shared.elastic.max()))
            .filter(|&index| index != from)
            .collect();
        let to = survivors[turn % survivors.len()];
        turn += 1;
        let destination = timers.store(to);
        // Before any entry moves, so each tombstone left behind can be followed.
        source.forward_to(to, destination);
        // Index order, so two retiring workers never wait on each other in a cycle.
        let (mut src, mut dst) = if from < to {
            let src = source.lock();
            (src, destination.lock())
        } else {
            let dst = destination.lock();
            (source.lock(), dst)
        };
        if shared.is_shutdown() {
            // Stop: shutdown drains every store and frees what is left here.
            // Moving on could put timers into a store it already drained, where
            // nothing would ever free them (see the invariants).
            return moved;
        }
        if src.live() == 0 {
            // Fired entries and tombstones stay for their handles. An expiry pass
            // at time 0 fires nothing but publishes the exact next deadline.
            let mut wakers = Vec::new();
            source.expire_locked(&mut src, 0, &mut wakers);
            drop(dst);
            drop(src);
            wakers.into_iter().for_each(std::task::Waker::wake);
            return moved;
        }
        // A small store is still spread: no slice takes more than its share.
        let share = src.live().div_ceil(survivors.len());
        moved += src.migrate_some_into(&mut dst, share.min(MIGRATE_SLICE));
        if let Some(when) = dst.next_deadline() {
            destination.note_deadline(&dst, when);
        }
        drop(dst);
        drop(src);
        yield_to_waiters([source, destination]);
    }
}

/// How long a retiring worker waits, between two slices, for the threads blocked on
/// the two store locks to take them: a woken waiter runs within microseconds, so
/// this bound only matters when one is descheduled, and a migration never stalls on
/// it for more than this per slice.
const HANDOFF_PATIENCE: std::time::Duration = std::time::Duration::from_millis(1);

/// Between two slices: lets every thread already blocked on one of the two store
/// locks have it before the next slice takes them again (see `StoreCell::waiters`).
/// Without it the mover, which asks again within nanoseconds of unlocking, got the
/// locks back before a woken survivor could, and the survivor's timers and tasks
/// stalled for the whole migration.
fn yield_to_waiters(stores: [&StoreCell; 2]) {
    // Nobody waiting (always so in a simulation, `sim/`): no clock read at all.
    if !stores.iter().any(|store| store.has_waiters()) {
        return;
    }
    let give_up = std::time::Instant::now() + HANDOFF_PATIENCE;
    while stores.iter().any(|store| store.has_waiters()) && std::time::Instant::now() < give_up {
        std::thread::yield_now();
    }
}
