//! [`UnixDatagram`]: Unix-domain datagram sockets.
//!
//! # What it owns
//! One mio Unix datagram socket, registered for reading and writing. Dropping it
//! deregisters and closes it; a socket bound to a path does not remove the file.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use crate::io::{Direction, PollEvented};

/// A Unix-domain datagram socket: connected or not, bound to a path or unnamed.
///
/// # Examples
/// ```
/// use ticktock_executor::net::UnixDatagram;
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (a, b) = UnixDatagram::pair().unwrap();
///     a.send(b"one datagram").await.unwrap();
///     let mut buf = [0; 32];
///     let len = b.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..len], b"one datagram");
/// });
/// ```
pub struct UnixDatagram {
    io: PollEvented<mio::net::UnixDatagram>,
}

impl UnixDatagram {
    /// A socket bound to `path` (the file must not exist).
    ///
    /// # Errors
    /// The OS's `bind` error, e.g. [`io::ErrorKind::AddrInUse`].
    ///
    /// # Panics
    /// Panics outside a ticktock runtime.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixDatagram;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("ticktock-dgram-doc-{}", std::process::id()));
    ///     std::fs::create_dir_all(&dir).unwrap();
    ///     let path = dir.join("bound.sock");
    ///     let _ = std::fs::remove_file(&path);
    ///     let socket = UnixDatagram::bind(&path).unwrap();
    ///     assert_eq!(socket.local_addr().unwrap().as_pathname(), Some(path.as_path()));
    ///     std::fs::remove_dir_all(&dir).unwrap();
    /// });
    /// ```
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        UnixDatagram::from_mio(mio::net::UnixDatagram::bind(path)?)
    }

    /// An unnamed, unconnected socket: it can send to paths and, once connected,
    /// to its peer.
    ///
    /// # Errors
    /// The OS's `socket` error.
    ///
    /// # Panics
    /// Panics outside a ticktock runtime.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixDatagram;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UnixDatagram::unbound().unwrap();
    ///     assert!(socket.local_addr().unwrap().is_unnamed());
    /// });
    /// ```
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_mio(mio::net::UnixDatagram::unbound()?)
    }

    /// Two sockets connected to each other.
    ///
    /// # Errors
    /// The OS's `socketpair` error.
    ///
    /// # Panics
    /// Panics outside a ticktock runtime.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixDatagram;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = UnixDatagram::pair().unwrap();
    ///     assert!(a.peer_addr().unwrap().is_unnamed());
    /// });
    /// ```
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = mio::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_mio(a)?, UnixDatagram::from_mio(b)?))
    }

    /// Wraps a socket made by the standard library (switching it to non-blocking
    /// mode) and registers it with the current runtime.
    ///
    /// # Errors
    /// Fails if the socket cannot be made non-blocking or registered.
    ///
    /// # Panics
    /// Panics outside a ticktock runtime.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixDatagram;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let (a, _b) = std::os::unix::net::UnixDatagram::pair().unwrap();
    /// let _guard = rt.enter();
    /// let a = UnixDatagram::from_std(a).unwrap();
    /// assert!(a.peer_addr().is_ok());
    /// ```
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        UnixDatagram::from_mio(mio::net::UnixDatagram::from_std(socket))
    }

    fn from_mio(socket: mio::net::UnixDatagram) -> io::Result<UnixDatagram> {
        let io = PollEvented::new(socket, mio::Interest::READABLE | mio::Interest::WRITABLE)?;
        Ok(UnixDatagram { io })
    }

    /// Sets the one peer this socket talks to.
    ///
    /// # Errors
    /// The OS's `connect` error (no socket bound at `path`, ...).
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixDatagram;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UnixDatagram::unbound().unwrap();
    ///     assert!(socket.connect("/nonexistent/ticktock.sock").is_err());
    /// });
    /// ```
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.io.get_ref().connect(path)
    }

    /// Sends `buf` as one datagram to the connected peer.
    ///
    /// # Errors
    /// [`io::ErrorKind::NotConnected`] before [`UnixDatagram::connect`], or the
    /// OS's `send` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixDatagram;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = UnixDatagram::pair().unwrap();
    ///     assert_eq!(a.send(b"abc").await.unwrap(), 3);
    /// });
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_io(cx, Direction::Write, |s| s.send(buf))).await
    }

    /// Receives one datagram from the connected peer into `buf` (truncated if
    /// longer).
    ///
    /// # Errors
    /// The OS's `recv` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixDatagram;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, b) = UnixDatagram::pair().unwrap();
    ///     a.send(b"xyz").await.unwrap();
    ///     let mut buf = [0; 2];
    ///     assert_eq!(b.recv(&mut buf).await.unwrap(), 2, "truncated to the buffer");
    /// });
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_io(cx, Direction::Read, |s| s.recv(buf))).await
    }

    /// Sends `buf` as one datagram to the socket bound at `path`.
    ///
    /// # Errors
    /// The OS's `sendto` error (nothing bound there, ...).
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixDatagram;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UnixDatagram::unbound().unwrap();
    ///     assert!(socket.send_to(b"lost", "/nonexistent/ticktock.sock").await.is_err());
    /// });
    /// ```
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        poll_fn(|cx| {
            self.io
                .poll_io(cx, Direction::Write, |s| s.send_to(buf, path))
        })
        .await
    }

    /// Receives one datagram into `buf`; returns its length and the sender's
    /// address (unnamed for an unbound sender).
    ///
    /// # Errors
    /// The OS's `recvfrom` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixDatagram;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, b) = UnixDatagram::pair().unwrap();
    ///     a.send(b"from a").await.unwrap();
    ///     let mut buf = [0; 16];
    ///     let (len, from) = b.recv_from(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..len], b"from a");
    ///     assert!(from.is_unnamed());
    /// });
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.io.poll_io(cx, Direction::Read, |s| s.recv_from(buf))).await
    }

    /// Waits until the socket looks readable (the wake-up can be spurious).
    ///
    /// # Errors
    /// None today; the `Result` keeps tokio's signature.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixDatagram;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, b) = UnixDatagram::pair().unwrap();
    ///     a.send(b"!").await.unwrap();
    ///     b.readable().await.unwrap();
    ///     let mut buf = [0; 1];
    ///     assert_eq!(b.try_recv(&mut buf).unwrap(), 1);
    /// });
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Direction::Read).await
    }

    /// Waits until the socket looks writable (the wake-up can be spurious).
    ///
    /// # Errors
    /// None today; the `Result` keeps tokio's signature.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixDatagram;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = UnixDatagram::pair().unwrap();
    ///     a.writable().await.unwrap();
    ///     assert_eq!(a.try_send(b"?").unwrap(), 1);
    /// });
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Direction::Write).await
    }

    /// Receives once without waiting: [`io::ErrorKind::WouldBlock`] when no
    /// datagram is queued.
    ///
    /// # Errors
    /// `WouldBlock`, or the OS's `recv` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixDatagram;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (_a, b) = UnixDatagram::pair().unwrap();
    ///     let mut buf = [0; 1];
    ///     assert_eq!(b.try_recv(&mut buf).unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
    /// });
    /// ```
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |s| s.recv(buf))
    }

    /// Sends once without waiting (see [`UnixDatagram::try_recv`]).
    ///
    /// # Errors
    /// `WouldBlock` when the socket's queue is full, or the OS's `send` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixDatagram;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = UnixDatagram::pair().unwrap();
    ///     a.writable().await.unwrap();
    ///     assert_eq!(a.try_send(b"ok").unwrap(), 2);
    /// });
    /// ```
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |s| s.send(buf))
    }

    /// This socket's address (unnamed unless bound to a path).
    ///
    /// # Errors
    /// The OS's `getsockname` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixDatagram;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = UnixDatagram::pair().unwrap();
    ///     assert!(a.local_addr().unwrap().is_unnamed());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    /// [`io::ErrorKind::NotConnected`] when not connected.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixDatagram;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UnixDatagram::unbound().unwrap();
    ///     assert!(socket.peer_addr().is_err());
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down receiving, sending, or both.
    ///
    /// # Errors
    /// The OS's `shutdown` error.
    ///
    /// # Examples
    /// ```
    /// use std::net::Shutdown;
    /// use ticktock_executor::net::UnixDatagram;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = UnixDatagram::pair().unwrap();
    ///     a.shutdown(Shutdown::Write).unwrap();
    ///     assert!(a.send(b"late").await.is_err());
    /// });
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Takes the socket's pending error (`SO_ERROR`).
    ///
    /// # Errors
    /// The OS's `getsockopt` error (the pending error is the `Ok` value).
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixDatagram;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = UnixDatagram::pair().unwrap();
    ///     assert!(a.take_error().unwrap().is_none());
    /// });
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl_as_fd!(UnixDatagram);

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}
