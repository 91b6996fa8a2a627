//! The per-store queue of timer cancels from threads other than the store's owner,
//! the word saying who the owner is, and the thread tokens that word holds.
//!
//! # What it owns
//! - [`RemoteCancels`]: one per `StoreCell`: a queue of keys (behind its own mutex, never
//!   the store's) whose handle
//!   let go on another thread, and `owner`, the [`ThreadToken`] of the thread that
//!   runs the store's timer passes now, or [`UNATTENDED`].
//! - [`ThreadToken`]: a number naming the current thread, read from one
//!   `const`-initialised thread-local (no lazy registration, no destructor). It is not
//!   the runtime context (`context.rs`): it knows nothing of runtimes.
//! - [`Offer`]: where [`RemoteCancels::offer`] sent a cancel.
//!
//! How a store uses them (the protocol, its table and its invariants) is in
//! `remote_cancel.rs`.
//!
//! # Invariants
//! - A token is never [`UNATTENDED`], and two live threads never share one.
//! - `offer` pushes, then fences (SeqCst), then reads `owner`; `release` writes
//!   [`UNATTENDED`], then fences (SeqCst); its caller then takes everything. So a key
//!   pushed while the store is given up is seen by the pusher's read or by the
//!   releaser's pops, or both (`remote_cancel.rs`, loom models in
//!   `remote_cancel_loom.rs`).
//!
//! # Ground rules
//! Anyone may push and read `owner`; keys are taken only under the store's lock
//! (the callers in `remote_cancel.rs` hold it); `owner` is written by the owner's
//! timer pass ([`RemoteCancels::claim`]) and by whoever gives the store up
//! ([`RemoteCancels::release`]).

use std::cell::Cell;

use ticktock_timer::TimerKey;

use crate::loom::sync::atomic::{fence, AtomicU64, Ordering};

/// The owner value of a store that no thread runs timer passes for: the external
/// store (shared by every thread that is not a worker), a retired worker's store,
/// and every store after shutdown. Cancels on it take the lock.
pub(crate) const UNATTENDED: u64 = 0;

/// Keys queued on a store before a thief (a worker that does not own it) applies
/// them: an owner that runs its timer passes drains far more often than this fills
/// (every 61 ticks), so thieves step in only for an owner stuck in one long poll, and
/// the entries held back stay bounded (1024 x 48 bytes of slab).
#[cfg(not(loom))]
pub(crate) const THIEF_DRAIN_BACKLOG: usize = 1024;

/// Under loom, two keys make a backlog, so a model reaches a thief's drain.
#[cfg(loom)]
pub(crate) const THIEF_DRAIN_BACKLOG: usize = 2;

/// A number naming one thread for as long as it lives, never [`UNATTENDED`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ThreadToken(u64);

/// The next token to hand out. A plain std atomic: loom's are not `const` (see
/// `crate::loom`), and the models pass tokens explicitly.
static NEXT_TOKEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

#[cfg(not(loom))]
std::thread_local! {
    /// This thread's token, or 0 until it first asks.
    static TOKEN: Cell<u64> = const { Cell::new(0) };
}

// Loom runs a model's threads on one OS thread: each needs its own token.
#[cfg(loom)]
loom::thread_local! {
    static TOKEN: Cell<u64> = Cell::new(0);
}

impl ThreadToken {
    /// The current thread's token: one thread-local read (the first call on a
    /// thread also takes a number).
    pub(crate) fn current() -> ThreadToken {
        TOKEN.with(|token| {
            let mut value = token.get();
            if value == UNATTENDED {
                value = NEXT_TOKEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                token.set(value);
            }
            ThreadToken(value)
        })
    }
}

/// The queue of keys itself: a `Vec` behind its own mutex (never the store's), with
/// its length mirrored in an atomic so `has_queued` takes no lock. Remote droppers
/// lock it for one push; the owner empties it with one lock per timer pass
/// ([`RemoteCancels::take_all`]) instead of one compare-and-swap per key, which is
/// what crossbeam's `Injector` (the first version) cost it: the owner's side is the
/// one the cross-thread workload waits on (docs/benchmarks.md). Under loom the same
/// shape with loom's mutex, so the models explore every order of pushes, takes and
/// owner-word accesses.
struct KeyQueue {
    keys: crate::loom::sync::Mutex<Vec<TimerKey>>,
    /// `keys.len()`, written under the mutex. Read without it by `has_queued` and
    /// `has_backlog`: a stale read delays a cancel to the next pass, and the
    /// unattended hand-over does not rely on it (it takes everything, see
    /// [`RemoteCancels::release`]).
    len: crate::loom::sync::atomic::AtomicUsize,
}

