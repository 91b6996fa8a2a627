//! [`TcpStream`]: one TCP connection.
//!
//! # What it owns
//! One connected (or connecting) mio socket, registered for reading and writing.
//! Dropping the stream deregisters and closes it.
//!
//! # How `connect` learns the outcome
//! A non-blocking `connect` returns at once with the handshake in flight. The
//! socket becomes writable when the handshake ends, either way; then the socket's
//! pending error (`SO_ERROR`) says whether it failed (a closed port gives
//! `ConnectionRefused`), and the peer's address, which only a connected socket
//! has, confirms success.
//!
//! Waiting for readiness, peeking, the `try_` operations, splitting and `SO_LINGER`
//! are in `stream_io.rs`.
//!
//! # Real or simulated
//! A stream is a registered mio socket, or, on a runtime with a simulated network
//! (`sim::net`), one end of an in-memory connection (`sim/net/sockets.rs`): one
//! `match` per operation. `connect` picks the kind with one look-up of the current
//! runtime; a read or a write never looks anything up.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr};

use crate::io::{Direction, PollEvented};
use crate::net::addr::{self, ToSocketAddrs};
use crate::net::split;
use crate::sim::net::sockets::{self, SimStream};

/// A TCP connection. It implements `futures::io::AsyncRead` and `AsyncWrite`, and
/// so does `&TcpStream`: share the stream through an `Arc` to read in one task
/// while writing in another. Closing it (`AsyncWriteExt::close`) shuts the writing
/// half down; the peer then reads end of stream and can still write back. With the
/// feature `tokio-io` it implements tokio's `AsyncRead` and `AsyncWrite` too (see
/// `net::tokio_io` for which extension traits to import).
///
/// # Examples
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// use ticktock_executor::net::{TcpListener, TcpStream};
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (mut server, _) = listener.accept().await.unwrap();
///     client.write_all(b"hello").await.unwrap();
///     client.close().await.unwrap();
///     let mut received = String::new();
///     server.read_to_string(&mut received).await.unwrap();
///     assert_eq!(received, "hello");
/// });
/// ```
pub struct TcpStream {
    /// `pub(super)`: the readiness and splitting operations live in `stream_io.rs`.
    pub(super) inner: Inner,
}

/// What a [`TcpStream`] is (see "Real or simulated").
pub(super) enum Inner {
    /// A socket registered with the runtime's reactor.
    Real(PollEvented<mio::net::TcpStream>),
    /// One end of a connection of the runtime's simulated network.
    Sim(Box<SimStream>),
}

impl TcpStream {
    /// Opens a connection to `addr`. When `addr` resolves to several addresses,
    /// each is tried in turn until one connects.
    ///
    /// # Errors
    /// The last address's error: [`io::ErrorKind::ConnectionRefused`] when nothing
    /// listens there, and so on.
    ///
    /// # Panics
    /// Panics outside a ticktock runtime.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::{TcpListener, TcpStream};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let stream = TcpStream::connect(addr).await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), addr);
    ///     drop(listener);
    ///     let refused = TcpStream::connect(addr).await.unwrap_err();
    ///     assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    /// });
    /// ```
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let mut last_error = None;
        let simulated = sockets::current();
        for addr in addr::resolve(addr).await? {
            let attempt = match &simulated {
                Some((network, handle)) => {
                    SimStream::connect(network.clone(), handle.clone(), addr)
                        .await
                        .map(|stream| TcpStream {
                            inner: Inner::Sim(Box::new(stream)),
                        })
                }
                None => TcpStream::connect_one(addr).await,
            };
            match attempt {
                Ok(stream) => return Ok(stream),
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(addr::no_addresses))
    }

    /// Connects to one address (see "How `connect` learns the outcome").
    async fn connect_one(addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::finish_connect(mio::net::TcpStream::connect(addr)?).await
    }

    /// Registers a socket whose non-blocking `connect` is in flight and waits for
    /// the handshake's outcome (also the end of `TcpSocket::connect`).
    pub(crate) async fn finish_connect(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        let io = PollEvented::new(stream, mio::Interest::READABLE | mio::Interest::WRITABLE)?;
        poll_fn(|cx| io.poll_ready(cx, Direction::Write).map(drop)).await;
        if let Some(error) = io.get_ref().take_error()? {
            return Err(error);
        }
        io.get_ref().peer_addr()?;
        Ok(TcpStream {
            inner: Inner::Real(io),
        })
    }

