//! The timer entry and its state machine.
//!
//! # What this module owns
//! [`Entry`], the slab slot behind one [`TimerKey`], and every transition of its
//! [`State`]. The store decides *when* an operation happens and *where* a Waiting entry lives (it
//! owns the heap, the wheel and the slab); this module decides *what* the operation does to the
//! entry, and reports impossible combinations.
//!
//! # Ownership
//! An entry is created by `insert` for a handle, which owns it until it calls `cancel` (or follows
//! a `Moved` answer, which frees the tombstone). Independently, every heap element that names the
//! entry counts in `heap_refs`. A slot is freed only when the handle has let go **and**
//! `heap_refs == 0`, so a slab key is never reused while a stale heap element still points at it.
//! `Cancelled` is exactly "handle gone, stale elements remain".
//!
//! # Where a Waiting entry lives
//! A Waiting entry is in exactly one tier: **heap** (its deadline was near when it was placed: it
//! has exactly one live heap element) or **wheel** (a far deadline: it sits in a bucket at
//! `wheel_pos` and has no live element). Stale elements may name it in either tier.
//!
//! # Transition table
//! Rows are states, columns are operations; each cell is the next state. The table is split in
//! three by operation so it stays readable; read the three as one. "bug" cells panic with a
//! message naming the state and the operation: a handle misused its key or the store broke an
//! invariant, and continuing would corrupt another timer. "—": the operation never visits such an
//! entry. "place" means: a near deadline goes to the heap (`seq + 1`, one new live element), a far
//! one to a wheel bucket. "release" means: Free, or Cancelled if stale elements remain.
//!
//! The handle's operations (a cancel of a Waiting entry also returns its waker):
//!
//! | state \ op    | poll               | cancel                     | reset              |
//! |---------------|--------------------|----------------------------|--------------------|
//! | Free          | bug                | bug                        | bug                |
//! | Waiting/heap  | waker stored       | Cancelled, element stale   | see (a)            |
//! | Waiting/wheel | waker stored       | out of its bucket, release | see (b)            |
//! | Fired         | `Fired` returned   | release                    | Waiting, place     |
//! | Cancelled     | bug                | bug                        | bug                |
//! | Moved         | Free, `Err(Moved)` | Free, `Err(Moved)`         | Free, `Err(Moved)` |
//!
//! - (a) A later deadline: recorded, and the live element becomes early. An earlier one: place,
//!   and the old element becomes stale.
//! - (b) A deadline in the same bucket: recorded. Else: out of the bucket, place.
//!
//! The store's expiry pass:
//!
//! | state \ op    | fire               | cascade | surface                             |
//! |---------------|--------------------|---------|-------------------------------------|
//! | Free          | bug                | bug     | bug                                 |
//! | Waiting/heap  | Fired, waker taken | —       | far: Waiting/wheel; near: re-sifted |
//! | Waiting/wheel | —                  | place   | —                                   |
//! | Fired         | bug                | bug     | bug                                 |
//! | Cancelled     | bug                | bug     | bug                                 |
//! | Moved         | bug                | bug     | bug                                 |
//!
//! The store's clean-up, migration and shutdown:
//!
//! | state \ op    | drop a stale elem.          | migrate   | drain     |
//! |---------------|-----------------------------|-----------|-----------|
//! | Free          | bug                         | —         | —         |
//! | Waiting/heap  | unchanged                   | Moved     | Fired     |
//! | Waiting/wheel | unchanged                   | Moved     | Fired     |
//! | Fired         | unchanged                   | unchanged | unchanged |
//! | Cancelled     | Free when the last one goes | Free      | Free      |
//! | Moved         | unchanged                   | unchanged | unchanged |
//!
//! A cancel queued by another thread (the executor's remote cancel: a handle dropped on a thread
//! that does not own the store pushes its key onto the store's queue; the store's owner applies
//! the queue on its next timer pass, see the executor's `runtime/remote_cancel.rs`). The queue
//! holds the handle's ownership, so until the key is applied the entry is in a handle-owned state
//! and every store operation above may reach it; applying is the handle's `cancel`:
//!
//! | state \ op    | fire while queued      | migrate while queued | apply the queued key    |
//! |---------------|------------------------|----------------------|-------------------------|
//! | Free          | bug                    | —                    | bug (the queue owns it) |
//! | Waiting/heap  | Fired, waker woken (c) | Moved                | as cancel               |
//! | Waiting/wheel | — (cascades first)     | Moved                | as cancel               |
//! | Fired         | bug                    | unchanged            | release                 |
//! | Cancelled     | bug                    | Free                 | bug (the queue owns it) |
//! | Moved         | bug                    | unchanged            | Free, forward (d)       |
//!
//! - (c) A spurious wake-up: the task that dropped the handle no longer waits on it.
//! - (d) The key of the entry's new place goes to the destination store (queued there, or
//!   cancelled at once if that store has no owner), once the applying thread let go of this
//!   store's lock. Checked by the model test (`tests/model.rs`, `CancelQueued`/`ApplyQueued`) and
//!   the executor's loom models (`runtime/remote_cancel_loom.rs`: racing a fire, a steal, a
//!   retirement, shutdown).
//!
//! `insert` makes a Free slot Waiting and places it. "Fire" reaches an entry only through its live
//! heap element; "cascade" only through the wheel bucket the store is emptying; "surface" is an
//! early live element reaching the heap top (its entry was reset later): if the real deadline is
//! now beyond the near window the entry moves to the wheel, else the element is re-sifted.
//! "Compact" is "drop a stale element" for every stale element at once, plus re-sifting early
//! elements (no state changes).
//!
//! # Invariants (checked by `TimerStore::verify`)
//! - A heap element is live iff its entry is Waiting in the heap and `elem.seq == entry.seq`;
//!   each such entry has exactly one live element, whose deadline is `<=` the entry's.
//! - A Waiting/wheel entry is in the bucket `wheel::bucket_of(cursor, when)` at `wheel_pos`.
//! - `heap_refs` equals the number of heap elements naming the entry.
//! - Only Waiting entries hold a waker.
//! - Cancelled entries have `heap_refs > 0` (otherwise they are freed); Moved entries have
//!   `heap_refs == 0` outside `migrate_into`.
//!
//! # Layout
//! 48 bytes with the executor's payload (a `Waker` and a creation site): the state's tag rides
//! after the three `u32` fields, and one `u64` holds the deadline (Waiting) or the tombstone's
//! destination (Moved); [`Entry::state`] decodes them into [`State`].
//!
//! # Ground rules
//! Entries live in their store's slab and are touched only through that store's `&mut self`.

