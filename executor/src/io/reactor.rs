//! The I/O reactor: registrations of mio sources, their readiness, and the wakers
//! of the tasks waiting on them.
//!
//! # What it owns
//! - A slab of [`ScheduledIo`] records, one per registered source. The mio token of a
//!   registration is its slab index plus a *generation* (see [`Token`]): a slot reused
//!   by a new socket gets a new generation, so an event still in flight for the old
//!   socket can never wake the new one.
//! - For each record: a readiness word (edge-triggered bits plus a tick that counts
//!   events) and the wakers of the task waiting to read and the task waiting to write.
//!
//! # The readiness protocol (edge-triggered)
//! 1. The poller receives an event and ORs its bits into the readiness word, bumping
//!    the tick, then wakes the waiters whose direction became ready.
//! 2. A task that wants to read checks the word; if not readable, it stores its
//!    waker, then checks the word again (an event between the two checks is seen by
//!    the second, or its dispatch sees the stored waker).
//! 3. When the read returns `WouldBlock`, the task clears the readable bit, but only
//!    if the tick is still the one it observed: a newer event is never erased.
//!
//! # Ground rules
//! The slab's lock is taken for writing to register and deregister, for reading to
//! dispatch a batch of events. A record's waiter lock is held only to swap wakers;
//! wakers are woken after it is released.

use std::io;
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll, Waker};

use slab::Slab;

use crate::loom::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Bits of a registration's index in its token: 16 M live registrations.
const INDEX_BITS: u32 = 24;
/// Mask of the index bits.
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
/// Generations wrap within the bits left below the top bit, so an I/O token never
/// collides with the driver's own tokens (`usize::MAX` down to `usize::MAX - 2`).
const GENERATION_MASK: usize = (usize::MAX >> 1) >> INDEX_BITS;

/// A registration's mio token: `generation << INDEX_BITS | index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Token(usize);

impl Token {
    fn new(index: usize, generation: usize) -> Token {
        assert!(
            index <= INDEX_MASK,
            "ticktock: more than 2^24 live I/O registrations"
        );
        Token(((generation & GENERATION_MASK) << INDEX_BITS) | index)
    }

    fn index(self) -> usize {
        self.0 & INDEX_MASK
    }
}

/// Readiness bit: the source can be read (or accepted from).
pub(crate) const READABLE: usize = 1 << 0;
/// Readiness bit: the source can be written.
pub(crate) const WRITABLE: usize = 1 << 1;
/// Readiness bit: the peer closed its writing half (reads return 0 soon).
pub(crate) const READ_CLOSED: usize = 1 << 2;
/// Readiness bit: the writing half is closed (writes fail).
pub(crate) const WRITE_CLOSED: usize = 1 << 3;
/// Readiness bit: an error is pending on the source.
pub(crate) const ERROR: usize = 1 << 4;
/// Bits of the readiness word that hold readiness; the rest count events (the tick).
const READINESS_MASK: usize = (1 << 5) - 1;
/// Tick unit in the readiness word.
const TICK_UNIT: usize = 1 << 5;

/// Which way a task waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Reading, accepting, receiving.
    Read,
    /// Writing, sending, connecting.
    Write,
}

impl Direction {
    /// The readiness bits that let a task in this direction proceed (an error or a
    /// closed half must wake it too, so it can observe the failure).
    fn mask(self) -> usize {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR,
        }
    }

    /// The bits a `WouldBlock` in this direction clears. `ERROR` is among them: a
    /// system call reports a pending socket error before saying `WouldBlock`, so
    /// after a `WouldBlock` the error was consumed. Kept, it would make every later
    /// wait return at once and the readiness loop spin (seen on a connected UDP
    /// socket after an ICMP "port unreachable").
    ///
    /// After `WouldBlock`: all of this direction's bits. The call proves the
    /// direction is neither ready, closed (a read would return 0, a write `EPIPE`)
    /// nor in error (the call reports a pending error first); leaving one set would
    /// make the next poll spin.
    fn clearable(self) -> usize {
        self.mask()
    }

    /// After a short transfer: only the ready bit. A short read proves the buffer
    /// is drained, not that the peer has not closed: clearing `READ_CLOSED` there
    /// would lose an end-of-stream that edge-triggered epoll never reports again.
    fn drained(self) -> usize {
        match self {
            Direction::Read => READABLE,
            Direction::Write => WRITABLE,
        }
    }
}

