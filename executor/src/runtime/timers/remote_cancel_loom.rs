//! Loom models of the remote-cancel protocol (`remote_cancel.rs`, `cancel_queue.rs`),
//! run on the real [`StoreCell`]s of a [`Timers`]: a `Sleep` dropped on a thread that
//! does not own its store queues the key, and the owner, a thief, a retiring worker
//! or shutdown applies it.
//!
//! # What it owns
//! Only tests, compiled under `--cfg loom` and run by `.ci/loom.sh` with the other
//! executor models (`cargo test --release -p ticktock-executor --lib loom`). Every
//! atomic and mutex of the code under test (the owner word, its fences, the store's
//! lock, and under loom the key queue, a loom mutex around a `VecDeque`) comes from
//! loom, so loom explores every interleaving of them up to the preemption bound.
//!
//! # What is checked
//! - **A remote cancel racing a fire.** The entry either fires once (a spurious
//!   wake-up: its handle is gone) or is cancelled first; either way the owner's next
//!   pass frees it, and nothing is left queued.
//! - **A remote cancel racing a steal.** The owner runs no pass; a thief fires the
//!   due entry and, once the queue holds a backlog, applies it. The queue never loses
//!   a key, the entry never fires twice, and the owner's next pass leaves the store
//!   empty.
//! - **A remote cancel racing a retirement (migration).** The owner gives the store
//!   up and moves its entries to a survivor, leaving tombstones, and runs no pass
//!   ever again. With nothing else running, both stores are empty once the cancel
//!   returns: the cancelling thread saw the store unattended (and applied the queue
//!   itself, following the tombstone) or the retiring thread's drain saw its key.
//!   Dropping the re-check in `RemoteCancels::offer` fails this model.
//! - **A remote cancel racing shutdown.** Same, with `StoreCell::drain`.
//! - **A queued cancel of a tombstone.** A worker retired (its entry moved on) and came
//!   back; a handle that still names the old place cancels from another thread while the
//!   owner passes: the owner's pass frees the tombstone and forwards the cancel to the
//!   entry's new store, which ends empty too.
//!
//! # Ground rules
//! Models stay small (two or three threads, one or two timers) and run under
//! [`model`], with the preemption bound of the other executor models.

use std::sync::atomic::AtomicUsize as StdAtomicUsize;
use std::task::{Wake, Waker};

use loom::thread;
use ticktock_timer::{StoreId, TimerKey};

use crate::loom::sync::Arc;
use crate::runtime::loom_tests::model;
use crate::runtime::scheduler::wake_workers::Parking;
use crate::runtime::timers::stores::{LockWait, StoreCell, Timers};

