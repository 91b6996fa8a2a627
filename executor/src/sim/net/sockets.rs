//! The simulated halves of `ticktock::net`'s socket types: what a `TcpStream`,
//! `TcpListener` or `UdpSocket` holds when its runtime has a simulated network,
//! and their poll functions.
//!
//! # What it owns
//! [`SimStream`], [`SimListener`], [`SimUdp`]: an id in the runtime's [`Network`],
//! the addresses, the options a socket can set without an OS (kept, so reading
//! them back works), and one timer slot per waiting direction.
//!
//! # How an operation waits
//! Every operation asks the fabric with the runtime's "now". The fabric answers
//! at once, or stores the task's waker and names the instant its state changes on
//! its own (a segment arriving, a retransmission, a handshake finishing); the
//! operation then sleeps on a real ticktock timer until that instant, kept in the
//! slot so a re-poll reuses it. A paused runtime's clock jumps to that deadline
//! when nothing else can run, so deliveries happen in virtual time; a writer
//! whose bytes are due at once wakes the reader through the stored waker.
//!
//! # Hosts
//! A task inside `sim::net::on_host(ip, ..)` is on host `ip`: its `connect`s speak
//! from `ip`, and its wildcard binds (`0.0.0.0:p`) bind `ip:p`. Elsewhere a
//! `connect` speaks from the loopback address of the peer's family and a wildcard
//! bind receives for every address (see `fabric.rs`).
//!
//! # Ground rules
//! - Dropping a stream closes its end in the fabric (FIN, or RST with unread
//!   data; `tcp.rs`), a listener unbinds (resetting connections it never
//!   accepted), a UDP socket unbinds.
//! - As for the real sockets: one waiting task per direction.
//! - Nothing here opens a file descriptor or registers with the reactor.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use ticktock_timer::Nanos;

use crate::runtime::shared::Handle;
use crate::sim::net::fabric::{default_host, Network, SYN_RETRIES, SYN_RTO};
use crate::sim::net::links::Transmit;
use crate::sim::net::tcp::{Side, Step};
use crate::time::Sleep;

/// Locks `mutex`, recovering it if poisoned (nothing under these locks runs user
/// code, so the data is consistent).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The error of an operation a simulated socket cannot have (a file descriptor, a
/// conversion to or from a standard library socket, multicast).
pub(crate) fn unsupported(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("ticktock::sim::net: {what} is not available on a simulated socket"),
    )
}

/// The simulated network of the current runtime, if it has one. One thread-local
/// look-up: paid by `connect` and `bind`, never by a read or a write.
pub(crate) fn current() -> Option<(Arc<Network>, Handle)> {
    crate::context::with_handle(|handle| {
        let handle = handle?;
        let network = handle.shared.network.clone()?;
        Some((network, handle.clone()))
    })
}

crate::task_local! {
    /// The host (IP address) the current task's sockets belong to, set by
    /// `sim::net::on_host` for the future it wraps.
    pub(crate) static HOST: IpAddr;
}

/// The host of the current task (`sim::net::on_host`), if one was given.
fn current_host() -> Option<IpAddr> {
    HOST.try_get().ok()
}

/// `addr` with a wildcard IP replaced by the current task's host, when it has
/// one of the same family: binding `0.0.0.0:p` on a host binds that host's port.
fn on_current_host(addr: SocketAddr) -> SocketAddr {
    match current_host() {
        Some(host) if addr.ip().is_unspecified() && host.is_ipv4() == addr.is_ipv4() => {
            SocketAddr::new(host, addr.port())
        }
        _ => addr,
    }
}

/// A timer slot: the deadline it sleeps until and its `Sleep`.
#[derive(Default)]
struct WaitSlot(Mutex<Option<(Nanos, Sleep)>>);

