//! The simulated network of one runtime: hosts, listeners, connections, UDP
//! sockets and links, in memory, in virtual time.
//!
//! # What it owns
//! [`Network`]: one lock over the whole fabric's [`State`]. A runtime built with
//! `Builder::simulated_network(seed)` (or by `sim::Builder`) holds one in `Shared`;
//! `ticktock::net`'s sockets created on that runtime talk through it instead of
//! the OS, and `ticktock::sim::net`'s controls change its links.
//!
//! | part | kept in | file |
//! |---|---|---|
//! | links: latency, loss, cuts | `Links` | `links.rs` |
//! | TCP listeners and their accept queues | `BTreeMap<SocketAddr, ListenerId>`, `BTreeMap<ListenerId, Listener>` | here |
//! | TCP connections: two pipes of segments | `BTreeMap<ConnId, Connection>` | `tcp.rs` |
//! | UDP sockets: inboxes of datagrams | `BTreeMap<SocketAddr, SocketId>`, `BTreeMap<SocketId, UdpState>` | `udp.rs` |
//! | ports: ephemeral allocation | one cursor per protocol and IP address | here |
//! | random draws (loss) | counter-based, from the seed | `rng.rs` |
//!
//! # Addresses
//! A host is an IP address. A listener or UDP socket binds an address such as
//! `127.0.0.1:80` or `10.0.0.1:80`; binding `0.0.0.0:p` (or `[::]:p`) receives what
//! is sent to port `p` of any address of that family. Port 0 takes the next free
//! port of the ephemeral range 32768–60999 (Linux's `ip_local_port_range`), in
//! order from a cursor per protocol and address, so the same program gets the same ports.
//!
//! # The handshake
//! `connect` from `a` to `b` at `t` sends a SYN: it is one transmission that needs
//! both directions of the link (the handshake is modelled as one unit). If it gets
//! through, it reaches `b` at `t + L(a→b)`: a listener there makes the connection,
//! the client's `connect` completes at `t + L(a→b) + L(b→a)` (the SYN-ACK) and the
//! listener's `accept` sees it one `L(a→b)` later (the ACK), as with real TCP; no
//! listener: the client gets `ConnectionRefused` at `t + L(a→b) + L(b→a)`, one
//! round trip. A dropped SYN is sent again after 1, 2, 4, … s; after
//! [`SYN_RETRIES`] retries `connect` fails with `TimedOut` (at `t + 127 s`, as
//! Linux's `tcp_syn_retries = 6`).
//!
//! The connect future (`sockets.rs`, `SimStream::connect`) walks this table; the
//! fabric answers each row's question (`syn`, `syn_arrived`):
//!
//! | state | event | next |
//! |---|---|---|
//! | SYN try `k` at `t` | both directions up, the draw keeps it | wait until `t + L(a→b)`, then "SYN arrived" |
//! | SYN try `k` at `t`, `k < SYN_RETRIES` | cut (either direction) or dropped | wait until `t + SYN_RTO << k`, SYN try `k + 1` |
//! | SYN try `SYN_RETRIES` at `t` | cut or dropped | wait until `t + SYN_RTO << SYN_RETRIES`, `TimedOut` |
//! | SYN arrived at `s` | a listener bound there (or at the wildcard) | connection made (client port chosen), queued for `accept` at `s + L(b→a) + L(a→b)`; wait until `s + L(b→a)`, connected |
//! | SYN arrived at `s` | nothing bound | wait until `s + L(b→a)`, `ConnectionRefused` |
//! | any wait | the connect future dropped | nothing more; after "connection made", the client end closes (FIN) |
//!
//! # Ground rules
//! - One lock, never held while a task is woken or a user's code runs: wakers are
//!   collected and woken after the lock is released.
//! - Ordered maps only: no behaviour depends on hashing or on addresses in memory.
//! - "Now" is an argument (the runtime's clock, read by the caller): the fabric
//!   reads no clock, so virtual time is the only time it knows.
//! - Every link change settles every connection's transmissions due by "now"
//!   first (see `tcp.rs`), so the change applies from "now" on.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr};
use std::sync::{Mutex, MutexGuard};
use std::task::Waker;

