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
//!
//! # Coalesced HTTP/2 writes
//! On an HTTP/2 connection, hyper runs each stream (request) in a task of its own
//! and the connection in another. A stream task that has its response ready wakes
//! the connection task, and the scheduler runs a woken task next (the LIFO cell):
//! so the connection task ran after *each* stream task and wrote each response
//! with its own `send`, while the sibling stream tasks woken by the same read
//! still waited in the queue (measured under h2load, 50 clients x 10 streams:
//! 0.65 `sendto` per request, about as many as tokio's `writev`s).
//!
//! So once an [`Io`] has seen the HTTP/2 client preface (the first bytes read on
//! a server, or written on a client), a write that follows a completed write
//! first yields once: it wakes its own task and returns `Pending`, which puts the
//! connection task at the back of its worker's queue. The stream tasks queued in
//! front of it queue their frames meanwhile, and the next poll writes them all in
//! one call (0.10 `sendto` per request in the same run). The yield is one self-wake,
//! never a wait on anything else, so it cannot stall a connection. HTTP/1
//! connections, which have no sibling tasks to wait for, write at once. The cost:
//! one extra poll of the connection task per write, which an HTTP/2 connection
//! with a single stream in flight pays without gaining anything. An `Io` over an
//! encrypted stream sees no preface and writes at once, as before.
//! (`Protocol` is the detection; `WriteTurn` the yield's state.)

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

/// The HTTP/2 client connection preface (RFC 9113 §3.4): the first bytes a client
/// sends on every HTTP/2 connection (without prior knowledge or after an upgrade's
/// `101` it is the same), and no HTTP/1 request can begin with them.
const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// What the first bytes of one direction of a stream say about its protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    /// The bytes so far (this many) are a prefix of [`HTTP2_PREFACE`].
    Undecided(u8),
    /// The direction began with the whole HTTP/2 preface.
    Http2,
    /// It began with anything else: HTTP/1, or bytes an `Io` does not interpret.
    Other,
}

impl Protocol {
    /// The state after the next `bytes` of this direction.
    fn after(self, bytes: &[u8]) -> Protocol {
        let Protocol::Undecided(seen) = self else {
            return self;
        };
        let seen = usize::from(seen);
        let expected = &HTTP2_PREFACE[seen..];
        let compared = bytes.len().min(expected.len());
        if bytes[..compared] != expected[..compared] {
            Protocol::Other
        } else if seen + compared == HTTP2_PREFACE.len() {
            Protocol::Http2
        } else {
            // Shorter than the preface, which is 24 bytes: fits a `u8`.
            Protocol::Undecided((seen + compared) as u8)
        }
    }
}

/// Where an [`Io`] on an HTTP/2 connection stands between two writes (see
/// "Coalesced HTTP/2 writes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WriteTurn {
    /// The next write yields once first.
    YieldFirst,
    /// This task yielded since the last completed write: the next write goes out.
    Yielded,
}

/// Reads from `inner` into `buf` through this thread's scratch buffer, and feeds
/// the bytes read to `protocol`.
fn read_through_scratch<T: AsyncRead>(
    inner: Pin<&mut T>,
    cx: &mut Context<'_>,
    buf: &mut ReadBufCursor<'_>,
    protocol: &mut Protocol,
) -> Poll<io::Result<()>> {
    let wanted = buf.remaining().min(READ_SCRATCH_BYTES);
    let read_into = |scratch: &mut Vec<u8>| {
        if scratch.len() < wanted {
            scratch.resize(wanted, 0);
        }
        let scratch = &mut scratch[..wanted];
        let read = ready!(inner.poll_read(cx, scratch))?;
        let read = &scratch[..read];
        *protocol = protocol.after(read);
        buf.put_slice(read);
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
    /// head and body into one buffer and writes it with one call. On an HTTP/2
    /// connection each write first yields once, so that the responses of all
    /// the streams that are ready go out in one call (see the module docs).
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
        // What the first bytes read and written say (see "Coalesced HTTP/2 writes").
        read_protocol: Protocol,
        write_protocol: Protocol,
        write_turn: WriteTurn,
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
        Io {
            inner,
            read_protocol: Protocol::Undecided(0),
            write_protocol: Protocol::Undecided(0),
            write_turn: WriteTurn::YieldFirst,
        }
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
        let this = self.project();
        read_through_scratch(this.inner, cx, &mut buf, this.read_protocol)
    }
}