impl WaitSlot {
    /// Runs `op` with the runtime's now until it is ready; when it waits for an
    /// instant, sleeps until then (see the module docs). Charges the cooperative
    /// budget once.
    fn poll<T>(
        &self,
        handle: &Handle,
        cx: &mut Context<'_>,
        mut op: impl FnMut(Nanos, &Waker) -> Step<T>,
    ) -> Poll<io::Result<T>> {
        if crate::coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        loop {
            let now = handle.shared.timers.clock.runtime_nanos();
            match op(now, cx.waker()) {
                Step::Ready(result) => {
                    *lock(&self.0) = None;
                    return Poll::Ready(result);
                }
                Step::Wait(None) => {
                    *lock(&self.0) = None;
                    return Poll::Pending;
                }
                Step::Wait(Some(at)) => {
                    let mut slot = lock(&self.0);
                    if slot.as_ref().is_none_or(|(deadline, _)| *deadline != at) {
                        *slot = Some((at, Sleep::at_nanos(at)));
                    }
                    let (_, sleep) = slot.as_mut().expect("just filled");
                    // The budget was charged above, for the whole operation.
                    let fired = crate::coop::unconstrained(|| Pin::new(sleep).poll(cx));
                    if fired.is_pending() {
                        return Poll::Pending;
                    }
                    // The clock reached `at`: ask again.
                    *slot = None;
                }
            }
        }
    }
}

/// Sleeps until `at` on the current runtime's clock.
async fn sleep_until(at: Nanos) {
    Sleep::at_nanos(at).await;
}

/// The options a simulated stream keeps (they change nothing in the simulation).
#[derive(Clone, Copy, Debug)]
struct StreamOptions {
    nodelay: bool,
    ttl: u32,
    linger: Option<Duration>,
}

/// Linux's default IP time-to-live (`ip_default_ttl`).
const DEFAULT_TTL: u32 = 64;

/// One end of a simulated TCP connection (see the module docs).
pub(crate) struct SimStream {
    network: Arc<Network>,
    handle: Handle,
    conn: u64,
    side: Side,
    local: SocketAddr,
    peer: SocketAddr,
    reading: WaitSlot,
    writing: WaitSlot,
    options: Mutex<StreamOptions>,
}

impl SimStream {
    fn new(
        network: Arc<Network>,
        handle: Handle,
        conn: u64,
        side: Side,
        local: SocketAddr,
        peer: SocketAddr,
    ) -> SimStream {
        SimStream {
            network,
            handle,
            conn,
            side,
            local,
            peer,
            reading: WaitSlot::default(),
            writing: WaitSlot::default(),
            options: Mutex::new(StreamOptions {
                nodelay: false,
                ttl: DEFAULT_TTL,
                linger: None,
            }),
        }
    }

    fn now(&self) -> Nanos {
        self.handle.shared.timers.clock.runtime_nanos()
    }

