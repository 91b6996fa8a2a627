//! A simulated TCP connection: two byte pipes (one per direction) of segments
//! stamped with the virtual instant they arrive, and the two ends' states.
//!
//! # What it owns
//! [`Connection`]: for each side, the pipe carrying what it sends (segments in
//! flight or arrived and unread, the waker of the task reading them and of the
//! task waiting for room to write) and its end's flags. The fabric
//! (`fabric.rs`) keeps connections in a `BTreeMap` under its one lock; nothing
//! here takes a lock, reads a clock or wakes a task: "now" is an argument and
//! wakers to wake are pushed onto the caller's list.
//!
//! # Segments: one transmission at a time
//! A write at `now` becomes a segment (writes at the same instant join the last
//! segment, as Nagle would coalesce them) whose first transmission is at `now`.
//! A transmission either arrives at `t + latency` or is dropped (the link is cut,
//! or the loss draw took it); a dropped one is sent again after a retransmission
//! timeout that doubles each time, as Linux does:
//!
//! | constant | value | Linux's name |
//! |---|---|---|
//! | [`RTO_MIN`] | 200 ms (plus the round trip) | `TCP_RTO_MIN` |
//! | [`RTO_MAX`] | 120 s | `TCP_RTO_MAX` |
//! | [`RETRIES`] | 15 retransmissions; `TimedOut` when the next timeout expires (924.6 s from a 200 ms RTO) | `tcp_retries2` |
//!
//! So data written into a partition is delayed, not lost: it arrives at the first
//! retransmission after the heal, or the sender's end fails with `TimedOut` if the
//! partition outlasts the budget. The receiver reads segments in order: a segment
//! that has arrived waits behind an earlier one still being retransmitted.
//! Transmissions are decided lazily, by [`Connection::settle`], which every
//! operation and every link change calls first: a transmission due at `t <= now`
//! is decided under the links of `t` because the fabric settles every connection
//! before it changes a link.
//!
//! # Transition table of one segment
//! A segment's `flight` ([`Flight`]) moves only forward; `settle` makes every move
//! whose instant is `<= now`, in the pipe's order:
//!
//! | event \ segment | `Retrying { next_try }` | `Arrives(at)`, `at > now` | `Arrives(at)`, `at <= now` |
//! |---|---|---|---|
//! | settle, `next_try <= now`, link up and the draw keeps it | → `Arrives(next_try + latency)` | – | – |
//! | settle, `next_try <= now`, cut or the draw drops it | `drops += 1`; → `Retrying { next_try + rto << (drops - 1) }` (capped at [`RTO_MAX`]) | – | – |
//! | settle, `next_try <= now`, `drops > RETRIES` | the sender's end → timed_out, its pipe emptied | – | – |
//! | settle, the receiver's end closed | (stays) | discarded; an RST goes back, arriving one latency after `at` | discarded; RST as well |
//! | the receiver reads | not readable: the reader waits for `next_try` | not readable: the reader waits for `at` | bytes copied out; popped when all are read (a FIN: end of stream) |
//! | the sender's end closes abortively (RST) | discarded | discarded unless it arrives before the RST | kept: readable before the RST |
//!
//! # Transition table of one end
//! The end's flags are `open`, `write_shut` (`shutdown(Write)` or a close),
//! `read_shut`, `closed` (the stream was dropped), `reset` (an RST has arrived) and
//! `timed_out` (its retransmissions ran out). Reading and writing from each:
//!
//! | event \ end | open | write_shut | read_shut | reset arrived | timed_out | closed |
//! |---|---|---|---|---|---|---|
//! | read, data arrived | bytes | bytes | `Ok(0)` | bytes that arrived before the RST | `TimedOut` | bug: no handle left |
//! | read, FIN arrived first | `Ok(0)` (repeatable) | `Ok(0)` | `Ok(0)` | `Ok(0)` | `TimedOut` | bug |
//! | read, nothing arrived | wait for the next arrival (or retry) instant | wait | `Ok(0)` | `ConnectionReset` | `TimedOut` | bug |
//! | write | queued, or wait for room ([`PIPE_CAPACITY`]) | `BrokenPipe` | queued | `ConnectionReset` | `TimedOut` | bug |
//! | `shutdown(Write)` | FIN queued behind the data; → write_shut | no-op | FIN queued | no-op | no-op | bug |
//! | close (drop) with unread arrived data | RST to the peer, unsent data discarded; → closed | same | same | → closed | → closed | bug: dropped twice |
//! | close (drop), nothing unread | FIN queued (unless write_shut); → closed | → closed | FIN queued; → closed | → closed | → closed | bug |
//! | abort (its listener closed before accepting it) | RST to the peer; → closed | same | same | → closed | → closed | bug |
//! | data arrives for it | (read as above) | (read) | discarded | discarded | discarded | discarded, and an RST goes back to the sender |
//!
//! An RST is one packet, never retransmitted: it arrives one latency after it is
//! sent, or is lost if the link is cut then (the peer learns of the reset when
//! its next data reaches the closed end, as with real TCP).

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::task::Waker;

