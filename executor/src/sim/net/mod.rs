//! A simulated network: `ticktock::net`'s TCP and UDP in memory, in virtual time,
//! with links whose latency and loss you set, and partitions you cut and heal.
//!
//! Inside a runtime built with a simulated network (`ticktock::sim::Builder`, or
//! `Builder::simulated_network(seed)` on a paused runtime), [`TcpListener`],
//! [`TcpStream`] and [`UdpSocket`] open no socket and no file descriptor: a
//! listener binds a virtual address (`127.0.0.1:8080`, `10.0.0.1:80`, any IP you
//! like), a connection is a pair of in-memory pipes, and a byte written at `t`
//! arrives at `t` plus the link's latency, on the runtime's clock. A server and its
//! clients written against `ticktock::net` (an axum app on `ticktock::serve`
//! included) run unmodified, and, on a paused clock, in virtual time: an hour of
//! keep-alives and timeouts takes milliseconds. This module's functions change the
//! network of the current runtime:
//!
//! | function | what it does |
//! |---|---|
//! | [`set_link`], [`set_link_oneway`] | latency and loss between two hosts (both directions, or one) |
//! | [`set_default_link`] | the link of every pair without one of its own (default: no latency, no loss) |
//! | [`link`] | the link from one host to another now |
//! | [`partition`], [`partition_oneway`] | cut the link (both directions, or one) |
//! | [`heal`], [`heal_oneway`] | restore it |
//! | [`on_host`] | run a future as a host: its connections speak from that IP, its wildcard binds bind it |
//!
//! # The model
//! - **Hosts** are IP addresses; a socket with no address of its own (a client's
//!   `connect`, a UDP socket bound to `0.0.0.0`) speaks from `127.0.0.1` (or
//!   `::1`). So `partition(server_ip, Ipv4Addr::LOCALHOST)` cuts a server bound to
//!   `server_ip` from its clients. To give clients hosts of their own (and cut one
//!   of them off), run each inside [`on_host`].
//! - **TCP** is reliable and ordered. A segment lost or sent into a partition is
//!   retransmitted after Linux's timeouts (200 ms plus the round trip, doubling, at
//!   most 120 s): it arrives after the heal, not never; after 15 retransmissions
//!   (~15 minutes) the sender's end fails with `TimedOut`. `connect` to a port
//!   nobody listens on fails with `ConnectionRefused` after one round trip;
//!   `connect` into a partition retries its SYN after 1, 2, 4, … s and fails with
//!   `TimedOut` after 127 s, as Linux's does. Closing a stream sends a FIN (the
//!   peer reads end of stream); dropping one with unread data resets the
//!   connection (the peer's reads and writes fail with `ConnectionReset`). The
//!   transition table is in the source, `sim/net/tcp.rs`.
//! - **UDP** datagrams arrive after the latency or are lost: to a cut link, to the
//!   loss draw, to an address nobody bound. The sender is not told.
//! - **Determinism.** Loss is drawn from the builder's seed by a counter-based
//!   generator (per connection direction and segment, per connect attempt, per
//!   socket and datagram), ephemeral ports are handed out in order (32768 up), and
//!   every map is ordered: the same program with the same seed on a deterministic
//!   runtime (a `sim::Runtime`, or a paused current-thread runtime) runs the same.
//! - **What a simulated socket cannot do**: `into_std`, `from_std`, multicast and
//!   `TcpSocket` return an error of kind [`Unsupported`](std::io::ErrorKind::Unsupported);
//!   `as_raw_fd`/`as_fd` panic (their signatures have no room for an error).
//!
//! [`TcpListener`]: crate::net::TcpListener
//! [`TcpStream`]: crate::net::TcpStream
//! [`UdpSocket`]: crate::net::UdpSocket
//!
//! # Files
//! | file | layer | owns |
//! |---|---|---|
//! | `mod.rs` | 5 | these controls, [`Link`]'s re-export |
//! | `sockets.rs` | 5 | the simulated halves of the socket types and their waits on ticktock timers |
//! | `fabric.rs` | 1 | `Network`: the lock, addresses and ports, listeners, the handshake, UDP delivery |
//! | `tcp.rs`, `tcp/tests.rs` | 1 | a connection: two pipes of segments, retransmission, the ends' transition table |
//! | `udp.rs` | 1 | a UDP socket's inbox |
//! | `links.rs` | 1 | [`Link`], the links and cuts |
//! | `rng.rs` | 0 | the counter-based random draws |
//!
//! # Examples
//! ```
//! use std::net::Ipv4Addr;
//! use std::time::Duration;
//! use futures::io::{AsyncReadExt, AsyncWriteExt};
//! use ticktock_executor::net::{TcpListener, TcpStream};
//! use ticktock_executor::sim::net::{heal, partition, set_link, Link};
//! use ticktock_executor::time::{sleep, Instant};
//!
//! let rt = ticktock_executor::Builder::new_current_thread()
//!     .start_paused(true)
//!     .simulated_network(1)
//!     .build()
//!     .unwrap();
//! rt.block_on(async {
//!     let server = Ipv4Addr::new(10, 0, 0, 1);
//!     set_link(server, Ipv4Addr::LOCALHOST, Link { latency: Duration::from_millis(5), loss: 0.0 });
//!     let listener = TcpListener::bind((server, 80)).await.unwrap();
//!     let mut client = TcpStream::connect((server, 80)).await.unwrap();
//!     let (mut accepted, _) = listener.accept().await.unwrap();
//!
//!     let start = Instant::now();
//!     client.write_all(b"ping").await.unwrap();
//!     let mut buf = [0; 4];
//!     accepted.read_exact(&mut buf).await.unwrap();
//!     assert_eq!(start.elapsed(), Duration::from_millis(5)); // exactly the latency
//!
//!     partition(server, Ipv4Addr::LOCALHOST);
//!     client.write_all(b"late").await.unwrap(); // queued, retransmitted
//!     let heal_later = ticktock_executor::spawn(async move {
//!         sleep(Duration::from_secs(10)).await;
//!         heal(server, Ipv4Addr::LOCALHOST);
//!     });
//!     accepted.read_exact(&mut buf).await.unwrap();
//!     assert_eq!(&buf, b"late");
//!     assert!(start.elapsed() > Duration::from_secs(10)); // after the heal
//!     heal_later.await.unwrap();
//! });
//! ```

