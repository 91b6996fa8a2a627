//! The timer entry and its state machine.
//!
//! # What this module owns
//! [`Entry`], the slab slot behind one [`TimerKey`](crate::TimerKey), and every transition of its
//! [`State`]. The store decides *when* an operation happens (it owns the heap and the slab); this
//! module decides *what* the operation does to the entry, and reports impossible combinations.
//!
//! # Ownership
//! An entry is created by `insert` for a handle, which owns it until it calls `cancel` (or follows
//! a `Moved` answer, which frees the tombstone). Independently, every heap element that names the
//! entry counts in `heap_refs`. A slot is freed only when the handle has let go **and**
//! `heap_refs == 0`, so a slab key is never reused while a stale heap element still points at it.
//! `Cancelled` is exactly "handle gone, stale elements remain".
//!
//! # Transition table
//! Rows are states, columns are operations; each cell is the next state. "bug" cells panic with a
//! message naming the state and the operation: they mean a handle misused its key or the store
//! broke an invariant, and continuing would corrupt another timer. "—" cells cannot be reached
//! because the operation never visits such an entry.
//!
//! | state \ op    | insert  | poll                   | cancel                                        | reset earlier                                   | reset later                        | fire (its live element is due) | drop a stale element                          | migrate                               | drain                  |
//! |---------------|---------|------------------------|-----------------------------------------------|-------------------------------------------------|------------------------------------|--------------------------------|-----------------------------------------------|---------------------------------------|------------------------|
//! | **Free**      | Waiting | bug                    | bug                                           | bug                                             | bug                                | bug                            | bug                                           | —                                     | —                      |
//! | **Waiting**   | —       | Waiting, waker stored  | Cancelled, waker returned, its element stale  | Waiting, `seq + 1`, new element, old one stale  | Waiting, deadline recorded, element stays early | Fired, waker taken | Waiting (only stale elements are dropped) | Moved; a Waiting copy goes to `dst` | Fired, waker taken |
//! | **Fired**     | —       | Fired, `Fired` returned| Free if `heap_refs == 0`, else Cancelled      | Waiting, `seq + 1`, new element                 | as reset earlier                   | bug                            | Fired                                         | Fired                                 | Fired                  |
//! | **Cancelled** | —       | bug                    | bug                                           | bug                                             | bug                                | bug                            | Cancelled, or Free when `heap_refs` hits 0    | Free (all its elements are dropped)   | Free                   |
//! | **Moved**     | —       | Free, `Err(Moved)`     | Free, `Err(Moved)`                            | Free, `Err(Moved)`                              | Free, `Err(Moved)`                 | bug                            | Moved (only while `migrate_into` runs)        | Moved                                 | Moved                  |
//!
//! "Reset earlier" means a deadline below the entry's current one; "reset later" means equal or
//! above. "Fire" is reached only through the entry's live element, which a non-Waiting entry does
//! not have, hence "bug" there. "Compact" is "drop a stale element" applied to every stale element
//! at once, plus re-sifting early live elements to their entry's deadline (no state changes).
//!
//! # Invariants (checked by `TimerStore::verify`)
//! - A heap element is live iff its entry is Waiting and `elem.seq == entry.seq`; every Waiting
//!   entry has exactly one live element, whose deadline is `<=` the entry's (equal, or early).
//! - `heap_refs` equals the number of heap elements naming the entry.
//! - Only Waiting entries hold a waker.
//! - Cancelled entries have `heap_refs > 0` (otherwise they are freed); Moved entries have
//!   `heap_refs == 0` outside `migrate_into`.
//!
//! # Ground rules
//! Entries live in their store's slab and are touched only through that store's `&mut self`.

use crate::types::{Moved, Nanos, PollState};

/// The lifecycle state of an occupied slot. "Free" is the slab's vacant slot and has no variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// Armed: will fire at `when`. Owned by a handle; has exactly one live heap element.
    Waiting {
        /// The deadline, `<= MAX_DEADLINE`. The live element's deadline may be lower (early).
        when: Nanos,
    },
    /// The deadline passed and the waker was taken. Owned by a handle, which may reset it.
    Fired,
    /// The handle let go while heap elements still name the slot; freed when the last one goes.
    Cancelled,
    /// Tombstone left by `migrate_into`: the entry lives on at the given place. Owned by a handle;
    /// freed when the handle next touches it.
    Moved(Moved),
}

/// One timer entry: a slab slot. 40 bytes with `W = std::task::Waker`.
#[derive(Debug)]
pub(crate) struct Entry<W> {
    /// Lifecycle state; carries the deadline while Waiting.
    pub(crate) state: State,
    /// The waker, present only while Waiting (and only if one was given).
    pub(crate) waker: Option<W>,
    /// Sequence number of the entry's live element. Bumped whenever a new element is pushed for
    /// the entry, which turns any older element stale.
    pub(crate) seq: u32,
    /// Number of heap elements naming this slot, live or stale.
    pub(crate) heap_refs: u32,
}