use crate::types::{Moved, Nanos, PollState, StoreId, TimerKey};

/// The lifecycle state of an occupied slot, as decoded by [`Entry::state`]. "Free" is the slab's
/// vacant slot and has no variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// Armed: will fire at `when`. Owned by a handle; in the heap or in the wheel.
    Waiting {
        /// The deadline, `<= MAX_DEADLINE`.
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

/// The stored tag of [`State`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tag {
    Waiting,
    Fired,
    Cancelled,
    Moved,
}

/// `wheel_pos` of an entry that is not in a wheel bucket.
const NOT_IN_WHEEL: u32 = u32::MAX;

/// One timer entry: a slab slot. See the module docs for the layout.
pub(crate) struct Entry<W, L> {
    /// Waiting: the deadline. Moved: the destination store in the high half, the key in the low
    /// half. Otherwise unused.
    word: u64,
    /// The waker, present only while Waiting (and only if one was given).
    pub(crate) waker: Option<W>,
    /// The handle's label (the executor: the timer's creation site), kept in every state so the
    /// handle need not carry it.
    pub(crate) label: L,
    /// Sequence number of the entry's live heap element. Bumped whenever a new element is pushed
    /// for the entry, which turns any older element stale.
    pub(crate) seq: u32,
    /// Number of heap elements naming this slot, live or stale.
    pub(crate) heap_refs: u32,
    /// Position in its wheel bucket while Waiting in the wheel, else [`NOT_IN_WHEEL`].
    wheel_pos: u32,
    /// Which [`State`] `word` encodes.
    tag: Tag,
}

impl<W, L> std::fmt::Debug for Entry<W, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("state", &self.state())
            .field("wheel_pos", &self.wheel_pos())
            .field("seq", &self.seq)
            .field("heap_refs", &self.heap_refs)
            .field("waker", &self.waker.is_some())
            .finish()
    }
}