use ticktock_timer::Nanos;

use crate::sim::net::links::{Links, Transmit};
use crate::sim::net::rng;

/// `TCP_RTO_MIN`: the smallest retransmission timeout; the round trip is added
/// (Linux's RTO is the smoothed round trip plus at least this).
pub(crate) const RTO_MIN: Nanos = 200_000_000;

/// `TCP_RTO_MAX`: the retransmission timeout stops doubling here.
pub(crate) const RTO_MAX: Nanos = 120_000_000_000;

/// `tcp_retries2`'s default: retransmissions of one segment before the sender's
/// end gives up with `TimedOut` (about 924.6 s of back-off from a 200 ms RTO).
pub(crate) const RETRIES: u32 = 15;

/// The most unread bytes one direction holds (in flight plus arrived): a writer
/// whose reader does not read waits for room, as on a real socket whose send and
/// receive buffers are full. 256 KiB: the order of Linux's default buffers
/// (`tcp_wmem`/`tcp_rmem` start at 16 KiB/128 KiB and autotune to MiBs), large
/// enough that a request or response of an ordinary service never waits on it.
pub(crate) const PIPE_CAPACITY: usize = 256 * 1024;

/// Draw indices per segment: its transmissions number at most `RETRIES + 1`.
const DRAWS_PER_SEGMENT: u64 = 32;

/// Which end of a connection: the one that connected or the one that accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Side {
    /// The end that called `connect`.
    Client = 0,
    /// The end a listener accepted.
    Server = 1,
}

impl Side {
    fn index(self) -> usize {
        self as usize
    }

    fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

/// How an end closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Closing {
    /// A stream was dropped: FIN, or RST if it leaves data unread.
    Drop,
    /// RST whatever is unread: a listener closed with the connection still in its
    /// accept queue, as Linux does.
    Abort,
}

/// The outcome of an operation that may have to wait.
#[derive(Debug)]
pub(crate) enum Step<T> {
    /// Done, with this result.
    Ready(io::Result<T>),
    /// Not possible yet: the caller's waker is stored, and the state may change on
    /// its own at this instant (an arrival, a retransmission), so the caller
    /// should also sleep until then.
    Wait(Option<Nanos>),
}

/// What a segment carries.
#[derive(Debug)]
enum Payload {
    /// Bytes, and how many of them the receiver has read.
    Data { bytes: Vec<u8>, read: usize },
    /// The end of the stream.
    Fin,
}

/// Where a segment is: waiting for its next transmission, or arriving.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flight {
    /// Transmissions so far were dropped; the next one is at `next_try`.
    Retrying { next_try: Nanos },
    /// A transmission got through: it arrives (or arrived) at this instant.
    Arrives(Nanos),
}

#[derive(Debug)]
struct Segment {
    payload: Payload,
    /// When it was written (writes at the same instant join one segment).
    written_at: Nanos,
    /// Its number in the pipe, for its loss draws.
    number: u64,
    /// Transmissions dropped so far.
    drops: u32,
    flight: Flight,
}

impl Segment {
    fn arrived_by(&self, now: Nanos) -> bool {
        matches!(self.flight, Flight::Arrives(at) if at <= now)
    }

    fn unread_len(&self) -> usize {
        match &self.payload {
            Payload::Data { bytes, read } => bytes.len() - read,
            Payload::Fin => 0,
        }
    }
}

/// One direction of a connection.
#[derive(Debug)]
struct Pipe {
    from: SocketAddr,
    to: SocketAddr,
    segments: VecDeque<Segment>,
    /// Data bytes in `segments` not read yet (at most [`PIPE_CAPACITY`]).
    unread: usize,
    next_number: u64,
    /// An RST from the receiver's peer arrives at the receiver at this instant.
    reset_at: Option<Nanos>,
    /// The task waiting to read from this pipe.
    reader: Option<Waker>,
    /// The task waiting for room to write into this pipe.
    writer: Option<Waker>,
}

