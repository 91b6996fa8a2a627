//! The far tier of a store: a hierarchical wheel of unsorted buckets (Linux's timer wheel,
//! tokio's `time::wheel`), for deadlines beyond the near window.
//!
//! # What this module owns
//! [`Wheel`]: [`LEVELS`] levels of [`BUCKETS_PER_LEVEL`] buckets, each bucket an unsorted `Vec` of
//! slab keys; the occupancy bitmaps; a per-bucket lower bound of the deadlines in it; and the
//! *cursor*, the time up to which the wheel has been cascaded. It knows nothing about entries: the
//! store tells it where each entry is (the store keeps each entry's position in its bucket) and
//! does the cascading with [`Wheel::next_due_bucket`] and [`Wheel::take_bucket`].
//!
//! # Placement (why it is O(1), and why nothing is lost)
//! Time is cut into *windows* of 2^[`NEAR_BITS`] ns (about 1.05 ms). A deadline inside the cursor's
//! window, or before it, is **near**: the store keeps it in its exact 4-ary heap. A later deadline
//! goes to the level given by the highest bit in which it differs from the cursor: level `l` holds
//! deadlines that share every bit above `NEAR_BITS + 6(l + 1)` with the cursor, and its 64 buckets
//! are selected by the 6 bits below that. So level 0 has 64 buckets of one window (67 ms), level 1
//! 64 buckets of 67 ms (4.3 s), level 2 of 4.3 s (4.6 min), and so on up to level 7, which covers
//! every deadline up to [`MAX_DEADLINE`](crate::MAX_DEADLINE). Inserting computes one XOR and one
//! leading-zero count; removing is a `swap_remove` in the bucket.
//!
//! **Cascading.** Every occupied bucket of a level lies strictly after the cursor's bucket at that
//! level, and every occupied bucket of a lower level lies before every occupied bucket of a higher
//! one. So the earliest bucket is the first occupied bucket after the cursor on the lowest occupied
//! level. When the store's clock reaches that bucket's start, it moves the cursor there and
//! re-places the bucket's entries: each now differs from the cursor only in lower bits, so it
//! lands on a lower level or, once inside the cursor's window, in the heap with its exact
//! deadline. An entry cascades at most [`LEVELS`] times in its life, and a timeout cancelled
//! before its bucket comes due (the common case) never cascades at all.
//!
//! # Invariants
//! - Every key in bucket `b` names a Waiting entry whose deadline `when` satisfies
//!   `bucket_of(cursor, when) == Some(b)`: the store moves the cursor only through
//!   [`Wheel::advance_cursor`] after cascading every bucket that starts at or before the new
//!   cursor, which keeps every remaining placement valid.
//! - `occupied[l]` has bit `s` set iff bucket `l * BUCKETS_PER_LEVEL + s` is non-empty.
//! - `mins[b]` is at most every deadline in bucket `b` (exact unless an entry was removed since);
//!   it is [`EMPTY_MIN`] for an empty bucket.
//!
//! # Ground rules
//! Owned by one `TimerStore` and touched only through its `&mut self`.

use crate::types::Nanos;

/// Bits of a window: deadlines within the cursor's 2^20 ns (1.05 ms) window go to the heap.
///
/// The width trades heap size against cascading: the heap holds the timers due in the current
/// millisecond (and those that were near when armed), so its sifts stay short at any total count,
/// while a deadline a few milliseconds out costs one cascade into the heap shortly before it is
/// due. tokio's wheel uses the same 1 ms granularity for its lowest level; ticktock then keeps
/// nanosecond precision inside the window.
pub(crate) const NEAR_BITS: u32 = 20;

/// Bits per level: 64 buckets, so one `u64` is a level's occupancy bitmap.
const LEVEL_BITS: u32 = 6;

/// Buckets per level.
pub(crate) const BUCKETS_PER_LEVEL: usize = 1 << LEVEL_BITS;

/// Levels: 8 levels of 6 bits above the 20 window bits reach bit 67, which covers every deadline
/// up to `MAX_DEADLINE` (bit 62 is its highest).
pub(crate) const LEVELS: usize = 8;

/// Number of buckets.
pub(crate) const BUCKETS: usize = LEVELS * BUCKETS_PER_LEVEL;

/// `mins` value of an empty bucket.
pub(crate) const EMPTY_MIN: Nanos = Nanos::MAX;

/// A bucket's capacity above which an emptying bucket gives memory back (see
/// [`Wheel::remove`]); 64 keys are 256 bytes.
const BUCKET_RETAIN_CAPACITY: usize = 64;

