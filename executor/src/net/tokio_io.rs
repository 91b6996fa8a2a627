//! tokio's [`AsyncRead`](tokio::io::AsyncRead) and [`AsyncWrite`](tokio::io::AsyncWrite)
//! for ticktock's socket streams (feature `tokio-io`), so that crates written against
//! tokio's I/O traits — tokio-util's codecs (`Framed`, `FramedRead`, `FramedWrite`),
//! tokio-rustls, tokio-tungstenite, tokio's own `AsyncReadExt`/`AsyncWriteExt` and
//! `tokio::io::copy` — run on ticktock sockets, with no tokio runtime anywhere.
//!
//! # What it owns
//! Only trait implementations; this module has no items of its own. They cover:
//!
//! | type | `AsyncRead` | `AsyncWrite` |
//! |---|---|---|
//! | [`TcpStream`], `&TcpStream`, [`UnixStream`], `&UnixStream` | yes | yes |
//! | [`tcp::ReadHalf`], [`tcp::OwnedReadHalf`] (and the `unix` ones) | yes | – |
//! | [`tcp::WriteHalf`], [`tcp::OwnedWriteHalf`] (and the `unix` ones) | – | yes |
//!
//! The tokio dependency is built with `default-features = false`: the traits and
//! [`ReadBuf`] are in tokio's core, so no tokio runtime, reactor or thread comes with
//! them.
//!
//! # How the traits map
//! Each method is a thin call into the type's `futures::io` implementation, which
//! runs the readiness loops of `byte_stream.rs`: both trait families wait on the same
//! reactor registration and behave the same.
//!
//! | tokio | ticktock |
//! |---|---|
//! | `poll_read(ReadBuf)` | read into the unfilled part, zeroing a bounded piece of it first where it is not initialised yet, and advance the buffer (see below) |
//! | `poll_write`, `poll_write_vectored` | `write`, `writev` (so `is_write_vectored` is `true`) |
//! | `poll_flush` | nothing to do: the kernel owns the send buffer |
//! | `poll_shutdown` | shuts the writing direction down, as tokio's `TcpStream` does (the peer reads end of stream) |
//!
//! # Invariants
//! - Zero `unsafe`. tokio hands `poll_read` a buffer whose tail may be uninitialised;
//!   safe code cannot give that to `read(2)`, so a read uses the part the caller has
//!   initialised already, whole, and past it zeroes at most `MAX_ZEROED_PER_READ`
//!   (64 KiB) bytes first ([`ReadBuf::initialize_unfilled_to`]). A [`ReadBuf`]
//!   remembers what is initialised, so a buffer reused across reads
//!   (`tokio::io::copy`'s, a `Vec`) is zeroed once; a fresh uninitialised chunk per
//!   read (tokio-util's `FramedRead` over a `BytesMut`) costs a `memset` of at most
//!   64 KiB per read, never of its whole spare capacity.
//! - The reactor's one-waiter-per-direction rule is unchanged: at most one task
//!   reads and one writes, whichever trait family it reads or writes through.
//!
//! # Which extension traits to import
//! The streams implement both `futures::io::{AsyncRead, AsyncWrite}` and tokio's. With
//! both `futures::io::AsyncReadExt` and `tokio::io::AsyncReadExt` in scope, calls such
//! as `stream.read_exact(..)` or `stream.write_all(..)` are ambiguous (error E0034).
//! Import one family per module: tokio's (`tokio::io::{AsyncReadExt, AsyncWriteExt}`)
//! where the code came from tokio or feeds tokio-based crates, `futures::io`'s
//! elsewhere; or call one explicitly (`tokio::io::AsyncWriteExt::write_all(&mut s, b)`).
//! tokio's helpers are runtime-independent futures: they need tokio's `io-util`
//! feature, not its runtime.
//!
//! `stream.shutdown().await` is tokio's, as in tokio: the streams' synchronous
//! `shutdown` of `std` is named `shutdown_direction(how)` so that it does not hide it.
//!
//! # Examples
//! ```
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! use ticktock_executor::net::{TcpListener, TcpStream};
//!
//! let rt = ticktock_executor::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let server = ticktock_executor::spawn(async move {
//!         let (mut stream, _) = listener.accept().await.unwrap();
//!         let mut request = String::new();
//!         stream.read_to_string(&mut request).await.unwrap();
//!         stream.write_all(request.to_uppercase().as_bytes()).await.unwrap();
//!         stream.shutdown().await.unwrap();
//!     });
//!     let mut client = TcpStream::connect(addr).await.unwrap();
//!     client.write_all(b"hello").await.unwrap();
//!     client.shutdown().await.unwrap(); // the server reads end of stream
//!     let mut reply = String::new();
//!     client.read_to_string(&mut reply).await.unwrap();
//!     assert_eq!(reply, "HELLO");
//!     server.await.unwrap();
//! });
//! ```
//!
//! [`TcpStream`]: super::TcpStream
//! [`UnixStream`]: super::UnixStream
//! [`tcp::ReadHalf`]: super::tcp::ReadHalf
//! [`tcp::OwnedReadHalf`]: super::tcp::OwnedReadHalf
//! [`tcp::WriteHalf`]: super::tcp::WriteHalf
//! [`tcp::OwnedWriteHalf`]: super::tcp::OwnedWriteHalf

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::ReadBuf;