    /// Connects to `to` through `network` (see `fabric.rs`, "The handshake").
    pub(crate) async fn connect(
        network: Arc<Network>,
        handle: Handle,
        to: SocketAddr,
    ) -> io::Result<SimStream> {
        crate::coop::charge().await;
        let from: IpAddr = current_host().unwrap_or_else(|| default_host(to.ip()));
        let attempt = network.connect_attempt();
        let mut at = handle.shared.timers.clock.runtime_nanos();
        let mut tries = 0;
        loop {
            match network.syn(attempt, tries, from, to, at) {
                Transmit::Arrives(arrival) => {
                    sleep_until(arrival).await;
                    return match network.syn_arrived(from, to, arrival) {
                        Err(refused_at) => {
                            sleep_until(refused_at).await;
                            Err(io::Error::new(
                                io::ErrorKind::ConnectionRefused,
                                format!("ticktock::sim::net: nothing listens on {to}"),
                            ))
                        }
                        Ok(Err(error)) => Err(error),
                        Ok(Ok(established)) => {
                            // Made before the wait: dropping the connect future
                            // closes the client end.
                            let stream = SimStream::new(
                                network,
                                handle,
                                established.conn,
                                Side::Client,
                                established.local,
                                to,
                            );
                            sleep_until(established.ready_at).await;
                            Ok(stream)
                        }
                    };
                }
                Transmit::Dropped => {
                    at = at.saturating_add(SYN_RTO << tries);
                    sleep_until(at).await;
                    if tries == SYN_RETRIES {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("ticktock::sim::net: connect to {to} timed out"),
                        ));
                    }
                    tries += 1;
                }
            }
        }
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub(crate) fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// Reads what has arrived (`peek`: without consuming it).
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        peek: bool,
    ) -> Poll<io::Result<usize>> {
        self.reading.poll(&self.handle, cx, |now, waker| {
            self.network
                .read(self.conn, self.side, now, buf, peek, Some(waker))
        })
    }

    /// Waits until a read would not wait: data, end of stream or an error.
    pub(crate) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut probe = [0; 1];
        self.poll_read(cx, &mut probe, true).map(drop)
    }

    /// Reads once without waiting (`WouldBlock` when nothing has arrived).
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self
            .network
            .read(self.conn, self.side, self.now(), buf, false, None)
        {
            Step::Ready(result) => result,
            Step::Wait(_) => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.writing.poll(&self.handle, cx, |now, waker| {
            self.network
                .write(self.conn, self.side, now, buf, Some(waker))
        })
    }

    /// Waits until a write would not wait (room in the pipe, or an error).
    pub(crate) fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.writing
            .poll(&self.handle, cx, |now, waker| {
                self.network
                    .writable(self.conn, self.side, now, Some(waker))
            })
            .map(drop)
    }

    /// Writes once without waiting (`WouldBlock` when the pipe is full).
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        match self
            .network
            .write(self.conn, self.side, self.now(), buf, None)
        {
            Step::Ready(result) => result,
            Step::Wait(_) => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    pub(crate) fn shutdown(&self, how: Shutdown) {
        self.network.shutdown(self.conn, self.side, how, self.now());
    }

    pub(crate) fn set_nodelay(&self, nodelay: bool) {
        lock(&self.options).nodelay = nodelay;
    }

    pub(crate) fn nodelay(&self) -> bool {
        lock(&self.options).nodelay
    }

    pub(crate) fn set_ttl(&self, ttl: u32) {
        lock(&self.options).ttl = ttl;
    }

    pub(crate) fn ttl(&self) -> u32 {
        lock(&self.options).ttl
    }

    pub(crate) fn set_linger(&self, linger: Option<Duration>) {
        lock(&self.options).linger = linger;
    }

    pub(crate) fn linger(&self) -> Option<Duration> {
        lock(&self.options).linger
    }
}

impl Drop for SimStream {
    fn drop(&mut self) {
        self.network.close_stream(self.conn, self.side, self.now());
    }
}

/// A simulated TCP listener (see the module docs).
pub(crate) struct SimListener {
    network: Arc<Network>,
    handle: Handle,
    id: u64,
    local: SocketAddr,
    accepting: WaitSlot,
    ttl: Mutex<u32>,
}

impl SimListener {
    /// Binds `addr` in `network`.
    pub(crate) fn bind(
        network: Arc<Network>,
        handle: Handle,
        addr: SocketAddr,
    ) -> io::Result<SimListener> {
        let (id, local) = network.listen(on_current_host(addr))?;
        Ok(SimListener {
            network,
            handle,
            id,
            local,
            accepting: WaitSlot::default(),
            ttl: Mutex::new(DEFAULT_TTL),
        })
    }

