//! Every live task of a runtime, so shutdown can cancel the ones that sit idle.
//!
//! # What it owns
//! Sharded slabs of task wakers. A task is inserted when spawned and removes itself
//! when its future completes or is dropped. At shutdown the registry is closed (no
//! more inserts: spawning then yields a cancelled task) and every remaining waker is
//! woken; since the scheduler drops whatever it is handed after shutdown, that
//! cancels each task and drops its future, wherever its other wakers are kept.
//!
//! # Ground rules
//! A shard lock is held for a slab operation only, never while waking, dropping a
//! waker or running user code. Shards are picked by task id, so consecutive spawns
//! spread over the shards and a worker removing tasks it stole rarely waits on the
//! shard another worker is inserting into.

use std::task::Waker;

use slab::Slab;

use crate::loom::lock;
use crate::loom::sync::Mutex;

/// Where a task sits in the registry.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TaskKey {
    shard: u32,
    index: u32,
}

struct Shard {
    tasks: Slab<Waker>,
    closed: bool,
    /// Tasks ever inserted (counted under the lock the insert takes anyway).
    spawned: u64,
}

/// See the module docs.
pub(crate) struct Registry {
    shards: Box<[Mutex<Shard>]>,
}

impl Registry {
    pub(crate) fn new(shards: usize) -> Registry {
        Registry {
            shards: (0..shards.max(1))
                .map(|_| {
                    Mutex::new(Shard {
                        tasks: Slab::new(),
                        closed: false,
                        spawned: 0,
                    })
                })
                .collect(),
        }
    }

    /// Reserves a key in the shard for `hint`, calls `spawn(key)` under the shard lock
    /// (it creates the task and returns its waker), and records the waker. Returns
    /// `None` without calling `spawn` if the registry is closed.
    pub(crate) fn insert<R>(
        &self,
        hint: usize,
        spawn: impl FnOnce(TaskKey) -> (Waker, R),
    ) -> Option<R> {
        let shard_index = hint % self.shards.len();
        let mut shard = lock(&self.shards[shard_index]);
        if shard.closed {
            return None;
        }
        let entry = shard.tasks.vacant_entry();
        let key = TaskKey {
            shard: shard_index as u32,
            index: u32::try_from(entry.key()).expect("ticktock: more than 2^32 live tasks"),
        };
        let (waker, result) = spawn(key);
        entry.insert(waker);
        shard.spawned += 1;
        Some(result)
    }

    /// Forgets a task (it completed or its future was dropped). Idempotent after close.
    pub(crate) fn remove(&self, key: TaskKey) {
        let waker = lock(&self.shards[key.shard as usize])
            .tasks
            .try_remove(key.index as usize);
        // Dropped outside the lock: it may be the task's last reference.
        drop(waker);
    }

    /// Number of live tasks.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| lock(shard).tasks.len())
            .sum()
    }

    /// Number of tasks ever spawned.
    pub(crate) fn spawned(&self) -> u64 {
        self.shards.iter().map(|shard| lock(shard).spawned).sum()
    }

    /// Calls `f` with the waker of every live task, one shard lock at a time (a
    /// simulation forgets the tasks that finished, `sim/trace.rs`). `f` must not
    /// touch the registry.
    pub(crate) fn for_each_live(&self, mut f: impl FnMut(&Waker)) {
        for shard in self.shards.iter() {
            for (_, waker) in lock(shard).tasks.iter() {
                f(waker);
            }
        }
    }

    /// Closes the registry and returns the wakers of every task still registered.
    pub(crate) fn close(&self) -> Vec<Waker> {
        let mut wakers = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            shard.closed = true;
            wakers.extend(shard.tasks.drain());
        }
        wakers
    }
}
