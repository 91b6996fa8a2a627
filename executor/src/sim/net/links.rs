//! The links of the simulated network: per-direction latency and loss between two
//! IP addresses, and partitions.
//!
//! # What it owns
//! [`Link`] (the public description of one direction of a link) and [`Links`]: the
//! default link, the links set for particular pairs, and the cut directions. A
//! host is an IP address and nothing more: `127.0.0.1`, `10.0.0.1` and `::1` are
//! three hosts; a pair with no link of its own uses the default link, and a host
//! talking to itself uses the pair `(ip, ip)`.
//!
//! # Ground rules
//! - Everything is keyed by ordered maps (`BTreeMap`, `BTreeSet`): nothing here
//!   iterates in an order that depends on hashing.
//! - A transmission is decided at the instant it is made, under the links of that
//!   instant ([`Links::transmit`]); the fabric settles every transmission due up
//!   to "now" before it changes a link, so a change never rewrites the past.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::Duration;

use ticktock_timer::Nanos;

/// One direction of a simulated link: how long a packet takes, and the
/// probability that it is lost. A lost UDP datagram is gone; a lost TCP segment is
/// sent again after a retransmission timeout, as real TCP does.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use ticktock_executor::sim::net::Link;
///
/// let wan = Link { latency: Duration::from_millis(40), loss: 0.01 };
/// assert_eq!(Link::default(), Link { latency: Duration::ZERO, loss: 0.0 });
/// assert_ne!(wan, Link::default());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Link {
    /// One-way delay of every packet.
    pub latency: Duration,
    /// Probability in `[0, 1]` that a packet is lost.
    pub loss: f64,
}

impl Link {
    /// Panics unless `loss` is a probability (the controls call this).
    #[track_caller]
    pub(crate) fn validate(&self) {
        assert!(
            (0.0..=1.0).contains(&self.loss),
            "ticktock::sim::net: a link's loss must be a probability in [0, 1], got {}",
            self.loss
        );
    }

    /// The latency in nanoseconds (saturating: a century is as good as forever).
    pub(crate) fn latency_nanos(&self) -> Nanos {
        u64::try_from(self.latency.as_nanos()).unwrap_or(u64::MAX)
    }
}

/// What became of one packet sent at some instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transmit {
    /// It arrives at this instant.
    Arrives(Nanos),
    /// The link is cut or the loss draw took it.
    Dropped,
}

/// Every link of one simulated network (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Links {
    default: Link,
    /// Links set for particular directions `(from, to)`.
    pairs: BTreeMap<(IpAddr, IpAddr), Link>,
    /// Directions `(from, to)` that carry nothing.
    cuts: BTreeSet<(IpAddr, IpAddr)>,
}

impl Links {
    /// The link from `from` to `to`.
    pub(crate) fn link(&self, from: IpAddr, to: IpAddr) -> Link {
        self.pairs.get(&(from, to)).copied().unwrap_or(self.default)
    }

    /// Whether the direction from `from` to `to` is cut.
    pub(crate) fn is_cut(&self, from: IpAddr, to: IpAddr) -> bool {
        self.cuts.contains(&(from, to))
    }

    /// A packet sent from `from` to `to` at `at`; `draw` (in `[0, 1)`) decides loss.
    pub(crate) fn transmit(&self, from: IpAddr, to: IpAddr, at: Nanos, draw: f64) -> Transmit {
        let link = self.link(from, to);
        if self.is_cut(from, to) || draw < link.loss {
            Transmit::Dropped
        } else {
            Transmit::Arrives(at.saturating_add(link.latency_nanos()))
        }
    }

    /// Sets the link for pairs with none of their own.
    pub(crate) fn set_default(&mut self, link: Link) {
        self.default = link;
    }

    /// Sets the link from `from` to `to`.
    pub(crate) fn set(&mut self, from: IpAddr, to: IpAddr, link: Link) {
        self.pairs.insert((from, to), link);
    }

    /// Cuts (`true`) or restores the direction from `from` to `to`.
    pub(crate) fn set_cut(&mut self, from: IpAddr, to: IpAddr, cut: bool) {
        if cut {
            self.cuts.insert((from, to));
        } else {
            self.cuts.remove(&(from, to));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn pairs_override_the_default_per_direction() {
        let mut links = Links::default();
        links.set_default(Link {
            latency: Duration::from_millis(1),
            loss: 0.0,
        });
        links.set(
            ip(1),
            ip(2),
            Link {
                latency: Duration::from_millis(5),
                loss: 0.0,
            },
        );
        assert_eq!(
            links.transmit(ip(1), ip(2), 10, 0.5),
            Transmit::Arrives(5_000_010)
        );
        assert_eq!(
            links.transmit(ip(2), ip(1), 10, 0.5),
            Transmit::Arrives(1_000_010)
        );
    }

    #[test]
    fn a_cut_direction_or_a_losing_draw_drops() {
        let mut links = Links::default();
        links.set_cut(ip(1), ip(2), true);
        assert_eq!(links.transmit(ip(1), ip(2), 0, 0.9), Transmit::Dropped);
        assert_eq!(links.transmit(ip(2), ip(1), 0, 0.9), Transmit::Arrives(0));
        links.set_cut(ip(1), ip(2), false);
        links.set(
            ip(1),
            ip(2),
            Link {
                latency: Duration::ZERO,
                loss: 0.25,
            },
        );
        assert_eq!(links.transmit(ip(1), ip(2), 0, 0.2), Transmit::Dropped);
        assert_eq!(links.transmit(ip(1), ip(2), 0, 0.3), Transmit::Arrives(0));
    }

    #[test]
    #[should_panic(expected = "must be a probability")]
    fn a_loss_outside_zero_to_one_panics() {
        Link {
            latency: Duration::ZERO,
            loss: 1.5,
        }
        .validate();
    }
}
