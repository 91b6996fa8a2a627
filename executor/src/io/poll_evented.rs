//! [`PollEvented`]: a mio source registered with the current runtime's reactor,
//! with the readiness loop every socket type needs.
//!
//! # What it owns
//! The source itself and its readiness record. Dropping it deregisters the source
//! (then closes it), so no registration or file descriptor outlives its owner.
//!
//! # Examples of use (inside the crate)
//! A socket type wraps `PollEvented<mio::net::TcpStream>` and implements
//! `poll_read` as `self.io.poll_io(cx, Direction::Read, |s| s.read(buf))`: the
//! operation runs when the source looks ready, and a `WouldBlock` clears the
//! readiness and waits for the next event.

use std::io;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::reactor::{Direction, ReadyEvent, ScheduledIo};
use crate::runtime::Handle;

/// A registered mio source. See the module docs.
pub(crate) struct PollEvented<S: mio::event::Source> {
    /// `None` only after [`PollEvented::into_inner`].
    source: Option<S>,
    io: Arc<ScheduledIo>,
    handle: Handle,
}

impl<S: mio::event::Source> PollEvented<S> {
    /// Registers `source` with the current runtime's reactor for `interest`.
    ///
    /// # Errors
    /// The reactor's registration error, or [`io::ErrorKind::Unsupported`] on a
    /// runtime with a simulated network (`sim::net`), whose sockets are not OS ones.
    ///
    /// # Panics
    /// Panics if called outside a ticktock runtime.
    #[track_caller]
    pub(crate) fn new(mut source: S, interest: mio::Interest) -> io::Result<PollEvented<S>> {
        let Ok(handle) = Handle::try_current() else {
            panic!(
                "ticktock: an I/O object was created outside a ticktock runtime; create \
                 sockets from a task, from inside `Runtime::block_on`, or after \
                 `Runtime::enter`"
            );
        };
        if handle.shared.network.is_some() {
            // A runtime with a simulated network (a simulation never polls its
            // reactor): an OS source (a Unix socket, a `from_std` socket) would
            // wait forever, so it is refused (TCP and UDP are simulated instead).
            return Err(crate::sim::net::sockets::unsupported(
                "an OS socket (Unix sockets, `from_std`)",
            ));
        }
        let io = handle
            .shared
            .parking
            .driver
            .reactor()
            .register(&mut source, interest)?;
        Ok(PollEvented {
            source: Some(source),
            io,
            handle,
        })
    }

    /// The source.
    pub(crate) fn get_ref(&self) -> &S {
        self.source
            .as_ref()
            .expect("source present until into_inner")
    }

    /// Waits until the source looks ready in `direction`.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<ReadyEvent> {
        if crate::coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        self.io.poll_ready(cx, direction)
    }

    /// Waits until the source looks ready in `direction` (`readable()` and
    /// `writable()` of the socket types). It may be ready spuriously: the next
    /// `try_*` call then says `WouldBlock`.
    pub(crate) async fn ready(&self, direction: Direction) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_ready(cx, direction)).await;
        Ok(())
    }

    /// Runs `op` once if the source looks ready in `direction` (the `try_*` calls
    /// of the socket types): `WouldBlock` without a system call when it does not,
    /// and a `WouldBlock` from `op` clears the readiness it was tried on.
    pub(crate) fn try_io<R>(
        &self,
        direction: Direction,
        op: impl FnOnce(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        let Some(event) = self.io.ready_event_if_any(direction) else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        match op(self.get_ref()) {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                self.clear_readiness(event);
                Err(error)
            }
            result => result,
        }
    }

    /// Clears readiness after an operation returned `WouldBlock`.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        self.io.clear_readiness(event);
    }

    /// Clears the ready bit after a short transfer drained the buffer (closed and
    /// error bits stay: only `WouldBlock` proves those stale).
    pub(crate) fn clear_drained(&self, event: ReadyEvent) {
        self.io.clear_drained(event);
    }

    /// Runs `op` on the source whenever it looks ready in `direction`, until it
    /// does not return `WouldBlock`. Charges the budget once.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        if crate::coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        self.poll_io_charged(cx, direction, op)
    }

    /// [`PollEvented::poll_io`] after the caller charged the budget for it.
    fn poll_io_charged<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let event = match self.io.poll_ready(cx, direction) {
                Poll::Ready(event) => event,
                Poll::Pending => return Poll::Pending,
            };
            match op(self.get_ref()) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    self.clear_readiness(event);
                }
                result => return Poll::Ready(result),
            }
        }
    }

    /// Whether the runtime is draining for a graceful shutdown: listeners check it
    /// and stop accepting (see `Runtime::shutdown_timeout`).
    fn runtime_is_draining(&self) -> bool {
        self.handle.shared.is_draining()
    }

    /// A listener's accept: [`PollEvented::poll_io`] in the read direction, refused
    /// with `refused()` once the runtime drains for a graceful shutdown. Checked
    /// before, and again after a `Pending` (the waker is stored by then, so a drain
    /// that started in between cannot be missed: draining wakes every reader).
    ///
    /// The budget is charged first, on every path: the refusal completes at once,
    /// and an accept loop that ignores errors must still yield (see `coop`).
    pub(crate) fn poll_accept<R>(
        &self,
        cx: &mut Context<'_>,
        accept: impl FnMut(&S) -> io::Result<R>,
        refused: impl Fn() -> io::Error,
    ) -> Poll<io::Result<R>> {
        if crate::coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        if self.runtime_is_draining() {
            return Poll::Ready(Err(refused()));
        }
        match self.poll_io_charged(cx, Direction::Read, accept) {
            Poll::Pending if self.runtime_is_draining() => Poll::Ready(Err(refused())),
            Poll::Ready(Err(error)) => {
                // The operating system's error (EMFILE, ECONNABORTED, ...): counted
                // for `RuntimeMetrics::accept_errors`, so an accept loop that
                // ignores errors is still seen.
                self.handle
                    .shared
                    .parking
                    .driver
                    .reactor()
                    .note_accept_error();
                Poll::Ready(Err(error))
            }
            other => other,
        }
    }

    /// Deregisters and returns the source.
    pub(crate) fn into_inner(mut self) -> S {
        let mut source = self.source.take().expect("source present until into_inner");
        self.deregister(&mut source);
        source
    }

    /// Removes `source` (taken out of `self`) from the reactor.
    fn deregister(&self, source: &mut S) {
        self.handle
            .shared
            .parking
            .driver
            .reactor()
            .deregister(source, &self.io);
    }
}

impl<S: mio::event::Source> Drop for PollEvented<S> {
    fn drop(&mut self) {
        if let Some(mut source) = self.source.take() {
            self.deregister(&mut source);
        }
    }
}

impl<S: mio::event::Source + std::fmt::Debug> std::fmt::Debug for PollEvented<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PollEvented")
            .field("source", &self.source)
            .finish()
    }
}