use ticktock_timer::Nanos;

use crate::sim::net::links::{Link, Links, Transmit};
use crate::sim::net::rng;
use crate::sim::net::tcp::{Closing, Connection, Side, Step};
use crate::sim::net::udp::Inbox;

/// The ephemeral port range, Linux's default `ip_local_port_range`.
const EPHEMERAL_PORTS: std::ops::RangeInclusive<u16> = 32768..=60999;

/// `tcp_syn_retries`' default: SYN retransmissions before `connect` fails with
/// `TimedOut`.
pub(crate) const SYN_RETRIES: u32 = 6;

/// `TCP_TIMEOUT_INIT`: the first SYN retransmission timeout (1 s), doubled per
/// retry: 1 + 2 + 4 + 8 + 16 + 32 + 64 = 127 s before `connect` gives up.
pub(crate) const SYN_RTO: Nanos = 1_000_000_000;

/// The largest UDP payload over IPv4 (65,535 minus the IP and UDP headers);
/// a larger datagram fails with `InvalidInput`, as `EMSGSIZE` does.
const MAX_DATAGRAM: usize = 65_507;

/// Draw streams of connect attempts and UDP sockets are offset from connection
/// streams (`2 * id + side`) by this bit, so they never share one.
const ATTEMPT_STREAM: u64 = 1 << 63;

/// Which port namespace an address is in: TCP and UDP ports are separate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Protocol {
    Tcp,
    Udp,
}

/// A TCP listener's accept queue.
#[derive(Debug)]
struct Listener {
    addr: SocketAddr,
    /// Connections handshaken with this listener: (ready instant, connection, peer).
    backlog: VecDeque<(Nanos, u64, SocketAddr)>,
    acceptor: Option<Waker>,
}

/// A bound UDP socket.
#[derive(Debug)]
struct UdpState {
    addr: SocketAddr,
    inbox: Inbox,
    /// Datagrams sent so far (the index of the next one's loss draw).
    sent: u64,
}

/// A connection that `connect` established (see "The handshake").
#[derive(Debug)]
pub(crate) struct Established {
    pub(crate) conn: u64,
    pub(crate) local: SocketAddr,
    /// When the client's `connect` completes.
    pub(crate) ready_at: Nanos,
}

/// Everything under the network's lock (see the module docs).
#[derive(Debug, Default)]
struct State {
    links: Links,
    tcp_bound: BTreeMap<SocketAddr, u64>,
    listeners: BTreeMap<u64, Listener>,
    /// Client ends' addresses, so ephemeral ports are not handed out twice.
    tcp_clients: BTreeSet<SocketAddr>,
    connections: BTreeMap<u64, Connection>,
    udp_bound: BTreeMap<SocketAddr, u64>,
    udp: BTreeMap<u64, UdpState>,
    /// The next ephemeral port to try, per protocol and IP address.
    port_cursor: BTreeMap<(Protocol, IpAddr), u16>,
    next_id: u64,
}

/// The simulated network of one runtime (see the module docs).
#[derive(Debug)]
pub(crate) struct Network {
    seed: u64,
    state: Mutex<State>,
}

/// The host a socket with no address of its own speaks from: the loopback
/// address of `peer`'s family.
pub(crate) fn default_host(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
    }
}

