//! [`UdpSocket`]: datagrams, to any address or, once connected, to one peer.
//!
//! # What it owns
//! One mio UDP socket, registered for reading and writing. Dropping it deregisters
//! and closes it.
//!
//! # Errors from earlier datagrams
//! On a connected socket, an ICMP "port unreachable" for an earlier datagram is
//! reported by the next `recv` or `send` as [`io::ErrorKind::ConnectionRefused`];
//! the socket stays usable afterwards.
//!
//! # Real or simulated
//! On a runtime with a simulated network (`sim::net`), `bind` binds a virtual
//! address in it instead (`sim/net/sockets.rs`): datagrams go through its links
//! (latency, loss, partitions), sends never wait, no ICMP error is simulated, and
//! the multicast options return [`io::ErrorKind::Unsupported`].

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use crate::io::{Direction, PollEvented};
use crate::net::addr::{self, ToSocketAddrs};
use crate::sim::net::sockets::{self, SimUdp};

mod options;

/// A UDP socket.
///
/// Sending and receiving take `&self`, so one socket can be shared by reference
/// (or an `Arc`) between a task that sends and a task that receives.
///
/// # Examples
/// ```
/// use ticktock_executor::net::UdpSocket;
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0; 16];
///     let (len, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!(&buf[..len], b"ping");
///     assert_eq!(from, a.local_addr().unwrap());
/// });
/// ```
pub struct UdpSocket {
    inner: Inner,
}

/// What a [`UdpSocket`] is (see "Real or simulated").
enum Inner {
    Real(PollEvented<mio::net::UdpSocket>),
    Sim(Box<SimUdp>),
}