/// A readiness observation, handed back to [`ScheduledIo::clear_readiness`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadyEvent {
    word: usize,
    direction: Direction,
}

#[derive(Default)]
struct Waiters {
    reader: Option<Waker>,
    writer: Option<Waker>,
}

/// One registered source's readiness and waiters.
pub(crate) struct ScheduledIo {
    token: Token,
    readiness: AtomicUsize,
    waiters: Mutex<Waiters>,
}

impl ScheduledIo {
    /// Readiness for `direction`, or `Pending` after storing the task's waker.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<ReadyEvent> {
        let word = self.readiness.load(Ordering::Acquire);
        if word & direction.mask() != 0 {
            return Poll::Ready(ReadyEvent { word, direction });
        }
        let replaced = {
            let mut waiters = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
            let stored = match direction {
                Direction::Read => &mut waiters.reader,
                Direction::Write => &mut waiters.writer,
            };
            match stored {
                Some(waker) if waker.will_wake(cx.waker()) => None,
                _ => stored.replace(cx.waker().clone()),
            }
        };
        drop(replaced);
        // Re-check: an event dispatched before the waker was stored is seen here.
        let word = self.readiness.load(Ordering::Acquire);
        if word & direction.mask() != 0 {
            return Poll::Ready(ReadyEvent { word, direction });
        }
        Poll::Pending
    }

    /// The readiness for `direction` as it stands, without waiting: `None` when the
    /// source does not look ready (for `try_read` and friends).
    pub(crate) fn ready_event_if_any(&self, direction: Direction) -> Option<ReadyEvent> {
        let word = self.readiness.load(Ordering::Acquire);
        (word & direction.mask() != 0).then_some(ReadyEvent { word, direction })
    }

    /// Clears the readiness an operation found stale (it returned `WouldBlock`),
    /// unless an event arrived since `event` was observed.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        self.clear_bits(event, event.direction.clearable());
    }

    /// Clears only the ready bit after a short transfer drained the buffer (see
    /// [`Direction::drained`]), unless an event arrived since `event`.
    pub(crate) fn clear_drained(&self, event: ReadyEvent) {
        self.clear_bits(event, event.direction.drained());
    }

    fn clear_bits(&self, event: ReadyEvent, clear: usize) {
        let _ = self.readiness.compare_exchange(
            event.word,
            event.word & !clear,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    /// Records an event's readiness and returns the wakers to wake.
    fn set_readiness(&self, bits: usize) -> (Option<Waker>, Option<Waker>) {
        let _ = self
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |word| {
                let tick = (word & !READINESS_MASK).wrapping_add(TICK_UNIT);
                Some(tick | (word & READINESS_MASK) | bits)
            });
        let mut waiters = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
        let reader = if bits & Direction::Read.mask() != 0 {
            waiters.reader.take()
        } else {
            None
        };
        let writer = if bits & Direction::Write.mask() != 0 {
            waiters.writer.take()
        } else {
            None
        };
        (reader, writer)
    }
}

/// The reactor of one runtime. See the module docs.
pub(crate) struct Reactor {
    registry: mio::Registry,
    registrations: RwLock<Slab<Arc<ScheduledIo>>>,
    next_generation: AtomicUsize,
    /// Live registrations, readable without the lock.
    live: AtomicUsize,
    /// Accepts that failed with an error from the operating system, on any
    /// listener (`RuntimeMetrics::accept_errors`).
    accept_errors: AtomicU64,
}

impl Reactor {
    pub(crate) fn new(registry: mio::Registry) -> Reactor {
        Reactor {
            registry,
            registrations: RwLock::new(Slab::new()),
            next_generation: AtomicUsize::new(0),
            live: AtomicUsize::new(0),
            accept_errors: AtomicU64::new(0),
        }
    }

