//! Networking: TCP, UDP and Unix-domain sockets driven by the runtime's reactor.
//!
//! # What it owns
//! The public socket types. Each wraps one mio socket registered with the reactor
//! of the runtime it was created in (through the crate's `PollEvented`), so its
//! readiness arrives from the same `epoll_wait` that serves the timers. Dropping a
//! socket deregisters it and closes its file descriptor: no registration or
//! descriptor outlives its owner.
//!
//! | file | owns |
//! |---|---|
//! | `tcp/listener.rs` | [`TcpListener`]: bind, accept, and the refusal to accept while the runtime drains |
//! | `tcp/stream.rs` | [`TcpStream`]: connect, socket options, `peek`, `readable`/`try_read`, `split`, `AsyncRead`/`AsyncWrite` |
//! | `tcp/socket.rs` | [`TcpSocket`]: options before `bind`/`connect`/`listen(backlog)` |
//! | `split.rs` | the borrowed and owned halves of a TCP or Unix stream |
//! | `unix_datagram.rs` | [`UnixDatagram`] (Unix only) |
//! | `udp/mod.rs` | [`UdpSocket`]: datagrams, connected or not, `peek_from`, `readable`/`try_recv_from` |
//! | `udp/options.rs` | [`UdpSocket`]'s time-to-live and IPv4 multicast options |
//! | `unix.rs` | [`UnixListener`] and [`UnixStream`] (Unix only) |
//! | `byte_stream.rs` | the read and write readiness loops both stream types share |
//! | `tokio_io.rs` | tokio's `AsyncRead`/`AsyncWrite` for the streams and their halves (feature `tokio-io`): [`tokio_io`] |
//! | `addr.rs` | [`ToSocketAddrs`], [`lookup_host`] (host names on the blocking pool) and trying each resolved address in turn |
//!
//! # How an operation waits
//! Every operation is a loop: wait until the reactor says the socket looks ready in
//! that direction, try the non-blocking system call, and if it says `WouldBlock`,
//! forget that readiness (unless a newer event arrived meanwhile) and wait again.
//! The reactor is edge-triggered, so a task is only woken by a new event.
//!
//! # Ground rules
//! - Sockets are created inside a runtime (a task, `block_on`, or after
//!   `Runtime::enter`); creating one elsewhere panics with a message saying so.
//! - A socket keeps one waiting task per direction: at most one task reads (or
//!   accepts, or receives) and one task writes (or sends) at a time. A second
//!   concurrent reader replaces the first one's waker, and the first may then not
//!   be woken.
//! - Listeners refuse to accept once the runtime drains for a graceful shutdown
//!   (`Runtime::shutdown_timeout`): pending and later accepts fail with an error of
//!   kind [`std::io::ErrorKind::Other`] and the message `"ticktock runtime is
//!   shutting down"`, so accept loops end by themselves.
//! - On Unix every socket type implements `AsRawFd` and `AsFd`, so fd-based crates
//!   (such as `socket2`) can set options these types do not wrap.
//! - Host names are resolved with the system resolver on the runtime's blocking
//!   pool, never on a worker ([`lookup_host`]); IP literals such as
//!   `"127.0.0.1:8080"` are parsed on the spot.
//!
//! # Examples
//! ```
//! use futures::io::{AsyncReadExt, AsyncWriteExt};
//! use ticktock_executor::net::{TcpListener, TcpStream};
//!
//! let rt = ticktock_executor::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let server = ticktock_executor::spawn(async move {
//!         let (mut stream, _) = listener.accept().await.unwrap();
//!         let mut buf = [0; 4];
//!         stream.read_exact(&mut buf).await.unwrap();
//!         stream.write_all(&buf).await.unwrap();
//!     });
//!     let mut client = TcpStream::connect(addr).await.unwrap();
//!     client.write_all(b"ping").await.unwrap();
//!     let mut echo = [0; 4];
//!     client.read_exact(&mut echo).await.unwrap();
//!     assert_eq!(&echo, b"ping");
//!     server.await.unwrap();
//! });
//! ```

/// Implements `AsRawFd` and `AsFd` for socket types with an `io: PollEvented<_>`
/// field (or a method returning one), so fd-based crates (such as `socket2`) can set the options these types do
/// not wrap. Defined before the submodules so that they can invoke it.
#[cfg(unix)]
macro_rules! impl_as_fd {
    // A socket that may be simulated: `$source(&self)` returns the registered
    // source, and panics (documented on the type) for a simulated one.
    ($($socket:ty => $source:ident),+) => {$(
        impl std::os::fd::AsRawFd for $socket {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.$source().get_ref().as_raw_fd()
            }
        }

        impl std::os::fd::AsFd for $socket {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.$source().get_ref().as_fd()
            }
        }
    )+};
    ($($socket:ty),+) => {$(
        impl std::os::fd::AsRawFd for $socket {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.io.get_ref().as_raw_fd()
            }
        }

        impl std::os::fd::AsFd for $socket {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.io.get_ref().as_fd()
            }
        }
    )+};
}

mod addr;
mod byte_stream;
pub mod split;
pub mod tcp;
#[cfg(feature = "tokio-io")]
pub mod tokio_io;
mod udp;
#[cfg(unix)]
pub mod unix;
#[cfg(unix)]
mod unix_datagram;

pub use addr::{lookup_host, ToSocketAddrs};
pub use tcp::{TcpListener, TcpSocket, TcpStream};
pub use udp::UdpSocket;
#[cfg(unix)]
pub use unix::{UnixListener, UnixStream};
#[cfg(unix)]
pub use unix_datagram::UnixDatagram;

/// The message of the error a listener's accept returns once the runtime drains.
const SHUTTING_DOWN: &str = "ticktock runtime is shutting down";

/// The error a listener's accept returns once the runtime drains for a graceful
/// shutdown (see the module docs).
fn shutting_down_error() -> std::io::Error {
    std::io::Error::other(SHUTTING_DOWN)
}

/// Whether `error` is the one a listener's accept returns once the runtime drains.
#[allow(dead_code)] // used by `serve` (feature `http`)
pub(crate) fn is_shutting_down(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::Other && error.to_string() == SHUTTING_DOWN
}

/// Compile-time checks: sockets can move between tasks and be shared by reference.
#[allow(dead_code)]
fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<TcpListener>();
    send_sync::<TcpStream>();
    send_sync::<UdpSocket>();
    #[cfg(unix)]
    send_sync::<UnixListener>();
    #[cfg(unix)]
    send_sync::<UnixStream>();
    #[cfg(unix)]
    send_sync::<UnixDatagram>();
    send_sync::<TcpSocket>();
    send_sync::<tcp::OwnedReadHalf>();
    send_sync::<tcp::OwnedWriteHalf>();
}

#[cfg(test)]
mod tests {
    /// The simulated variant is boxed, so the real socket types stay the size of
    /// a registered source plus at most one word (measured: the same 32 bytes on
    /// x86-64, the enum's tag fitting in a niche of the source).
    #[test]
    fn the_socket_types_stay_small() {
        use std::mem::size_of;
        let source = size_of::<crate::io::PollEvented<mio::net::TcpStream>>();
        for (name, size) in [
            ("TcpStream", size_of::<super::TcpStream>()),
            ("TcpListener", size_of::<super::TcpListener>()),
            ("UdpSocket", size_of::<super::UdpSocket>()),
        ] {
            assert!(size <= source + 8, "{name}: {size} bytes, source {source}");
            println!("{name}: {size} bytes (a registered source: {source})");
        }
    }
}
