//! Go's timer pitfalls, replayed at the data-structure level: leaks from cancelled timers, heaps
//! that grow under churn, resets that allocate, and deadlines that overflow or fire when they
//! should not.

use proptest::prelude::RngExt;
use proptest::test_runner::{RngAlgorithm, TestRng};
use ticktock_timer::{Moved, PollState, StoreId, TimerKey, TimerStore, MAX_DEADLINE};

/// A seeded generator: proptest's ChaCha, the random source the timer crate's tests
/// share (a dev-dependency already), so a run is reproducible.
fn seeded_rng(seed: u8) -> TestRng {
    TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32])
}

#[test]
fn hundred_thousand_cancelled_leave_nothing() {
    let mut store = TimerStore::new(StoreId(0));
    let mut rng = seeded_rng(1);
    let keys: Vec<TimerKey> = (0..100_000)
        .map(|i| store.insert(1_000_000 + rng.random_range(0..1_000_000), i))
        .collect();
    assert_eq!(store.live(), 100_000);
    for (i, key) in keys.into_iter().enumerate() {
        assert_eq!(store.cancel(key), Ok(Some(i)));
        assert!(store.stale() <= store.heap_len() / 4);
    }
    store.verify();
    assert_eq!(store.live(), 0);
    assert_eq!(store.heap_len(), 0);
    assert_eq!(store.slab_len(), 0);
    assert!(store.stats().compactions > 0);
    assert_eq!(store.next_deadline(), None);
}

#[test]
fn million_churn_keeps_heap_bounded() {
    let mut store = TimerStore::new(StoreId(0));
    // Ten long-lived timers, as in a server's idle-connection sweeps.
    let long: Vec<TimerKey> = (0..10).map(|i| store.insert(1 << 40, i)).collect();
    let mut rng = seeded_rng(2);
    let mut now = 0;
    for i in 0..1_000_000u64 {
        // A timeout armed around a fast operation, then cancelled.
        let key = store.insert(now + 1_000 + rng.random_range(0..1_000), i);
        let live = store.live() as f64;
        assert!(
            store.heap_len() as f64 <= 1.25 * live + 8.0,
            "step {i}: heap {} for {live} live",
            store.heap_len()
        );
        store.cancel(key).unwrap();
        let live = store.live() as f64;
        assert!(
            store.heap_len() as f64 <= 1.25 * live + 8.0,
            "step {i}: heap {} for {live} live",
            store.heap_len()
        );
        assert!(
            store.slab_len() <= 10 + 8,
            "step {i}: slab {}",
            store.slab_len()
        );
        if i % 4096 == 0 {
            now += 1;
            assert_eq!(store.expire(now, |_| {}), 0);
            store.verify();
        }
    }
    assert_eq!(store.live(), 10);
    for key in long {
        store.cancel(key).unwrap();
    }
    assert_eq!((store.heap_len(), store.slab_len()), (0, 0));
}

#[test]
fn reset_never_grows_the_slab() {
    let mut store = TimerStore::new(StoreId(0));
    let keys: Vec<TimerKey> = (0..64).map(|i| store.insert(1_000 + i, i)).collect();
    let mut rng = seeded_rng(3);
    let mut now = 0;
    for step in 0..20_000u64 {
        let key = keys[rng.random_range(0..64)];
        // Half earlier, half later than anything around: exercises both reset paths and re-arming
        // from Fired after the expire below.
        let when = now + rng.random_range(0..2_000);
        store.reset(key, when).unwrap();
        assert_eq!(store.slab_len(), 64, "step {step}");
        assert!(store.heap_len() <= 64 + 64 / 3 + 1, "step {step}");
        if step % 7 == 0 {
            now += 50;
            store.expire(now, |_| {});
        }
    }
    store.verify();
    assert_eq!(store.stats().inserted, 64);
}

#[test]
fn reset_reports_earlier_moves() {
    let mut store = TimerStore::new(StoreId(0));
    let a = store.insert(100, ());
    let b = store.insert(200, ());
    assert_eq!(
        store.reset(b, 150),
        Ok(true),
        "earlier: the store's next deadline may have moved"
    );
    assert_eq!(store.reset(b, 50), Ok(true));
    assert_eq!(
        store.reset(b, 500),
        Ok(false),
        "later never asks for a wake-up"
    );
    assert_eq!(store.next_deadline(), Some(100));
    store.expire(100, |_| {});
    assert_eq!(
        store.reset(a, 400),
        Ok(true),
        "re-armed from Fired as the earliest"
    );
    assert_eq!(store.next_deadline(), Some(400));
    store.verify();
}

