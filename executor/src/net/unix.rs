//! Unix-domain stream sockets: [`UnixListener`] and [`UnixStream`], and the
//! halves of a split stream ([`OwnedReadHalf`] and friends).
//!
//! # What it owns
//! One mio Unix socket per value, registered with the current runtime's reactor.
//! Dropping a value deregisters and closes its socket. A listener does not remove
//! its socket file when dropped (as with the standard library): remove it, or bind
//! in a fresh directory.
//!
//! Listeners follow the same graceful-shutdown rule as
//! [`TcpListener`](super::TcpListener): once the runtime drains, accepts fail with
//! the "shutting down" error.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::path::Path;
use std::task::{Context, Poll};

use crate::io::{Direction, PollEvented};
use crate::net::byte_stream::impl_async_read_write;
use crate::net::split;

/// The reading half of a borrowed [`UnixStream`], from [`UnixStream::split`].
pub type ReadHalf<'a> = split::ReadHalf<'a, UnixStream>;
/// The writing half of a borrowed [`UnixStream`], from [`UnixStream::split`].
pub type WriteHalf<'a> = split::WriteHalf<'a, UnixStream>;
/// The reading half of a [`UnixStream`], from [`UnixStream::into_split`].
pub type OwnedReadHalf = split::OwnedReadHalf<UnixStream>;
/// The writing half of a [`UnixStream`], from [`UnixStream::into_split`];
/// dropping it shuts the writing direction down.
pub type OwnedWriteHalf = split::OwnedWriteHalf<UnixStream>;
/// Halves of two different streams given to [`split::OwnedReadHalf::reunite`].
pub type ReuniteError = split::ReuniteError<UnixStream>;
use crate::net::shutting_down_error;
/// The address of a Unix-domain socket (the standard library's, which the
/// `local_addr`/`peer_addr` methods here return), under tokio's name
/// `net::unix::SocketAddr`.
///
/// # Examples
/// ```
/// use ticktock_executor::net::unix::SocketAddr;
/// use ticktock_executor::net::UnixStream;
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (a, _b) = UnixStream::pair().unwrap();
///     let address: SocketAddr = a.local_addr().unwrap();
///     assert!(address.is_unnamed());
/// });
/// ```
pub use std::os::unix::net::SocketAddr;

/// A Unix-domain socket server, listening for connections at a path.
///
/// # Examples
/// ```
/// use ticktock_executor::net::{UnixListener, UnixStream};
///
/// let dir = std::env::temp_dir().join(format!("ticktock-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("listener.sock");
/// let _ = std::fs::remove_file(&path);
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let listener = UnixListener::bind(&path).unwrap();
///     let _client = UnixStream::connect(&path).await.unwrap();
///     let (_server, _peer) = listener.accept().await.unwrap();
/// });
/// std::fs::remove_file(&path).unwrap();
/// ```
pub struct UnixListener {
    io: PollEvented<mio::net::UnixListener>,
}

impl UnixListener {
    /// Creates a socket file at `path` and listens on it.
    ///
    /// # Errors
    /// [`io::ErrorKind::AddrInUse`] when the file exists, or another `bind` error.
    ///
    /// # Panics
    /// Panics outside a ticktock runtime.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixListener;
    ///
    /// let path = std::env::temp_dir().join(format!("ticktock-bind-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let _guard = rt.enter();
    /// let listener = UnixListener::bind(&path).unwrap();
    /// let error = UnixListener::bind(&path).unwrap_err();
    /// assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse);
    /// drop(listener);
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        UnixListener::from_mio(mio::net::UnixListener::bind(path)?)
    }

    /// Wraps a listener made by the standard library (switching it to non-blocking
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
    /// use ticktock_executor::net::UnixListener;
    ///
    /// let path = std::env::temp_dir().join(format!("ticktock-std-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let std_listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let _guard = rt.enter();
    /// let listener = UnixListener::from_std(std_listener).unwrap();
    /// assert!(listener.local_addr().unwrap().as_pathname().is_some());
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        UnixListener::from_mio(mio::net::UnixListener::from_std(listener))
    }

    fn from_mio(listener: mio::net::UnixListener) -> io::Result<UnixListener> {
        let io = PollEvented::new(listener, mio::Interest::READABLE)?;
        Ok(UnixListener { io })
    }

    /// Waits for a connection and returns its stream and the peer's address
    /// (usually unnamed).
    ///
    /// # Errors
    /// The OS's accept error, or the "shutting down" error once the runtime drains
    /// (see [`TcpListener::accept`](super::TcpListener::accept)).
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::{UnixListener, UnixStream};
    ///
    /// let path = std::env::temp_dir().join(format!("ticktock-accept-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     let _client = UnixStream::connect(&path).await.unwrap();
    ///     let (_stream, peer) = listener.accept().await.unwrap();
    ///     assert!(peer.is_unnamed());
    /// });
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection: the building block of [`UnixListener::accept`].
    ///
    /// # Errors
    /// As [`UnixListener::accept`].
    ///
    /// # Examples
    /// ```
    /// use std::future::poll_fn;
    /// use ticktock_executor::net::{UnixListener, UnixStream};
    ///
    /// let path = std::env::temp_dir().join(format!("ticktock-poll-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     let _client = UnixStream::connect(&path).await.unwrap();
    ///     poll_fn(|cx| listener.poll_accept(cx)).await.unwrap();
    /// });
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        self.io
            .poll_accept(cx, |listener| listener.accept(), shutting_down_error)
            .map(|accepted| {
                let (stream, peer) = accepted?;
                Ok((UnixStream::from_mio(stream)?, peer))
            })
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    /// The OS's `getsockname` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixListener;
    ///
    /// let path = std::env::temp_dir().join(format!("ticktock-addr-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let _guard = rt.enter();
    /// let listener = UnixListener::bind(&path).unwrap();
    /// assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