use super::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use super::TcpStream;
#[cfg(unix)]
use super::UnixStream;

/// The most bytes of a [`ReadBuf`]'s uninitialised tail that one read zeroes. A
/// caller may offer far more: tokio-util's `FramedRead` hands over all the spare
/// capacity of its `BytesMut` (a whole frame's worth with `LengthDelimitedCodec`)
/// as a fresh uninitialised buffer on every read, and zeroing it all each time
/// would cost a `memset` of the frame per read. 64 KiB is one loopback TCP segment
/// (the loopback MTU is 65,536) and 8 times the 8 KiB that tokio-util and hyper
/// reserve per read, so a read rarely has more to give; when it has, the rest
/// comes with the next read. Space the caller has initialised already is used
/// whole, however large.
const MAX_ZEROED_PER_READ: usize = 64 * 1024;

/// Reads through `reader`'s `futures::io` implementation into the unfilled part of
/// `buf`: into all of its initialised part, or, past that, into at most
/// [`MAX_ZEROED_PER_READ`] bytes zeroed first (see "Invariants").
fn read_into<R: futures::io::AsyncRead + Unpin + ?Sized>(
    reader: &mut R,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    let initialised_ahead = buf.initialized().len() - buf.filled().len();
    let offered = initialised_ahead.max(buf.remaining().min(MAX_ZEROED_PER_READ));
    let target = buf.initialize_unfilled_to(offered);
    let read = ready!(Pin::new(reader).poll_read(cx, target))?;
    buf.advance(read);
    Poll::Ready(Ok(()))
}

/// Implements `tokio::io::AsyncRead` for each listed type through its
/// `futures::io::AsyncRead`. `[$lt]` is the type's lifetime parameter, if any.
macro_rules! tokio_read {
    ($([$($lt:lifetime)?] $reader:ty),+ $(,)?) => {$(
        impl<$($lt)?> tokio::io::AsyncRead for $reader {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                read_into(self.get_mut(), cx, buf)
            }
        }
    )+};
}

/// Implements `tokio::io::AsyncWrite` for each listed type through its
/// `futures::io::AsyncWrite`, whose `poll_close` shuts the writing direction down:
/// tokio's `poll_shutdown`.
macro_rules! tokio_write {
    ($([$($lt:lifetime)?] $writer:ty),+ $(,)?) => {$(
        impl<$($lt)?> tokio::io::AsyncWrite for $writer {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                futures::io::AsyncWrite::poll_write(self, cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                futures::io::AsyncWrite::poll_write_vectored(self, cx, bufs)
            }

            /// `true`: the streams write a slice of buffers with one `writev`.
            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                futures::io::AsyncWrite::poll_flush(self, cx)
            }

            fn poll_shutdown(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<io::Result<()>> {
                futures::io::AsyncWrite::poll_close(self, cx)
            }
        }
    )+};
}

tokio_read!(
    [] TcpStream,
    ['a] &'a TcpStream,
    ['a] ReadHalf<'a, TcpStream>,
    [] OwnedReadHalf<TcpStream>,
);

tokio_write!(
    [] TcpStream,
    ['a] &'a TcpStream,
    ['a] WriteHalf<'a, TcpStream>,
    [] OwnedWriteHalf<TcpStream>,
);

#[cfg(unix)]
tokio_read!(
    [] UnixStream,
    ['a] &'a UnixStream,
    ['a] ReadHalf<'a, UnixStream>,
    [] OwnedReadHalf<UnixStream>,
);

#[cfg(unix)]
tokio_write!(
    [] UnixStream,
    ['a] &'a UnixStream,
    ['a] WriteHalf<'a, UnixStream>,
    [] OwnedWriteHalf<UnixStream>,
);

/// Compile-time check: every stream type and half carries the traits that
/// tokio-util, tokio-rustls and tokio-tungstenite ask of their I/O.
#[allow(dead_code)]
fn _assert_tokio_io() {
    fn read<T: tokio::io::AsyncRead + Unpin + Send + Sync>() {}
    fn write<T: tokio::io::AsyncWrite + Unpin + Send + Sync>() {}
    fn both<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + Sync>() {}
    both::<TcpStream>();
    both::<&TcpStream>();
    read::<ReadHalf<'_, TcpStream>>();
    read::<OwnedReadHalf<TcpStream>>();
    write::<WriteHalf<'_, TcpStream>>();
    write::<OwnedWriteHalf<TcpStream>>();
    #[cfg(unix)]
    {
        both::<UnixStream>();
        both::<&UnixStream>();
        read::<ReadHalf<'_, UnixStream>>();
        read::<OwnedReadHalf<UnixStream>>();
        write::<WriteHalf<'_, UnixStream>>();
        write::<OwnedWriteHalf<UnixStream>>();
    }
}
