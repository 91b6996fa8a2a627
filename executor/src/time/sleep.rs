//! [`Sleep`]: a future that completes at a deadline, backed by one entry in a
//! worker's timer store.
//!
//! # Lifecycle
//! - Created unregistered: no store is touched until the first poll.
//! - First poll: if the deadline has passed it completes at once; otherwise it
//!   inserts an entry into the *home store* of the polling thread (its worker's
//!   store, or the runtime's shared store for threads that are not workers) and
//!   remembers the cell and key.
//! - Later polls ask the store whether the entry fired, refreshing the waker only if
//!   it would not wake the same task.
//! - `reset` re-arms the same entry (no allocation); dropping cancels it in O(1)
//!   (lazy deletion in the heap): on the store's owner at once, from another
//!   thread through the store's queue of remote cancels, which the owner applies
//!   on its next timer pass (the dropping thread never takes the owner's lock).
//!
//! # Ground rules
//! A store's lock is held only for the store operation. Wakers that the store hands
//! back (a replaced or cancelled entry's) are dropped after the lock is released.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use ticktock_timer::{Moved, Nanos, PollState, TimerKey, MAX_DEADLINE};

use crate::loom::sync::Arc;
use crate::runtime::timers::clock::{instant_at, nanos_at};
use crate::runtime::timers::stores::{LockedStore, Site, StoreCell};

use super::instant::Instant;

/// Deadlines further away than this are treated as "never": about 30 years, far
/// beyond any program's uptime, yet far from `Instant`'s overflow (tokio uses the
/// same horizon). `sleep(Duration::MAX)` uses it instead of overflowing.
pub(crate) const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// How close to the thread's last clock reading a deadline must be for a first
/// poll to read the clock again before registering (100 ms): a deadline further
/// out cannot have passed unless the thread went that long without reading the
/// clock, and then it fires at the next expiry pass, never early.
const FRESH_READ_WINDOW: Nanos = 100_000_000;

/// Whether the deadline `when` has passed on `cell`'s clock. The thread's last
/// reading decides for free when it is already past `when`. A near deadline may
/// have passed since that reading (the thread ran a long poll, or the sleep was
/// reset long before this poll): one fresh reading then decides, so an
/// `Interval` that fell behind hands out its missed ticks back to back. Far
/// deadlines skip it (the churned 30 s timeout pays one clock read, in
/// `sleep()`, and a far reset none).
fn has_passed(cell: &StoreCell, when: Nanos) -> bool {
    let recent = cell.recent_nanos();
    when <= recent || (when - recent <= FRESH_READ_WINDOW && when <= cell.runtime_nanos())
}

/// The deadline `duration` from now, in nanoseconds since the process epoch,
/// saturating at the far future: one clock read, no `Instant` arithmetic.
pub(crate) fn deadline_nanos_after(duration: Duration) -> Nanos {
    let delta = u64::try_from(duration.min(FAR_FUTURE).as_nanos()).unwrap_or(u64::MAX);
    crate::context::current_runtime_nanos().saturating_add(delta)
}

/// `now + duration`, or the far future if that overflows or exceeds it.
pub(crate) fn deadline_after(now: std::time::Instant, duration: Duration) -> std::time::Instant {
    now.checked_add(duration.min(FAR_FUTURE))
        .unwrap_or_else(|| now + FAR_FUTURE)
}

/// Where a registered `Sleep`'s entry lives.
struct Registration {
    cell: Arc<StoreCell>,
    key: TimerKey,
}

/// A `Sleep`'s tie to the timer stores. 16 bytes either way: the creation site
/// lives in the `Sleep` until the first poll registers it, and in the store entry
/// (its label) from then on, which keeps a `Sleep` at 24 bytes and a boxed one in
/// a 32-byte allocation.
enum Link {
    /// In no store: where the sleep was created (`#[track_caller]`).
    Unregistered(Site),
    /// In a store, whose entry carries the creation site.
    Registered(Registration),
}