/// The unspecified address of `ip`'s family (`0.0.0.0` or `::`).
fn unspecified(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

/// What is bound at `addr` in `bound`: exactly there, or at the wildcard address
/// of its family and port.
fn lookup(bound: &BTreeMap<SocketAddr, u64>, addr: SocketAddr) -> Option<u64> {
    bound
        .get(&addr)
        .or_else(|| bound.get(&SocketAddr::new(unspecified(addr.ip()), addr.port())))
        .copied()
}

/// Whether binding `addr` clashes with an address already in `taken`: the same
/// port on the same address, or on a wildcard of the family on either side.
fn clashes(taken: impl Iterator<Item = SocketAddr>, addr: SocketAddr) -> bool {
    taken.into_iter().any(|other| {
        other.port() == addr.port()
            && other.is_ipv4() == addr.is_ipv4()
            && (other.ip() == addr.ip()
                || other.ip().is_unspecified()
                || addr.ip().is_unspecified())
    })
}

/// Wakes what an operation collected, after the lock is released.
fn wake(wakers: Vec<Waker>) {
    for waker in wakers {
        waker.wake();
    }
}

impl State {
    fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// `addr` with its port chosen if it is 0, unless it is taken (`AddrInUse`).
    fn claim(
        &mut self,
        protocol: Protocol,
        addr: SocketAddr,
        taken: &[SocketAddr],
    ) -> io::Result<SocketAddr> {
        if addr.port() != 0 {
            if clashes(taken.iter().copied(), addr) {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("ticktock::sim::net: {addr} is already bound"),
                ));
            }
            return Ok(addr);
        }
        let span = usize::from(EPHEMERAL_PORTS.end() - EPHEMERAL_PORTS.start()) + 1;
        let cursor = self
            .port_cursor
            .entry((protocol, addr.ip()))
            .or_insert(*EPHEMERAL_PORTS.start());
        for _ in 0..span {
            let candidate = SocketAddr::new(addr.ip(), *cursor);
            *cursor = if *cursor == *EPHEMERAL_PORTS.end() {
                *EPHEMERAL_PORTS.start()
            } else {
                *cursor + 1
            };
            if !clashes(taken.iter().copied(), candidate) {
                return Ok(candidate);
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            format!(
                "ticktock::sim::net: no ephemeral port left on {}",
                addr.ip()
            ),
        ))
    }

    fn tcp_taken(&self) -> Vec<SocketAddr> {
        self.tcp_bound
            .keys()
            .chain(self.tcp_clients.iter())
            .copied()
            .collect()
    }

    fn settle_all(&mut self, seed: u64, now: Nanos, wakers: &mut Vec<Waker>) {
        for connection in self.connections.values_mut() {
            connection.settle(&self.links, seed, now, wakers);
        }
    }

    fn connection(&mut self, conn: u64) -> &mut Connection {
        self.connections
            .get_mut(&conn)
            .expect("ticktock::sim::net: a stream outlived its connection (a bug)")
    }

    /// Closes `side` of `conn` and forgets the connection once both ends closed.
    fn close_end(
        &mut self,
        conn: u64,
        side: Side,
        closing: Closing,
        seed: u64,
        now: Nanos,
        wakers: &mut Vec<Waker>,
    ) {
        let links = &self.links;
        let connection = self
            .connections
            .get_mut(&conn)
            .expect("ticktock::sim::net: a stream outlived its connection (a bug)");
        connection.close(side, closing, now, links, seed, wakers);
        if side == Side::Client {
            self.tcp_clients.remove(&connection.addrs(Side::Client).0);
        }
        if connection.is_finished() {
            self.connections.remove(&conn);
        }
    }
}

