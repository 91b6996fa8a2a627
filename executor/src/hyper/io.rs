//! [`Io`]: a `futures::io` byte stream seen through hyper's I/O traits.
//!
//! # The read copy
//! hyper reads into a possibly uninitialised buffer (`ReadBufCursor`), which safe
//! code can only fill with `put_slice`. So [`Io`] reads into a zeroed scratch
//! buffer and copies the bytes over: one `memcpy` of each read's bytes, the price
//! of `#![forbid(unsafe_code)]`.
//!
//! The scratch buffer belongs to the *thread*, not to the connection: a read
//! borrows it only for the duration of one `poll_read` (no `.await` inside), so
//! one [`READ_SCRATCH_BYTES`] buffer per worker serves every connection. An idle
//! connection holds no read buffer of its own: before this change each one kept a
//! 16 KiB scratch, which made ticktock's idle keep-alive connections 1.64x the size
//! of tokio's (see docs/benchmarks.md). A nested read on the same thread (an
//! `Io` whose inner stream itself reads through another `Io`) finds the buffer
//! borrowed and uses a temporary one.

use std::cell::RefCell;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};
use hyper::rt::ReadBufCursor;
use pin_project_lite::pin_project;

/// Largest read [`Io`] makes, and so the size of the per-thread scratch buffer:
/// twice hyper's initial 8 KiB read buffer, so ordinary requests arrive in one read.
const READ_SCRATCH_BYTES: usize = 16 * 1024;

thread_local! {
    /// The read scratch of this thread (see "The read copy"); allocated, zeroed, on
    /// the thread's first read.
    static READ_SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Reads from `inner` into `buf` through this thread's scratch buffer.
fn read_through_scratch<T: AsyncRead>(
    inner: Pin<&mut T>,
    cx: &mut Context<'_>,
    buf: &mut ReadBufCursor<'_>,
) -> Poll<io::Result<()>> {
    let wanted = buf.remaining().min(READ_SCRATCH_BYTES);
    let read_into = |scratch: &mut Vec<u8>| {
        if scratch.len() < wanted {
            scratch.resize(wanted, 0);
        }
        let scratch = &mut scratch[..wanted];
        let read = ready!(inner.poll_read(cx, scratch))?;
        buf.put_slice(&scratch[..read]);
        Poll::Ready(Ok(()))
    };
    READ_SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => read_into(&mut scratch),
        // A nested read on this thread: a temporary buffer of its own.
        Err(_) => read_into(&mut Vec::new()),
    })
}

pin_project! {
    /// Adapts a `futures::io` stream ([`AsyncRead`] + [`AsyncWrite`], such as
    /// [`TcpStream`](crate::net::TcpStream) or [`UnixStream`](crate::net::UnixStream))
    /// to hyper's [`Read`](hyper::rt::Read) and [`Write`](hyper::rt::Write).
    ///
    /// Reads cost one extra copy through a per-thread buffer (see the module
    /// docs); the adapter itself holds no buffer. Writes pass straight
    /// through; `is_write_vectored` is `false`, so hyper gathers each message's
    /// head and body into one buffer and writes it with one call.
    ///
    /// # Examples
    /// ```
    /// use std::future::poll_fn;
    /// use std::pin::Pin;
    /// use hyper::rt::{Read, ReadBuf, Write};
    /// use ticktock_executor::hyper::Io;
    /// use ticktock_executor::net::UnixStream;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (a, b) = UnixStream::pair().unwrap();
    ///     let (mut a, mut b) = (Io::new(a), Io::new(b));
    ///     poll_fn(|cx| Pin::new(&mut a).poll_write(cx, b"GET /")).await.unwrap();
    ///     let mut storage = [0u8; 16];
    ///     let mut buf = ReadBuf::new(&mut storage);
    ///     poll_fn(|cx| Pin::new(&mut b).poll_read(cx, buf.unfilled())).await.unwrap();
    ///     assert_eq!(buf.filled(), b"GET /");
    /// });
    /// ```
    #[derive(Debug)]
    pub struct Io<T> {
        #[pin]
        inner: T,
    }
}

impl<T> Io<T> {
    /// Wraps `inner`.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::hyper::Io;
    ///
    /// let io = Io::new(futures::io::Cursor::new(Vec::<u8>::new()));
    /// assert!(io.inner().get_ref().is_empty());
    /// ```
    pub fn new(inner: T) -> Io<T> {
        Io { inner }
    }

    /// The wrapped stream.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::hyper::Io;
    ///
    /// let io = Io::new(futures::io::Cursor::new(vec![1u8, 2]));
    /// assert_eq!(io.inner().get_ref().len(), 2);
    /// ```
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::hyper::Io;
    ///
    /// let mut io = Io::new(futures::io::Cursor::new(vec![1u8, 2]));
    /// io.inner_mut().set_position(1);
    /// assert_eq!(io.inner().position(), 1);
    /// ```
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::hyper::Io;
    ///
    /// let io = Io::new(futures::io::Cursor::new(vec![7u8]));
    /// assert_eq!(io.into_inner().into_inner(), vec![7]);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead> hyper::rt::Read for Io<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        read_through_scratch(self.project().inner, cx, &mut buf)
    }
}

impl<T: AsyncWrite> hyper::rt::Write for Io<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_close(cx)
    }
}
