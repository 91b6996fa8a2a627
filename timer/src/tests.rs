//! Crate-internal tests: what needs private state to observe (allocation sizes, sequence-number
//! wrap) or to break on purpose (so `verify` is shown to catch it). Behaviour visible through the
//! public API is tested in `tests/`.

use crate::entry::State;
use crate::heap::HEAP_RETAIN_CAPACITY;
use crate::store::SLAB_RETAIN_CAPACITY;
use crate::{PollState, StoreId, TimerKey, TimerStore};

/// Number of timers in the "burst" tests: far above both retain capacities.
const BURST: u64 = 100_000;

fn assert_small(store: &TimerStore<u64>) {
    assert!(
        store.heap.capacity() <= HEAP_RETAIN_CAPACITY,
        "heap kept a capacity of {} elements",
        store.heap.capacity()
    );
    assert!(
        store.slab.capacity() <= SLAB_RETAIN_CAPACITY,
        "slab kept {} slots",
        store.slab.capacity()
    );
}

#[test]
fn burst_cancelled_leaves_no_big_allocation() {
    let mut store = TimerStore::new(StoreId(0));
    let keys: Vec<_> = (0..BURST).map(|i| store.insert(1_000 + i, i)).collect();
    assert!(store.heap.capacity() as u64 >= BURST);
    for key in keys {
        store.cancel(key).unwrap();
    }
    store.verify();
    assert_eq!(
        (store.live(), store.heap_len(), store.slab_len()),
        (0, 0, 0)
    );
    assert_small(&store);
}

#[test]
fn burst_fired_then_released_leaves_no_big_allocation() {
    let mut store = TimerStore::new(StoreId(0));
    let keys: Vec<_> = (0..BURST).map(|i| store.insert(i, i)).collect();
    assert_eq!(store.expire(BURST, |_| {}), BURST as usize);
    for key in keys {
        assert_eq!(store.poll_entry(key, |_| {}), Ok(PollState::Fired));
        store.cancel(key).unwrap();
    }
    store.verify();
    assert_eq!(store.slab_len(), 0);
    assert_small(&store);
}

#[test]
fn burst_migrated_or_drained_leaves_no_big_allocation() {
    let mut src = TimerStore::new(StoreId(0));
    let mut dst = TimerStore::new(StoreId(1));
    let keys: Vec<_> = (0..BURST).map(|i| src.insert(10 + i, i)).collect();
    assert_eq!(src.migrate_into(&mut dst), BURST as usize);
    for key in keys {
        let moved = src.cancel(key).unwrap_err();
        assert_eq!(dst.cancel(moved.key), Ok(Some(moved.key.index().into())));
    }
    src.verify();
    dst.verify();
    assert_small(&src);
    assert_small(&dst);

    let mut store = TimerStore::new(StoreId(2));
    for i in 0..BURST {
        let key = store.insert(i, i);
        if i % 2 == 0 {
            store.cancel(key).unwrap();
        }
    }
    let mut woken = 0;
    store.drain_wakers(|_| woken += 1);
    store.verify();
    assert_eq!(woken, BURST / 2);
    assert!(store.heap.capacity() <= HEAP_RETAIN_CAPACITY);
}

