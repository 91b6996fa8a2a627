//! Property test: two `TimerStore`s driven by random operation sequences, compared after every
//! step with a plain reference model (a list of handles with their deadlines).
//!
//! The test plays the part of the executor: handles follow `Moved` answers the way a real handle
//! would, and `expire` results are compared exactly with "every live timer of that store whose
//! deadline is `<= now`", so firing early, firing late, losing a timer or firing it twice all fail.
//!
//! It also plays the executor's remote cancels (`runtime/remote_cancel.rs`): a handle dropped on
//! another thread queues its key on the store it last saw (`CancelQueued`), and the entry stays
//! armed, fires, migrates and drains like any other until the store applies its queue
//! (`ApplyQueued`: the ordinary `cancel`; a tombstone's key is forwarded to the destination's
//! queue). A queued timer that fires hands out its waker (a spurious wake-up, expected here), and
//! none is lost: `finish` applies every queue before checking that the stores are empty.

use proptest::prelude::*;
use proptest::sample::Index;
use ticktock_timer::{Moved, PollState, StoreId, TimerKey, TimerStore, MAX_DEADLINE};

/// Number of stores in the model: enough to migrate back and forth.
const STORES: usize = 2;

/// Small deadline offsets are drawn below this, so deadlines collide and resets go both ways.
const MAX_DELTA: u64 = 64;

/// Offsets that reach the wheel: up to ~16 ms (level 0) and ~17 s (levels 1 and 2). The store's
/// near window is 2^20 ns.
const WHEEL_DELTAS: [u64; 2] = [1 << 24, 1 << 34];

/// One random step.
#[derive(Clone, Debug)]
enum Op {
    /// New timer at `now + delta` (or never, for `u64::MAX`).
    Insert { store: usize, delta: u64 },
    /// A handle polls.
    Poll { handle: Index },
    /// A handle is dropped.
    Cancel { handle: Index },
    /// A handle is dropped on another thread: its key is queued on the store it last saw.
    CancelQueued { handle: Index },
    /// A store applies its queued cancels (its owner's timer pass).
    ApplyQueued { store: usize },
    /// A handle re-arms at `now + delta`.
    Reset { handle: Index, delta: u64 },
    /// The clock advances and one store fires what is due.
    Expire { store: usize, advance: u64 },
    /// A worker asks for its next deadline.
    NextDeadline { store: usize },
    /// A worker goes away and hands its timers over.
    Migrate { from: usize },
    /// Runtime shutdown of one store.
    Drain { store: usize },
}

fn op() -> impl Strategy<Value = Op> {
    let store = 0..STORES;
    let delta = prop_oneof![
        20 => 0..MAX_DELTA,
        6 => 0..WHEEL_DELTAS[0],
        6 => 0..WHEEL_DELTAS[1],
        1 => Just(u64::MAX),
    ];
    let advance = prop_oneof![
        4 => 0..MAX_DELTA / 2,
        2 => 0..WHEEL_DELTAS[0] / 4,
        1 => 0..WHEEL_DELTAS[1] / 4,
    ];
    prop_oneof![
        6 => (store.clone(), delta.clone()).prop_map(|(store, delta)| Op::Insert { store, delta }),
        3 => any::<Index>().prop_map(|handle| Op::Poll { handle }),
        5 => any::<Index>().prop_map(|handle| Op::Cancel { handle }),
        3 => any::<Index>().prop_map(|handle| Op::CancelQueued { handle }),
        2 => store.clone().prop_map(|store| Op::ApplyQueued { store }),
        5 => (any::<Index>(), delta).prop_map(|(handle, delta)| Op::Reset { handle, delta }),
        3 => (store.clone(), advance).prop_map(|(store, advance)| Op::Expire { store, advance }),
        2 => store.clone().prop_map(|store| Op::NextDeadline { store }),
        1 => store.clone().prop_map(|from| Op::Migrate { from }),
        1 => store.prop_map(|store| Op::Drain { store }),
    ]
}