    /// Registers a connected (or connecting) mio stream with the current runtime.
    pub(crate) fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        let io = PollEvented::new(stream, mio::Interest::READABLE | mio::Interest::WRITABLE)?;
        Ok(TcpStream {
            inner: Inner::Real(io),
        })
    }

    /// Wraps one end of a simulated connection (a simulated listener's accept).
    pub(crate) fn from_sim(stream: SimStream) -> TcpStream {
        TcpStream {
            inner: Inner::Sim(Box::new(stream)),
        }
    }

    /// Wraps a connected stream made by the standard library (switching it to
    /// non-blocking mode) and registers it with the current runtime.
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
    /// use ticktock_executor::net::TcpStream;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let std_stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// let _guard = rt.enter();
    /// let stream = TcpStream::from_std(std_stream).unwrap();
    /// assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// ```
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        if sockets::current().is_some() {
            return Err(sockets::unsupported("TcpStream::from_std"));
        }
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))
    }

    /// Deregisters the stream from the runtime and returns it as a standard
    /// library stream, switched back to blocking mode.
    ///
    /// # Errors
    /// Fails if the socket cannot be switched to blocking mode, and with
    /// [`io::ErrorKind::Unsupported`] for a simulated stream (which is dropped).
    ///
    /// # Examples
    /// ```
    /// use std::io::Write;
    /// use ticktock_executor::net::{TcpListener, TcpStream};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let mut std_stream = stream.into_std().unwrap();
    ///     std_stream.write_all(b"blocking now").unwrap();
    /// });
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        let io = match self.inner {
            Inner::Real(io) => io,
            Inner::Sim(_) => return Err(sockets::unsupported("TcpStream::into_std")),
        };
        let stream = std::net::TcpStream::from(io.into_inner());
        stream.set_nonblocking(false)?;
        Ok(stream)
    }

    /// This end's address.
    ///
    /// # Errors
    /// The OS's `getsockname` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::{TcpListener, TcpStream};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert!(stream.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match &self.inner {
            Inner::Real(io) => io.get_ref().local_addr(),
            Inner::Sim(stream) => Ok(stream.local_addr()),
        }
    }

    /// The peer's address.
    ///
    /// # Errors
    /// [`io::ErrorKind::NotConnected`] once the connection is gone, or another
    /// `getpeername` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::{TcpListener, TcpStream};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let stream = TcpStream::connect(addr).await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), addr);
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        match &self.inner {
            Inner::Real(io) => io.get_ref().peer_addr(),
            Inner::Sim(stream) => Ok(stream.peer_addr()),
        }
    }

    /// Turns Nagle's algorithm off (`true`) or on: with it off, small writes leave
    /// at once instead of waiting to be coalesced.
    ///
    /// # Errors
    /// The OS's `setsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::{TcpListener, TcpStream};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     stream.set_nodelay(true).unwrap();
    ///     assert!(stream.nodelay().unwrap());
    /// });
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        match &self.inner {
            Inner::Real(io) => io.get_ref().set_nodelay(nodelay),
            Inner::Sim(stream) => {
                stream.set_nodelay(nodelay);
                Ok(())
            }
        }
    }

    /// Whether Nagle's algorithm is off (see [`TcpStream::set_nodelay`]).
    ///
    /// # Errors
    /// The OS's `getsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::{TcpListener, TcpStream};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert!(!stream.nodelay().unwrap());
    /// });
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        match &self.inner {
            Inner::Real(io) => io.get_ref().nodelay(),
            Inner::Sim(stream) => Ok(stream.nodelay()),
        }
    }

    /// Sets the IP time-to-live of outgoing packets.
    ///
    /// # Errors
    /// The OS's `setsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::{TcpListener, TcpStream};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     stream.set_ttl(16).unwrap();
    ///     assert_eq!(stream.ttl().unwrap(), 16);
    /// });
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        match &self.inner {
            Inner::Real(io) => io.get_ref().set_ttl(ttl),
            Inner::Sim(stream) => {
                stream.set_ttl(ttl);
                Ok(())
            }
        }
    }

    /// The IP time-to-live of outgoing packets (see [`TcpStream::set_ttl`]).
    ///
    /// # Errors
    /// The OS's `getsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::{TcpListener, TcpStream};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert!(stream.ttl().unwrap() > 0);
    /// });
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        match &self.inner {
            Inner::Real(io) => io.get_ref().ttl(),
            Inner::Sim(stream) => Ok(stream.ttl()),
        }
    }

    /// Shuts down the reading half, the writing half, or both. After
    /// `Shutdown::Write` the peer reads end of stream but may keep writing.
    ///
    /// This is `std::net::TcpStream::shutdown` under another name: an inherent
    /// `shutdown` would hide the `shutdown()` of tokio's `AsyncWriteExt` (feature
    /// `tokio-io`), so that ported tokio code's `stream.shutdown().await` would not
    /// compile. `futures::io::AsyncWriteExt::close` and tokio's `shutdown` both shut
    /// the writing half down.
    ///
    /// # Errors
    /// [`io::ErrorKind::NotConnected`] once the connection is gone, or another
    /// `shutdown` error.
    ///
    /// # Examples
    /// ```
    /// use futures::io::AsyncReadExt;
    /// use std::net::Shutdown;
    /// use ticktock_executor::net::{TcpListener, TcpStream};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     client.shutdown_direction(Shutdown::Write).unwrap();
    ///     let mut buf = [0; 8];
    ///     assert_eq!(server.read(&mut buf).await.unwrap(), 0);
    /// });
    /// ```
    pub fn shutdown_direction(&self, how: Shutdown) -> io::Result<()> {
        match &self.inner {
            Inner::Real(io) => io.get_ref().shutdown(how),
            Inner::Sim(stream) => {
                stream.shutdown(how);
                Ok(())
            }
        }
    }

    /// Takes the socket's pending error (`SO_ERROR`), clearing it.
    ///
    /// # Errors
    /// The OS's `getsockopt` error (not the pending error, which is the `Ok` value).
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::{TcpListener, TcpStream};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert!(stream.take_error().unwrap().is_none());
    /// });
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        match &self.inner {
            Inner::Real(io) => io.get_ref().take_error(),
            // A simulated stream reports its errors from the operation that meets them.
            Inner::Sim(_) => Ok(None),
        }
    }
}

impl split::sealed::Stream for TcpStream {
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

#[cfg(unix)]
impl_as_fd!(TcpStream => fd_source);

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}
