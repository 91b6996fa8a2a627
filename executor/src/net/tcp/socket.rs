//! [`TcpSocket`]: a TCP socket before it becomes a stream or a listener, for the
//! options that must be set before `bind`, `connect` or `listen`.
//!
//! # What it owns
//! One non-blocking socket (through `socket2`), not yet registered with any
//! runtime: it is registered when [`TcpSocket::connect`] or
//! [`TcpSocket::listen`] turns it into a [`TcpStream`] or [`TcpListener`].

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use super::{TcpListener, TcpStream};
use crate::sim::net::sockets;

/// A TCP socket that has not been connected or put in listening mode yet: set
/// `SO_REUSEADDR`, `SO_REUSEPORT`, buffer sizes or a source address first.
///
/// # Examples
/// ```
/// use ticktock_executor::net::TcpSocket;
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let socket = TcpSocket::new_v4().unwrap();
///     socket.set_reuseaddr(true).unwrap();
///     socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
///     let listener = socket.listen(128).unwrap();
///     let client = TcpSocket::new_v4().unwrap();
///     let stream = client.connect(listener.local_addr().unwrap()).await.unwrap();
///     assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());
/// });
/// ```
pub struct TcpSocket {
    socket: Socket,
}

impl TcpSocket {
    /// A new IPv4 TCP socket.
    ///
    /// # Errors
    /// The OS's `socket` error (say, too many open files).
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::TcpSocket;
    ///
    /// let socket = ticktock_executor::net::TcpSocket::new_v4().unwrap();
    /// socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// assert!(socket.local_addr().unwrap().is_ipv4());
    /// ```
    pub fn new_v4() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV4)
    }

    /// A new IPv6 TCP socket.
    ///
    /// # Errors
    /// The OS's `socket` error (also where IPv6 is disabled).
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::TcpSocket;
    ///
    /// if let Ok(socket) = TcpSocket::new_v6() {
    ///     if socket.bind("[::1]:0".parse().unwrap()).is_ok() {
    ///         assert!(socket.local_addr().unwrap().is_ipv6());
    ///     }
    /// }
    /// ```
    pub fn new_v6() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV6)
    }

    fn new(domain: Domain) -> io::Result<TcpSocket> {
        let socket = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
        socket.set_nonblocking(true)?;
        Ok(TcpSocket { socket })
    }

    /// Binds the socket to a local address (port 0: the OS picks one).
    ///
    /// # Errors
    /// The OS's `bind` error, e.g. [`io::ErrorKind::AddrInUse`].
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4().unwrap();
    /// socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// assert_ne!(socket.local_addr().unwrap().port(), 0);
    /// ```
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.socket.bind(&addr.into())
    }

    /// Connects to `addr` and returns the stream, registered with the current
    /// runtime. A socket bound first connects from that address.
    ///
    /// # Errors
    /// The handshake's error, e.g. [`io::ErrorKind::ConnectionRefused`];
    /// [`io::ErrorKind::Unsupported`] on a runtime with a simulated network (use
    /// [`TcpStream::connect`] there).
    ///
    /// # Panics
    /// Panics outside a ticktock runtime.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::{TcpListener, TcpSocket};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let socket = TcpSocket::new_v4().unwrap();
    ///     socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    ///     let from = socket.local_addr().unwrap();
    ///     let stream = socket.connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(stream.local_addr().unwrap(), from);
    /// });
    /// ```
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        // The socket call may fail at once: charged first (see `coop`).
        crate::coop::charge().await;
        if sockets::current().is_some() {
            return Err(sockets::unsupported("TcpSocket::connect"));
        }
        match self.socket.connect(&addr.into()) {
            Ok(()) => {}
            Err(error) if connect_in_progress(&error) => {}
            Err(error) => return Err(error),
        }
        let stream = std::net::TcpStream::from(self.socket);
        TcpStream::finish_connect(mio::net::TcpStream::from_std(stream)).await
    }

    /// Puts the socket in listening mode with a queue of `backlog` pending
    /// connections and returns the listener, registered with the current runtime.
    ///
    /// # Errors
    /// The OS's `listen` error; [`io::ErrorKind::Unsupported`] on a runtime with
    /// a simulated network (use [`TcpListener::bind`] there).
    ///
    /// # Panics
    /// Panics outside a ticktock runtime.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::TcpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = TcpSocket::new_v4().unwrap();
    ///     socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    ///     let listener = socket.listen(16).unwrap();
    ///     assert_ne!(listener.local_addr().unwrap().port(), 0);
    /// });
    /// ```
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        if sockets::current().is_some() {
            return Err(sockets::unsupported("TcpSocket::listen"));
        }
        let backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
        self.socket.listen(backlog)?;
        TcpListener::from_std(self.socket.into())
    }

    /// Sets `SO_REUSEADDR`: bind to an address still in `TIME_WAIT` (a restarted
    /// server's port).
    ///
    /// # Errors
    /// The OS's `setsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4().unwrap();
    /// socket.set_reuseaddr(true).unwrap();
    /// assert!(socket.reuseaddr().unwrap());
    /// ```
    pub fn set_reuseaddr(&self, reuse: bool) -> io::Result<()> {
        self.socket.set_reuse_address(reuse)
    }

    /// Whether `SO_REUSEADDR` is set.
    ///
    /// # Errors
    /// The OS's `getsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::TcpSocket;
    ///
    /// assert!(!TcpSocket::new_v4().unwrap().reuseaddr().unwrap());
    /// ```
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.socket.reuse_address()
    }

    /// Sets `SO_REUSEPORT`: several sockets (of this user) listen on one port and
    /// the kernel spreads connections over them.
    ///
    /// # Errors
    /// The OS's `setsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4().unwrap();
    /// socket.set_reuseport(true).unwrap();
    /// assert!(socket.reuseport().unwrap());
    /// ```
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    pub fn set_reuseport(&self, reuse: bool) -> io::Result<()> {
        self.socket.set_reuse_port(reuse)
    }

    /// Whether `SO_REUSEPORT` is set.
    ///
    /// # Errors
    /// The OS's `getsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::TcpSocket;
    ///
    /// assert!(!TcpSocket::new_v4().unwrap().reuseport().unwrap());
    /// ```
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    pub fn reuseport(&self) -> io::Result<bool> {
        self.socket.reuse_port()
    }

    /// Sets the send buffer size (`SO_SNDBUF`); Linux doubles the value for its
    /// bookkeeping, so [`TcpSocket::send_buffer_size`] reads back at least `size`.
    ///
    /// # Errors
    /// The OS's `setsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4().unwrap();
    /// socket.set_send_buffer_size(64 * 1024).unwrap();
    /// assert!(socket.send_buffer_size().unwrap() >= 64 * 1024);
    /// ```
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.socket.set_send_buffer_size(size as usize)
    }

    /// The send buffer size (`SO_SNDBUF`).
    ///
    /// # Errors
    /// The OS's `getsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::TcpSocket;
    ///
    /// assert!(TcpSocket::new_v4().unwrap().send_buffer_size().unwrap() > 0);
    /// ```
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.socket.send_buffer_size().map(saturate)
    }

    /// Sets the receive buffer size (`SO_RCVBUF`; doubled by Linux as for
    /// [`TcpSocket::set_send_buffer_size`]).
    ///
    /// # Errors
    /// The OS's `setsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4().unwrap();
    /// socket.set_recv_buffer_size(32 * 1024).unwrap();
    /// assert!(socket.recv_buffer_size().unwrap() >= 32 * 1024);
    /// ```
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.socket.set_recv_buffer_size(size as usize)
    }

    /// The receive buffer size (`SO_RCVBUF`).
    ///
    /// # Errors
    /// The OS's `getsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::TcpSocket;
    ///
    /// assert!(TcpSocket::new_v4().unwrap().recv_buffer_size().unwrap() > 0);
    /// ```
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.socket.recv_buffer_size().map(saturate)
    }

    /// Sets `SO_LINGER` on the future stream (see
    /// [`TcpStream::set_linger`](super::TcpStream::set_linger)).
    ///
    /// # Errors
    /// The OS's `setsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use ticktock_executor::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4().unwrap();
    /// socket.set_linger(Some(Duration::ZERO)).unwrap();
    /// assert_eq!(socket.linger().unwrap(), Some(Duration::ZERO));
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.socket.set_linger(linger)
    }

    /// The `SO_LINGER` setting.
    ///
    /// # Errors
    /// The OS's `getsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::TcpSocket;
    ///
    /// assert_eq!(TcpSocket::new_v4().unwrap().linger().unwrap(), None);
    /// ```
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.socket.linger()
    }

    /// Turns Nagle's algorithm off (`true`) for the future stream.
    ///
    /// # Errors
    /// The OS's `setsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4().unwrap();
    /// socket.set_nodelay(true).unwrap();
    /// assert!(socket.nodelay().unwrap());
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.socket.set_tcp_nodelay(nodelay)
    }

    /// Whether Nagle's algorithm is off.
    ///
    /// # Errors
    /// The OS's `getsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::TcpSocket;
    ///
    /// assert!(!TcpSocket::new_v4().unwrap().nodelay().unwrap());
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.socket.tcp_nodelay()
    }

    /// The address the socket is bound to.
    ///
    /// # Errors
    /// The OS's `getsockname` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4().unwrap();
    /// socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// assert!(socket.local_addr().unwrap().ip().is_loopback());
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an IP socket address"))
    }

    /// Takes the socket's pending error (`SO_ERROR`).
    ///
    /// # Errors
    /// The OS's `getsockopt` error (the pending error is the `Ok` value).
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::TcpSocket;
    ///
    /// assert!(TcpSocket::new_v4().unwrap().take_error().unwrap().is_none());
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.socket.take_error()
    }
}

/// Whether a non-blocking `connect` error only says "the handshake is in flight".
fn connect_in_progress(error: &io::Error) -> bool {
    /// `EINPROGRESS`: 115 on Linux, 36 on the BSDs and macOS.
    #[cfg(target_os = "linux")]
    const EINPROGRESS: i32 = 115;
    #[cfg(not(target_os = "linux"))]
    const EINPROGRESS: i32 = 36;
    error.raw_os_error() == Some(EINPROGRESS) || error.kind() == io::ErrorKind::WouldBlock
}

/// A buffer size as `u32` (tokio's type), saturating.
fn saturate(size: usize) -> u32 {
    u32::try_from(size).unwrap_or(u32::MAX)
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.socket.as_raw_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for TcpSocket {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpSocket")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
