//! Address resolution for the socket constructors: [`ToSocketAddrs`], the sealed
//! trait of everything that names socket addresses (`"127.0.0.1:80"`,
//! `("localhost", 80)`, a `SocketAddr`, …), and [`lookup_host`].
//!
//! # Where a name is resolved
//! IP literals and `SocketAddr` values are converted on the spot: they never
//! block. A host name needs the system resolver (`getaddrinfo`: `/etc/hosts`, then
//! DNS), which blocks its thread for as long as a DNS query takes; it runs on the
//! runtime's blocking pool (`spawn_blocking`), so a slow resolver never stalls a
//! worker or the tasks queued on it. The addresses are collected before the
//! caller's first use, so an in-flight `connect` or `bind` holds no iterator.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// What a [`ToSocketAddrs`] value names: addresses already known, or a host name
/// that only the blocking resolver can turn into addresses.
#[derive(Debug)]
pub enum Resolution {
    /// Addresses known without a lookup.
    Ready(Vec<SocketAddr>),
    /// A host name and port, for the resolver.
    Lookup(String, u16),
    /// A `"host:port"` string, for the resolver (which also reports a malformed one).
    LookupStr(String),
}

pub(crate) mod sealed {
    /// The private half of [`ToSocketAddrs`](super::ToSocketAddrs): users can name
    /// the trait but not implement it, so new address forms stay possible.
    pub trait ToSocketAddrsPriv {
        /// What `self` names.
        fn resolution(&self) -> super::Resolution;
    }
}

/// Values that name socket addresses: the argument of [`TcpStream::connect`],
/// [`TcpListener::bind`], [`UdpSocket::bind`] and friends, and of
/// [`lookup_host`]. Implemented for the same types as
/// [`std::net::ToSocketAddrs`] (`SocketAddr`, `(IpAddr, u16)`, `"host:port"`,
/// `("host", port)`, `String`, `&[SocketAddr]`, and references to these); host names
/// are resolved on the blocking pool, never on a worker (see the module docs).
///
/// [`TcpStream::connect`]: crate::net::TcpStream::connect
/// [`TcpListener::bind`]: crate::net::TcpListener::bind
/// [`UdpSocket::bind`]: crate::net::UdpSocket::bind
///
/// # Examples
/// ```
/// use ticktock_executor::net::{lookup_host, ToSocketAddrs};
///
/// async fn first(addr: impl ToSocketAddrs) -> std::net::SocketAddr {
///     lookup_host(addr).await.unwrap().next().unwrap()
/// }
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     assert_eq!(first("127.0.0.1:80").await.port(), 80);
///     assert_eq!(first(("::1", 443)).await.port(), 443);
/// });
/// ```
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

impl<T: sealed::ToSocketAddrsPriv + ?Sized> ToSocketAddrs for T {}

/// Implements the sealed trait for types that convert to one `SocketAddr`.
macro_rules! ready_one {
    ($($ty:ty),+) => {$(
        impl sealed::ToSocketAddrsPriv for $ty {
            fn resolution(&self) -> Resolution {
                Resolution::Ready(vec![SocketAddr::from(*self)])
            }
        }
    )+};
}

ready_one!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16)
);

impl sealed::ToSocketAddrsPriv for [SocketAddr] {
    fn resolution(&self) -> Resolution {
        Resolution::Ready(self.to_vec())
    }
}

impl sealed::ToSocketAddrsPriv for str {
    fn resolution(&self) -> Resolution {
        match self.parse::<SocketAddr>() {
            Ok(addr) => Resolution::Ready(vec![addr]),
            Err(_) => Resolution::LookupStr(self.to_owned()),
        }
    }
}

impl sealed::ToSocketAddrsPriv for String {
    fn resolution(&self) -> Resolution {
        self.as_str().resolution()
    }
}

impl sealed::ToSocketAddrsPriv for (&str, u16) {
    fn resolution(&self) -> Resolution {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => Resolution::Ready(vec![SocketAddr::new(ip, port)]),
            Err(_) => Resolution::Lookup(host.to_owned(), port),
        }
    }
}

impl sealed::ToSocketAddrsPriv for (String, u16) {
    fn resolution(&self) -> Resolution {
        (self.0.as_str(), self.1).resolution()
    }
}

impl<T: sealed::ToSocketAddrsPriv + ?Sized> sealed::ToSocketAddrsPriv for &T {
    fn resolution(&self) -> Resolution {
        (**self).resolution()
    }
}

/// Resolves `host` (see [`ToSocketAddrs`]) to its addresses, in the resolver's
/// order. Host names are looked up on the runtime's blocking pool; IP literals
/// return at once.
///
/// # Errors
/// The resolver's error (an unknown name, a malformed `"host:port"`), or
/// [`io::ErrorKind::InvalidInput`] when the name resolves to no address.
///
/// # Panics
/// Panics outside a ticktock runtime when `host` is a host name.
///
/// # Examples
/// ```
/// use ticktock_executor::net::lookup_host;
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let addrs: Vec<_> = lookup_host("localhost:8080").await.unwrap().collect();
///     assert!(addrs.iter().all(|addr| addr.ip().is_loopback() && addr.port() == 8080));
/// });
/// ```
pub async fn lookup_host(host: impl ToSocketAddrs) -> io::Result<std::vec::IntoIter<SocketAddr>> {
    resolve(host).await.map(Vec::into_iter)
}

/// The addresses `addr` resolves to (see [`lookup_host`]); never empty.
/// Charges the cooperative budget first: for an IP literal the whole of `connect`,
/// `send_to` or `bind` may complete (or fail) at once.
pub(super) async fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    crate::coop::charge().await;
    let addrs = match addr.resolution() {
        Resolution::Ready(addrs) => addrs,
        Resolution::Lookup(host, port) => {
            blocking_lookup(move || {
                std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
            })
            .await?
        }
        Resolution::LookupStr(host) => {
            blocking_lookup(move || std::net::ToSocketAddrs::to_socket_addrs(host.as_str())).await?
        }
    };
    if addrs.is_empty() {
        return Err(no_addresses());
    }
    Ok(addrs)
}

/// Runs the system resolver on the blocking pool and collects its answer.
async fn blocking_lookup<I>(
    lookup: impl FnOnce() -> io::Result<I> + Send + 'static,
) -> io::Result<Vec<SocketAddr>>
where
    I: Iterator<Item = SocketAddr>,
{
    crate::task::spawn_blocking(move || lookup().map(Iterator::collect))
        .await
        .map_err(io::Error::other)?
}

/// Runs `attempt` on each address `addr` resolves to, until one succeeds; returns
/// that success, or the last attempt's error.
pub(super) async fn first_success<T>(
    addr: impl ToSocketAddrs,
    mut attempt: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last_error = None;
    for addr in resolve(addr).await? {
        match attempt(addr) {
            Ok(value) => return Ok(value),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(no_addresses))
}

/// The error for a name that resolves to nothing.
pub(super) fn no_addresses() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "could not resolve to any address",
    )
}