/// What the model believes about one handle's timer.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Timer {
    Armed(u64),
    Fired,
}

/// One handle, as the executor's sleep future would hold it.
#[derive(Debug)]
struct Handle {
    /// Where the handle last saw its entry (may be a tombstone).
    store: usize,
    key: TimerKey,
    /// The store that really holds the entry (model truth).
    home: usize,
    timer: Timer,
    /// The waker the entry should hold.
    waker: Option<u64>,
    /// Slots the handle owns in each store: its entry plus tombstones it has not followed yet.
    owned: [usize; STORES],
}

struct Harness {
    stores: Vec<TimerStore<u64>>,
    handles: Vec<Handle>,
    /// Handles dropped on another thread whose key waits in the queue of store `h.store`.
    queued: Vec<Handle>,
    now: u64,
    next_waker: u64,
}

/// Returns `true` if `when` is not after `others` (or there are no others).
fn at_most(when: u64, others: Option<u64>) -> bool {
    match others {
        Some(o) => when <= o,
        None => true,
    }
}

/// Returns `true` if `when` is strictly before `others` (or there are no others).
fn below(when: u64, others: Option<u64>) -> bool {
    match others {
        Some(o) => when < o,
        None => true,
    }
}

/// Runs `op` on the handle's entry, following tombstones the way a handle does.
fn follow<T>(
    stores: &mut [TimerStore<u64>],
    h: &mut Handle,
    mut op: impl FnMut(&mut TimerStore<u64>, TimerKey) -> Result<T, Moved>,
) -> T {
    loop {
        match op(&mut stores[h.store], h.key) {
            Ok(value) => {
                assert_eq!(
                    h.store, h.home,
                    "handle ended up away from its entry: {h:?}"
                );
                return value;
            }
            Err(Moved { store, key }) => {
                assert_ne!(
                    store.0 as usize, h.store,
                    "tombstone points at its own store"
                );
                h.owned[h.store] -= 1; // the tombstone was freed
                h.store = store.0 as usize;
                h.key = key;
            }
        }
    }
}

impl Harness {
    fn new() -> Self {
        Harness {
            stores: (0..STORES)
                .map(|i| TimerStore::new(StoreId(i as u32)))
                .collect(),
            handles: Vec::new(),
            queued: Vec::new(),
            now: 0,
            next_waker: 0,
        }
    }

    fn fresh_waker(&mut self) -> u64 {
        self.next_waker += 1;
        self.next_waker
    }

    fn deadline(&self, delta: u64) -> u64 {
        self.now.saturating_add(delta).min(MAX_DEADLINE)
    }