/// Ready when a write may go out: on an HTTP/2 connection, the first call after a
/// completed write wakes the task and returns `Pending` once (see "Coalesced
/// HTTP/2 writes").
fn poll_write_turn(
    read_protocol: Protocol,
    write_protocol: Protocol,
    turn: &mut WriteTurn,
    cx: &mut Context<'_>,
) -> Poll<()> {
    let http2 = read_protocol == Protocol::Http2 || write_protocol == Protocol::Http2;
    if http2 && *turn == WriteTurn::YieldFirst {
        *turn = WriteTurn::Yielded;
        cx.waker().wake_by_ref();
        return Poll::Pending;
    }
    Poll::Ready(())
}

/// The turn after a write of `total` bytes that returned `written`: a completed
/// write makes the next one yield first; the rest of a partial write (or a retry
/// after an error) goes out without yielding again.
fn turn_after(written: &Poll<io::Result<usize>>, total: usize) -> WriteTurn {
    match written {
        Poll::Ready(Ok(n)) if *n == total => WriteTurn::YieldFirst,
        _ => WriteTurn::Yielded,
    }
}

impl<T: AsyncWrite> hyper::rt::Write for Io<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        ready!(poll_write_turn(
            *this.read_protocol,
            *this.write_protocol,
            this.write_turn,
            cx
        ));
        let written = this.inner.poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written {
            *this.write_protocol = this.write_protocol.after(&buf[..n]);
        }
        *this.write_turn = turn_after(&written, buf.len());
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        ready!(poll_write_turn(
            *this.read_protocol,
            *this.write_protocol,
            this.write_turn,
            cx
        ));
        let written = this.inner.poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = written {
            let mut left = n;
            for slice in bufs {
                let taken = left.min(slice.len());
                *this.write_protocol = this.write_protocol.after(&slice[..taken]);
                left -= taken;
                if left == 0 {
                    break;
                }
            }
        }
        let total = bufs.iter().map(|slice| slice.len()).sum();
        *this.write_turn = turn_after(&written, total);
        written
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::{Protocol, HTTP2_PREFACE};

    #[test]
    fn the_preface_in_one_piece_or_split_is_http2() {
        assert_eq!(Protocol::Undecided(0).after(HTTP2_PREFACE), Protocol::Http2);
        let (head, tail) = HTTP2_PREFACE.split_at(5);
        let half = Protocol::Undecided(0).after(head);
        assert_eq!(half, Protocol::Undecided(5));
        // Frames after the preface in the same read change nothing.
        let mut rest = tail.to_vec();
        rest.extend_from_slice(&[0, 0, 0, 4]);
        assert_eq!(half.after(&rest), Protocol::Http2);
        // An empty read (end of stream) decides nothing.
        assert_eq!(half.after(&[]), half);
    }

    #[test]
    fn anything_else_is_other_and_stays_decided() {
        assert_eq!(
            Protocol::Undecided(0).after(b"GET / HTTP/1.1\r\n"),
            Protocol::Other
        );
        // Diverging after a matching start.
        assert_eq!(
            Protocol::Undecided(0).after(b"PRI * HTTP/1.1"),
            Protocol::Other
        );
        assert_eq!(Protocol::Other.after(HTTP2_PREFACE), Protocol::Other);
        assert_eq!(Protocol::Http2.after(b"GET"), Protocol::Http2);
    }
}