impl Registration {
    /// Runs `op` on the entry's store, following migration tombstones.
    fn with_store<R>(
        &mut self,
        mut op: impl FnMut(&StoreCell, &mut LockedStore<'_>, TimerKey) -> Result<R, Moved>,
    ) -> R {
        loop {
            let result = {
                let mut store = self.cell.lock();
                op(&self.cell, &mut store, self.key)
            };
            match result {
                Ok(value) => return value,
                Err(moved) => {
                    self.cell = self.cell.sibling(moved.store);
                    self.key = moved.key;
                }
            }
        }
    }

    /// The creation site the entry carries, read without moving the handle (a
    /// tombstone on the way is followed, not freed).
    fn site(&self) -> Site {
        let (mut cell, mut key) = (self.cell.clone(), self.key);
        loop {
            let label = cell.lock().label(key);
            match label {
                Ok(site) => return site,
                Err(moved) => {
                    cell = cell.sibling(moved.store);
                    key = moved.key;
                }
            }
        }
    }

    /// Cancels the entry and returns its creation site; the entry's waker is
    /// dropped after the store lock is released.
    fn cancel(mut self) -> Site {
        let (waker, site) = self.with_store(|_, store, key| {
            let site = match store.label(key) {
                Ok(site) => site,
                // A tombstone (the entry migrated): `cancel` frees it and says
                // where the entry went; `label` alone would leave it behind.
                Err(_) => return Err(store.cancel(key).expect_err("a tombstone")),
            };
            Ok((store.cancel(key)?, site))
        });
        if waker.is_some() {
            crate::trace::timer_cancelled(site);
        }
        drop(waker);
        site
    }
}

/// A future that completes at a deadline. Created by [`sleep`](crate::time::sleep)
/// and [`sleep_until`](crate::time::sleep_until).
///
/// It never completes before its deadline, and a cancelled (dropped) or reset sleep
/// never wakes its task for an old deadline. Dropping it frees its timer: nothing to
/// stop, nothing to leak.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use ticktock_executor::time::{sleep, Instant};
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     sleep(Duration::from_millis(10)).await;
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// ```
pub struct Sleep {
    /// The deadline and the elapsed flag, in 8 bytes (see [`DeadlineWord`]).
    deadline: DeadlineWord,
    /// The timer entry, or where the sleep was created until it has one.
    link: Link,
}

/// A deadline in nanoseconds since the process epoch, with the "elapsed" flag in
/// its top bit: deadlines never need that bit (the store clamps them below 2^63),
/// and keeping `Sleep` at 24 bytes keeps a boxed one in a 32-byte allocation
/// (glibc's chunk for up to 24 bytes) rather than a 48-byte one.
#[derive(Clone, Copy)]
struct DeadlineWord(u64);

impl DeadlineWord {
    /// The flag bit: set once the sleep completed, until a reset.
    const ELAPSED: u64 = 1 << 63;

    fn new(deadline: std::time::Instant) -> DeadlineWord {
        DeadlineWord(nanos_at(deadline).min(MAX_DEADLINE))
    }

    fn nanos(self) -> Nanos {
        self.0 & !Self::ELAPSED
    }

    fn is_elapsed(self) -> bool {
        self.0 & Self::ELAPSED != 0
    }

    fn set_elapsed(&mut self) {
        self.0 |= Self::ELAPSED;
    }
}

impl Sleep {
    #[track_caller]
    pub(crate) fn new(deadline: std::time::Instant) -> Sleep {
        Sleep::at_nanos(nanos_at(deadline))
    }

    /// A sleep until `deadline` nanoseconds after the process epoch.
    #[track_caller]
    pub(crate) fn at_nanos(deadline: Nanos) -> Sleep {
        Sleep {
            deadline: DeadlineWord(deadline.min(MAX_DEADLINE)),
            link: Link::Unregistered(Location::caller()),
        }
    }

    /// The instant at which the sleep completes.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use ticktock_executor::time::Instant;
    /// let deadline = Instant::now() + Duration::from_secs(1);
    /// let sleep = ticktock_executor::time::sleep_until(deadline);
    /// assert_eq!(sleep.deadline(), deadline);
    /// ```
    pub fn deadline(&self) -> Instant {
        Instant::from_std(instant_at(self.deadline.nanos()))
    }