impl Network {
    /// An empty network whose random draws come from `seed`.
    pub(crate) fn new(seed: u64) -> Network {
        Network {
            seed,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No operation runs user code under the lock, so a poisoned lock (a bug
        // panicking half-way) is still consistent enough to report from.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies `change` to the links from `now` on: every transmission due by `now`
    /// is settled under the old links first (a change never rewrites the past),
    /// and what settling woke is woken after unlocking.
    fn change_links(&self, now: Nanos, change: impl FnOnce(&mut Links)) {
        let mut wakers = Vec::new();
        let mut state = self.lock();
        state.settle_all(self.seed, now, &mut wakers);
        change(&mut state.links);
        drop(state);
        wake(wakers);
    }

    /// Sets the link from `from` to `to` from `now` on.
    pub(crate) fn set_link(&self, from: IpAddr, to: IpAddr, link: Link, now: Nanos) {
        self.change_links(now, |links| links.set(from, to, link));
    }

    /// Sets the link of every pair without one of its own, from `now` on.
    pub(crate) fn set_default_link(&self, link: Link, now: Nanos) {
        self.change_links(now, |links| links.set_default(link));
    }

    /// Cuts (`true`) or restores the direction from `from` to `to`, from `now` on.
    pub(crate) fn set_cut(&self, from: IpAddr, to: IpAddr, cut: bool, now: Nanos) {
        self.change_links(now, |links| links.set_cut(from, to, cut));
    }

    /// The link from `from` to `to` now.
    pub(crate) fn link(&self, from: IpAddr, to: IpAddr) -> Link {
        self.lock().links.link(from, to)
    }

    /// Binds a TCP listener; returns its id and address (port 0 chosen).
    pub(crate) fn listen(&self, addr: SocketAddr) -> io::Result<(u64, SocketAddr)> {
        let mut state = self.lock();
        let taken = state.tcp_taken();
        let addr = state.claim(Protocol::Tcp, addr, &taken)?;
        let id = state.next_id();
        state.tcp_bound.insert(addr, id);
        state.listeners.insert(
            id,
            Listener {
                addr,
                backlog: VecDeque::new(),
                acceptor: None,
            },
        );
        Ok((id, addr))
    }

    /// The next connection of listener `id` whose handshake is done by `now`:
    /// (connection, listener-side address, peer).
    pub(crate) fn accept(
        &self,
        id: u64,
        now: Nanos,
        waker: &Waker,
    ) -> Step<(u64, SocketAddr, SocketAddr)> {
        let mut state = self.lock();
        let listener = state
            .listeners
            .get_mut(&id)
            .expect("ticktock::sim::net: a listener outlived its entry (a bug)");
        match listener.backlog.front() {
            Some(&(ready_at, conn, peer)) if ready_at <= now => {
                listener.backlog.pop_front();
                let local = state.connection(conn).addrs(Side::Server).0;
                Step::Ready(Ok((conn, local, peer)))
            }
            next => {
                let next = next.map(|&(ready_at, _, _)| ready_at);
                listener.acceptor = Some(waker.clone());
                Step::Wait(next)
            }
        }
    }

    /// Unbinds listener `id`; connections it never accepted are reset (`Abort`).
    pub(crate) fn close_listener(&self, id: u64, now: Nanos) {
        let mut wakers = Vec::new();
        let mut state = self.lock();
        let Some(listener) = state.listeners.remove(&id) else {
            return;
        };
        state.tcp_bound.remove(&listener.addr);
        for (_, conn, _) in listener.backlog {
            // The server end was never handed out: the client is reset, as by a
            // real listener's close.
            state.close_end(
                conn,
                Side::Server,
                Closing::Abort,
                self.seed,
                now,
                &mut wakers,
            );
        }
        drop(state);
        wake(wakers);
    }

    /// Wakes every task waiting in `accept` (a draining runtime refuses them).
    pub(crate) fn wake_acceptors(&self) {
        let wakers: Vec<Waker> = self
            .lock()
            .listeners
            .values_mut()
            .filter_map(|listener| listener.acceptor.take())
            .collect();
        wake(wakers);
    }

    /// A new connect attempt's id (the stream of its SYNs' loss draws).
    pub(crate) fn connect_attempt(&self) -> u64 {
        self.lock().next_id()
    }

    /// Try `try_number` of connect attempt `attempt`'s SYN from `from` to `to` at
    /// `at` (see "The handshake").
    pub(crate) fn syn(
        &self,
        attempt: u64,
        try_number: u32,
        from: IpAddr,
        to: SocketAddr,
        at: Nanos,
    ) -> Transmit {
        let state = self.lock();
        let draw = rng::draw(
            self.seed,
            ATTEMPT_STREAM | (attempt << 1),
            u64::from(try_number),
        );
        if state.links.is_cut(to.ip(), from) {
            return Transmit::Dropped;
        }
        state.links.transmit(from, to.ip(), at, draw)
    }

    /// A SYN from `from` reached `to` at `at`: the connection, or
    /// `Err(refused_at)` when nothing listens there.
    pub(crate) fn syn_arrived(
        &self,
        from: IpAddr,
        to: SocketAddr,
        at: Nanos,
    ) -> Result<io::Result<Established>, Nanos> {
        let mut wakers = Vec::new();
        let mut state = self.lock();
        let back = state.links.link(to.ip(), from).latency_nanos();
        let forth = state.links.link(from, to.ip()).latency_nanos();
        let Some(listener) = lookup(&state.tcp_bound, to) else {
            return Err(at.saturating_add(back));
        };
        let taken = state.tcp_taken();
        let local = match state.claim(Protocol::Tcp, SocketAddr::new(from, 0), &taken) {
            Ok(local) => local,
            Err(error) => return Ok(Err(error)),
        };
        let conn = state.next_id();
        state.tcp_clients.insert(local);
        state
            .connections
            .insert(conn, Connection::new(conn, local, to));
        let ready_at = at.saturating_add(back);
        let listener = state
            .listeners
            .get_mut(&listener)
            .expect("ticktock::sim::net: a bound address without its listener (a bug)");
        // In order of readiness (clients on slower links finish later), in order
        // of arrival among equals.
        let accept_at = ready_at.saturating_add(forth);
        let position = listener
            .backlog
            .partition_point(|&(other, _, _)| other <= accept_at);
        listener.backlog.insert(position, (accept_at, conn, local));
        wakers.extend(listener.acceptor.take());
        drop(state);
        wake(wakers);
        Ok(Ok(Established {
            conn,
            local,
            ready_at,
        }))
    }

    /// Runs `op` on connection `conn` brought up to `now` (its transmissions due by
    /// then settled), under the lock; wakes what settling and `op` woke after
    /// unlocking. `op` gets the links and the seed for what it sends.
    fn on_connection<R>(
        &self,
        conn: u64,
        now: Nanos,
        op: impl FnOnce(&mut Connection, &Links, u64, &mut Vec<Waker>) -> R,
    ) -> R {
        let mut wakers = Vec::new();
        let mut state = self.lock();
        let State {
            links, connections, ..
        } = &mut *state;
        let connection = connections
            .get_mut(&conn)
            .expect("ticktock::sim::net: a stream outlived its connection (a bug)");
        connection.settle(links, self.seed, now, &mut wakers);
        let result = op(connection, links, self.seed, &mut wakers);
        drop(state);
        wake(wakers);
        result
    }

    /// Reads (or peeks) what has arrived at `side` of `conn` by `now`.
    pub(crate) fn read(
        &self,
        conn: u64,
        side: Side,
        now: Nanos,
        buf: &mut [u8],
        peek: bool,
        waker: Option<&Waker>,
    ) -> Step<usize> {
        self.on_connection(conn, now, |connection, _, _, wakers| {
            connection.read(side, now, buf, peek, waker, wakers)
        })
    }

    /// Writes from `side` of `conn` at `now`.
    pub(crate) fn write(
        &self,
        conn: u64,
        side: Side,
        now: Nanos,
        data: &[u8],
        waker: Option<&Waker>,
    ) -> Step<usize> {
        self.on_connection(conn, now, |connection, links, seed, wakers| {
            connection.write(side, now, data, links, seed, waker, wakers)
        })
    }

    /// Whether `side` of `conn` can write at `now` (see `Connection::writable`).
    pub(crate) fn writable(
        &self,
        conn: u64,
        side: Side,
        now: Nanos,
        waker: Option<&Waker>,
    ) -> Step<()> {
        self.on_connection(conn, now, |connection, _, _, _| {
            connection.writable(side, now, waker)
        })
    }

    /// `shutdown(how)` on `side` of `conn` at `now`.
    pub(crate) fn shutdown(&self, conn: u64, side: Side, how: Shutdown, now: Nanos) {
        self.on_connection(conn, now, |connection, links, seed, wakers| {
            if matches!(how, Shutdown::Read | Shutdown::Both) {
                connection.shutdown_read(side, wakers);
            }
            if matches!(how, Shutdown::Write | Shutdown::Both) {
                connection.shutdown_write(side, now, links, seed, wakers);
            }
        });
    }

    /// The stream of `side` of `conn` was dropped at `now`.
    pub(crate) fn close_stream(&self, conn: u64, side: Side, now: Nanos) {
        let mut wakers = Vec::new();
        self.lock()
            .close_end(conn, side, Closing::Drop, self.seed, now, &mut wakers);
        wake(wakers);
    }

    /// Binds a UDP socket; returns its id and address (port 0 chosen).
    pub(crate) fn udp_bind(&self, addr: SocketAddr) -> io::Result<(u64, SocketAddr)> {
        let mut state = self.lock();
        let taken: Vec<SocketAddr> = state.udp_bound.keys().copied().collect();
        let addr = state.claim(Protocol::Udp, addr, &taken)?;
        let id = state.next_id();
        state.udp_bound.insert(addr, id);
        state.udp.insert(
            id,
            UdpState {
                addr,
                inbox: Inbox::default(),
                sent: 0,
            },
        );
        Ok((id, addr))
    }

    /// Sends a datagram from socket `id` to `to` at `now`; it may be lost (see
    /// `udp.rs`), which the sender, as with real UDP, is not told.
    pub(crate) fn udp_send(
        &self,
        id: u64,
        to: SocketAddr,
        data: &[u8],
        now: Nanos,
    ) -> io::Result<usize> {
        if data.len() > MAX_DATAGRAM {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "ticktock::sim::net: datagram larger than 65,507 bytes",
            ));
        }
        let mut wakers = Vec::new();
        let mut state = self.lock();
        let socket = state
            .udp
            .get_mut(&id)
            .expect("ticktock::sim::net: a UDP socket outlived its entry (a bug)");
        let index = socket.sent;
        socket.sent += 1;
        let mut from = socket.addr;
        if from.ip().is_unspecified() {
            from.set_ip(default_host(to.ip()));
        }
        let draw = rng::draw(self.seed, ATTEMPT_STREAM | (id << 1) | 1, index);
        if let Transmit::Arrives(at) = state.links.transmit(from.ip(), to.ip(), now, draw) {
            if let Some(target) = lookup(&state.udp_bound, to) {
                let inbox = &mut state
                    .udp
                    .get_mut(&target)
                    .expect("ticktock::sim::net: a bound address without its socket (a bug)")
                    .inbox;
                inbox.deliver(from, data, at, &mut wakers);
            }
        }
        drop(state);
        wake(wakers);
        Ok(data.len())
    }

    /// Receives (or peeks) the earliest datagram that has arrived at socket `id`
    /// by `now`, from `only` if given.
    pub(crate) fn udp_receive(
        &self,
        id: u64,
        now: Nanos,
        buf: &mut [u8],
        peek: bool,
        only: Option<SocketAddr>,
        waker: Option<&Waker>,
    ) -> Step<(usize, SocketAddr)> {
        let mut state = self.lock();
        let socket = state
            .udp
            .get_mut(&id)
            .expect("ticktock::sim::net: a UDP socket outlived its entry (a bug)");
        socket.inbox.receive(now, buf, peek, only, waker)
    }

    /// Unbinds UDP socket `id`, discarding what it has not received.
    pub(crate) fn udp_close(&self, id: u64) {
        let mut state = self.lock();
        if let Some(socket) = state.udp.remove(&id) {
            state.udp_bound.remove(&socket.addr);
        }
    }
}

#[cfg(test)]
mod tests;