/// Pushes an entry's sequence number to the wrap point while a stale element with sequence
/// number 0 is still in the heap; without the compaction guard the wrapped number would revive
/// that element and fire the entry at its old, earlier deadline.
#[test]
fn seq_wrap_cannot_revive_a_stale_element() {
    let mut store = TimerStore::new(StoreId(0));
    let key = store.insert(100, 0u64);
    // Keep enough live timers around that one stale element does not trigger compaction.
    let others: Vec<_> = (0..8).map(|i| store.insert(1_000 + i, i)).collect();
    store.reset(key, 50).unwrap(); // element (100, seq 0) is stale now
    assert_eq!(store.stale(), 1);

    // Fast-forward: pretend the entry was re-armed 2^32 - 2 more times.
    store.slab[key.slot()].seq = u32::MAX - 1;
    store.heap.retain_and_heapify(|e| {
        if e.key == key.index() && e.when == 50 {
            e.seq = u32::MAX - 1;
        }
        true
    });
    store.verify();

    store.reset(key, 40).unwrap(); // seq -> u32::MAX, another stale element
    assert_eq!(store.stale(), 2);
    store.reset(key, 30).unwrap(); // would wrap to 0: must compact first
    store.verify();
    assert_eq!(store.slab[key.slot()].seq, 0);
    assert_eq!(store.stats().compactions, 1, "the guard compacted");
    // The compaction dropped both stale elements; the element it kept (re-timed to 30, seq
    // u32::MAX) went stale when seq wrapped.
    assert_eq!(store.stale(), 1);
    store.reset(key, 200).unwrap(); // later: the element at 30 is now early
    assert_eq!(store.expire(150, |_| {}), 0, "fired early");
    assert_eq!(store.next_deadline(), Some(200));
    store.verify();
    for k in others {
        store.cancel(k).unwrap();
    }
}

#[test]
#[should_panic(expected = "`poll` on TimerKey(0), a free slot of store StoreId(7)")]
fn poll_after_release_is_a_bug() {
    let mut store = TimerStore::new(StoreId(7));
    let key = store.insert(10, 0u64);
    store.cancel(key).unwrap();
    let _ = store.poll_entry(key, |_| {});
}

#[test]
#[should_panic(expected = "`cancel` on an entry in state Cancelled")]
fn cancel_twice_while_stale_is_a_bug() {
    let mut store = TimerStore::new(StoreId(0));
    let _keep: Vec<_> = (0..8).map(|i| store.insert(i, i)).collect();
    let key = store.insert(100, 0u64);
    store.cancel(key).unwrap(); // stays Cancelled: its element is still in the heap
    let _ = store.cancel(key);
}

#[test]
#[should_panic(expected = "`reset` on TimerKey(3), a free slot of store StoreId(0)")]
fn foreign_key_is_a_bug() {
    let mut store: TimerStore<u64> = TimerStore::new(StoreId(0));
    let _ = store.reset(TimerKey::from_index(3), 1);
}

fn store_with_stale() -> TimerStore<u64> {
    let mut store = TimerStore::new(StoreId(0));
    let keys: Vec<_> = (0..8).map(|i| store.insert(10 * i, i)).collect();
    store.cancel(keys[3]).unwrap();
    store.verify();
    store
}

#[test]
#[should_panic(expected = "has heap_refs 2 but 1 elements name it")]
fn verify_catches_wrong_heap_refs() {
    let mut store = store_with_stale();
    store.slab[1].heap_refs = 2;
    store.verify();
}

#[test]
#[should_panic(expected = "live counter 8 but 7 Waiting entries")]
fn verify_catches_wrong_live_count() {
    let mut store = store_with_stale();
    store.live += 1;
    store.verify();
}

#[test]
#[should_panic(expected = "has 0 live elements, wants 1")]
fn verify_catches_lost_live_element() {
    let mut store = store_with_stale();
    store.slab[5].seq += 1;
    store.verify();
}

#[test]
#[should_panic(expected = "is later than its entry's deadline")]
fn verify_catches_late_element() {
    let mut store = store_with_stale();
    store.slab[0].set_state(State::Waiting { when: 0 });
    store.heap.retain_and_heapify(|e| {
        if e.key == 0 {
            e.when = 5;
        }
        true
    });
    store.verify();
}

#[test]
#[should_panic(expected = "names a free slot")]
fn verify_catches_dangling_element() {
    let mut store = store_with_stale();
    store.slab.remove(3);
    store.verify();
}

#[test]
#[should_panic(expected = "compaction rule broken")]
fn verify_catches_too_many_stale() {
    let mut store = store_with_stale();
    for slot in [4, 5] {
        store.slab[slot].set_state(State::Cancelled);
        store.slab[slot].waker = None;
    }
    store.live -= 2;
    store.verify();
}
