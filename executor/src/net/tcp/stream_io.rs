//! [`TcpStream`]'s readiness and splitting operations: `peek`, `readable`/`writable`,
//! `try_read`/`try_write`, `split`/`into_split`, and `SO_LINGER`. The stream itself (its
//! connect, addresses, options and shutdown) is `stream.rs`. Also the stream's
//! `futures::io` `AsyncRead`/`AsyncWrite` (for it and for `&TcpStream`): the real
//! stream's are the readiness loops of `byte_stream.rs`, the simulated one's are
//! `sim/net/sockets.rs`'s.

use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::io::{Direction, PollEvented};
use crate::net::byte_stream;
use crate::net::split::{self, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::net::tcp::stream::Inner;
use crate::net::tcp::TcpStream;

impl TcpStream {
    /// Reads into `buf` without removing the bytes from the receive buffer: the
    /// next read returns them again. Waits until at least one byte is there.
    ///
    /// # Errors
    /// The OS's `recv` error.
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
    ///     client.write_all(b"peek").await.unwrap();
    ///     let mut buf = [0; 4];
    ///     assert_eq!(server.peek(&mut buf).await.unwrap(), 4);
    ///     server.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"peek");
    /// });
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.inner {
            Inner::Real(io) => poll_fn(|cx| io.poll_io(cx, Direction::Read, |s| s.peek(buf))).await,
            Inner::Sim(stream) => poll_fn(|cx| stream.poll_read(cx, buf, true)).await,
        }
    }

    /// Waits until the stream looks readable; the wake-up can be spurious, and
    /// [`TcpStream::try_read`] then says `WouldBlock`.
    ///
    /// # Errors
    /// None today; the `Result` keeps tokio's signature.
    ///
    /// # Examples
    /// ```
    /// use futures::io::AsyncWriteExt;
    /// use ticktock_executor::net::{TcpListener, TcpStream};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     client.write_all(b"x").await.unwrap();
    ///     let mut buf = [0; 1];
    ///     loop {
    ///         server.readable().await.unwrap();
    ///         match server.try_read(&mut buf) {
    ///             Ok(n) => break assert_eq!(n, 1),
    ///             Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
    ///             Err(e) => panic!("{e}"),
    ///         }
    ///     }
    /// });
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        match &self.inner {
            Inner::Real(io) => io.ready(Direction::Read).await,
            Inner::Sim(stream) => {
                poll_fn(|cx| stream.poll_read_ready(cx)).await;
                Ok(())
            }
        }
    }

    /// Waits until the stream looks writable (see [`TcpStream::readable`]).
    ///
    /// # Errors
    /// None today; the `Result` keeps tokio's signature.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::{TcpListener, TcpStream};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     client.writable().await.unwrap();
    ///     assert_eq!(client.try_write(b"now").unwrap(), 3);
    /// });
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        match &self.inner {
            Inner::Real(io) => io.ready(Direction::Write).await,
            Inner::Sim(stream) => {
                poll_fn(|cx| stream.poll_write_ready(cx)).await;
                Ok(())
            }
        }
    }

    /// Reads once, without waiting: [`io::ErrorKind::WouldBlock`] when nothing is
    /// there (and the readiness is forgotten, so [`TcpStream::readable`] waits for
    /// the next event). `Ok(0)` is end of stream.
    ///
    /// # Errors
    /// `WouldBlock`, or the OS's `read` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::{TcpListener, TcpStream};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0; 8];
    ///     let nothing_yet = client.try_read(&mut buf).unwrap_err();
    ///     assert_eq!(nothing_yet.kind(), std::io::ErrorKind::WouldBlock);
    /// });
    /// ```
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.inner {
            Inner::Real(io) => io.try_io(Direction::Read, |mut s| std::io::Read::read(&mut s, buf)),
            Inner::Sim(stream) => stream.try_read(buf),
        }
    }

    /// Writes once, without waiting (see [`TcpStream::try_read`]).
    ///
    /// # Errors
    /// `WouldBlock` when the send buffer is full, or the OS's `write` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::{TcpListener, TcpStream};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     client.writable().await.unwrap();
    ///     assert_eq!(client.try_write(b"hi").unwrap(), 2);
    /// });
    /// ```
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        match &self.inner {
            Inner::Real(io) => {
                io.try_io(Direction::Write, |mut s| std::io::Write::write(&mut s, buf))
            }
            Inner::Sim(stream) => stream.try_write(buf),
        }
    }

    /// Borrows the stream as a reading half and a writing half, usable at the same
    /// time (say, in the two branches of a `join!`).
    ///
    /// With `futures::io::AsyncReadExt` in scope, `stream.split()` resolves to that
    /// trait's by-value `split` (a lock-based split of any reader-writer): write
    /// `TcpStream::split(&mut stream)` or `(&mut stream).split()` for this one.
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
    ///     let (mut read, mut write) = TcpStream::split(&mut server);
    ///     client.write_all(b"echo").await.unwrap();
    ///     futures::io::copy(&mut (&mut read).take(4), &mut write).await.unwrap();
    ///     let mut buf = [0; 4];
    ///     client.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"echo");
    /// });
    /// ```
    pub fn split(&mut self) -> (ReadHalf<'_, TcpStream>, WriteHalf<'_, TcpStream>) {
        split::split(self)
    }

    /// Splits the stream into halves that own it together and can move to
    /// different tasks; [`OwnedReadHalf::reunite`] joins them again. Dropping the
    /// write half shuts the writing direction down.
    ///
    /// # Examples
    /// ```
    /// use futures::io::{AsyncReadExt, AsyncWriteExt};
    /// use ticktock_executor::net::{TcpListener, TcpStream};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     let (_read, mut write) = client.into_split();
    ///     ticktock_executor::spawn(async move { write.write_all(b"from a task").await })
    ///         .await
    ///         .unwrap()
    ///         .unwrap();
    ///     let mut text = String::new();
    ///     server.read_to_string(&mut text).await.unwrap();
    ///     assert_eq!(text, "from a task");
    /// });
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf<TcpStream>, OwnedWriteHalf<TcpStream>) {
        split::into_split(self)
    }

    /// Sets `SO_LINGER`: with `Some(duration)`, dropping the stream blocks until
    /// unsent data leaves or `duration` passes (`Some(ZERO)` resets the
    /// connection at once); `None` restores the default background close.
    ///
    /// # Errors
    /// The OS's `setsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use ticktock_executor::net::{TcpListener, TcpStream};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     stream.set_linger(Some(Duration::from_secs(1))).unwrap();
    ///     assert_eq!(stream.linger().unwrap(), Some(Duration::from_secs(1)));
    /// });
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        match &self.inner {
            Inner::Real(io) => socket2::SockRef::from(io.get_ref()).set_linger(linger),
            Inner::Sim(stream) => {
                stream.set_linger(linger);
                Ok(())
            }
        }
    }

    /// The `SO_LINGER` setting (see [`TcpStream::set_linger`]).
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
    ///     assert_eq!(stream.linger().unwrap(), None);
    /// });
    /// ```
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        match &self.inner {
            Inner::Real(io) => socket2::SockRef::from(io.get_ref()).linger(),
            Inner::Sim(stream) => Ok(stream.linger()),
        }
    }

    /// The registered socket, for `AsRawFd`/`AsFd`.
    ///
    /// # Panics
    /// For a simulated stream, which has no file descriptor.
    #[cfg(unix)]
    pub(super) fn fd_source(&self) -> &PollEvented<mio::net::TcpStream> {
        match &self.inner {
            Inner::Real(io) => io,
            Inner::Sim(_) => panic!(
                "ticktock::sim::net: a simulated TcpStream has no file descriptor \
                 (as_raw_fd/as_fd are not available inside a simulated network)"
            ),
        }
    }

    fn poll_read_any(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        match &self.inner {
            Inner::Real(io) => byte_stream::poll_read(io, cx, buf),
            Inner::Sim(stream) => stream.poll_read(cx, buf, false),
        }
    }

    fn poll_write_any(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match &self.inner {
            Inner::Real(io) => byte_stream::poll_write(io, cx, buf),
            Inner::Sim(stream) => stream.poll_write(cx, buf),
        }
    }

    fn poll_write_vectored_any(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &self.inner {
            Inner::Real(io) => byte_stream::poll_write_vectored(io, cx, bufs),
            // One segment per buffer would split what a `writev` sends at once:
            // the first non-empty buffer now, the rest on the next call.
            Inner::Sim(stream) => {
                let first = bufs
                    .iter()
                    .find(|buf| !buf.is_empty())
                    .map_or(&[][..], |buf| &**buf);
                stream.poll_write(cx, first)
            }
        }
    }
}

/// `futures::io`'s `AsyncRead` and `AsyncWrite` for `TcpStream` and `&TcpStream`:
/// flushing is a no-op (the kernel, or the simulated pipe, owns the sent bytes),
/// closing shuts the writing half down.
macro_rules! tcp_async_read_write {
    ($($stream:ty),+) => {$(
        impl futures::io::AsyncRead for $stream {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.poll_read_any(cx, buf)
            }
        }

        impl futures::io::AsyncWrite for $stream {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.poll_write_any(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                self.poll_write_vectored_any(cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.shutdown_direction(std::net::Shutdown::Write))
            }
        }
    )+};
}

tcp_async_read_write!(TcpStream, &TcpStream);
