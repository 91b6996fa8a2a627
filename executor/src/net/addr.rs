//! Address resolution for the socket constructors: turn what the caller passed
//! (`"127.0.0.1:80"`, `("::1", 80)`, a `SocketAddr`, …) into addresses, and try them
//! in order.
//!
//! Resolution uses [`std::net::ToSocketAddrs`], which blocks the calling thread for
//! host names (a DNS query) and never for IP literals. The result is collected
//! before any `.await`, so an in-flight `connect` or `bind` holds no borrowed
//! iterator.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// The addresses `addr` resolves to, in the resolver's order.
///
/// Fails with the resolver's error, or with [`io::ErrorKind::InvalidInput`] when
/// the name resolves to no address at all.
pub(super) fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(no_addresses());
    }
    Ok(addrs)
}

/// Runs `attempt` on each address `addr` resolves to, until one succeeds; returns
/// that success, or the last attempt's error.
pub(super) fn first_success<T>(
    addr: impl ToSocketAddrs,
    mut attempt: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last_error = None;
    for addr in resolve(addr)? {
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