impl Pipe {
    fn new(from: SocketAddr, to: SocketAddr) -> Pipe {
        Pipe {
            from,
            to,
            segments: VecDeque::new(),
            unread: 0,
            next_number: 0,
            reset_at: None,
            reader: None,
            writer: None,
        }
    }

    fn wake_all(&mut self, wakers: &mut Vec<Waker>) {
        wakers.extend(self.reader.take());
        wakers.extend(self.writer.take());
    }
}

/// One end's flags (see the transition table).
#[derive(Debug, Default)]
struct End {
    write_shut: bool,
    read_shut: bool,
    closed: bool,
    timed_out: bool,
}

/// A simulated TCP connection (see the module docs).
#[derive(Debug)]
pub(crate) struct Connection {
    id: u64,
    /// `pipes[side]` carries what `side` sends.
    pipes: [Pipe; 2],
    ends: [End; 2],
}

impl Connection {
    /// A connection between `client` and `server`, both ends open.
    pub(crate) fn new(id: u64, client: SocketAddr, server: SocketAddr) -> Connection {
        Connection {
            id,
            pipes: [Pipe::new(client, server), Pipe::new(server, client)],
            ends: [End::default(), End::default()],
        }
    }

    /// `side`'s own address and its peer's.
    pub(crate) fn addrs(&self, side: Side) -> (SocketAddr, SocketAddr) {
        let pipe = &self.pipes[side.index()];
        (pipe.from, pipe.to)
    }

    /// Whether both ends are closed: nobody can observe the connection any more.
    pub(crate) fn is_finished(&self) -> bool {
        self.ends.iter().all(|end| end.closed)
    }

    /// Decides every transmission due by `now`, in order (see the module docs).
    pub(crate) fn settle(&mut self, links: &Links, seed: u64, now: Nanos, wakers: &mut Vec<Waker>) {
        for sender in [Side::Client, Side::Server] {
            self.settle_pipe(sender, links, seed, now, wakers);
        }
    }

    fn settle_pipe(
        &mut self,
        sender: Side,
        links: &Links,
        seed: u64,
        now: Nanos,
        wakers: &mut Vec<Waker>,
    ) {
        let receiver_closed = self.ends[sender.peer().index()].closed;
        let stream = self.id.wrapping_mul(2) + sender as u64;
        let pipe = &mut self.pipes[sender.index()];
        let (from, to) = (pipe.from.ip(), pipe.to.ip());
        let mut timed_out = false;
        let mut reached_closed_end = None;
        for segment in pipe.segments.iter_mut() {
            while let Flight::Retrying { next_try } = segment.flight {
                if next_try > now {
                    break;
                }
                if segment.drops > RETRIES {
                    // The timeout after the last retransmission expired.
                    timed_out = true;
                    break;
                }
                let index = segment.number * DRAWS_PER_SEGMENT + u64::from(segment.drops);
                match links.transmit(from, to, next_try, rng::draw(seed, stream, index)) {
                    Transmit::Arrives(at) => segment.flight = Flight::Arrives(at),
                    Transmit::Dropped => {
                        segment.drops += 1;
                        let round_trip = links.link(from, to).latency_nanos().saturating_mul(2);
                        let rto = RTO_MIN.saturating_add(round_trip);
                        let backoff = rto.saturating_mul(1 << (segment.drops - 1).min(20));
                        segment.flight = Flight::Retrying {
                            next_try: next_try.saturating_add(backoff.min(RTO_MAX)),
                        };
                    }
                }
            }
            if timed_out {
                break;
            }
            if let (true, Flight::Arrives(at), Payload::Data { .. }) =
                (receiver_closed, segment.flight, &segment.payload)
            {
                reached_closed_end =
                    Some(reached_closed_end.map_or(at, |first: Nanos| first.min(at)));
            }
        }
        if timed_out {
            pipe.segments.clear();
            pipe.unread = 0;
            pipe.wake_all(wakers);
            self.ends[sender.index()].timed_out = true;
            self.pipes[sender.peer().index()].wake_all(wakers);
            return;
        }
        if let Some(at) = reached_closed_end {
            // Data reached a closed end: it is discarded, and an RST goes back.
            let arrived: Vec<_> = pipe.segments.iter().map(|s| s.arrived_by(at)).collect();
            let mut kept = VecDeque::new();
            for (segment, gone) in pipe.segments.drain(..).zip(arrived) {
                if !gone {
                    kept.push_back(segment);
                }
            }
            pipe.segments = kept;
            pipe.unread = pipe.segments.iter().map(Segment::unread_len).sum();
            pipe.wake_all(wakers);
            let back = &mut self.pipes[sender.peer().index()];
            if let Transmit::Arrives(rst) = links.transmit(to, from, at, 1.0) {
                back.reset_at = Some(back.reset_at.map_or(rst, |old| old.min(rst)));
                back.wake_all(wakers);
            }
        }
    }