/// A waker that counts its wake-ups (a plain std atomic: counting is not part of
/// the protocol under test).
#[derive(Default)]
struct CountingWaker(StdAtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl CountingWaker {
    fn wakes(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A runtime's timer stores for `workers` workers (plus the external one).
fn timers(workers: usize) -> Timers {
    let parking = Arc::new(Parking::new(workers).expect("a poller"));
    Timers::new(workers, &parking)
}

/// Inserts a timer due at `when` into `cell`'s store, with a counting waker.
fn arm(cell: &StoreCell, when: u64) -> (TimerKey, std::sync::Arc<CountingWaker>) {
    let counter = std::sync::Arc::new(CountingWaker::default());
    let waker = Waker::from(counter.clone());
    let mut store = cell.lock();
    let key = store.insert_labeled(when, waker, std::panic::Location::caller());
    cell.note_deadline(&store, when);
    (key, counter)
}

/// Every slot of `cell`'s store is free (no entry, no tombstone, nothing queued).
fn assert_empty(cell: &StoreCell, what: &str) {
    let store = cell.lock();
    store.verify();
    assert_eq!(
        store.slab_len(),
        0,
        "{what}: store {:?} kept a slot",
        store.id()
    );
    drop(store);
    assert!(
        !cell.queue_wants_lock(LockWait::Wait),
        "{what}: a key is still queued"
    );
}

#[test]
fn loom_remote_cancel_racing_a_fire_fires_at_most_once_and_is_freed() {
    model(|| {
        let timers = Arc::new(timers(1));
        let cell = timers.store(0).clone();
        // This thread is the owner: its pass claims the store.
        cell.fire_due(0, &mut Vec::new(), LockWait::Wait);
        let (key, counter) = arm(&cell, 5);
        let remote = {
            let cell = cell.clone();
            thread::spawn(move || cell.let_go(key))
        };
        let mut wakers = Vec::new();
        cell.fire_due(10, &mut wakers, LockWait::Wait);
        wakers.into_iter().for_each(Waker::wake);
        remote.join().unwrap();
        // The owner's next pass applies whatever was queued after the first.
        cell.fire_due(10, &mut Vec::new(), LockWait::Wait);
        assert!(counter.wakes() <= 1, "fired twice");
        assert_empty(&cell, "after the owner's next pass");
    });
}

#[test]
fn loom_remote_cancels_racing_a_steal_are_never_lost() {
    model(|| {
        let timers = Arc::new(timers(2));
        let cell = timers.store(0).clone();
        // This thread owns store 0 but then runs no pass until the end (blocked).
        cell.fire_due(0, &mut Vec::new(), LockWait::Wait);
        let (first, first_wakes) = arm(&cell, 5);
        let (second, second_wakes) = arm(&cell, 5);
        let remote = {
            let cell = cell.clone();
            thread::spawn(move || {
                cell.let_go(first);
                cell.let_go(second);
            })
        };
        let thief = {
            let timers = timers.clone();
            thread::spawn(move || {
                let mut wakers = Vec::new();
                timers.steal_due(Some(1), 10, &mut wakers);
                wakers.into_iter().for_each(Waker::wake);
            })
        };
        remote.join().unwrap();
        thief.join().unwrap();
        cell.fire_due(10, &mut Vec::new(), LockWait::Wait);
        assert!(first_wakes.wakes() <= 1 && second_wakes.wakes() <= 1);
        assert_empty(&cell, "after the owner's next pass");
    });
}

#[test]
fn loom_remote_cancel_racing_a_retirement_is_applied_without_the_owner() {
    model(|| {
        let timers = Arc::new(timers(2));
        let (survivor, retiring) = (timers.store(0).clone(), timers.store(1).clone());
        let (key, _wakes) = arm(&retiring, 1 << 40);
        let retirer = {
            let (survivor, retiring) = (survivor.clone(), retiring.clone());
            thread::spawn(move || {
                // The worker of store 1: claims it, then retires (as
                // `retire::migrate_timers` does, one slice, locks in index order).
                retiring.fire_due(0, &mut Vec::new(), LockWait::Wait);
                retiring.give_up_ownership();
                retiring.forward_to(0, &survivor);
                let mut dst = survivor.lock();
                let mut src = retiring.lock();
                src.migrate_some_into(&mut dst, 8);
            })
        };
        let remote = {
            let retiring = retiring.clone();
            thread::spawn(move || retiring.let_go(key))
        };
        retirer.join().unwrap();
        remote.join().unwrap();
        // No pass ever runs for either store again.
        assert_empty(&retiring, "the retired store");
        assert_empty(&survivor, "the survivor");
        assert_eq!(survivor.lock().id(), StoreId(0));
    });
}

#[test]
fn loom_queued_cancel_of_a_tombstone_is_forwarded_to_the_entrys_new_store() {
    model(|| {
        let timers = Arc::new(timers(2));
        let (survivor, returned) = (timers.store(0).clone(), timers.store(1).clone());
        let (key, _wakes) = arm(&returned, 1 << 40);
        // Store 1's worker retired (its entry moved to store 0, a tombstone stays)...
        returned.forward_to(0, &survivor);
        {
            let mut dst = survivor.lock();
            let mut src = returned.lock();
            src.migrate_some_into(&mut dst, 8);
        }
        // ...and came back: this thread runs its passes again.
        returned.fire_due(0, &mut Vec::new(), LockWait::Wait);
        let remote = {
            let returned = returned.clone();
            // The handle still names store 1: its key there is the tombstone's.
            thread::spawn(move || returned.let_go(key))
        };
        returned.fire_due(0, &mut Vec::new(), LockWait::Wait);
        remote.join().unwrap();
        returned.fire_due(0, &mut Vec::new(), LockWait::Wait);
        // Store 0 has no owner in this model: the forwarded cancel took its lock.
        assert_empty(&returned, "the returned store");
        assert_empty(&survivor, "the store the entry moved to");
    });
}

#[test]
fn loom_remote_cancel_racing_shutdown_is_applied() {
    model(|| {
        let timers = Arc::new(timers(1));
        let cell = timers.store(0).clone();
        cell.fire_due(0, &mut Vec::new(), LockWait::Wait);
        let (key, wakes) = arm(&cell, 1 << 40);
        let remote = {
            let cell = cell.clone();
            thread::spawn(move || cell.let_go(key))
        };
        let mut wakers = Vec::new();
        cell.drain(&mut wakers);
        wakers.into_iter().for_each(Waker::wake);
        remote.join().unwrap();
        assert!(wakes.wakes() <= 1);
        assert_empty(&cell, "after shutdown");
    });
}