    /// Earliest armed deadline the model has in `store`, ignoring handle `skip`.
    fn model_next(&self, store: usize, skip: Option<usize>) -> Option<u64> {
        let queued = self.queued.iter().map(|h| (None, h));
        self.handles
            .iter()
            .enumerate()
            .map(|(i, h)| (Some(i), h))
            .chain(queued)
            .filter(|(i, h)| h.home == store && (i.is_none() || *i != skip))
            .filter_map(|(_, h)| match h.timer {
                Timer::Armed(when) => Some(when),
                Timer::Fired => None,
            })
            .min()
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Insert { store, delta } => {
                let when = self.deadline(delta);
                let waker = self.fresh_waker();
                let key = self.stores[store].insert(self.now.saturating_add(delta), waker);
                let mut owned = [0; STORES];
                owned[store] = 1;
                self.handles.push(Handle {
                    owned,
                    store,
                    key,
                    home: store,
                    timer: Timer::Armed(when),
                    waker: Some(waker),
                });
            }
            Op::Poll { handle } if !self.handles.is_empty() => {
                let i = handle.index(self.handles.len());
                let new = self.fresh_waker();
                let h = &mut self.handles[i];
                let expected = h.waker;
                let state = follow(&mut self.stores, h, |store, key| {
                    store.poll_entry(key, |waker| {
                        assert_eq!(*waker, expected, "entry holds the wrong waker");
                        *waker = Some(new);
                    })
                });
                match h.timer {
                    Timer::Armed(_) => {
                        assert_eq!(state, PollState::Pending);
                        h.waker = Some(new);
                    }
                    Timer::Fired => assert_eq!(state, PollState::Fired),
                }
            }
            Op::Cancel { handle } if !self.handles.is_empty() => {
                let i = handle.index(self.handles.len());
                let mut h = self.handles.swap_remove(i);
                let waker = follow(&mut self.stores, &mut h, |store, key| store.cancel(key));
                assert_eq!(waker, h.waker, "cancel returned the wrong waker");
            }
            Op::CancelQueued { handle } if !self.handles.is_empty() => {
                let i = handle.index(self.handles.len());
                let h = self.handles.swap_remove(i);
                self.queued.push(h);
            }
            Op::ApplyQueued { store } => self.apply_queued(store),
            Op::Reset { handle, delta } if !self.handles.is_empty() => {
                let i = handle.index(self.handles.len());
                let when = self.deadline(delta);
                let others = self.model_next(self.handles[i].home, Some(i));
                let h = &mut self.handles[i];
                let earliest = follow(&mut self.stores, h, |store, key| {
                    store.reset(key, self.now.saturating_add(delta))
                });
                // `true` means "the next deadline may have moved earlier".
                match h.timer {
                    Timer::Armed(old) if when >= old => {
                        assert!(!earliest, "a later reset asked for a wake-up")
                    }
                    _ => assert!(earliest, "an earlier reset or re-arm said nothing moved"),
                }
                let next = self.stores[h.home].next_deadline();
                assert!(
                    next.is_some_and(|next| next <= when),
                    "next deadline {next:?} is after the one just set, {when}"
                );
                if below(when, others) && self.stores[h.home].wheel_len() == 0 {
                    assert_eq!(next, Some(when), "the heap's next deadline is exact");
                }
                if h.timer == Timer::Fired {
                    h.waker = None; // firing took it
                }
                h.timer = Timer::Armed(when);
            }
            Op::Expire { store, advance } => {
                self.now += advance;
                let mut woken = Vec::new();
                let fired = self.stores[store].expire(self.now, |w| woken.push(w));
                let mut expected = Vec::new();
                let mut due = 0;
                let all = self.handles.iter_mut().chain(self.queued.iter_mut());
                for h in all.filter(|h| h.home == store) {
                    if let Timer::Armed(when) = h.timer {
                        if when <= self.now && when < MAX_DEADLINE {
                            due += 1;
                            expected.extend(h.waker.take());
                            h.timer = Timer::Fired;
                        }
                    }
                }
                woken.sort_unstable();
                expected.sort_unstable();
                assert_eq!(fired, due, "fired count at now = {}", self.now);
                assert_eq!(woken, expected, "fired wakers at now = {}", self.now);
            }
            Op::NextDeadline { store } => {
                let expected = self.model_next(store, None);
                let next = self.stores[store].next_deadline();
                assert_eq!(next.is_some(), expected.is_some(), "next deadline {next:?}");
                assert!(
                    at_most(next.unwrap_or(0), expected),
                    "next deadline {next:?} is later than the earliest timer {expected:?}"
                );
                if self.stores[store].wheel_len() == 0 {
                    assert_eq!(next, expected, "with an empty wheel the answer is exact");
                }
            }
            Op::Migrate { from } => {
                let to = (from + 1) % STORES;
                let (a, b) = self.stores.split_at_mut(1);
                // A slice at a time (three far entries per step), as a retiring worker does.
                let (src, dst) = if from == 0 {
                    (&mut a[0], &mut b[0])
                } else {
                    (&mut b[0], &mut a[0])
                };
                let mut moved = 0;
                loop {
                    moved += src.migrate_some_into(dst, 3);
                    src.verify();
                    dst.verify();
                    if src.live() == 0 {
                        break;
                    }
                }
                let mut expected = 0;
                let all = self.handles.iter_mut().chain(self.queued.iter_mut());
                for h in all.filter(|h| h.home == from) {
                    if let Timer::Armed(_) = h.timer {
                        h.home = to;
                        h.owned[to] += 1;
                        expected += 1;
                    }
                }
                assert_eq!(moved, expected);
            }
            Op::Drain { store } => {
                let mut woken = Vec::new();
                self.stores[store].drain_wakers(|w| woken.push(w));
                let mut expected = Vec::new();
                let all = self.handles.iter_mut().chain(self.queued.iter_mut());
                for h in all.filter(|h| h.home == store) {
                    if let Timer::Armed(_) = h.timer {
                        expected.extend(h.waker.take());
                        h.timer = Timer::Fired;
                    }
                }
                woken.sort_unstable();
                expected.sort_unstable();
                assert_eq!(woken, expected);
            }
            // Handle operations with no handle alive.
            Op::Poll { .. } | Op::Cancel { .. } | Op::CancelQueued { .. } | Op::Reset { .. } => {}
        }
    }

    /// Store `store` applies its queue: each key is cancelled there; a tombstone's cancel frees
    /// it and forwards the key to the destination's queue (as `Applied::finish` does).
    fn apply_queued(&mut self, store: usize) {
        let (mine, others): (Vec<Handle>, Vec<Handle>) = std::mem::take(&mut self.queued)
            .into_iter()
            .partition(|h| h.store == store);
        self.queued = others;
        for mut h in mine {
            match self.stores[store].cancel(h.key) {
                Ok(waker) => {
                    assert_eq!(h.store, h.home, "a queued key's entry is elsewhere: {h:?}");
                    assert_eq!(waker, h.waker, "a queued cancel returned the wrong waker");
                }
                Err(Moved { store: to, key }) => {
                    assert_ne!(to.0 as usize, store, "tombstone points at its own store");
                    h.owned[store] -= 1;
                    h.store = to.0 as usize;
                    h.key = key;
                    self.queued.push(h);
                }
            }
        }
    }

    fn check(&self) {
        for (s, store) in self.stores.iter().enumerate() {
            store.verify();
            let live = self
                .handles
                .iter()
                .chain(&self.queued)
                .filter(|h| h.home == s && matches!(h.timer, Timer::Armed(_)))
                .count();
            assert_eq!(store.live(), live, "store {s} live count");
            assert_eq!(
                store.heap_len(),
                store.live() - store.wheel_len() + store.stale()
            );
            assert!(
                store.stale() <= store.heap_len() / 4 + 1,
                "store {s} not compacted"
            );
            let held: usize = self
                .handles
                .iter()
                .chain(&self.queued)
                .map(|h| h.owned[s])
                .sum();
            assert!(
                store.slab_len() >= held,
                "store {s} freed a slot a handle holds"
            );
            assert!(
                store.slab_len() <= held + store.stale(),
                "store {s} leaks slots: {} for {held} handles and {} stale",
                store.slab_len(),
                store.stale()
            );
        }
    }

    /// Drops every handle, then checks that both stores end up empty.
    fn finish(mut self) {
        // Every queue is applied (forwarded keys take one more round per hop).
        while !self.queued.is_empty() {
            for store in 0..STORES {
                self.apply_queued(store);
            }
        }
        while let Some(mut h) = self.handles.pop() {
            follow(&mut self.stores, &mut h, |store, key| store.cancel(key));
        }
        for store in &self.stores {
            store.verify();
            assert_eq!(
                (store.live(), store.heap_len(), store.slab_len()),
                (0, 0, 0)
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn stores_match_the_model(ops in prop::collection::vec(op(), 1..300)) {
        let mut harness = Harness::new();
        for op in ops {
            harness.apply(op);
            harness.check();
        }
        harness.finish();
    }
}