#[test]
fn max_deadline_never_fires() {
    let mut store = TimerStore::new(StoreId(0));
    let forever = store.insert(MAX_DEADLINE, 1);
    let clamped = store.insert(u64::MAX, 2);
    let near = store.insert(MAX_DEADLINE - 1, 3);
    assert_eq!(store.next_deadline(), Some(MAX_DEADLINE - 1));
    let mut woken = Vec::new();
    assert_eq!(store.expire(MAX_DEADLINE - 1, |w| woken.push(w)), 1);
    assert_eq!(woken, [3]);
    assert_eq!(store.next_deadline(), Some(MAX_DEADLINE));
    assert_eq!(store.expire(MAX_DEADLINE, |w| woken.push(w)), 0);
    assert_eq!(store.expire(u64::MAX, |w| woken.push(w)), 0);
    assert_eq!(store.poll_entry(forever, |_| {}), Ok(PollState::Pending));
    assert_eq!(store.poll_entry(clamped, |_| {}), Ok(PollState::Pending));
    // reset clamps too (re-armed from Fired, so it reports a possible move).
    assert_eq!(store.reset(near, u64::MAX), Ok(true));
    assert_eq!(store.expire(u64::MAX, |w| woken.push(w)), 0);
    assert_eq!(store.live(), 3);
    store.verify();
}

#[test]
fn never_fires_early_with_early_elements() {
    let mut store = TimerStore::new(StoreId(0));
    let keys: Vec<TimerKey> = (0..100).map(|i| store.insert(i, i)).collect();
    // Push every deadline back by 1000: all elements are now early.
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(store.reset(*key, 1_000 + i as u64), Ok(false));
    }
    assert_eq!(store.expire(999, |_| {}), 0);
    store.verify();
    assert_eq!(store.next_deadline(), Some(1_000));
    let mut woken = Vec::new();
    assert_eq!(store.expire(1_049, |w| woken.push(w)), 50);
    assert_eq!(woken, (0..50).collect::<Vec<_>>());
}

#[test]
fn fired_entry_with_stale_elements_is_kept_then_freed() {
    let mut store = TimerStore::new(StoreId(0));
    let others: Vec<TimerKey> = (0..8).map(|i| store.insert(10_000 + i, 0)).collect();
    let key = store.insert(500, 1);
    store.reset(key, 100).unwrap(); // element at 500 goes stale
    assert_eq!(store.expire(100, |_| {}), 1);
    assert_eq!(store.stale(), 1);
    // The handle lets go while the stale element still names the slot: not freed yet.
    assert_eq!(store.cancel(key), Ok(None));
    assert_eq!(store.slab_len(), 9);
    store.verify();
    // The stale element surfaces and takes the slot with it.
    assert_eq!(store.expire(600, |_| {}), 0);
    assert_eq!(store.slab_len(), 8);
    store.verify();
    for k in others {
        store.cancel(k).unwrap();
    }
    assert_eq!(store.slab_len(), 0);
}

#[test]
fn migrate_moves_waiting_keeps_fired_drops_cancelled() {
    let mut src = TimerStore::new(StoreId(0));
    let mut dst = TimerStore::new(StoreId(1));
    let resident = dst.insert(75, 99);
    let fired = src.insert(10, 1);
    let waiting = src.insert(100, 2);
    let later = src.insert(50, 3);
    let pad: Vec<TimerKey> = (0..8).map(|i| src.insert(1_000 + i, 10 + i)).collect();
    src.expire(10, |_| {});
    src.reset(later, 200).unwrap(); // early element: must arrive with 200
    src.cancel(pad[0]).unwrap();
    assert_eq!(src.migrate_into(&mut dst), 9);
    src.verify();
    dst.verify();
    assert_eq!((src.live(), src.heap_len()), (0, 0));
    assert_eq!(src.slab_len(), 1 + 9, "fired entry and nine tombstones");

    assert_eq!(src.poll_entry(fired, |_| {}), Ok(PollState::Fired));
    let Err(Moved { store, key: w }) = src.poll_entry(waiting, |_| {}) else {
        panic!("expected a tombstone");
    };
    assert_eq!(store, StoreId(1));
    let Err(Moved { key: l, .. }) = src.reset(later, 200) else {
        panic!("expected a tombstone");
    };
    assert_eq!(
        src.slab_len(),
        1 + 7,
        "two tombstones were freed by their handles"
    );
    assert_eq!(dst.poll_entry(l, |_| {}), Ok(PollState::Pending));

    let mut woken = Vec::new();
    dst.expire(199, |x| woken.push(x));
    assert_eq!(woken, [99, 2], "the early element must not fire at 50");
    dst.expire(200, |x| woken.push(x));
    assert_eq!(woken, [99, 2, 3]);
    assert_eq!(dst.poll_entry(w, |_| {}), Ok(PollState::Fired));
    assert_eq!(dst.poll_entry(resident, |_| {}), Ok(PollState::Fired));
    assert_eq!(dst.stats().migrated_in, 9);
    assert_eq!(src.stats().migrated_out, 9);
    dst.verify();
}

