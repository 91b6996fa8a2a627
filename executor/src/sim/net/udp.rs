//! A simulated UDP socket's receive queue: datagrams stamped with the virtual
//! instant they arrive.
//!
//! # What it owns
//! [`Inbox`]: the datagrams sent to one bound socket, ordered by arrival instant
//! (then by the order they were sent), the bytes they hold, and the waker of the
//! task waiting to receive. The fabric (`fabric.rs`) decides, when a datagram is
//! sent, whether it is lost (a cut link or the loss draw: UDP never retransmits)
//! and when it arrives; nothing here reads a clock or takes a lock.
//!
//! # Ground rules
//! - A receive returns the earliest datagram that has arrived by "now"; a
//!   connected socket discards, as Linux does, datagrams from other addresses.
//! - A datagram longer than the buffer is truncated, the rest discarded (as
//!   `recv_from` on Linux).
//! - An inbox holding [`INBOX_CAPACITY`] bytes drops what arrives next, as a full
//!   receive buffer does; a datagram to an address nobody has bound is dropped
//!   (no ICMP "port unreachable" is simulated).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::task::Waker;

use ticktock_timer::Nanos;

use crate::sim::net::tcp::Step;

/// The most bytes an inbox holds (arrived or in flight) before it drops what
/// comes next: Linux's default UDP receive buffer (`rmem_default`, 208 KiB)
/// rounded up.
pub(crate) const INBOX_CAPACITY: usize = 256 * 1024;

/// One datagram in flight or arrived.
#[derive(Debug)]
struct Datagram {
    from: SocketAddr,
    bytes: Vec<u8>,
}

/// The receive queue of one bound UDP socket (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    /// Keyed by (arrival instant, order of sending).
    datagrams: BTreeMap<(Nanos, u64), Datagram>,
    bytes: usize,
    next_order: u64,
    reader: Option<Waker>,
}

impl Inbox {
    /// Queues a datagram from `from` arriving at `at`; `false` if the inbox was
    /// full and dropped it. Pushes the waiting reader's waker onto `wakers`.
    pub(crate) fn deliver(
        &mut self,
        from: SocketAddr,
        bytes: &[u8],
        at: Nanos,
        wakers: &mut Vec<Waker>,
    ) -> bool {
        if self.bytes + bytes.len() > INBOX_CAPACITY {
            return false;
        }
        self.bytes += bytes.len();
        let order = self.next_order;
        self.next_order += 1;
        self.datagrams.insert(
            (at, order),
            Datagram {
                from,
                bytes: bytes.to_vec(),
            },
        );
        wakers.extend(self.reader.take());
        true
    }

    /// Receives (or with `peek`, copies) the earliest datagram that has arrived by
    /// `now`, from `only` if given; otherwise stores `waker` and says when the
    /// next one arrives.
    pub(crate) fn receive(
        &mut self,
        now: Nanos,
        buf: &mut [u8],
        peek: bool,
        only: Option<SocketAddr>,
        waker: Option<&Waker>,
    ) -> Step<(usize, SocketAddr)> {
        loop {
            let Some(mut entry) = self.datagrams.first_entry() else {
                if let Some(waker) = waker {
                    self.reader = Some(waker.clone());
                }
                return Step::Wait(None);
            };
            let (arrival, _) = *entry.key();
            if arrival > now {
                if let Some(waker) = waker {
                    self.reader = Some(waker.clone());
                }
                return Step::Wait(Some(arrival));
            }
            let datagram = entry.get_mut();
            if only.is_some_and(|peer| peer != datagram.from) {
                self.bytes -= datagram.bytes.len();
                entry.remove();
                continue;
            }
            let n = datagram.bytes.len().min(buf.len());
            buf[..n].copy_from_slice(&datagram.bytes[..n]);
            let from = datagram.from;
            if !peek {
                self.bytes -= datagram.bytes.len();
                entry.remove();
            }
            return Step::Ready(Ok((n, from)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, 1], port))
    }

    #[test]
    fn datagrams_come_out_by_arrival_then_by_sending_order() {
        let mut inbox = Inbox::default();
        let mut wakers = Vec::new();
        assert!(inbox.deliver(addr(1), b"late", 20, &mut wakers));
        assert!(inbox.deliver(addr(2), b"early", 10, &mut wakers));
        assert!(inbox.deliver(addr(3), b"early too", 10, &mut wakers));
        let mut buf = [0; 16];
        let waker = Some(Waker::noop());
        assert!(matches!(
            inbox.receive(9, &mut buf, false, None, waker),
            Step::Wait(Some(10))
        ));
        let order: Vec<_> = (0..3)
            .map(|_| match inbox.receive(20, &mut buf, false, None, waker) {
                Step::Ready(Ok((_, from))) => from.port(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(order, [2, 3, 1]);
        assert!(matches!(
            inbox.receive(20, &mut buf, false, None, waker),
            Step::Wait(None)
        ));
    }

    #[test]
    fn peek_keeps_truncation_cuts_and_a_connected_filter_discards() {
        let mut inbox = Inbox::default();
        let mut wakers = Vec::new();
        inbox.deliver(addr(1), b"other", 0, &mut wakers);
        inbox.deliver(addr(2), b"abcdef", 0, &mut wakers);
        let mut buf = [0; 3];
        let waker = Some(Waker::noop());
        let Step::Ready(Ok((3, from))) = inbox.receive(0, &mut buf, true, Some(addr(2)), waker)
        else {
            panic!("a datagram from the peer");
        };
        assert_eq!((from, &buf), (addr(2), b"abc"));
        assert!(matches!(
            inbox.receive(0, &mut buf, false, None, waker),
            Step::Ready(Ok((3, _)))
        ));
        assert_eq!(inbox.bytes, 0);
    }

    #[test]
    fn a_full_inbox_drops() {
        let mut inbox = Inbox::default();
        let mut wakers = Vec::new();
        let big = vec![0; INBOX_CAPACITY];
        assert!(inbox.deliver(addr(1), &big, 0, &mut wakers));
        assert!(!inbox.deliver(addr(1), b"x", 0, &mut wakers));
    }
}