    /// Counts an accept that failed with an error from the operating system.
    pub(crate) fn note_accept_error(&self) {
        self.accept_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Accepts that failed with an error from the operating system so far.
    pub(crate) fn accept_errors(&self) -> u64 {
        self.accept_errors.load(Ordering::Relaxed)
    }

    /// The poll's registry, for the driver's own sources (the signal pipe).
    pub(crate) fn registry(&self) -> &mio::Registry {
        &self.registry
    }

    /// Registers `source` for `interest` and returns its readiness record.
    pub(crate) fn register(
        &self,
        source: &mut impl mio::event::Source,
        interest: mio::Interest,
    ) -> io::Result<Arc<ScheduledIo>> {
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        let io = {
            let mut registrations = self
                .registrations
                .write()
                .unwrap_or_else(|p| p.into_inner());
            let entry = registrations.vacant_entry();
            let io = Arc::new(ScheduledIo {
                token: Token::new(entry.key(), generation),
                readiness: AtomicUsize::new(0),
                waiters: Mutex::new(Waiters::default()),
            });
            entry.insert(io.clone());
            io
        };
        if let Err(error) = self
            .registry
            .register(source, mio::Token(io.token.0), interest)
        {
            self.forget(&io);
            return Err(error);
        }
        self.live.fetch_add(1, Ordering::Relaxed);
        Ok(io)
    }

    /// Deregisters `source` and frees its record. Waiters are woken so that no task
    /// is left waiting on a source that no longer exists.
    pub(crate) fn deregister(&self, source: &mut impl mio::event::Source, io: &Arc<ScheduledIo>) {
        // The source may already be closed by the OS; nothing useful to report.
        let _ = self.registry.deregister(source);
        self.forget(io);
        self.live.fetch_sub(1, Ordering::Relaxed);
        let (reader, writer) = io.set_readiness(READ_CLOSED | WRITE_CLOSED);
        for waker in reader.into_iter().chain(writer) {
            waker.wake();
        }
    }

    fn forget(&self, io: &Arc<ScheduledIo>) {
        let mut registrations = self
            .registrations
            .write()
            .unwrap_or_else(|p| p.into_inner());
        let index = io.token.index();
        if registrations
            .get(index)
            .is_some_and(|current| Arc::ptr_eq(current, io))
        {
            registrations.remove(index);
        }
    }

    /// Wakes every task waiting to read (without changing any readiness): used when
    /// the runtime starts draining, so listeners notice and stop accepting. Tasks
    /// woken without reason re-check their readiness and wait again.
    pub(crate) fn wake_all_readers(&self) {
        let mut wakers = Vec::new();
        {
            let registrations = self.registrations.read().unwrap_or_else(|p| p.into_inner());
            for (_, io) in registrations.iter() {
                let mut waiters = io.waiters.lock().unwrap_or_else(|p| p.into_inner());
                wakers.extend(waiters.reader.take());
            }
        }
        for waker in wakers {
            waker.wake();
        }
    }

    /// Number of live registrations.
    pub(crate) fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// Delivers a batch of events (called by the poller with the events it got).
    pub(crate) fn dispatch<'a>(&self, events: impl Iterator<Item = &'a mio::event::Event>) {
        let mut wakers: Vec<Waker> = Vec::new();
        {
            let registrations = self.registrations.read().unwrap_or_else(|p| p.into_inner());
            for event in events {
                let token = Token(event.token().0);
                let Some(io) = registrations.get(token.index()) else {
                    continue;
                };
                if io.token != token {
                    // An event for a previous socket in this slot: drop it.
                    continue;
                }
                let (reader, writer) = io.set_readiness(readiness_bits(event));
                wakers.extend(reader);
                wakers.extend(writer);
            }
        }
        for waker in wakers {
            waker.wake();
        }
    }
}

/// The readiness bits of a mio event.
fn readiness_bits(event: &mio::event::Event) -> usize {
    let mut bits = 0;
    if event.is_readable() {
        bits |= READABLE;
    }
    if event.is_writable() {
        bits |= WRITABLE;
    }
    if event.is_read_closed() {
        bits |= READ_CLOSED;
    }
    if event.is_write_closed() {
        bits |= WRITE_CLOSED;
    }
    if event.is_error() {
        bits |= ERROR;
    }
    bits
}

#[cfg(all(test, not(loom)))]
mod tests;