#[test]
fn drain_completes_handles_and_frees_the_rest() {
    let mut store = TimerStore::new(StoreId(0));
    let waiting = store.insert(100, 1);
    let fired = store.insert(5, 2);
    let keep: Vec<TimerKey> = (0..8).map(|i| store.insert(1_000 + i, 10 + i)).collect();
    store.expire(5, |_| {});
    store.cancel(keep[0]).unwrap(); // Cancelled, its element still in the heap
    assert_eq!(store.slab_len(), 10);
    let mut woken = Vec::new();
    store.drain_wakers(|w| woken.push(w));
    woken.sort_unstable();
    assert_eq!(woken, [1, 11, 12, 13, 14, 15, 16, 17]);
    store.verify();
    assert_eq!(
        (store.live(), store.heap_len(), store.slab_len()),
        (0, 0, 9)
    );
    assert_eq!(store.poll_entry(waiting, |_| {}), Ok(PollState::Fired));
    assert_eq!(store.poll_entry(fired, |_| {}), Ok(PollState::Fired));
    assert_eq!(store.expire(u64::MAX, |_| {}), 0);
    // A drained store keeps working.
    assert_eq!(store.reset(waiting, 7), Ok(true));
    assert_eq!(store.expire(7, |_| {}), 1);
}

#[test]
fn poll_register_sees_the_stored_waker() {
    let mut store = TimerStore::new(StoreId(0));
    let key = store.insert(10, 1u32);
    let mut seen = None;
    store
        .poll_entry(key, |waker| {
            seen = *waker;
            *waker = None; // a handle may also withdraw its waker
        })
        .unwrap();
    assert_eq!(seen, Some(1));
    assert_eq!(store.expire(10, |_| panic!("no waker to hand out")), 1);
    assert_eq!(
        store.poll_entry(key, |_| panic!("not called")),
        Ok(PollState::Fired)
    );
}

#[test]
fn insert_cleans_a_stale_top() {
    let mut store = TimerStore::new(StoreId(0));
    let long: Vec<TimerKey> = (0..8).map(|i| store.insert(1_000 + i, i)).collect();
    let short = store.insert(5, 100);
    store.cancel(short).unwrap(); // stale, but below the len/4 threshold
    assert_eq!(
        (store.heap_len(), store.stale(), store.slab_len()),
        (9, 1, 9)
    );
    store.insert(2_000, 200); // pops the stale top first (Go's cleantimers)
    assert_eq!(
        (store.heap_len(), store.stale(), store.slab_len()),
        (9, 0, 9)
    );
    store.verify();
    assert_eq!(store.next_deadline(), Some(1_000));
    drop(long);
}

/// The service pattern the wheel exists for: a 30 s timeout around each request, cancelled after
/// a few milliseconds, with 100,000 idle-connection timers live. Neither the timeouts nor the
/// idle timers ever touch the heap, and nothing cascades before its bucket comes due.
#[test]
fn far_timeouts_stay_out_of_the_heap() {
    const SECOND: u64 = 1_000_000_000;
    let mut store = TimerStore::new(StoreId(0));
    let idle: Vec<TimerKey> = (0..100_000u64)
        .map(|i| store.insert(60 * SECOND + i * 1_000_000, i))
        .collect();
    let mut now = 0;
    for i in 0..200_000u64 {
        let timeout = store.insert(now + 30 * SECOND, i);
        now += 10_000; // 10 µs per request
        assert_eq!(store.cancel(timeout), Ok(Some(i)));
        if i % 1_000 == 0 {
            assert_eq!(store.expire(now, |_| {}), 0);
        }
    }
    assert_eq!(store.heap_len(), 0, "far timers were pushed into the heap");
    assert_eq!(store.wheel_len(), 100_000);
    assert_eq!(
        store.stats().cascaded,
        0,
        "a bucket cascaded before it was due"
    );
    store.verify();
    // Pulling an idle timer in to 2 s moves it between buckets, still in O(1).
    assert_eq!(store.reset(idle[7], now + 2 * SECOND), Ok(true));
    assert_eq!(store.heap_len(), 0);
    // When its time comes it cascades into the heap and fires exactly then, not before.
    assert_eq!(store.expire(now + 2 * SECOND - 1, |_| {}), 0);
    let mut woken = Vec::new();
    assert_eq!(store.expire(now + 2 * SECOND, |w| woken.push(w)), 1);
    assert_eq!(woken, [7]);
    store.verify();
    for key in idle {
        store.cancel(key).unwrap();
    }
    store.verify();
    assert_eq!(
        (store.live(), store.wheel_len(), store.slab_len()),
        (0, 0, 0)
    );
}