    /// The next instant at which this connection changes on its own (an arrival,
    /// a retransmission, an RST arriving), after `now`.
    pub(crate) fn next_event(&self, now: Nanos) -> Option<Nanos> {
        let mut next: Option<Nanos> = None;
        let mut consider = |at: Nanos| {
            if at > now {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        };
        for pipe in &self.pipes {
            for segment in &pipe.segments {
                match segment.flight {
                    Flight::Retrying { next_try } => consider(next_try),
                    Flight::Arrives(at) => consider(at),
                }
            }
            if let Some(at) = pipe.reset_at {
                consider(at);
            }
        }
        next
    }

    /// Whether an RST has arrived at `side` by `now`.
    fn reset_arrived(&self, side: Side, now: Nanos) -> bool {
        self.pipes[side.peer().index()]
            .reset_at
            .is_some_and(|at| at <= now)
    }

    /// Reads (or, with `peek`, copies without consuming) what has arrived at
    /// `side` by `now` into `buf`. Call [`Connection::settle`] first.
    pub(crate) fn read(
        &mut self,
        side: Side,
        now: Nanos,
        buf: &mut [u8],
        peek: bool,
        waker: Option<&Waker>,
        wakers: &mut Vec<Waker>,
    ) -> Step<usize> {
        let end = &self.ends[side.index()];
        assert!(
            !end.closed,
            "ticktock::sim::net: read from a closed end (a bug)"
        );
        if end.timed_out {
            return Step::Ready(Err(io::ErrorKind::TimedOut.into()));
        }
        if end.read_shut || buf.is_empty() {
            return Step::Ready(Ok(0));
        }
        let reset = self.reset_arrived(side, now);
        let pipe = &mut self.pipes[side.peer().index()];
        let mut copied = 0;
        let mut index = 0;
        while copied < buf.len() {
            let Some(segment) = pipe.segments.get_mut(index) else {
                break;
            };
            if !segment.arrived_by(now) {
                break;
            }
            match &mut segment.payload {
                Payload::Fin => {
                    if copied == 0 {
                        return Step::Ready(Ok(0));
                    }
                    break;
                }
                Payload::Data { bytes, read } => {
                    let n = (bytes.len() - *read).min(buf.len() - copied);
                    buf[copied..copied + n].copy_from_slice(&bytes[*read..*read + n]);
                    copied += n;
                    if peek {
                        index += 1;
                    } else {
                        *read += n;
                        if *read == bytes.len() {
                            pipe.segments.pop_front();
                        }
                    }
                }
            }
        }
        if copied > 0 {
            if !peek {
                pipe.unread -= copied;
                wakers.extend(pipe.writer.take());
            }
            return Step::Ready(Ok(copied));
        }
        if reset {
            return Step::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        if let Some(waker) = waker {
            pipe.reader = Some(waker.clone());
        }
        Step::Wait(self.next_event(now))
    }

    /// Writes as much of `data` as there is room for, sent from `side` at `now`.
    /// Call [`Connection::settle`] first.
    #[allow(clippy::too_many_arguments)] // the fabric's state, split for the borrow checker
    pub(crate) fn write(
        &mut self,
        side: Side,
        now: Nanos,
        data: &[u8],
        links: &Links,
        seed: u64,
        waker: Option<&Waker>,
        wakers: &mut Vec<Waker>,
    ) -> Step<usize> {
        let room = match self.writable(side, now, waker) {
            Step::Ready(Ok(())) => PIPE_CAPACITY - self.pipes[side.index()].unread,
            Step::Ready(Err(error)) => return Step::Ready(Err(error)),
            Step::Wait(next) => return Step::Wait(next),
        };
        if data.is_empty() {
            return Step::Ready(Ok(0));
        }
        let pipe = &mut self.pipes[side.index()];
        let n = data.len().min(room);
        pipe.unread += n;
        let joined = match pipe.segments.back_mut() {
            Some(Segment {
                payload: Payload::Data { bytes, .. },
                written_at,
                ..
            }) if *written_at == now => {
                bytes.extend_from_slice(&data[..n]);
                true
            }
            _ => false,
        };
        if !joined {
            self.push(
                side,
                Payload::Data {
                    bytes: data[..n].to_vec(),
                    read: 0,
                },
                now,
            );
            self.settle_pipe(side, links, seed, now, wakers);
        }
        wakers.extend(self.pipes[side.index()].reader.take());
        Step::Ready(Ok(n))
    }

    /// Whether `side` can write now: `Ok` with room in its pipe, an error that a
    /// write would return, or a wait for room (the reader's reads wake `waker`).
    pub(crate) fn writable(&mut self, side: Side, now: Nanos, waker: Option<&Waker>) -> Step<()> {
        let end = &self.ends[side.index()];
        assert!(
            !end.closed,
            "ticktock::sim::net: write to a closed end (a bug)"
        );
        if end.timed_out {
            return Step::Ready(Err(io::ErrorKind::TimedOut.into()));
        }
        if self.reset_arrived(side, now) {
            return Step::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        if end.write_shut {
            return Step::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let pipe = &mut self.pipes[side.index()];
        if pipe.unread < PIPE_CAPACITY {
            return Step::Ready(Ok(()));
        }
        if let Some(waker) = waker {
            pipe.writer = Some(waker.clone());
        }
        Step::Wait(self.next_event(now))
    }

    /// Queues a segment sent by `side` at `now` (transmitted by the next settle).
    fn push(&mut self, side: Side, payload: Payload, now: Nanos) {
        let pipe = &mut self.pipes[side.index()];
        let number = pipe.next_number;
        pipe.next_number += 1;
        pipe.segments.push_back(Segment {
            payload,
            written_at: now,
            number,
            drops: 0,
            flight: Flight::Retrying { next_try: now },
        });
    }

    /// `shutdown(Write)`: a FIN behind the data sent so far.
    pub(crate) fn shutdown_write(
        &mut self,
        side: Side,
        now: Nanos,
        links: &Links,
        seed: u64,
        wakers: &mut Vec<Waker>,
    ) {
        let end = &self.ends[side.index()];
        if end.write_shut || end.timed_out || self.reset_arrived(side, now) {
            return;
        }
        self.ends[side.index()].write_shut = true;
        self.push(side, Payload::Fin, now);
        self.settle_pipe(side, links, seed, now, wakers);
        self.pipes[side.index()].wake_all(wakers);
    }

    /// `shutdown(Read)`: later reads return end of stream.
    pub(crate) fn shutdown_read(&mut self, side: Side, wakers: &mut Vec<Waker>) {
        self.ends[side.index()].read_shut = true;
        self.pipes[side.peer().index()].wake_all(wakers);
    }

    /// The stream of `side` was dropped (see the transition table); with
    /// [`Closing::Abort`], as if it had unread data: the peer is reset.
    pub(crate) fn close(
        &mut self,
        side: Side,
        closing: Closing,
        now: Nanos,
        links: &Links,
        seed: u64,
        wakers: &mut Vec<Waker>,
    ) {
        assert!(
            !self.ends[side.index()].closed,
            "ticktock::sim::net: an end closed twice (a bug)"
        );
        self.settle(links, seed, now, wakers);
        let incoming = &mut self.pipes[side.peer().index()];
        let unread_arrived = incoming
            .segments
            .iter()
            .any(|s| s.arrived_by(now) && s.unread_len() > 0);
        incoming.segments.retain(|s| !s.arrived_by(now));
        incoming.unread = incoming.segments.iter().map(Segment::unread_len).sum();
        incoming.wake_all(wakers);
        let end = &self.ends[side.index()];
        let gone = end.timed_out || self.reset_arrived(side, now);
        if (unread_arrived || closing == Closing::Abort) && !gone {
            let outgoing = &mut self.pipes[side.index()];
            let (from, to) = (outgoing.from.ip(), outgoing.to.ip());
            if let Transmit::Arrives(at) = links.transmit(from, to, now, 1.0) {
                outgoing.reset_at = Some(outgoing.reset_at.map_or(at, |old| old.min(at)));
                outgoing
                    .segments
                    .retain(|s| matches!(s.flight, Flight::Arrives(arrival) if arrival <= at));
                outgoing.unread = outgoing.segments.iter().map(Segment::unread_len).sum();
            }
        } else if !gone && !end.write_shut {
            self.push(side, Payload::Fin, now);
            self.settle_pipe(side, links, seed, now, wakers);
        }
        let end = &mut self.ends[side.index()];
        end.closed = true;
        end.write_shut = true;
        end.read_shut = true;
        self.pipes[side.index()].wake_all(wakers);
    }
}

#[cfg(test)]
mod tests;