impl KeyQueue {
    fn new() -> KeyQueue {
        KeyQueue {
            keys: crate::loom::sync::Mutex::new(Vec::new()),
            len: crate::loom::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn push(&self, key: TimerKey) {
        let mut keys = crate::loom::lock(&self.keys);
        keys.push(key);
        self.len.store(keys.len(), Ordering::Relaxed);
    }

    /// Moves every queued key to the end of `out`; the queue keeps its capacity.
    fn take_all(&self, out: &mut Vec<TimerKey>) {
        let mut keys = crate::loom::lock(&self.keys);
        out.append(&mut keys);
        self.len.store(0, Ordering::Relaxed);
    }

    fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Offer {
    /// The caller owns the store: cancel under the lock (nothing queued).
    Mine,
    /// Nobody owns the store: cancel under the lock (nothing queued).
    Unattended,
    /// Queued; the owner applies it on its next timer pass.
    Queued,
    /// Queued, but the store was given up meanwhile: the caller must apply the queue
    /// under the lock itself (the releaser's drain may have run before the push).
    QueuedUnattended,
}

/// One store's queue of cancels from other threads, and who owns the store.
pub(crate) struct RemoteCancels {
    queue: KeyQueue,
    /// The [`ThreadToken`] of the thread that runs this store's timer passes, or
    /// [`UNATTENDED`]. Written by the owner when it claims the store (its timer pass)
    /// and by whoever gives the store up; read by every cancelling handle.
    owner: AtomicU64,
}

impl RemoteCancels {
    /// An empty queue on an unattended store (the owner claims it on its first pass).
    pub(crate) fn new() -> RemoteCancels {
        RemoteCancels {
            queue: KeyQueue::new(),
            owner: AtomicU64::new(UNATTENDED),
        }
    }

    /// The owner's timer pass: records that `token`'s thread runs this store's
    /// passes (one load when it already did).
    pub(crate) fn claim(&self, token: ThreadToken) {
        if self.owner.load(Ordering::Relaxed) != token.0 {
            self.owner.store(token.0, Ordering::SeqCst);
        }
    }

    /// Whether another thread runs this store's timer passes now (not this thread,
    /// and not unattended). A hint, as every read of the owner word: a stale answer
    /// sends an operation down the other, equally correct, path.
    pub(crate) fn owned_by_another_thread(&self, token: ThreadToken) -> bool {
        let owner = self.owner.load(Ordering::Relaxed);
        owner != UNATTENDED && owner != token.0
    }

    /// Marks the store unattended and fences; the caller then applies the queue
    /// under the lock (see the module's invariants). Returns nothing to check: the
    /// caller's drain is what makes it complete.
    pub(crate) fn release(&self) {
        self.owner.store(UNATTENDED, Ordering::SeqCst);
        fence(Ordering::SeqCst);
    }

    /// Routes the cancel of `key` by `token`'s thread (see the module's table).
    pub(crate) fn offer(&self, key: TimerKey, token: ThreadToken) -> Offer {
        match self.owner.load(Ordering::Relaxed) {
            owner if owner == token.0 => return Offer::Mine,
            UNATTENDED => return Offer::Unattended,
            _ => {}
        }
        self.queue.push(key);
        // Pairs with the fence in `release`: either its drain sees this push or
        // this load sees its UNATTENDED.
        fence(Ordering::SeqCst);
        if self.owner.load(Ordering::SeqCst) == UNATTENDED {
            Offer::QueuedUnattended
        } else {
            Offer::Queued
        }
    }

    /// Whether any key is queued (the owner's check, each timer pass).
    pub(crate) fn has_queued(&self) -> bool {
        self.queue.len() != 0
    }

    /// Whether enough keys are queued for a thief to apply them.
    pub(crate) fn has_backlog(&self) -> bool {
        self.queue.len() >= THIEF_DRAIN_BACKLOG
    }

    /// Moves every queued key to `out`. Only the holder of the store's lock takes
    /// (`StoreCell::apply_queued`), so a key is applied once, under that lock.
    pub(crate) fn take_all(&self, out: &mut Vec<TimerKey>) {
        self.queue.take_all(out);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn thread_tokens_differ_between_threads_and_are_never_unattended() {
        let here = ThreadToken::current();
        assert_eq!(here, ThreadToken::current(), "a thread keeps its token");
        let there = std::thread::spawn(ThreadToken::current).join().unwrap();
        assert_ne!(here, there);
        assert_ne!(here.0, UNATTENDED);
    }

    #[test]
    fn offer_routes_by_owner() {
        let remote = RemoteCancels::new();
        let me = ThreadToken::current();
        let other = std::thread::spawn(ThreadToken::current).join().unwrap();
        let key = TimerKey::from_index(7);
        assert_eq!(remote.offer(key, me), Offer::Unattended);
        assert!(!remote.has_queued(), "an unattended store queues nothing");
        remote.claim(other);
        assert_eq!(remote.offer(key, other), Offer::Mine);
        assert_eq!(remote.offer(key, me), Offer::Queued);
        assert!(remote.has_queued());
        let mut taken = Vec::new();
        remote.take_all(&mut taken);
        assert_eq!(taken, [key]);
        assert!(!remote.has_queued());
        remote.take_all(&mut taken);
        assert_eq!(taken, [key], "nothing more to take");
        remote.release();
        assert_eq!(remote.offer(key, me), Offer::Unattended);
    }

    #[test]
    fn backlog_needs_the_threshold() {
        let remote = RemoteCancels::new();
        remote.claim(std::thread::spawn(ThreadToken::current).join().unwrap());
        let me = ThreadToken::current();
        for index in 0..THIEF_DRAIN_BACKLOG as u32 - 1 {
            assert_eq!(remote.offer(TimerKey::from_index(index), me), Offer::Queued);
        }
        assert!(!remote.has_backlog());
        remote.offer(TimerKey::from_index(0), me);
        assert!(remote.has_backlog());
    }
}