pub(crate) mod fabric;
mod links;
pub(crate) mod rng;
pub(crate) mod sockets;
pub(crate) mod tcp;
mod udp;

pub use links::Link;

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use ticktock_timer::Nanos;

use crate::sim::net::fabric::Network;

/// Runs `f` on the current runtime's network at its "now".
#[track_caller]
fn with_network<R>(what: &str, f: impl FnOnce(&Network, Nanos) -> R) -> R {
    let found: Option<(Arc<Network>, Nanos)> = crate::context::with_handle(|handle| {
        let handle = handle?;
        let network = handle.shared.network.clone()?;
        Some((network, handle.shared.timers.clock.runtime_nanos()))
    });
    let Some((network, now)) = found else {
        panic!(
            "ticktock::sim::net::{what} was called outside a runtime with a simulated \
             network: call it inside `block_on` or a task of a `ticktock::sim::Runtime` \
             (or of a runtime built with `Builder::simulated_network`)"
        );
    };
    f(&network, now)
}

/// Sets the link between hosts `a` and `b`, both directions, from now on (data
/// already sent keeps the latency it was sent with).
///
/// # Panics
/// Outside a runtime with a simulated network, or if `link.loss` is not in `[0, 1]`.
///
/// # Examples
/// ```
/// use std::net::Ipv4Addr;
/// use std::time::Duration;
/// use ticktock_executor::sim::net::{link, set_link, Link};
///
/// let rt = ticktock_executor::Builder::new_current_thread()
///     .start_paused(true)
///     .simulated_network(1)
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     let lossy = Link { latency: Duration::from_millis(30), loss: 0.1 };
///     set_link(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2), lossy);
///     assert_eq!(link(Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 1)), lossy);
/// });
/// ```
#[track_caller]
pub fn set_link(a: impl Into<IpAddr>, b: impl Into<IpAddr>, link: Link) {
    let (a, b) = (a.into(), b.into());
    link.validate();
    with_network("set_link", |network, now| {
        network.set_link(a, b, link, now);
        network.set_link(b, a, link, now);
    });
}