/// What `cancel` did; the store finishes the job.
pub(crate) enum Cancel<W> {
    /// Was Waiting, now Cancelled: its live element turned stale. Carries the waker.
    Disarmed(Option<W>),
    /// Was Fired with no heap element left: the store must free the slot.
    Release,
    /// Was Fired with stale elements left: now Cancelled, freed when they go.
    Orphaned,
    /// Was a tombstone: the store must free it and report where the entry went.
    Moved(Moved),
}

/// What `reset` did; the store finishes the job.
pub(crate) enum Reset {
    /// Waiting, new deadline equal or later: recorded, the existing element stays (early).
    Later,
    /// Waiting, new deadline earlier: the store must push an element with this `seq`; the old
    /// live element turned stale.
    Earlier {
        /// Sequence number of the element to push.
        seq: u32,
    },
    /// Fired, now Waiting again: the store must push an element with this `seq`.
    Rearmed {
        /// Sequence number of the element to push.
        seq: u32,
    },
    /// Was a tombstone: the store must free it and report where the entry went.
    Moved(Moved),
}

/// What `drain` did to an entry.
pub(crate) enum Drain<W> {
    /// The entry stays (its handle owns it); carries the waker it held, if any.
    Keep(Option<W>),
    /// No handle owns the entry: the store must free the slot.
    Free,
}

impl<W> Entry<W> {
    /// A new Waiting entry with no heap element yet; the store pushes one and calls
    /// [`attach`](Self::attach).
    pub(crate) fn new(when: Nanos, waker: Option<W>) -> Self {
        Entry {
            state: State::Waiting { when },
            waker,
            seq: 0,
            heap_refs: 0,
        }
    }

    /// Reports a transition the table marks "bug".
    #[track_caller]
    fn bug(&self, op: &str) -> ! {
        panic!(
            "ticktock-timer bug: `{op}` on an entry in state {:?} (heap_refs {}, seq {}); \
             see the transition table in entry.rs",
            self.state, self.heap_refs, self.seq
        )
    }

    /// Records that one more heap element names this entry.
    pub(crate) fn attach(&mut self) {
        self.heap_refs += 1;
    }

    /// Returns the entry's deadline if the element with sequence number `seq` is its live element,
    /// `None` if that element is stale.
    pub(crate) fn live_deadline(&self, seq: u32) -> Option<Nanos> {
        match self.state {
            State::Waiting { when } if seq == self.seq => Some(when),
            _ => None,
        }
    }

    /// Returns `true` if the entry is Waiting.
    pub(crate) fn is_waiting(&self) -> bool {
        matches!(self.state, State::Waiting { .. })
    }

    /// Number of stale heap elements naming this entry.
    pub(crate) fn stale_refs(&self) -> u32 {
        self.heap_refs - u32::from(self.is_waiting())
    }

    /// Returns `true` if bumping `seq` now could wrap onto a stale element's sequence number. The
    /// store then compacts first, which removes every stale element, so the wrap is harmless.
    pub(crate) fn seq_exhausted(&self) -> bool {
        self.seq == u32::MAX && self.stale_refs() > 0
    }

    /// Table column "poll". `Err` means the store must free the tombstone.
    pub(crate) fn poll(
        &mut self,
        register: impl FnOnce(&mut Option<W>),
    ) -> Result<PollState, Moved> {
        match self.state {
            State::Waiting { .. } => {
                register(&mut self.waker);
                Ok(PollState::Pending)
            }
            State::Fired => Ok(PollState::Fired),
            State::Moved(to) => Err(to),
            State::Cancelled => self.bug("poll"),
        }
    }

    /// Table column "cancel".
    pub(crate) fn cancel(&mut self) -> Cancel<W> {
        match self.state {
            State::Waiting { .. } => {
                self.state = State::Cancelled;
                Cancel::Disarmed(self.waker.take())
            }
            State::Fired if self.heap_refs == 0 => Cancel::Release,
            State::Fired => {
                self.state = State::Cancelled;
                Cancel::Orphaned
            }
            State::Moved(to) => Cancel::Moved(to),
            State::Cancelled => self.bug("cancel"),
        }
    }

    /// Table columns "reset earlier" and "reset later". The caller has clamped `when` and has
    /// compacted if [`seq_exhausted`](Self::seq_exhausted) said so.
    pub(crate) fn reset(&mut self, when: Nanos) -> Reset {
        match self.state {
            State::Waiting { when: old } if when >= old => {
                self.state = State::Waiting { when };
                Reset::Later
            }
            State::Waiting { .. } => {
                self.state = State::Waiting { when };
                self.seq = self.seq.wrapping_add(1);
                Reset::Earlier { seq: self.seq }
            }
            State::Fired => {
                self.state = State::Waiting { when };
                self.seq = self.seq.wrapping_add(1);
                Reset::Rearmed { seq: self.seq }
            }
            State::Moved(to) => Reset::Moved(to),
            State::Cancelled => self.bug("reset"),
        }
    }