    /// Returns `true` once the sleep has completed (its deadline passed and it was
    /// fired or polled), until it is reset.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut sleep = ticktock_executor::time::sleep(Duration::from_millis(1));
    ///     assert!(!sleep.is_elapsed());
    ///     (&mut sleep).await;
    ///     assert!(sleep.is_elapsed());
    /// });
    /// ```
    pub fn is_elapsed(&self) -> bool {
        self.deadline.is_elapsed()
    }

    /// Where this sleep was created (`#[track_caller]` site of `sleep`/`sleep_until`
    /// or of the `interval`/`timeout` that made it).
    ///
    /// # Examples
    /// ```
    /// let sleep = ticktock_executor::time::sleep(std::time::Duration::from_secs(1));
    /// assert!(sleep.created_at().file().ends_with(".rs"));
    /// ```
    pub fn created_at(&self) -> &'static Location<'static> {
        match &self.link {
            Link::Unregistered(site) => site,
            Link::Registered(registration) => registration.site(),
        }
    }

    /// The registration, if the sleep has a timer entry.
    fn registration(&mut self) -> Option<&mut Registration> {
        match &mut self.link {
            Link::Unregistered(_) => None,
            Link::Registered(registration) => Some(registration),
        }
    }

    /// Moves the deadline, earlier or later, even after the sleep completed. The
    /// timer entry is reused (no allocation): a far deadline moves between wheel
    /// buckets in O(1), a near one is placed in the heap, and the poller is woken
    /// only if it would otherwise wake too late for the new deadline. A deadline
    /// that has already passed completes the sleep at its next poll, as tokio's
    /// does (an [`Interval`](crate::time::Interval) that is behind relies on it).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use ticktock_executor::time::Instant;
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let sleep = ticktock_executor::time::sleep(Duration::from_secs(3600));
    ///     let mut sleep = std::pin::pin!(sleep);
    ///     sleep.as_mut().reset(Instant::now() + Duration::from_millis(1));
    ///     sleep.as_mut().await;
    ///     sleep.as_mut().reset(Instant::now() - Duration::from_millis(1));
    ///     assert!(sleep.is_elapsed()); // already passed: ready at once
    ///     sleep.await;
    /// });
    /// ```
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.deadline = DeadlineWord::new(deadline.into_std());
        let when = this.deadline.nanos();
        // An unregistered sleep makes the same check at its first poll.
        if let Some(registration) = this.registration() {
            if has_passed(&registration.cell, when) {
                // Passed already: complete at the next poll without a timer pass.
                // The entry is released; a later reset registers a new one.
                this.deadline.set_elapsed();
                this.deregister();
                return;
            }
            registration.with_store(|cell, store, key| {
                if store.reset(key, when)? {
                    // Under the lock: `earliest_bound` is only ever written under it.
                    cell.note_deadline(store, when);
                }
                Ok(())
            });
        }
    }

    /// Cancels the registered entry, if any; the sleep keeps its creation site.
    fn deregister(&mut self) {
        if let Link::Registered(_) = self.link {
            // A placeholder while the registration is taken out; replaced below.
            let link = std::mem::replace(&mut self.link, Link::Unregistered(Location::caller()));
            if let Link::Registered(registration) = link {
                self.link = Link::Unregistered(registration.cancel());
            }
        }
    }

    #[cold]
    fn panic_shut_down(&self) -> ! {
        panic!(
            "ticktock: a `Sleep` (created at {}) was polled after its runtime shut down; \
             no timer can fire any more (the runtime was dropped or shut down while this \
             future was still waiting on it)",
            self.created_at()
        );
    }

    fn register(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(cell) = crate::context::home_store() else {
            panic!(
                "ticktock: a `Sleep` (created at {}) was polled outside a ticktock runtime; \
                 poll it from a task or from inside `Runtime::block_on`",
                self.created_at()
            );
        };
        self.register_in(cell, cx)
    }