/// Sets the link from host `from` to host `to` only, from now on.
///
/// # Panics
/// As [`set_link`].
///
/// # Examples
/// ```
/// use std::net::Ipv4Addr;
/// use std::time::Duration;
/// use ticktock_executor::sim::net::{link, set_link_oneway, Link};
///
/// let rt = ticktock_executor::Builder::new_current_thread()
///     .start_paused(true)
///     .simulated_network(1)
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
///     set_link_oneway(a, b, Link { latency: Duration::from_millis(80), loss: 0.0 });
///     assert_eq!(link(a, b).latency, Duration::from_millis(80));
///     assert_eq!(link(b, a), Link::default());
/// });
/// ```
#[track_caller]
pub fn set_link_oneway(from: impl Into<IpAddr>, to: impl Into<IpAddr>, link: Link) {
    let (from, to) = (from.into(), to.into());
    link.validate();
    with_network("set_link_oneway", |network, now| {
        network.set_link(from, to, link, now);
    });
}

/// Sets the link of every pair of hosts that has none of its own (at first: no
/// latency, no loss), from now on.
///
/// # Panics
/// As [`set_link`].
///
/// # Examples
/// ```
/// use std::net::Ipv4Addr;
/// use std::time::Duration;
/// use ticktock_executor::sim::net::{link, set_default_link, Link};
///
/// let rt = ticktock_executor::Builder::new_current_thread()
///     .start_paused(true)
///     .simulated_network(1)
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     set_default_link(Link { latency: Duration::from_millis(1), loss: 0.0 });
///     assert_eq!(link(Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST).latency, Duration::from_millis(1));
/// });
/// ```
#[track_caller]
pub fn set_default_link(link: Link) {
    link.validate();
    with_network("set_default_link", |network, now| {
        network.set_default_link(link, now);
    });
}

/// The link from host `from` to host `to` now (whether cut or not).
///
/// # Panics
/// Outside a runtime with a simulated network.
///
/// # Examples
/// ```
/// use std::net::Ipv4Addr;
/// use ticktock_executor::sim::net::{link, Link};
///
/// let rt = ticktock_executor::Builder::new_current_thread()
///     .start_paused(true)
///     .simulated_network(1)
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     assert_eq!(link(Ipv4Addr::LOCALHOST, Ipv4Addr::new(10, 0, 0, 1)), Link::default());
/// });
/// ```
#[track_caller]
pub fn link(from: impl Into<IpAddr>, to: impl Into<IpAddr>) -> Link {
    let (from, to) = (from.into(), to.into());
    with_network("link", |network, _| network.link(from, to))
}

/// Cuts the link between hosts `a` and `b`, both directions: TCP segments and
/// handshakes are retransmitted until [`heal`], UDP datagrams are lost.
///
/// # Panics
/// Outside a runtime with a simulated network.
///
/// # Examples
/// ```
/// use std::net::Ipv4Addr;
/// use ticktock_executor::net::{TcpListener, TcpStream};
/// use ticktock_executor::sim::net::partition;
///
/// let rt = ticktock_executor::Builder::new_current_thread()
///     .start_paused(true)
///     .simulated_network(1)
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     let server = Ipv4Addr::new(10, 0, 0, 1);
///     let _listener = TcpListener::bind((server, 80)).await.unwrap();
///     partition(server, Ipv4Addr::LOCALHOST);
///     let error = TcpStream::connect((server, 80)).await.unwrap_err();
///     assert_eq!(error.kind(), std::io::ErrorKind::TimedOut); // after 127 virtual seconds
/// });
/// ```
#[track_caller]
pub fn partition(a: impl Into<IpAddr>, b: impl Into<IpAddr>) {
    let (a, b) = (a.into(), b.into());
    with_network("partition", |network, now| {
        network.set_cut(a, b, true, now);
        network.set_cut(b, a, true, now);
    });
}

/// Cuts the direction from host `from` to host `to` only.
///
/// # Panics
/// Outside a runtime with a simulated network.
///
/// # Examples
/// ```
/// use std::net::Ipv4Addr;
/// use ticktock_executor::net::UdpSocket;
/// use ticktock_executor::sim::net::partition_oneway;
///
/// let rt = ticktock_executor::Builder::new_current_thread()
///     .start_paused(true)
///     .simulated_network(1)
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     let a = UdpSocket::bind("10.0.0.1:9000").await.unwrap();
///     let b = UdpSocket::bind("10.0.0.2:9000").await.unwrap();
///     partition_oneway(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
///     a.send_to(b"lost", "10.0.0.2:9000").await.unwrap();
///     b.send_to(b"arrives", "10.0.0.1:9000").await.unwrap();
///     let mut buf = [0; 8];
///     let (n, _) = a.recv_from(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"arrives");
///     assert!(b.try_recv_from(&mut buf).is_err());
/// });
/// ```
#[track_caller]
pub fn partition_oneway(from: impl Into<IpAddr>, to: impl Into<IpAddr>) {
    let (from, to) = (from.into(), to.into());
    with_network("partition_oneway", |network, now| {
        network.set_cut(from, to, true, now);
    });
}