#[cfg(unix)]
impl_as_fd!(UnixListener, UnixStream);

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

/// A Unix-domain stream connection. Like [`TcpStream`](super::TcpStream), it and
/// `&UnixStream` implement `futures::io::AsyncRead` and `AsyncWrite`; closing
/// shuts the writing half down. With the feature `tokio-io` they implement tokio's
/// `AsyncRead` and `AsyncWrite` too (see `net::tokio_io`).
///
/// # Examples
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// use ticktock_executor::net::UnixStream;
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (mut a, mut b) = UnixStream::pair().unwrap();
///     a.write_all(b"over").await.unwrap();
///     let mut buf = [0; 4];
///     b.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"over");
/// });
/// ```
pub struct UnixStream {
    io: PollEvented<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`.
    ///
    /// # Errors
    /// [`io::ErrorKind::NotFound`] when no file is there,
    /// [`io::ErrorKind::ConnectionRefused`] when nothing listens on it, or
    /// [`io::ErrorKind::WouldBlock`] when the listener's backlog is full.
    ///
    /// # Panics
    /// Panics outside a ticktock runtime.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixStream;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let error = UnixStream::connect("/nonexistent/ticktock.sock").await.unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    /// });
    /// ```
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        // A missing path fails at once: charged first (see `coop`).
        crate::coop::charge().await;
        let stream = UnixStream::from_mio(mio::net::UnixStream::connect(path)?)?;
        // As for TCP: writable once the connection is made (or failed).
        poll_fn(|cx| stream.io.poll_ready(cx, Direction::Write).map(drop)).await;
        if let Some(error) = stream.io.get_ref().take_error()? {
            return Err(error);
        }
        Ok(stream)
    }

    /// A pair of connected, unnamed sockets.
    ///
    /// # Errors
    /// The OS's `socketpair` error, or a registration error.
    ///
    /// # Panics
    /// Panics outside a ticktock runtime.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixStream;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let _guard = rt.enter();
    /// let (a, b) = UnixStream::pair().unwrap();
    /// assert!(a.peer_addr().unwrap().is_unnamed());
    /// # drop(b);
    /// ```
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a)?, UnixStream::from_mio(b)?))
    }

    fn from_mio(stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        let io = PollEvented::new(stream, mio::Interest::READABLE | mio::Interest::WRITABLE)?;
        Ok(UnixStream { io })
    }

    /// Wraps a connected stream made by the standard library (switching it to
    /// non-blocking mode) and registers it with the current runtime.
    ///
    /// # Errors
    /// Fails if the socket cannot be made non-blocking or registered.
    ///
    /// # Panics
    /// Panics outside a ticktock runtime.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixStream;
    ///
    /// let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let _guard = rt.enter();
    /// let stream = UnixStream::from_std(a).unwrap();
    /// assert!(stream.local_addr().unwrap().is_unnamed());
    /// ```
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_mio(mio::net::UnixStream::from_std(stream))
    }

    /// This end's address (unnamed for a client or a pair).
    ///
    /// # Errors
    /// The OS's `getsockname` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixStream;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let _guard = rt.enter();
    /// let (a, _b) = UnixStream::pair().unwrap();
    /// assert!(a.local_addr().unwrap().is_unnamed());
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The peer's address.
    ///
    /// # Errors
    /// The OS's `getpeername` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixStream;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let _guard = rt.enter();
    /// let (_a, b) = UnixStream::pair().unwrap();
    /// assert!(b.peer_addr().unwrap().as_pathname().is_none());
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the reading half, the writing half, or both.
    ///
    /// This is `std::os::unix::net::UnixStream::shutdown` under another name: an
    /// inherent `shutdown` would hide the `shutdown()` of tokio's `AsyncWriteExt`
    /// (feature `tokio-io`), so that ported tokio code's `stream.shutdown().await`
    /// would not compile.
    ///
    /// # Errors
    /// The OS's `shutdown` error.
    ///
    /// # Examples
    /// ```
    /// use futures::io::AsyncReadExt;
    /// use std::net::Shutdown;
    /// use ticktock_executor::net::UnixStream;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, mut b) = UnixStream::pair().unwrap();
    ///     a.shutdown_direction(Shutdown::Write).unwrap();
    ///     let mut rest = Vec::new();
    ///     assert_eq!(b.read_to_end(&mut rest).await.unwrap(), 0);
    /// });
    /// ```
    pub fn shutdown_direction(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Takes the socket's pending error (`SO_ERROR`), clearing it.
    ///
    /// # Errors
    /// The OS's `getsockopt` error (not the pending error, which is the `Ok` value).
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixStream;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let _guard = rt.enter();
    /// let (a, _b) = UnixStream::pair().unwrap();
    /// assert!(a.take_error().unwrap().is_none());
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl UnixStream {
    /// Waits until the stream looks readable; the wake-up can be spurious, and
    /// [`UnixStream::try_read`] then says `WouldBlock`.
    ///
    /// # Errors
    /// None today; the `Result` keeps tokio's signature.
    ///
    /// # Examples
    /// ```
    /// use futures::io::AsyncWriteExt;
    /// use ticktock_executor::net::UnixStream;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (mut a, b) = UnixStream::pair().unwrap();
    ///     a.write_all(b"x").await.unwrap();
    ///     b.readable().await.unwrap();
    ///     let mut buf = [0; 1];
    ///     assert_eq!(b.try_read(&mut buf).unwrap(), 1);
    /// });
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Direction::Read).await
    }

    /// Waits until the stream looks writable (see [`UnixStream::readable`]).
    ///
    /// # Errors
    /// None today; the `Result` keeps tokio's signature.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixStream;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     a.writable().await.unwrap();
    ///     assert_eq!(a.try_write(b"ok").unwrap(), 2);
    /// });
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Direction::Write).await
    }

    /// Reads once, without waiting: [`io::ErrorKind::WouldBlock`] when nothing is
    /// there. `Ok(0)` is end of stream.
    ///
    /// # Errors
    /// `WouldBlock`, or the OS's `read` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixStream;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     let mut buf = [0; 1];
    ///     assert_eq!(a.try_read(&mut buf).unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
    /// });
    /// ```
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .try_io(Direction::Read, |mut s| std::io::Read::read(&mut s, buf))
    }

    /// Writes once, without waiting (see [`UnixStream::try_read`]).
    ///
    /// # Errors
    /// `WouldBlock` when the send buffer is full, or the OS's `write` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixStream;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     a.writable().await.unwrap();
    ///     assert_eq!(a.try_write(b"hey").unwrap(), 3);
    /// });
    /// ```
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .try_io(Direction::Write, |mut s| std::io::Write::write(&mut s, buf))
    }

    /// Borrows the stream as a reading half and a writing half, usable at the
    /// same time.
    ///
    /// With `futures::io::AsyncReadExt` in scope, `stream.split()` resolves to that
    /// trait's by-value `split`: write `UnixStream::split(&mut stream)` or
    /// `(&mut stream).split()` for this one.
    ///
    /// # Examples
    /// ```
    /// use futures::io::{AsyncReadExt, AsyncWriteExt};
    /// use ticktock_executor::net::UnixStream;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (mut a, mut b) = UnixStream::pair().unwrap();
    ///     let (mut read, mut write) = UnixStream::split(&mut a);
    ///     write.write_all(b"ping").await.unwrap();
    ///     let mut buf = [0; 4];
    ///     b.read_exact(&mut buf).await.unwrap();
    ///     b.write_all(&buf).await.unwrap();
    ///     read.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"ping");
    /// });
    /// ```
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split::split(self)
    }

    /// Splits the stream into halves that own it together and can move to
    /// different tasks; dropping the write half shuts the writing direction down.
    ///
    /// # Examples
    /// ```
    /// use futures::io::{AsyncReadExt, AsyncWriteExt};
    /// use ticktock_executor::net::UnixStream;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, mut b) = UnixStream::pair().unwrap();
    ///     let (mut read, write) = a.into_split();
    ///     drop(write);
    ///     let mut buf = [0; 1];
    ///     assert_eq!(b.read(&mut buf).await.unwrap(), 0, "write half dropped: end of stream");
    ///     b.write_all(b"!").await.unwrap();
    ///     read.read_exact(&mut buf).await.unwrap();
    /// });
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::into_split(self)
    }
}

impl split::sealed::Stream for UnixStream {
    type Addr = SocketAddr;

    fn local(&self) -> io::Result<SocketAddr> {
        self.local_addr()
    }

    fn peer(&self) -> io::Result<SocketAddr> {
        self.peer_addr()
    }

    fn shut(&self, how: Shutdown) -> io::Result<()> {
        self.shutdown_direction(how)
    }
}

impl_async_read_write!(UnixStream);

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}