    /// The next connection whose handshake is done; refused once the runtime
    /// drains for a graceful shutdown (checked before and after waiting, as the
    /// real listener does).
    pub(crate) fn poll_accept(
        &self,
        cx: &mut Context<'_>,
        refused: impl Fn() -> io::Error,
    ) -> Poll<io::Result<(SimStream, SocketAddr)>> {
        if self.handle.shared.is_draining() {
            return Poll::Ready(Err(refused()));
        }
        let accepted = self.accepting.poll(&self.handle, cx, |now, waker| {
            self.network.accept(self.id, now, waker)
        });
        match accepted {
            Poll::Ready(Ok((conn, local, peer))) => {
                let stream = SimStream::new(
                    self.network.clone(),
                    self.handle.clone(),
                    conn,
                    Side::Server,
                    local,
                    peer,
                );
                Poll::Ready(Ok((stream, peer)))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending if self.handle.shared.is_draining() => Poll::Ready(Err(refused())),
            Poll::Pending => Poll::Pending,
        }
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub(crate) fn set_ttl(&self, ttl: u32) {
        *lock(&self.ttl) = ttl;
    }

    pub(crate) fn ttl(&self) -> u32 {
        *lock(&self.ttl)
    }
}

impl Drop for SimListener {
    fn drop(&mut self) {
        let now = self.handle.shared.timers.clock.runtime_nanos();
        self.network.close_listener(self.id, now);
    }
}

/// A simulated UDP socket (see the module docs).
pub(crate) struct SimUdp {
    network: Arc<Network>,
    handle: Handle,
    id: u64,
    local: SocketAddr,
    peer: Mutex<Option<SocketAddr>>,
    receiving: WaitSlot,
    ttl: Mutex<u32>,
    broadcast: Mutex<bool>,
}

impl SimUdp {
    /// Binds `addr` in `network`.
    pub(crate) fn bind(
        network: Arc<Network>,
        handle: Handle,
        addr: SocketAddr,
    ) -> io::Result<SimUdp> {
        let (id, local) = network.udp_bind(on_current_host(addr))?;
        Ok(SimUdp {
            network,
            handle,
            id,
            local,
            peer: Mutex::new(None),
            receiving: WaitSlot::default(),
            ttl: Mutex::new(DEFAULT_TTL),
            broadcast: Mutex::new(false),
        })
    }

    fn now(&self) -> Nanos {
        self.handle.shared.timers.clock.runtime_nanos()
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub(crate) fn peer_addr(&self) -> io::Result<SocketAddr> {
        lock(&self.peer).ok_or_else(|| io::ErrorKind::NotConnected.into())
    }

    pub(crate) fn connect(&self, peer: SocketAddr) {
        *lock(&self.peer) = Some(peer);
    }

    /// Sends to `to` now (a datagram never waits: UDP has no flow control).
    pub(crate) fn send_to(&self, buf: &[u8], to: SocketAddr) -> io::Result<usize> {
        self.network.udp_send(self.id, to, buf, self.now())
    }

    /// Sends to the connected peer.
    pub(crate) fn send(&self, buf: &[u8]) -> io::Result<usize> {
        let peer = self.peer_addr()?;
        self.send_to(buf, peer)
    }

    /// Receives (`peek`: copies) the next datagram; `connected`: only from the
    /// connected peer (`NotConnected` if there is none).
    pub(crate) fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        peek: bool,
        connected: bool,
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        let only = if connected {
            match self.peer_addr() {
                Ok(peer) => Some(peer),
                Err(error) => return Poll::Ready(Err(error)),
            }
        } else {
            *lock(&self.peer)
        };
        self.receiving.poll(&self.handle, cx, |now, waker| {
            self.network
                .udp_receive(self.id, now, buf, peek, only, Some(waker))
        })
    }

    /// Waits until a datagram has arrived.
    pub(crate) fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut probe = [0; 1];
        self.poll_recv_from(cx, &mut probe, true, false).map(drop)
    }

    /// Receives once without waiting.
    pub(crate) fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let only = *lock(&self.peer);
        match self
            .network
            .udp_receive(self.id, self.now(), buf, false, only, None)
        {
            Step::Ready(result) => result,
            Step::Wait(_) => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    pub(crate) fn set_ttl(&self, ttl: u32) {
        *lock(&self.ttl) = ttl;
    }

    pub(crate) fn ttl(&self) -> u32 {
        *lock(&self.ttl)
    }

    pub(crate) fn set_broadcast(&self, on: bool) {
        *lock(&self.broadcast) = on;
    }

    pub(crate) fn broadcast(&self) -> bool {
        *lock(&self.broadcast)
    }
}

impl Drop for SimUdp {
    fn drop(&mut self) {
        self.network.udp_close(self.id);
    }
}