/// What `cancel` did; the store finishes the job.
pub(crate) enum Cancel<W> {
    /// Was Waiting. Carries the waker; `from_wheel` is the `(position, deadline)` the entry had
    /// in its bucket (the store takes it out); `release` says no element names it any more, so
    /// the store must free the slot (else it is now Cancelled, freed with its last element).
    Disarmed {
        waker: Option<W>,
        from_wheel: Option<(u32, Nanos)>,
        release: bool,
    },
    /// Was Fired with no heap element left: the store must free the slot.
    Release,
    /// Was Fired with stale elements left: now Cancelled, freed when they go.
    Orphaned,
    /// Was a tombstone: the store must free it and report where the entry went.
    Moved(Moved),
}

/// What `reset` did; the store finishes the job.
pub(crate) enum Reset {
    /// Waiting in the heap, new deadline equal or later: recorded, the live element stays (early).
    Later,
    /// Waiting, new deadline recorded; the store must place the entry. `from_wheel` is the
    /// `(position, old deadline)` it had in a bucket, which the store leaves or takes it out of;
    /// an entry from the heap has a live element that placing it turns stale.
    Replace { from_wheel: Option<(u32, Nanos)> },
    /// Was Fired, now Waiting again: the store must place it.
    Rearmed,
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

impl<W, L> Entry<W, L> {
    /// A new Waiting entry in neither tier yet; the store places it.
    pub(crate) fn new(when: Nanos, waker: Option<W>, label: L) -> Self {
        Entry {
            word: when,
            waker,
            label,
            seq: 0,
            heap_refs: 0,
            wheel_pos: NOT_IN_WHEEL,
            tag: Tag::Waiting,
        }
    }

    /// Decodes the state.
    pub(crate) fn state(&self) -> State {
        match self.tag {
            Tag::Waiting => State::Waiting { when: self.word },
            Tag::Fired => State::Fired,
            Tag::Cancelled => State::Cancelled,
            Tag::Moved => State::Moved(Moved {
                store: StoreId((self.word >> 32) as u32),
                key: TimerKey::from_index(self.word as u32),
            }),
        }
    }

    /// Overwrites the state (test support: breaking invariants on purpose).
    #[cfg(test)]
    pub(crate) fn set_state(&mut self, state: State) {
        (self.tag, self.word) = match state {
            State::Waiting { when } => (Tag::Waiting, when),
            State::Fired => (Tag::Fired, 0),
            State::Cancelled => (Tag::Cancelled, 0),
            State::Moved(to) => (
                Tag::Moved,
                (u64::from(to.store.0) << 32) | u64::from(to.key.index()),
            ),
        };
    }

    /// The deadline if the entry is Waiting.
    pub(crate) fn deadline(&self) -> Option<Nanos> {
        (self.tag == Tag::Waiting).then_some(self.word)
    }

    /// Reports a transition the table marks "bug".
    #[track_caller]
    pub(crate) fn bug(&self, op: &str) -> ! {
        panic!(
            "ticktock-timer bug: `{op}` on an entry in state {:?} (wheel_pos {:?}, heap_refs {}, \
             seq {}); see the transition table in entry.rs",
            self.state(),
            self.wheel_pos(),
            self.heap_refs,
            self.seq
        )
    }

    /// Records that one more heap element names this entry.
    pub(crate) fn attach(&mut self) {
        self.heap_refs += 1;
    }

    /// Bumps the sequence number for a new live element and returns it; any older element of
    /// this entry turns stale. The caller pushes the element and calls [`attach`](Self::attach).
    pub(crate) fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Returns the entry's deadline if the element with sequence number `seq` is its live element,
    /// `None` if that element is stale.
    pub(crate) fn live_deadline(&self, seq: u32) -> Option<Nanos> {
        match self.tag {
            Tag::Waiting if seq == self.seq && self.wheel_pos == NOT_IN_WHEEL => Some(self.word),
            _ => None,
        }
    }

    /// Returns `true` if the entry is Waiting (in either tier).
    pub(crate) fn is_waiting(&self) -> bool {
        self.tag == Tag::Waiting
    }

    /// The entry's position in its wheel bucket, if it is Waiting in the wheel.
    pub(crate) fn wheel_pos(&self) -> Option<u32> {
        (self.wheel_pos != NOT_IN_WHEEL).then_some(self.wheel_pos)
    }

    /// Records that the store put this Waiting entry at `pos` of a wheel bucket (placing it, or
    /// moving it within its bucket after a removal).
    pub(crate) fn set_wheel_pos(&mut self, pos: u32) {
        debug_assert!(self.is_waiting() && pos != NOT_IN_WHEEL);
        self.wheel_pos = pos;
    }