    /// Registers the sleep in `cell` with the task's waker, unless its deadline has
    /// passed (then it completes).
    #[inline(always)]
    fn register_in(&mut self, cell: Arc<StoreCell>, cx: &mut Context<'_>) -> Poll<()> {
        let when = self.deadline.nanos();
        // The thread's last clock reading (usually the one `sleep()` just made):
        // a deadline at or before it has passed. A later one is registered even if
        // it passed since; it is then due at once and the next expiry pass fires it.
        if has_passed(&cell, when) {
            self.deadline.set_elapsed();
            return Poll::Ready(());
        }
        if cell.is_closed() {
            self.panic_shut_down();
        }
        let site = self.created_at();
        let key = {
            let mut store = cell.lock();
            let key = store.insert_labeled(when, cx.waker().clone(), site);
            crate::trace::timer_registered(store.id().0 as usize, when, site);
            cell.note_deadline(&store, when);
            key
        };
        self.link = Link::Registered(Registration { cell, key });
        Poll::Pending
    }

    /// This thread's own store, if it has one and the sleep is registered in
    /// another: see [`Sleep::poll_moving_home`].
    fn home_elsewhere(&self) -> Option<Arc<StoreCell>> {
        let Link::Registered(registration) = &self.link else {
            return None;
        };
        let cell = &registration.cell;
        crate::context::home_store()
            .filter(|home| !Arc::ptr_eq(home, cell) && home.same_runtime(cell))
    }

    /// The timer follows its task: polled on a thread other than the one that owns
    /// its store (a task stolen by another worker), the sleep moves its entry to
    /// this thread's store, so this poll and every later poll, reset and drop take
    /// an uncontended lock instead of the owner's. One lock of the old store pays
    /// for the move (the cancel, which also reads the creation site). A reset on
    /// another thread does not move the entry (it locks the owner's store once);
    /// the next poll there does.
    ///
    /// `None` (nothing done) if this thread has no store of the sleep's runtime.
    #[cold]
    #[inline(never)]
    fn poll_moving_home(&mut self, cx: &mut Context<'_>) -> Option<Poll<()>> {
        let home = self.home_elsewhere()?;
        let Link::Registered(registration) = &self.link else {
            unreachable!("only a registered sleep moves")
        };
        if has_passed(&registration.cell, self.deadline.nanos()) {
            // Due: complete here; the old entry is let go at drop (queued).
            self.deadline.set_elapsed();
            return Some(Poll::Ready(()));
        }
        self.deregister();
        Some(self.register_in(home, cx))
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        // Charged first, also when the sleep already elapsed: a loop that polls an
        // elapsed sleep again (a `select!` over a pinned one) must still yield.
        if crate::coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        if this.deadline.is_elapsed() {
            return Poll::Ready(());
        }
        if matches!(&this.link, Link::Registered(r) if r.cell.owned_by_another_thread()) {
            if let Some(ready) = this.poll_moving_home(cx) {
                return ready;
            }
        }
        let Link::Registered(registration) = &mut this.link else {
            return this.register(cx);
        };
        let mut replaced: Option<Waker> = None;
        let state = registration.with_store(|_, store, key| {
            store.poll_entry(key, |entry| match entry {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                Some(waker) => {
                    replaced = Some(std::mem::replace(waker, cx.waker().clone()));
                }
                // Re-armed after firing (the fire took the waker).
                None => *entry = Some(cx.waker().clone()),
            })
        });
        // Dropped after the store lock is released.
        drop(replaced);
        match state {
            PollState::Fired => {
                let cell = &registration.cell;
                if cell.is_closed() && this.deadline.nanos() > cell.runtime_nanos() {
                    // Shutdown marked it fired; completing early would break
                    // the never-early guarantee, and waiting would hang forever.
                    this.panic_shut_down();
                }
                this.deadline.set_elapsed();
                Poll::Ready(())
            }
            PollState::Pending => Poll::Pending,
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        // On the store's owner: cancelled under its (uncontended) lock. Elsewhere:
        // queued for the owner, never taking its lock (`runtime/remote_cancel.rs`).
        if let Link::Registered(registration) = &self.link {
            registration.cell.let_go(registration.key);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline())
            .field("registered", &matches!(self.link, Link::Registered(_)))
            .field("elapsed", &self.is_elapsed())
            .field("created_at", &format_args!("{}", self.created_at()))
            .finish()
    }
}

/// Compile-time check: `Sleep` stays at 24 bytes (the deadline word and a 16-byte
/// [`Link`]), so a boxed one takes a 32-byte allocation.
const _: () = assert!(std::mem::size_of::<Sleep>() == 24);