/// Restores the link between hosts `a` and `b`, both directions: TCP data sent
/// into the partition arrives at its next retransmission.
///
/// # Panics
/// Outside a runtime with a simulated network.
///
/// # Examples
/// ```
/// use std::net::Ipv4Addr;
/// use std::time::Duration;
/// use ticktock_executor::net::{TcpListener, TcpStream};
/// use ticktock_executor::sim::net::{heal, partition};
/// use ticktock_executor::time::{sleep, Instant};
///
/// let rt = ticktock_executor::Builder::new_current_thread()
///     .start_paused(true)
///     .simulated_network(1)
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     let server = Ipv4Addr::new(10, 0, 0, 1);
///     let listener = TcpListener::bind((server, 80)).await.unwrap();
///     partition(server, Ipv4Addr::LOCALHOST);
///     let start = Instant::now();
///     let healer = ticktock_executor::spawn(async move {
///         sleep(Duration::from_secs(2)).await;
///         heal(server, Ipv4Addr::LOCALHOST);
///     });
///     // SYNs at 0 s and 1 s are dropped; the one at 3 s gets through.
///     let _client = TcpStream::connect((server, 80)).await.unwrap();
///     assert_eq!(start.elapsed(), Duration::from_secs(3));
///     drop(listener);
///     healer.await.unwrap();
/// });
/// ```
#[track_caller]
pub fn heal(a: impl Into<IpAddr>, b: impl Into<IpAddr>) {
    let (a, b) = (a.into(), b.into());
    with_network("heal", |network, now| {
        network.set_cut(a, b, false, now);
        network.set_cut(b, a, false, now);
    });
}

/// Restores the direction from host `from` to host `to` only.
///
/// # Panics
/// Outside a runtime with a simulated network.
///
/// # Examples
/// ```
/// use std::net::Ipv4Addr;
/// use ticktock_executor::sim::net::{heal_oneway, partition_oneway};
///
/// let rt = ticktock_executor::Builder::new_current_thread()
///     .start_paused(true)
///     .simulated_network(1)
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
///     partition_oneway(a, b);
///     heal_oneway(a, b);
/// });
/// ```
#[track_caller]
pub fn heal_oneway(from: impl Into<IpAddr>, to: impl Into<IpAddr>) {
    let (from, to) = (from.into(), to.into());
    with_network("heal_oneway", |network, now| {
        network.set_cut(from, to, false, now);
    });
}

/// Runs `future` as host `ip`: the connections it opens speak from `ip` (instead of
/// `127.0.0.1`), and its wildcard binds (`0.0.0.0:port`) bind `ip`. Tasks it spawns
/// are not on the host unless wrapped too. Outside a simulated network it changes
/// nothing.
///
/// # Examples
/// ```
/// use std::net::Ipv4Addr;
/// use ticktock_executor::net::{TcpListener, TcpStream};
/// use ticktock_executor::sim::net::{on_host, partition};
///
/// let rt = ticktock_executor::Builder::new_current_thread()
///     .start_paused(true)
///     .simulated_network(1)
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     let server = Ipv4Addr::new(10, 0, 0, 1);
///     let listener = TcpListener::bind((server, 80)).await.unwrap();
///     partition(server, Ipv4Addr::new(10, 0, 0, 2)); // only this client is cut off
///     let client = on_host(Ipv4Addr::new(10, 0, 0, 3), async {
///         TcpStream::connect((server, 80)).await.unwrap()
///     })
///     .await;
///     let (_, peer) = listener.accept().await.unwrap();
///     assert_eq!(peer, client.local_addr().unwrap());
///     assert_eq!(peer.ip(), Ipv4Addr::new(10, 0, 0, 3));
/// });
/// ```
pub fn on_host<F: Future>(ip: impl Into<IpAddr>, future: F) -> impl Future<Output = F::Output> {
    sockets::HOST.scope(ip.into(), future)
}
