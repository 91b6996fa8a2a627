//! [`TcpListener`]: a TCP socket listening for connections.
//!
//! # What it owns
//! One listening mio socket, registered for readability (a pending connection
//! makes it readable). Dropping the listener deregisters and closes it.
//!
//! # Graceful shutdown
//! Once the runtime drains (`Runtime::shutdown_timeout`), every accept fails with
//! the "shutting down" error: the drain wakes every task waiting to read, and
//! [`TcpListener::poll_accept`] checks the draining flag both before it waits and
//! after it stored its waker. The second check closes the race in which the drain
//! wakes the waiters between the first check and the waker being stored: either
//! the drain's wake-up finds the waker, or the second check sees the flag.
//!
//! # Real or simulated
//! On a runtime with a simulated network (`sim::net`), `bind` binds a virtual
//! address in it instead (`sim/net/sockets.rs`); the accept loop and the draining
//! rule are the same.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use super::TcpStream;
use crate::io::PollEvented;
use crate::net::addr::{self, ToSocketAddrs};
use crate::net::shutting_down_error;
use crate::sim::net::sockets::{self, SimListener};

/// A TCP socket server, listening for connections.
///
/// # Examples
/// ```
/// use ticktock_executor::net::{TcpListener, TcpStream};
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (server, peer) = listener.accept().await.unwrap();
///     assert_eq!(peer, client.local_addr().unwrap());
///     assert_eq!(server.peer_addr().unwrap(), peer);
/// });
/// ```
pub struct TcpListener {
    inner: Inner,
}

/// What a [`TcpListener`] is (see "Real or simulated").
enum Inner {
    Real(PollEvented<mio::net::TcpListener>),
    Sim(Box<SimListener>),
}

impl TcpListener {
    /// Binds a listener to `addr` (with `SO_REUSEADDR`, so a restarted server can
    /// rebind at once). When `addr` resolves to several addresses, each is tried in
    /// turn and the first that binds is used. Port 0 asks the OS for a free port.
    ///
    /// # Errors
    /// The last address's error, e.g. [`io::ErrorKind::AddrInUse`] when another
    /// socket listens there.
    ///
    /// # Panics
    /// Panics outside a ticktock runtime.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::TcpListener;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let taken = listener.local_addr().unwrap();
    ///     let error = TcpListener::bind(taken).await.unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse);
    /// });
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        if let Some((network, handle)) = sockets::current() {
            let listener = addr::first_success(addr, |addr| {
                SimListener::bind(network.clone(), handle.clone(), addr)
            })
            .await?;
            return Ok(TcpListener {
                inner: Inner::Sim(Box::new(listener)),
            });
        }
        let listener = addr::first_success(addr, mio::net::TcpListener::bind).await?;
        TcpListener::from_mio(listener)
    }

    /// Wraps a listener made by the standard library (switching it to non-blocking
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
    /// use ticktock_executor::net::TcpListener;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let addr = std_listener.local_addr().unwrap();
    /// let _guard = rt.enter();
    /// let listener = TcpListener::from_std(std_listener).unwrap();
    /// assert_eq!(listener.local_addr().unwrap(), addr);
    /// ```
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        if sockets::current().is_some() {
            return Err(sockets::unsupported("TcpListener::from_std"));
        }
        listener.set_nonblocking(true)?;
        TcpListener::from_mio(mio::net::TcpListener::from_std(listener))
    }

    fn from_mio(listener: mio::net::TcpListener) -> io::Result<TcpListener> {
        let io = PollEvented::new(listener, mio::Interest::READABLE)?;
        Ok(TcpListener {
            inner: Inner::Real(io),
        })
    }

    /// Waits for a connection and returns its stream and the peer's address.
    ///
    /// # Errors
    /// The OS's accept error (say, too many open files), or an error of kind
    /// [`io::ErrorKind::Other`] with the message `"ticktock runtime is shutting
    /// down"` once the runtime drains for a graceful shutdown.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::{TcpListener, TcpStream};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let client = ticktock_executor::spawn(async move { TcpStream::connect(addr).await });
    ///     let (_stream, _peer) = listener.accept().await.unwrap();
    ///     client.await.unwrap().unwrap();
    /// });
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection: the building block of [`TcpListener::accept`] for
    /// hand-written futures. On `Pending`, the task is woken when a connection may
    /// be waiting or the runtime starts draining.
    ///
    /// # Errors
    /// As [`TcpListener::accept`].
    ///
    /// # Examples
    /// ```
    /// use std::future::poll_fn;
    /// use ticktock_executor::net::{TcpListener, TcpStream};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (_stream, _peer) = poll_fn(|cx| listener.poll_accept(cx)).await.unwrap();
    /// });
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        match &self.inner {
            Inner::Real(io) => io
                .poll_accept(cx, |listener| listener.accept(), shutting_down_error)
                .map(|accepted| {
                    let (stream, peer) = accepted?;
                    Ok((TcpStream::from_mio(stream)?, peer))
                }),
            Inner::Sim(listener) => listener
                .poll_accept(cx, shutting_down_error)
                .map_ok(|(stream, peer)| (TcpStream::from_sim(stream), peer)),
        }
    }

    /// The address the listener is bound to (with the OS-chosen port after binding
    /// port 0).
    ///
    /// # Errors
    /// The OS's `getsockname` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::TcpListener;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     assert_ne!(listener.local_addr().unwrap().port(), 0);
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match &self.inner {
            Inner::Real(io) => io.get_ref().local_addr(),
            Inner::Sim(listener) => Ok(listener.local_addr()),
        }
    }

    /// Sets the IP time-to-live of the connections this listener accepts.
    ///
    /// # Errors
    /// The OS's `setsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::TcpListener;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     listener.set_ttl(42).unwrap();
    ///     assert_eq!(listener.ttl().unwrap(), 42);
    /// });
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        match &self.inner {
            Inner::Real(io) => io.get_ref().set_ttl(ttl),
            Inner::Sim(listener) => {
                listener.set_ttl(ttl);
                Ok(())
            }
        }
    }

    /// The IP time-to-live (see [`TcpListener::set_ttl`]).
    ///
    /// # Errors
    /// The OS's `getsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::TcpListener;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(listener.ttl().unwrap() > 0);
    /// });
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        match &self.inner {
            Inner::Real(io) => io.get_ref().ttl(),
            Inner::Sim(listener) => Ok(listener.ttl()),
        }
    }

    /// The registered socket, for `AsRawFd`/`AsFd`.
    ///
    /// # Panics
    /// For a simulated listener, which has no file descriptor.
    #[cfg(unix)]
    fn fd_source(&self) -> &PollEvented<mio::net::TcpListener> {
        match &self.inner {
            Inner::Real(io) => io,
            Inner::Sim(_) => panic!(
                "ticktock::sim::net: a simulated TcpListener has no file descriptor \
                 (as_raw_fd/as_fd are not available inside a simulated network)"
            ),
        }
    }
}

#[cfg(unix)]
impl_as_fd!(TcpListener => fd_source);

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