    /// Table column "fire": the entry's live element was due and has been popped. Returns the
    /// waker. The caller also calls [`release_elem`](Self::release_elem) for the popped element.
    pub(crate) fn fire(&mut self) -> Option<W> {
        match self.state {
            State::Waiting { .. } => {
                self.state = State::Fired;
                self.waker.take()
            }
            State::Fired | State::Cancelled | State::Moved(_) => self.bug("fire"),
        }
    }

    /// Table column "drop a stale element" (also the bookkeeping half of "fire"): one heap element
    /// naming this entry is gone. Returns `true` if the store must now free the slot.
    pub(crate) fn release_elem(&mut self) -> bool {
        if self.heap_refs == 0 {
            self.bug("drop a heap element");
        }
        self.heap_refs -= 1;
        matches!(self.state, State::Cancelled) && self.heap_refs == 0
    }

    /// Table column "migrate" for a Waiting entry: hands its deadline and waker to `place`, which
    /// re-creates it in the destination and says where, and becomes a tombstone pointing there.
    pub(crate) fn migrate(&mut self, place: impl FnOnce(Nanos, Option<W>) -> Moved) {
        match self.state {
            State::Waiting { when } => {
                let to = place(when, self.waker.take());
                self.state = State::Moved(to);
            }
            State::Fired | State::Cancelled | State::Moved(_) => self.bug("migrate"),
        }
    }

    /// Table column "drain": the heap has been emptied, so `heap_refs` drops to 0.
    pub(crate) fn drain(&mut self) -> Drain<W> {
        self.heap_refs = 0;
        match self.state {
            State::Waiting { .. } => {
                self.state = State::Fired;
                Drain::Keep(self.waker.take())
            }
            State::Fired | State::Moved(_) => Drain::Keep(None),
            State::Cancelled => Drain::Free,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{StoreId, TimerKey};

    /// Same shape as the slab's private slot type, to measure what one slot really costs.
    #[allow(dead_code)]
    enum SlabSlot<T> {
        Vacant(usize),
        Occupied(T),
    }

    #[test]
    fn print_sizes() {
        use std::mem::size_of;
        use std::task::Waker;
        let entry = size_of::<Entry<Waker>>();
        let slot = size_of::<SlabSlot<Entry<Waker>>>();
        let elem = size_of::<crate::heap::HeapElem>();
        println!("Entry<Waker> = {entry} bytes, slab slot = {slot} bytes, HeapElem = {elem} bytes");
        // One pending sleep costs one slab slot plus one heap element.
        assert!(entry <= 40, "Entry<Waker> grew to {entry} bytes");
        assert_eq!(elem, 16);
        assert!(slot + elem < 64, "{slot} + {elem} bytes per pending sleep");
    }

    #[test]
    fn fired_then_reset_rearms_with_new_seq() {
        let mut e = Entry::new(10, Some(1u8));
        e.attach();
        assert_eq!(e.live_deadline(0), Some(10));
        assert!(!e.release_elem());
        assert_eq!(e.fire(), Some(1));
        assert_eq!(e.live_deadline(0), None);
        assert!(matches!(e.reset(20), Reset::Rearmed { seq: 1 }));
        assert_eq!(e.live_deadline(1), Some(20));
    }

    #[test]
    fn cancelled_entry_is_freed_by_its_last_element() {
        let mut e = Entry::new(10, Some(()));
        e.attach();
        e.attach();
        assert!(matches!(e.cancel(), Cancel::Disarmed(Some(()))));
        assert!(!e.release_elem());
        assert!(e.release_elem());
    }

    #[test]
    fn tombstone_answers_moved() {
        let to = Moved {
            store: StoreId(1),
            key: TimerKey::from_index(4),
        };
        let mut e = Entry::new(10, Some(()));
        e.migrate(|when, waker| {
            assert_eq!((when, waker), (10, Some(())));
            to
        });
        assert_eq!(e.poll(|_| {}), Err(to));
        assert!(matches!(e.cancel(), Cancel::Moved(m) if m == to));
    }

    #[test]
    #[should_panic(expected = "`cancel` on an entry in state Cancelled")]
    fn double_cancel_is_a_bug() {
        let mut e = Entry::new(10, None::<()>);
        e.attach();
        let _ = e.cancel();
        let _ = e.cancel();
    }

    #[test]
    #[should_panic(expected = "`poll` on an entry in state Cancelled")]
    fn poll_after_cancel_is_a_bug() {
        let mut e = Entry::new(10, None::<()>);
        e.attach();
        let _ = e.cancel();
        let _ = e.poll(|_| {});
    }

    #[test]
    #[should_panic(expected = "`fire` on an entry in state Fired")]
    fn double_fire_is_a_bug() {
        let mut e = Entry::new(10, None::<()>);
        let _ = e.fire();
        let _ = e.fire();
    }
}
