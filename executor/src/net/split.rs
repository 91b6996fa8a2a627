//! Halves of a byte stream ([`TcpStream`](super::TcpStream),
//! [`UnixStream`](super::UnixStream)): `split` borrows the stream into a
//! [`ReadHalf`] and a [`WriteHalf`]; `into_split` shares it between an
//! [`OwnedReadHalf`] and an [`OwnedWriteHalf`] that can move to different tasks.
//!
//! # Invariants
//! - One half reads and the other writes, so the reactor's one-waiter-per-direction
//!   rule holds by construction: the halves never replace each other's waker.
//! - Dropping an [`OwnedWriteHalf`] shuts the writing direction down (the peer
//!   reads end of stream), as tokio's does; [`OwnedReadHalf::reunite`] gives the
//!   stream back without shutting anything down.
//!
//! The types are generic over the stream; `net::tcp` and `net::unix` name them
//! for their stream (`tcp::OwnedReadHalf` is `OwnedReadHalf<TcpStream>`).

use std::error::Error;
use std::fmt;
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};

pub(crate) mod sealed {
    /// What the halves need from their stream: its addresses and a shutdown.
    pub trait Stream {
        /// The address type (`std::net::SocketAddr` or the Unix one).
        type Addr;
        /// The stream's own address.
        fn local(&self) -> std::io::Result<Self::Addr>;
        /// The peer's address.
        fn peer(&self) -> std::io::Result<Self::Addr>;
        /// Shuts a direction down.
        fn shut(&self, how: std::net::Shutdown) -> std::io::Result<()>;
    }
}

use sealed::Stream;

/// The reading half of a borrowed stream, from `split`.
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
///     write.write_all(b"to b").await.unwrap();
///     b.write_all(b"to a").await.unwrap();
///     let mut buf = [0; 4];
///     read.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"to a");
/// });
/// ```
pub struct ReadHalf<'a, S> {
    stream: &'a S,
}

/// The writing half of a borrowed stream, from `split` (see [`ReadHalf`]).
/// Closing it shuts the writing direction down.
///
/// # Examples
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// use ticktock_executor::net::UnixStream;
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (mut a, mut b) = UnixStream::pair().unwrap();
///     let (_read, mut write) = UnixStream::split(&mut a);
///     write.write_all(b"bye").await.unwrap();
///     write.close().await.unwrap();
///     let mut text = String::new();
///     b.read_to_string(&mut text).await.unwrap();
///     assert_eq!(text, "bye");
/// });
/// ```
pub struct WriteHalf<'a, S> {
    stream: &'a S,
}

/// The reading half of a shared stream, from `into_split`: it can move to its
/// own task.
///
/// # Examples
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// use ticktock_executor::net::UnixStream;
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (a, mut b) = UnixStream::pair().unwrap();
///     let (mut read, _write) = a.into_split();
///     let reader = ticktock_executor::spawn(async move {
///         let mut buf = [0; 5];
///         read.read_exact(&mut buf).await.unwrap();
///         buf
///     });
///     b.write_all(b"hello").await.unwrap();
///     assert_eq!(&reader.await.unwrap(), b"hello");
/// });
/// ```
pub struct OwnedReadHalf<S> {
    stream: Arc<S>,
}

/// The writing half of a shared stream, from `into_split`. Dropping it shuts the
/// writing direction down (the peer reads end of stream).
///
/// # Examples
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// use ticktock_executor::net::UnixStream;
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (a, mut b) = UnixStream::pair().unwrap();
///     let (_read, mut write) = a.into_split();
///     write.write_all(b"last words").await.unwrap();
///     drop(write);
///     let mut text = String::new();
///     b.read_to_string(&mut text).await.unwrap();
///     assert_eq!(text, "last words");
/// });
/// ```
pub struct OwnedWriteHalf<S: Stream> {
    stream: Arc<S>,
    /// Whether dropping shuts the writing direction down (not after `reunite`).
    shutdown_on_drop: bool,
}

/// The error of [`OwnedReadHalf::reunite`] with halves of two different streams:
/// both halves, given back.
///
/// # Examples
/// ```
/// use ticktock_executor::net::UnixStream;
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (a, b) = UnixStream::pair().unwrap();
///     let (a_read, _a_write) = a.into_split();
///     let (_b_read, b_write) = b.into_split();
///     let error = a_read.reunite(b_write).unwrap_err();
///     assert!(error.to_string().contains("not from the same stream"));
/// });
/// ```
pub struct ReuniteError<S: Stream>(pub OwnedReadHalf<S>, pub OwnedWriteHalf<S>);