impl UdpSocket {
    /// Binds a socket to `addr` (the first resolved address that binds). Port 0
    /// asks the OS for a free port.
    ///
    /// # Errors
    /// The last address's error, e.g. [`io::ErrorKind::AddrInUse`].
    ///
    /// # Panics
    /// Panics outside a ticktock runtime.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert_ne!(socket.local_addr().unwrap().port(), 0);
    /// });
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        if let Some((network, handle)) = sockets::current() {
            let socket = addr::first_success(addr, |addr| {
                SimUdp::bind(network.clone(), handle.clone(), addr)
            })
            .await?;
            return Ok(UdpSocket {
                inner: Inner::Sim(Box::new(socket)),
            });
        }
        let socket = addr::first_success(addr, mio::net::UdpSocket::bind).await?;
        UdpSocket::from_mio(socket)
    }

    /// Wraps a socket made by the standard library (switching it to non-blocking
    /// mode) and registers it with the current runtime.
    ///
    /// # Errors
    /// Fails if the socket cannot be made non-blocking or registered, and with
    /// [`io::ErrorKind::Unsupported`] on a runtime with a simulated network.
    ///
    /// # Panics
    /// Panics outside a ticktock runtime.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// let _guard = rt.enter();
    /// let socket = UdpSocket::from_std(std_socket).unwrap();
    /// assert!(socket.local_addr().unwrap().ip().is_loopback());
    /// ```
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        if sockets::current().is_some() {
            return Err(sockets::unsupported("UdpSocket::from_std"));
        }
        socket.set_nonblocking(true)?;
        UdpSocket::from_mio(mio::net::UdpSocket::from_std(socket))
    }

    fn from_mio(socket: mio::net::UdpSocket) -> io::Result<UdpSocket> {
        let io = PollEvented::new(socket, mio::Interest::READABLE | mio::Interest::WRITABLE)?;
        Ok(UdpSocket {
            inner: Inner::Real(io),
        })
    }

    /// The registered socket, or the error saying that a simulated socket has no
    /// OS socket for `what`.
    fn real(&self, what: &str) -> io::Result<&PollEvented<mio::net::UdpSocket>> {
        match &self.inner {
            Inner::Real(io) => Ok(io),
            Inner::Sim(_) => Err(sockets::unsupported(what)),
        }
    }

    /// The registered socket, for `AsRawFd`/`AsFd`.
    ///
    /// # Panics
    /// For a simulated socket, which has no file descriptor.
    #[cfg(unix)]
    fn fd_source(&self) -> &PollEvented<mio::net::UdpSocket> {
        match &self.inner {
            Inner::Real(io) => io,
            Inner::Sim(_) => panic!(
                "ticktock::sim::net: a simulated UdpSocket has no file descriptor \
                 (as_raw_fd/as_fd are not available inside a simulated network)"
            ),
        }
    }

    /// Runs a send that never waits on a simulated socket, after charging the
    /// cooperative budget as a real send does.
    fn poll_sim_send(
        cx: &mut Context<'_>,
        send: impl FnOnce() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        if crate::coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        Poll::Ready(send())
    }

    /// Sets the one peer this socket talks to: [`UdpSocket::send`] goes there, and
    /// [`UdpSocket::recv`] only returns datagrams from there. The first resolved
    /// address that the OS accepts is used.
    ///
    /// # Errors
    /// The last address's error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(b.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
    /// });
    /// ```
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        match &self.inner {
            Inner::Real(io) => addr::first_success(addr, |addr| io.get_ref().connect(addr)).await,
            Inner::Sim(socket) => {
                addr::first_success(addr, |addr| {
                    socket.connect(addr);
                    Ok(())
                })
                .await
            }
        }
    }

    /// Sends `buf` as one datagram to the connected peer; returns the bytes sent.
    ///
    /// # Errors
    /// [`io::ErrorKind::NotConnected`] before [`UdpSocket::connect`], or a
    /// reported error of an earlier datagram (see the module docs).
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(b.local_addr().unwrap()).await.unwrap();
    ///     b.connect(a.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(a.send(b"hi").await.unwrap(), 2);
    ///     let mut buf = [0; 8];
    ///     assert_eq!(b.recv(&mut buf).await.unwrap(), 2);
    /// });
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_send(cx, buf)).await
    }

    /// Polls to send `buf` to the connected peer (see [`UdpSocket::send`]).
    ///
    /// # Errors
    /// As [`UdpSocket::send`].
    ///
    /// # Examples
    /// ```
    /// use std::future::poll_fn;
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(a.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(poll_fn(|cx| a.poll_send(cx, b"me")).await.unwrap(), 2);
    /// });
    /// ```
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match &self.inner {
            Inner::Real(io) => io.poll_io(cx, Direction::Write, |socket| socket.send(buf)),
            Inner::Sim(socket) => UdpSocket::poll_sim_send(cx, || socket.send(buf)),
        }
    }

    /// Receives one datagram from the connected peer into `buf`; returns its
    /// length. A datagram longer than `buf` is truncated.
    ///
    /// # Errors
    /// A reported error of an earlier datagram (see the module docs), or another
    /// `recv` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.connect(socket.local_addr().unwrap()).await.unwrap();
    ///     socket.send(b"loop").await.unwrap();
    ///     let mut buf = [0; 8];
    ///     let len = socket.recv(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..len], b"loop");
    /// });
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_recv(cx, buf)).await
    }

    /// Polls to receive one datagram from the connected peer (see
    /// [`UdpSocket::recv`]).
    ///
    /// # Errors
    /// As [`UdpSocket::recv`].
    ///
    /// # Examples
    /// ```
    /// use std::future::poll_fn;
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.connect(socket.local_addr().unwrap()).await.unwrap();
    ///     socket.send(b"x").await.unwrap();
    ///     let mut buf = [0; 4];
    ///     assert_eq!(poll_fn(|cx| socket.poll_recv(cx, &mut buf)).await.unwrap(), 1);
    /// });
    /// ```
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        match &self.inner {
            Inner::Real(io) => io.poll_io(cx, Direction::Read, |socket| socket.recv(buf)),
            Inner::Sim(socket) => socket
                .poll_recv_from(cx, buf, false, true)
                .map_ok(|(len, _)| len),
        }
    }

    /// Sends `buf` as one datagram to `target` (its first resolved address);
    /// returns the bytes sent.
    ///
    /// # Errors
    /// A resolution error, or the OS's `sendto` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let sent = socket.send_to(b"self", socket.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(sent, 4);
    /// });
    /// ```
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = addr::resolve(target).await?[0];
        poll_fn(|cx| self.poll_send_to(cx, buf, target)).await
    }

    /// Polls to send `buf` to `target` (see [`UdpSocket::send_to`]).
    ///
    /// # Errors
    /// The OS's `sendto` error.
    ///
    /// # Examples
    /// ```
    /// use std::future::poll_fn;
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let me = socket.local_addr().unwrap();
    ///     assert_eq!(poll_fn(|cx| socket.poll_send_to(cx, b"ab", me)).await.unwrap(), 2);
    /// });
    /// ```
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        match &self.inner {
            Inner::Real(io) => {
                io.poll_io(cx, Direction::Write, |socket| socket.send_to(buf, target))
            }
            Inner::Sim(socket) => UdpSocket::poll_sim_send(cx, || socket.send_to(buf, target)),
        }
    }

    /// Receives one datagram into `buf`; returns its length and sender. A datagram
    /// longer than `buf` is truncated.
    ///
    /// # Errors
    /// The OS's `recvfrom` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let me = socket.local_addr().unwrap();
    ///     socket.send_to(b"echo", me).await.unwrap();
    ///     let mut buf = [0; 8];
    ///     let (len, from) = socket.recv_from(&mut buf).await.unwrap();
    ///     assert_eq!((&buf[..len], from), (&b"echo"[..], me));
    /// });
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.poll_recv_from(cx, buf)).await
    }

    /// Polls to receive one datagram (see [`UdpSocket::recv_from`]).
    ///
    /// # Errors
    /// As [`UdpSocket::recv_from`].
    ///
    /// # Examples
    /// ```
    /// use std::future::poll_fn;
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.send_to(b"z", socket.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0; 4];
    ///     let (len, _) = poll_fn(|cx| socket.poll_recv_from(cx, &mut buf)).await.unwrap();
    ///     assert_eq!(len, 1);
    /// });
    /// ```
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        match &self.inner {
            Inner::Real(io) => io.poll_io(cx, Direction::Read, |socket| socket.recv_from(buf)),
            Inner::Sim(socket) => socket.poll_recv_from(cx, buf, false, false),
        }
    }

    /// This socket's address.
    ///
    /// # Errors
    /// The OS's `getsockname` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(socket.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match &self.inner {
            Inner::Real(io) => io.get_ref().local_addr(),
            Inner::Sim(socket) => Ok(socket.local_addr()),
        }
    }

    /// The connected peer's address.
    ///
    /// # Errors
    /// [`io::ErrorKind::NotConnected`] before [`UdpSocket::connect`].
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let error = socket.peer_addr().unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::NotConnected);
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        match &self.inner {
            Inner::Real(io) => io.get_ref().peer_addr(),
            Inner::Sim(socket) => socket.peer_addr(),
        }
    }

    /// Allows (`true`) or forbids sending to broadcast addresses.
    ///
    /// # Errors
    /// The OS's `setsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.set_broadcast(true).unwrap();
    ///     assert!(socket.broadcast().unwrap());
    /// });
    /// ```
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        match &self.inner {
            Inner::Real(io) => io.get_ref().set_broadcast(on),
            Inner::Sim(socket) => {
                socket.set_broadcast(on);
                Ok(())
            }
        }
    }

    /// Whether sending to broadcast addresses is allowed.
    ///
    /// # Errors
    /// The OS's `getsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(!socket.broadcast().unwrap());
    /// });
    /// ```
    pub fn broadcast(&self) -> io::Result<bool> {
        match &self.inner {
            Inner::Real(io) => io.get_ref().broadcast(),
            Inner::Sim(socket) => Ok(socket.broadcast()),
        }
    }

    /// Takes the socket's pending error (`SO_ERROR`), clearing it.
    ///
    /// # Errors
    /// The OS's `getsockopt` error (not the pending error, which is the `Ok` value).
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(socket.take_error().unwrap().is_none());
    /// });
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        match &self.inner {
            Inner::Real(io) => io.get_ref().take_error(),
            // A simulated socket has no pending errors (no ICMP is simulated).
            Inner::Sim(_) => Ok(None),
        }
    }
}

