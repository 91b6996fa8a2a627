//! The read and write loops that [`TcpStream`](super::TcpStream) and
//! [`UnixStream`](super::UnixStream) share: the bodies of their `AsyncRead` and
//! `AsyncWrite` implementations.
//!
//! # The short-transfer shortcut
//! A read that returns fewer bytes than asked for has drained the socket's receive
//! buffer, so the next read would only say `WouldBlock`; the loops forget the
//! readiness right away instead of paying for that system call. Writes do the same
//! when the send buffer took less than offered. Forgetting is safe: the reactor
//! refuses to clear readiness when an event arrived after the observation, and an
//! event arriving later sets it again. Only the ready bit is forgotten: a short
//! read does not prove the peer has not closed, and an end-of-stream edge is
//! reported once (`clear_drained`, not `clear_readiness`).

use std::io::{self, IoSlice, Read, Write};
use std::task::{ready, Context, Poll};

use crate::io::{Direction, PollEvented};

/// Reads into `buf` once the stream is readable. `Ok(0)` means end of stream (or an
/// empty `buf`).
pub(super) fn poll_read<S>(
    io: &PollEvented<S>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>>
where
    S: mio::event::Source,
    for<'a> &'a S: Read,
{
    poll_transfer(io, cx, Direction::Read, buf.len(), |mut source| {
        source.read(buf)
    })
}

/// Writes from `buf` once the stream is writable.
pub(super) fn poll_write<S>(
    io: &PollEvented<S>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>>
where
    S: mio::event::Source,
    for<'a> &'a S: Write,
{
    poll_transfer(io, cx, Direction::Write, buf.len(), |mut source| {
        source.write(buf)
    })
}

/// Writes from `bufs` (one `writev` system call) once the stream is writable.
pub(super) fn poll_write_vectored<S>(
    io: &PollEvented<S>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>>
where
    S: mio::event::Source,
    for<'a> &'a S: Write,
{
    let offered = bufs.iter().map(|buf| buf.len()).sum();
    poll_transfer(io, cx, Direction::Write, offered, |mut source| {
        source.write_vectored(bufs)
    })
}

/// The readiness loop: runs `transfer` (which moves at most `offered` bytes) each
/// time the stream looks ready in `direction`, until it does not say `WouldBlock`.
fn poll_transfer<'s, S: mio::event::Source>(
    io: &'s PollEvented<S>,
    cx: &mut Context<'_>,
    direction: Direction,
    offered: usize,
    mut transfer: impl FnMut(&'s S) -> io::Result<usize>,
) -> Poll<io::Result<usize>> {
    loop {
        let event = ready!(io.poll_ready(cx, direction));
        match transfer(io.get_ref()) {
            Ok(moved) => {
                if moved > 0 && moved < offered {
                    // See "The short-transfer shortcut" in the module docs.
                    io.clear_drained(event);
                }
                return Poll::Ready(Ok(moved));
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                io.clear_readiness(event);
            }
            Err(error) => return Poll::Ready(Err(error)),
        }
    }
}

/// Implements `futures::io::AsyncRead` and `AsyncWrite` for a stream type and for a
/// shared reference to it (so one task can read while another writes through an
/// `Arc`). The type must have an `io: PollEvented<_>` field and a
/// `shutdown(&self, Shutdown) -> io::Result<()>` method; flushing is a no-op (the
/// kernel owns the send buffer) and closing shuts the writing half down.
macro_rules! impl_async_read_write {
    ($stream:ty) => {
        $crate::net::byte_stream::impl_async_read_write!(@one $stream);
        $crate::net::byte_stream::impl_async_read_write!(@one &$stream);
    };
    (@one $stream:ty) => {
        impl futures::io::AsyncRead for $stream {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::byte_stream::poll_read(&self.io, cx, buf)
            }
        }

        impl futures::io::AsyncWrite for $stream {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::byte_stream::poll_write(&self.io, cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::byte_stream::poll_write_vectored(&self.io, cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(self.shutdown_direction(std::net::Shutdown::Write))
            }
        }
    };
}

pub(super) use impl_async_read_write;