/// Borrows `stream` into its two halves (the body of the streams' `split`).
pub(crate) fn split<S>(stream: &S) -> (ReadHalf<'_, S>, WriteHalf<'_, S>) {
    (ReadHalf { stream }, WriteHalf { stream })
}

/// Shares `stream` between its two owned halves (the body of `into_split`).
pub(crate) fn into_split<S: Stream>(stream: S) -> (OwnedReadHalf<S>, OwnedWriteHalf<S>) {
    let stream = Arc::new(stream);
    let write = OwnedWriteHalf {
        stream: stream.clone(),
        shutdown_on_drop: true,
    };
    (OwnedReadHalf { stream }, write)
}

impl<S: Stream> OwnedReadHalf<S> {
    /// Puts the stream back together from its two halves.
    ///
    /// # Errors
    /// [`ReuniteError`] (with both halves) when `write` comes from another stream.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixStream;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     let (read, write) = a.into_split();
    ///     let a = read.reunite(write).unwrap();
    ///     assert!(a.peer_addr().is_ok());
    /// });
    /// ```
    pub fn reunite(self, mut write: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>> {
        if !Arc::ptr_eq(&self.stream, &write.stream) {
            return Err(ReuniteError(self, write));
        }
        write.shutdown_on_drop = false;
        drop(write);
        Ok(Arc::try_unwrap(self.stream)
            .unwrap_or_else(|_| unreachable!("ticktock: only the two halves share the stream")))
    }

    /// The stream's own address.
    ///
    /// # Errors
    /// The OS's `getsockname` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixStream;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     let (read, _write) = a.into_split();
    ///     assert!(read.local_addr().unwrap().is_unnamed());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<S::Addr> {
        self.stream.local()
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
    /// rt.block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     let (read, _write) = a.into_split();
    ///     assert!(read.peer_addr().unwrap().is_unnamed());
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<S::Addr> {
        self.stream.peer()
    }
}

impl<S: Stream> OwnedWriteHalf<S> {
    /// The stream's own address.
    ///
    /// # Errors
    /// The OS's `getsockname` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UnixStream;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     let (_read, write) = a.into_split();
    ///     assert!(write.local_addr().unwrap().is_unnamed());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<S::Addr> {
        self.stream.local()
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
    /// rt.block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     let (_read, write) = a.into_split();
    ///     assert!(write.peer_addr().unwrap().is_unnamed());
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<S::Addr> {
        self.stream.peer()
    }
}

impl<S: Stream> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // The peer may be gone already; nothing useful to report from a drop.
            let _ = self.stream.shut(Shutdown::Write);
        }
    }
}

/// Implements `futures::io::AsyncRead` for a read half holding `stream`.
macro_rules! read_half {
    ($half:ty, $($generics:tt)*) => {
        impl<$($generics)*> AsyncRead for $half
        where
            for<'s> &'s S: AsyncRead,
        {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                let mut stream = &*self.stream;
                Pin::new(&mut stream).poll_read(cx, buf)
            }
        }
    };
}

/// Implements `futures::io::AsyncWrite` for a write half holding `stream`;
/// closing shuts the writing direction down.
macro_rules! write_half {
    ($half:ty, $($generics:tt)*) => {
        impl<$($generics)*> AsyncWrite for $half
        where
            for<'s> &'s S: AsyncWrite,
        {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                let mut stream = &*self.stream;
                Pin::new(&mut stream).poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                let mut stream = &*self.stream;
                Pin::new(&mut stream).poll_write_vectored(cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let mut stream = &*self.stream;
                Pin::new(&mut stream).poll_flush(cx)
            }

            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let mut stream = &*self.stream;
                Pin::new(&mut stream).poll_close(cx)
            }
        }
    };
}

read_half!(ReadHalf<'_, S>, S);
read_half!(OwnedReadHalf<S>, S: Stream);
write_half!(WriteHalf<'_, S>, S);
write_half!(OwnedWriteHalf<S>, S: Stream);

impl<S> fmt::Debug for ReadHalf<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReadHalf")
    }
}

impl<S> fmt::Debug for WriteHalf<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WriteHalf")
    }
}

impl<S> fmt::Debug for OwnedReadHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OwnedReadHalf")
    }
}

impl<S: Stream> fmt::Debug for OwnedWriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OwnedWriteHalf")
    }
}

impl<S: Stream> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<S: Stream> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same stream")
    }
}

impl<S: Stream> Error for ReuniteError<S> {}