/// The far tier. See the module docs.
pub(crate) struct Wheel {
    /// `LEVELS * BUCKETS_PER_LEVEL` buckets of slab keys, unsorted.
    buckets: Box<[Vec<u32>]>,
    /// Per bucket, a lower bound of its deadlines ([`EMPTY_MIN`] if empty).
    mins: Box<[Nanos]>,
    /// Per level, bit `s` set iff the level's bucket `s` is non-empty.
    occupied: [u64; LEVELS],
    /// Time up to which buckets have been cascaded.
    cursor: Nanos,
    /// Keys in all buckets.
    len: usize,
}

impl std::fmt::Debug for Wheel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wheel")
            .field("cursor", &self.cursor)
            .field("len", &self.len)
            .field("occupied", &self.occupied)
            .finish()
    }
}

/// The first nanosecond after `cursor`'s window.
pub(crate) fn window_end(cursor: Nanos) -> Nanos {
    (cursor | ((1 << NEAR_BITS) - 1)) + 1
}

/// The bucket a deadline belongs in for a wheel at `cursor`, or `None` if it is near (inside or
/// before the cursor's window: the heap's).
pub(crate) fn bucket_of(cursor: Nanos, when: Nanos) -> Option<usize> {
    if when < window_end(cursor) {
        return None;
    }
    // `when` is beyond the window, so it differs from `cursor` above the window bits.
    let high_bit = 63 - (when ^ cursor).leading_zeros();
    let level = (((high_bit - NEAR_BITS) / LEVEL_BITS) as usize).min(LEVELS - 1);
    let in_level = (when >> shift(level)) as usize & (BUCKETS_PER_LEVEL - 1);
    Some(level * BUCKETS_PER_LEVEL + in_level)
}

/// The bit position of a level's bucket bits.
fn shift(level: usize) -> u32 {
    NEAR_BITS + LEVEL_BITS * level as u32
}

impl Wheel {
    /// An empty wheel whose cursor is at 0. Allocates its bucket table (`BUCKETS` empty `Vec`s).
    pub(crate) fn new() -> Wheel {
        Wheel {
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            mins: vec![EMPTY_MIN; BUCKETS].into_boxed_slice(),
            occupied: [0; LEVELS],
            cursor: 0,
            len: 0,
        }
    }

    /// Keys in all buckets.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The cursor: deadlines before its window's end are near.
    pub(crate) fn cursor(&self) -> Nanos {
        self.cursor
    }

    /// Adds `key`, whose deadline is `when`, to bucket `bucket` (from [`bucket_of`] at the
    /// current cursor). Returns its position in the bucket. O(1) amortized.
    pub(crate) fn push(&mut self, bucket: usize, key: u32, when: Nanos) -> u32 {
        let keys = &mut self.buckets[bucket];
        let pos = u32::try_from(keys.len()).expect("ticktock-timer: bucket over u32::MAX keys");
        keys.push(key);
        self.mins[bucket] = self.mins[bucket].min(when);
        self.occupied[bucket / BUCKETS_PER_LEVEL] |= 1 << (bucket % BUCKETS_PER_LEVEL);
        self.len += 1;
        pos
    }

    /// Records that a key already in `bucket` now has deadline `when` (a reset within the same
    /// bucket), keeping the bucket's minimum a lower bound.
    pub(crate) fn lower_min(&mut self, bucket: usize, when: Nanos) {
        self.mins[bucket] = self.mins[bucket].min(when);
    }

    /// Removes the key at `pos` of `bucket` by moving the bucket's last key into its place.
    /// Returns that moved key, whose position is now `pos` (the store updates its entry), or
    /// `None` if the removed key was the last. O(1).
    pub(crate) fn remove(&mut self, bucket: usize, pos: u32) -> Option<u32> {
        let keys = &mut self.buckets[bucket];
        let pos = pos as usize;
        keys.swap_remove(pos);
        self.len -= 1;
        if keys.is_empty() {
            self.occupied[bucket / BUCKETS_PER_LEVEL] &= !(1 << (bucket % BUCKETS_PER_LEVEL));
            self.mins[bucket] = EMPTY_MIN;
        }
        if keys.capacity() > BUCKET_RETAIN_CAPACITY && keys.len() * 4 < keys.capacity() {
            // Amortized O(1): the bucket must halve again before the next shrink.
            keys.shrink_to((keys.len() * 2).max(BUCKET_RETAIN_CAPACITY));
        }
        keys.get(pos).copied()
    }