    /// Table column "cascade": the store took this entry's bucket and will place it again.
    /// Returns its deadline.
    pub(crate) fn cascade(&mut self) -> Nanos {
        match (self.tag, self.wheel_pos()) {
            (Tag::Waiting, Some(_)) => {
                self.wheel_pos = NOT_IN_WHEEL;
                self.word
            }
            _ => self.bug("cascade"),
        }
    }

    /// Number of stale heap elements naming this entry.
    pub(crate) fn stale_refs(&self) -> u32 {
        let live = self.is_waiting() && self.wheel_pos == NOT_IN_WHEEL;
        self.heap_refs - u32::from(live && self.heap_refs > 0)
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
        match self.state() {
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
        match self.state() {
            State::Waiting { when } => {
                let from_wheel = self.wheel_pos().map(|pos| (pos, when));
                self.wheel_pos = NOT_IN_WHEEL;
                self.tag = Tag::Cancelled;
                Cancel::Disarmed {
                    waker: self.waker.take(),
                    from_wheel,
                    release: self.heap_refs == 0,
                }
            }
            State::Fired if self.heap_refs == 0 => Cancel::Release,
            State::Fired => {
                self.tag = Tag::Cancelled;
                Cancel::Orphaned
            }
            State::Moved(to) => Cancel::Moved(to),
            State::Cancelled => self.bug("cancel"),
        }
    }

    /// Table column "reset". The caller has clamped `when` and has compacted if
    /// [`seq_exhausted`](Self::seq_exhausted) said so.
    pub(crate) fn reset(&mut self, when: Nanos) -> Reset {
        match self.state() {
            State::Waiting { when: old } => {
                self.word = when;
                match self.wheel_pos() {
                    Some(pos) => {
                        self.wheel_pos = NOT_IN_WHEEL;
                        Reset::Replace {
                            from_wheel: Some((pos, old)),
                        }
                    }
                    None if when >= old => Reset::Later,
                    None => Reset::Replace { from_wheel: None },
                }
            }
            State::Fired => {
                (self.tag, self.word) = (Tag::Waiting, when);
                Reset::Rearmed
            }
            State::Moved(to) => Reset::Moved(to),
            State::Cancelled => self.bug("reset"),
        }
    }

    /// Table column "fire": the entry's live element was due and has been popped. Returns the
    /// waker. The caller also calls [`release_elem`](Self::release_elem) for the popped element.
    pub(crate) fn fire(&mut self) -> Option<W> {
        match (self.tag, self.wheel_pos()) {
            (Tag::Waiting, None) => {
                self.tag = Tag::Fired;
                self.waker.take()
            }
            _ => self.bug("fire"),
        }
    }

    /// Table column "drop a stale element" (also the bookkeeping half of "fire" and "surface"):
    /// one heap element naming this entry is gone. Returns `true` if the store must now free the
    /// slot.
    pub(crate) fn release_elem(&mut self) -> bool {
        if self.heap_refs == 0 {
            self.bug("drop a heap element");
        }
        self.heap_refs -= 1;
        self.tag == Tag::Cancelled && self.heap_refs == 0
    }

    /// Table column "migrate" for a Waiting entry: hands its deadline and waker to `place`, which
    /// re-creates it in the destination and says where, and becomes a tombstone pointing there.
    /// The caller empties the source's heap and wheel.
    pub(crate) fn migrate(&mut self, place: impl FnOnce(Nanos, Option<W>, &L) -> Moved) {
        match self.state() {
            State::Waiting { when } => {
                let to = place(when, self.waker.take(), &self.label);
                self.wheel_pos = NOT_IN_WHEEL;
                self.tag = Tag::Moved;
                self.word = (u64::from(to.store.0) << 32) | u64::from(to.key.index());
            }
            State::Fired | State::Cancelled | State::Moved(_) => self.bug("migrate"),
        }
    }

    /// Table column "drain": the heap and the wheel have been emptied, so `heap_refs` drops to 0.
    pub(crate) fn drain(&mut self) -> Drain<W> {
        self.heap_refs = 0;
        self.wheel_pos = NOT_IN_WHEEL;
        match self.tag {
            Tag::Waiting => {
                self.tag = Tag::Fired;
                Drain::Keep(self.waker.take())
            }
            Tag::Fired | Tag::Moved => Drain::Keep(None),
            Tag::Cancelled => Drain::Free,
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

    /// The executor's label: the creation site.
    type Site = &'static std::panic::Location<'static>;

    #[test]
    fn print_sizes() {
        use std::mem::size_of;
        let entry = size_of::<Entry<std::task::Waker, Site>>();
        let slot = size_of::<SlabSlot<Entry<std::task::Waker, Site>>>();
        let elem = size_of::<crate::heap::HeapElem>();
        println!(
            "Entry<Payload> = {entry} bytes, slab slot = {slot} bytes, HeapElem = {elem} bytes"
        );
        // A far timer costs one slab slot plus a 4-byte key in a bucket; a near one a slab slot
        // plus a 16-byte heap element.
        assert!(entry <= 48, "Entry<Waker, Site> grew to {entry} bytes");
        assert_eq!(slot, entry, "the slab's tag must fit in the entry's niche");
        assert_eq!(elem, 16);
    }

    #[test]
    fn fired_then_reset_rearms() {
        let mut e = Entry::new(10, Some(1u8), ());
        let seq = e.next_seq();
        e.attach();
        assert_eq!(e.live_deadline(seq), Some(10));
        assert!(!e.release_elem());
        assert_eq!(e.fire(), Some(1));
        assert_eq!(e.live_deadline(seq), None);
        assert!(matches!(e.reset(20), Reset::Rearmed));
        assert_eq!(e.state(), State::Waiting { when: 20 });
        let seq = e.next_seq();
        assert_eq!(e.live_deadline(seq), Some(20));
    }

    #[test]
    fn wheel_entry_has_no_live_element_and_leaves_on_reset() {
        let mut e = Entry::new(1 << 40, Some(()), ());
        e.set_wheel_pos(3);
        assert_eq!(e.live_deadline(e.seq), None);
        assert!(matches!(
            e.reset(1 << 41),
            Reset::Replace {
                from_wheel: Some((3, old))
            } if old == 1 << 40
        ));
        assert_eq!(e.wheel_pos(), None);
        assert_eq!(e.live_deadline(e.seq), Some(1 << 41));
    }

    #[test]
    fn cancel_in_the_wheel_releases_at_once() {
        let mut e = Entry::new(1 << 40, Some(()), ());
        e.set_wheel_pos(0);
        assert!(matches!(
            e.cancel(),
            Cancel::Disarmed {
                waker: Some(()),
                from_wheel: Some((0, _)),
                release: true
            }
        ));
    }

    #[test]
    fn cancelled_entry_is_freed_by_its_last_element() {
        let mut e = Entry::new(10, Some(()), ());
        e.attach();
        e.attach();
        assert!(matches!(
            e.cancel(),
            Cancel::Disarmed {
                waker: Some(()),
                from_wheel: None,
                release: false
            }
        ));
        assert!(!e.release_elem());
        assert!(e.release_elem());
    }

    #[test]
    fn tombstone_answers_moved() {
        let to = Moved {
            store: StoreId(1),
            key: TimerKey::from_index(4),
        };
        let mut e = Entry::new(10, Some(()), ());
        e.migrate(|when, waker, _| {
            assert_eq!((when, waker), (10, Some(())));
            to
        });
        assert_eq!(e.state(), State::Moved(to));
        assert_eq!(e.poll(|_| {}), Err(to));
        assert!(matches!(e.cancel(), Cancel::Moved(m) if m == to));
    }

    #[test]
    #[should_panic(expected = "`cancel` on an entry in state Cancelled")]
    fn double_cancel_is_a_bug() {
        let mut e = Entry::new(10, None::<()>, ());
        e.attach();
        let _ = e.cancel();
        let _ = e.cancel();
    }

    #[test]
    #[should_panic(expected = "`poll` on an entry in state Cancelled")]
    fn poll_after_cancel_is_a_bug() {
        let mut e = Entry::new(10, None::<()>, ());
        e.attach();
        let _ = e.cancel();
        let _ = e.poll(|_| {});
    }

    #[test]
    #[should_panic(expected = "`fire` on an entry in state Fired")]
    fn double_fire_is_a_bug() {
        let mut e = Entry::new(10, None::<()>, ());
        let _ = e.fire();
        let _ = e.fire();
    }

    #[test]
    #[should_panic(expected = "`fire` on an entry in state Waiting")]
    fn firing_a_wheel_entry_is_a_bug() {
        let mut e = Entry::new(1 << 40, None::<()>, ());
        e.set_wheel_pos(0);
        let _ = e.fire();
    }
}