#[cfg(unix)]
impl UdpSocket {
    /// Receives the next datagram into `buf` without removing it from the queue:
    /// the next receive returns it again. Returns its length and sender.
    ///
    /// # Errors
    /// The OS's `recvfrom` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let me = socket.local_addr().unwrap();
    ///     socket.send_to(b"twice", me).await.unwrap();
    ///     let mut buf = [0; 8];
    ///     assert_eq!(socket.peek_from(&mut buf).await.unwrap(), (5, me));
    ///     assert_eq!(socket.recv_from(&mut buf).await.unwrap(), (5, me));
    /// });
    /// ```
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        match &self.inner {
            Inner::Real(io) => {
                poll_fn(|cx| io.poll_io(cx, Direction::Read, |socket| socket.peek_from(buf))).await
            }
            Inner::Sim(socket) => poll_fn(|cx| socket.poll_recv_from(cx, buf, true, false)).await,
        }
    }

    /// Like [`UdpSocket::peek_from`] on a connected socket: the datagram stays
    /// queued.
    ///
    /// # Errors
    /// The OS's `recv` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.connect(socket.local_addr().unwrap()).await.unwrap();
    ///     socket.send(b"again").await.unwrap();
    ///     let mut buf = [0; 8];
    ///     assert_eq!(socket.peek(&mut buf).await.unwrap(), 5);
    ///     assert_eq!(socket.recv(&mut buf).await.unwrap(), 5);
    /// });
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.inner {
            Inner::Real(io) => {
                poll_fn(|cx| io.poll_io(cx, Direction::Read, |socket| socket.peek(buf))).await
            }
            Inner::Sim(socket) => poll_fn(|cx| socket.poll_recv_from(cx, buf, true, true))
                .await
                .map(|(len, _)| len),
        }
    }

    /// Waits until the socket looks readable (the wake-up can be spurious).
    ///
    /// # Errors
    /// None today; the `Result` keeps tokio's signature.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.send_to(b"!", socket.local_addr().unwrap()).await.unwrap();
    ///     socket.readable().await.unwrap();
    ///     let mut buf = [0; 1];
    ///     assert_eq!(socket.try_recv_from(&mut buf).unwrap().0, 1);
    /// });
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        match &self.inner {
            Inner::Real(io) => io.ready(Direction::Read).await,
            Inner::Sim(socket) => {
                poll_fn(|cx| socket.poll_recv_ready(cx)).await;
                Ok(())
            }
        }
    }

    /// Waits until the socket looks writable (the wake-up can be spurious).
    ///
    /// # Errors
    /// None today; the `Result` keeps tokio's signature.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.writable().await.unwrap();
    ///     let me = socket.local_addr().unwrap();
    ///     assert_eq!(socket.try_send_to(b"?", me).unwrap(), 1);
    /// });
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        match &self.inner {
            Inner::Real(io) => io.ready(Direction::Write).await,
            // A simulated send never waits.
            Inner::Sim(_) => Ok(()),
        }
    }

    /// Receives once without waiting: [`io::ErrorKind::WouldBlock`] when no
    /// datagram is queued.
    ///
    /// # Errors
    /// `WouldBlock`, or the OS's `recvfrom` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let mut buf = [0; 1];
    ///     let error = socket.try_recv_from(&mut buf).unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::WouldBlock);
    /// });
    /// ```
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        match &self.inner {
            Inner::Real(io) => io.try_io(Direction::Read, |socket| socket.recv_from(buf)),
            Inner::Sim(socket) => socket.try_recv_from(buf),
        }
    }

    /// Sends once without waiting (see [`UdpSocket::try_recv_from`]).
    ///
    /// # Errors
    /// `WouldBlock`, or the OS's `sendto` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.writable().await.unwrap();
    ///     assert_eq!(socket.try_send_to(b"ab", socket.local_addr().unwrap()).unwrap(), 2);
    /// });
    /// ```
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        match &self.inner {
            Inner::Real(io) => io.try_io(Direction::Write, |socket| socket.send_to(buf, target)),
            Inner::Sim(socket) => socket.send_to(buf, target),
        }
    }
}

impl_as_fd!(UdpSocket => fd_source);

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}