    /// The earliest non-empty bucket and its start (the first nanosecond it covers), or `None`
    /// if the wheel is empty. O(LEVELS).
    pub(crate) fn next_due_bucket(&self) -> Option<(usize, Nanos)> {
        let level = self.occupied.iter().position(|&bits| bits != 0)?;
        let shift = shift(level);
        let here = (self.cursor >> shift) as usize & (BUCKETS_PER_LEVEL - 1);
        // Occupied buckets all lie after the cursor's bucket (see the invariants).
        let ahead = self.occupied[level] & !(2u64 << here).wrapping_sub(1);
        debug_assert!(
            ahead == self.occupied[level],
            "ticktock-timer: a bucket at or behind the cursor is occupied (level {level})"
        );
        let in_level = ahead.trailing_zeros() as usize;
        let span = shift + LEVEL_BITS;
        let base = if span >= 64 {
            0
        } else {
            self.cursor & !((1u64 << span) - 1)
        };
        Some((
            level * BUCKETS_PER_LEVEL + in_level,
            base | ((in_level as u64) << shift),
        ))
    }

    /// A lower bound of every deadline in the wheel (the earliest bucket's recorded minimum), or
    /// `None` if empty. Exact unless that bucket lost its earliest entry since it was filled.
    pub(crate) fn earliest_bound(&self) -> Option<Nanos> {
        self.next_due_bucket().map(|(bucket, _)| self.mins[bucket])
    }

    /// Empties `bucket` and hands back its keys; the store re-places them after moving the
    /// cursor to the bucket's start with [`advance_cursor`](Self::advance_cursor).
    pub(crate) fn take_bucket(&mut self, bucket: usize) -> Vec<u32> {
        let keys = std::mem::take(&mut self.buckets[bucket]);
        self.occupied[bucket / BUCKETS_PER_LEVEL] &= !(1 << (bucket % BUCKETS_PER_LEVEL));
        self.mins[bucket] = EMPTY_MIN;
        self.len -= keys.len();
        keys
    }

    /// Hands back a bucket's emptied key vector so its allocation can be reused, unless the
    /// bucket refilled meanwhile or the vector is large.
    pub(crate) fn recycle(&mut self, bucket: usize, mut keys: Vec<u32>) {
        keys.clear();
        if self.buckets[bucket].is_empty() && keys.capacity() <= BUCKET_RETAIN_CAPACITY {
            self.buckets[bucket] = keys;
        }
    }

    /// Moves the cursor forward to `to` (never back). The caller has cascaded every bucket that
    /// starts at or before `to`.
    pub(crate) fn advance_cursor(&mut self, to: Nanos) {
        debug_assert!(
            self.next_due_bucket().is_none_or(|(_, start)| start > to),
            "ticktock-timer: cursor moved past a bucket that was not cascaded"
        );
        self.cursor = self.cursor.max(to);
    }

    /// Removes and returns one key (the last of the earliest occupied bucket), or `None` if the
    /// wheel is empty. O(LEVELS). For migrating a store a slice at a time.
    pub(crate) fn pop_any(&mut self) -> Option<u32> {
        let (bucket, _) = self.next_due_bucket()?;
        let keys = &mut self.buckets[bucket];
        let key = keys.pop();
        self.len -= 1;
        if keys.is_empty() {
            self.occupied[bucket / BUCKETS_PER_LEVEL] &= !(1 << (bucket % BUCKETS_PER_LEVEL));
            self.mins[bucket] = EMPTY_MIN;
        }
        key
    }

    /// Removes every key, keeping the bucket table; hands each to `f`.
    pub(crate) fn drain(&mut self, mut f: impl FnMut(u32)) {
        for bucket in 0..BUCKETS {
            if self.mins[bucket] != EMPTY_MIN {
                for key in self.take_bucket(bucket) {
                    f(key);
                }
            }
        }
        debug_assert_eq!(self.len, 0);
    }

    /// Calls `f(bucket, pos, key)` for every key. For the invariant checker.
    pub(crate) fn for_each(&self, mut f: impl FnMut(usize, u32, u32)) {
        for (bucket, keys) in self.buckets.iter().enumerate() {
            for (pos, &key) in keys.iter().enumerate() {
                f(bucket, pos as u32, key);
            }
        }
    }

    /// Checks the occupancy bitmaps, the minima and the length against the buckets; the store
    /// checks the keys themselves. Panics naming the broken invariant.
    pub(crate) fn verify_structure(&self, deadline_of: impl Fn(u32) -> Nanos) {
        let mut len = 0;
        for (bucket, keys) in self.buckets.iter().enumerate() {
            let bit =
                self.occupied[bucket / BUCKETS_PER_LEVEL] >> (bucket % BUCKETS_PER_LEVEL) & 1 == 1;
            assert_eq!(
                bit,
                !keys.is_empty(),
                "wheel: occupancy bit of bucket {bucket} is {bit} but it holds {} keys",
                keys.len()
            );
            if keys.is_empty() {
                assert_eq!(
                    self.mins[bucket], EMPTY_MIN,
                    "wheel: empty bucket {bucket} has a minimum"
                );
            }
            for &key in keys {
                let when = deadline_of(key);
                assert!(
                    self.mins[bucket] <= when,
                    "wheel: bucket {bucket} minimum {} is above key {key}'s deadline {when}",
                    self.mins[bucket]
                );
                assert_eq!(
                    bucket_of(self.cursor, when),
                    Some(bucket),
                    "wheel: key {key} (deadline {when}) is in bucket {bucket}, but at cursor {} \
                     it belongs in {:?}",
                    self.cursor,
                    bucket_of(self.cursor, when)
                );
            }
            len += keys.len();
        }
        assert_eq!(len, self.len, "wheel: length {} but {len} keys", self.len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::MAX_DEADLINE;

    #[test]
    fn near_deadlines_have_no_bucket() {
        assert_eq!(bucket_of(0, 0), None);
        assert_eq!(bucket_of(0, (1 << NEAR_BITS) - 1), None);
        assert_eq!(
            bucket_of(5 << NEAR_BITS, 3),
            None,
            "past deadlines are near"
        );
        assert_eq!(bucket_of(0, 1 << NEAR_BITS), Some(1));
        assert_eq!(bucket_of(0, 63 << NEAR_BITS), Some(63));
        assert_eq!(bucket_of(0, 64 << NEAR_BITS), Some(BUCKETS_PER_LEVEL + 1));
    }

    #[test]
    fn every_deadline_up_to_max_has_a_bucket_ahead_of_the_cursor() {
        for cursor in [0, 12_345, 1 << 40, MAX_DEADLINE / 3, MAX_DEADLINE - 1] {
            for when in [
                window_end(cursor),
                window_end(cursor) + 77,
                cursor.saturating_mul(2).min(MAX_DEADLINE),
                MAX_DEADLINE,
            ] {
                if when < window_end(cursor) {
                    continue;
                }
                let bucket = bucket_of(cursor, when).expect("far");
                let level = bucket / BUCKETS_PER_LEVEL;
                let here = (cursor >> shift(level)) as usize & (BUCKETS_PER_LEVEL - 1);
                assert!(
                    bucket % BUCKETS_PER_LEVEL > here,
                    "cursor {cursor} when {when}"
                );
            }
        }
    }

    #[test]
    fn next_due_bucket_is_the_lowest_level_first_bucket() {
        let mut wheel = Wheel::new();
        let far = bucket_of(0, 1 << 35).unwrap();
        wheel.push(far, 1, 1 << 35);
        let near = bucket_of(0, 5 << NEAR_BITS).unwrap();
        wheel.push(near, 2, (5 << NEAR_BITS) + 9);
        assert_eq!(wheel.next_due_bucket(), Some((near, 5 << NEAR_BITS)));
        assert_eq!(wheel.earliest_bound(), Some((5 << NEAR_BITS) + 9));
        assert_eq!(wheel.take_bucket(near), vec![2]);
        wheel.advance_cursor(5 << NEAR_BITS);
        let (bucket, start) = wheel.next_due_bucket().unwrap();
        assert_eq!(bucket, far);
        assert!(start <= 1 << 35);
        wheel.verify_structure(|_| 1 << 35);
    }

    #[test]
    fn remove_swaps_the_last_key_in() {
        let mut wheel = Wheel::new();
        let b = bucket_of(0, 1 << 30).unwrap();
        for key in 0..3 {
            assert_eq!(wheel.push(b, key, 1 << 30), key);
        }
        assert_eq!(wheel.remove(b, 0), Some(2));
        assert_eq!(wheel.remove(b, 1), None);
        assert_eq!(wheel.remove(b, 0), None);
        assert_eq!(wheel.len(), 0);
        assert_eq!(wheel.next_due_bucket(), None);
    }
}
