//! `serve`: run a tower `Service` (an axum `Router`, a `hyper` service wrapped
//! by `tower::service_fn`, ...) over HTTP/1.1 and HTTP/2 on one port, with a
//! graceful shutdown (cargo feature `http`).
//!
//! # What it owns
//! | file | owns |
//! |---|---|
//! | this file | [`serve`], [`Serve`], [`WithGracefulShutdown`]: the accept loop and the shutdown sequence |
//! | `accept_errors.rs` | what the accept loop does after an error: skip, pause ([`ACCEPT_ERROR_PAUSE`]), report |
//! | `drain.rs` | the phase (serving, draining, forced) shared with the connection tasks, and their count |
//! | `service.rs` | the tower-to-hyper service adapter and [`ConnectInfo`] |
//! | `timeout.rs` | [`TimeoutLayer`]: per-request deadlines on ticktock's timers |
//!
//! # The accept loop
//! Each accepted connection is served in its own task by hyper-util's *auto*
//! connection: it reads the first bytes, speaks HTTP/2 when they are the HTTP/2
//! preface and HTTP/1.1 otherwise, and supports upgrades (WebSocket handshakes).
//! hyper's timers (header-read timeout, HTTP/2 keep-alive) run on ticktock's
//! timer heaps, its HTTP/2 stream tasks on ticktock's workers. The tower service is
//! cloned for each connection, then for each request.
//!
//! # The graceful shutdown, step by step
//! 1. The shutdown signal (any future, e.g. a [`ctrl_c`](crate::signal::ctrl_c))
//!    completes: the listener is dropped, so new connections are refused.
//! 2. Every connection task is told to drain: an idle keep-alive connection closes
//!    at once; one with a request in flight finishes it and then closes
//!    (`Connection: close`); HTTP/2 connections send GOAWAY and finish their open
//!    streams.
//! 3. When the last connection task ends, the serve future returns `Ok(())`. If
//!    the drain timeout passes first, the remaining connections are dropped
//!    (their requests cancelled) and it returns `Ok(())` all the same.
//!
//! Accept errors that concern one connection (reset before it was accepted) are
//! skipped; others (too many open files) pause the loop for
//! [`ACCEPT_ERROR_PAUSE`] (50 ms; axum sleeps 1 s: see `accept_errors.rs` for the
//! choice) so the process can recover. Each is counted in
//! [`RuntimeMetrics::accept_errors`](crate::RuntimeMetrics::accept_errors) and,
//! with the `tracing` feature, reported as an event (target `ticktock::serve`). When the
//! runtime itself drains (`Runtime::shutdown_timeout`), the loop shuts down as if
//! signalled.
//!
//! # Examples
//! ```
//! use std::convert::Infallible;
//! use std::future::IntoFuture;
//! use http_body_util::{BodyExt, Empty, Full};
//! use hyper::body::{Bytes, Incoming};
//! use hyper::{Request, Response};
//! use ticktock_executor::hyper::Io;
//! use ticktock_executor::net::{TcpListener, TcpStream};
//! use ticktock_executor::serve::ConnectInfo;
//!
//! #[derive(Clone)]
//! struct Hello;
//!
//! impl tower_service::Service<Request<Incoming>> for Hello {
//!     type Response = Response<Full<Bytes>>;
//!     type Error = Infallible;
//!     type Future = std::future::Ready<Result<Response<Full<Bytes>>, Infallible>>;
//!
//!     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
//!         std::task::Poll::Ready(Ok(()))
//!     }
//!
//!     fn call(&mut self, request: Request<Incoming>) -> Self::Future {
//!         let ConnectInfo(peer) = *request.extensions().get::<ConnectInfo>().unwrap();
//!         std::future::ready(Ok(Response::new(Full::new(Bytes::from(format!("hello {}", peer.ip()))))))
//!     }
//! }
//!
//! let rt = ticktock_executor::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let (stop, stopped) = futures::channel::oneshot::channel::<()>();
//!     let server = ticktock_executor::spawn(
//!         ticktock_executor::serve(listener, Hello)
//!             .with_graceful_shutdown(async { stopped.await.ok(); })
//!             .into_future(),
//!     );
//!
//!     let stream = TcpStream::connect(addr).await.unwrap();
//!     let (mut sender, connection) = hyper::client::conn::http1::handshake(Io::new(stream)).await.unwrap();
//!     let connection = ticktock_executor::spawn(connection);
//!     let response = sender.send_request(Request::new(Empty::<Bytes>::new())).await.unwrap();
//!     let body = response.into_body().collect().await.unwrap().to_bytes();
//!     assert_eq!(body, "hello 127.0.0.1");
//!
//!     stop.send(()).unwrap();
//!     server.await.unwrap().unwrap(); // the idle keep-alive connection was closed
//!     connection.await.unwrap().unwrap();
//! });
//! ```

mod accept_errors;
mod drain;
mod service;
mod timeout;

use std::error::Error as StdError;
use std::fmt;
use std::future::{poll_fn, Future, IntoFuture};
use std::io;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::{Request, Response};
use hyper_util::server::conn::auto;

use crate::hyper::{Executor, Io, Timer};
use crate::net::TcpListener;
use accept_errors::AcceptErrors;
use drain::{Drain, Phase};
use service::HyperService;

pub use accept_errors::ACCEPT_ERROR_PAUSE;
pub use service::ConnectInfo;
pub use timeout::{Timeout, TimeoutFuture, TimeoutLayer};

/// How long [`WithGracefulShutdown`] waits for in-flight requests unless
/// [`WithGracefulShutdown::drain_timeout`] says otherwise: 30 s, the grace period
/// Kubernetes gives a pod between SIGTERM and SIGKILL.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// The error type hyper and tower use for a service's errors.
type BoxError = Box<dyn StdError + Send + Sync>;

/// Serves `service` on every connection `listener` accepts, over HTTP/1.1 or
/// HTTP/2 (see the module docs). Await the returned [`Serve`] (it runs until the
/// runtime shuts down), or first add a shutdown signal with
/// [`Serve::with_graceful_shutdown`].
///
/// The service is any tower `Service<Request<Incoming>>` that is `Clone`: an axum
/// `Router` serves as is. Handlers find the peer's address in the request's
/// extensions as [`ConnectInfo`].
///
/// # Examples
/// ```no_run
/// use std::convert::Infallible;
/// use http_body_util::Full;
/// use hyper::body::{Bytes, Incoming};
/// use hyper::{Request, Response};
///
/// # #[derive(Clone)] struct Hello;
/// # impl tower_service::Service<Request<Incoming>> for Hello {
/// #     type Response = Response<Full<Bytes>>;
/// #     type Error = Infallible;
/// #     type Future = std::future::Ready<Result<Response<Full<Bytes>>, Infallible>>;
/// #     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> { std::task::Poll::Ready(Ok(())) }
/// #     fn call(&mut self, _: Request<Incoming>) -> Self::Future { std::future::ready(Ok(Response::new(Full::new(Bytes::from("hi"))))) }
/// # }
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let listener = ticktock_executor::net::TcpListener::bind("0.0.0.0:8080").await.unwrap();
///     ticktock_executor::serve(listener, Hello)
///         .with_graceful_shutdown(async { ticktock_executor::signal::ctrl_c().await.unwrap() })
///         .await
///         .unwrap();
/// });
/// ```
pub fn serve<S, B>(listener: TcpListener, service: S) -> Serve<S>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    Serve {
        listener,
        service,
        header_read_timeout: None,
        accept_error_pause: ACCEPT_ERROR_PAUSE,
    }
}

/// A server that is not running yet: await it, or add a shutdown signal. Made by
/// [`serve`].
///
/// # Examples
/// See [`serve`] and the module docs.
#[must_use = "a server does nothing until awaited"]
pub struct Serve<S> {
    listener: TcpListener,
    service: S,
    header_read_timeout: Option<Duration>,
    accept_error_pause: Duration,
}

impl<S> Serve<S> {
    /// Closes HTTP/1 connections that do not deliver a complete request head
    /// within `timeout` (hyper's header-read timeout, on ticktock's timer; hyper
    /// applies 30 s when this is not set). The defence against slow-header
    /// (slowloris) clients.
    ///
    /// # Examples
    /// ```
    /// # use std::convert::Infallible;
    /// # use http_body_util::Full;
    /// # use hyper::body::{Bytes, Incoming};
    /// # use hyper::{Request, Response};
    /// # #[derive(Clone)] struct Hello;
    /// # impl tower_service::Service<Request<Incoming>> for Hello {
    /// #     type Response = Response<Full<Bytes>>;
    /// #     type Error = Infallible;
    /// #     type Future = std::future::Ready<Result<Response<Full<Bytes>>, Infallible>>;
    /// #     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> { std::task::Poll::Ready(Ok(())) }
    /// #     fn call(&mut self, _: Request<Incoming>) -> Self::Future { std::future::ready(Ok(Response::new(Full::new(Bytes::from("hi"))))) }
    /// # }
    /// use std::time::Duration;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = ticktock_executor::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let server = ticktock_executor::serve(listener, Hello)
    ///         .header_read_timeout(Duration::from_secs(5));
    ///     assert_eq!(server.local_addr().unwrap().ip().to_string(), "127.0.0.1");
    /// });
    /// ```
    pub fn header_read_timeout(mut self, timeout: Duration) -> Serve<S> {
        self.header_read_timeout = Some(timeout);
        self
    }

    /// How long the accept loop pauses after an accept error that is not about one
    /// connection, such as `EMFILE` ([`ACCEPT_ERROR_PAUSE`], 50 ms, unless set;
    /// axum's `serve` uses 1 s).
    ///
    /// # Examples
    /// ```
    /// # use std::convert::Infallible;
    /// # use http_body_util::Full;
    /// # use hyper::body::{Bytes, Incoming};
    /// # use hyper::{Request, Response};
    /// # #[derive(Clone)] struct Hello;
    /// # impl tower_service::Service<Request<Incoming>> for Hello {
    /// #     type Response = Response<Full<Bytes>>;
    /// #     type Error = Infallible;
    /// #     type Future = std::future::Ready<Result<Response<Full<Bytes>>, Infallible>>;
    /// #     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> { std::task::Poll::Ready(Ok(())) }
    /// #     fn call(&mut self, _: Request<Incoming>) -> Self::Future { std::future::ready(Ok(Response::new(Full::new(Bytes::from("hi"))))) }
    /// # }
    /// use std::time::Duration;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = ticktock_executor::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let _server = ticktock_executor::serve(listener, Hello)
    ///         .accept_error_pause(Duration::from_millis(200));
    /// });
    /// ```
    pub fn accept_error_pause(mut self, pause: Duration) -> Serve<S> {
        self.accept_error_pause = pause;
        self
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    /// The OS's `getsockname` error.
    ///
    /// # Examples
    /// See [`Serve::header_read_timeout`].
    pub fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Adds a shutdown signal: when `signal` completes, the server stops
    /// accepting, lets requests in flight finish, closes idle connections, and
    /// returns (see the module docs).
    ///
    /// # Examples
    /// See the module docs.
    pub fn with_graceful_shutdown<F>(self, signal: F) -> WithGracefulShutdown<S, F>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        WithGracefulShutdown {
            serve: self,
            signal,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
        }
    }
}

/// A server with a shutdown signal; made by [`Serve::with_graceful_shutdown`].
/// Await it: it returns once the signal fired and every connection is done (or
/// the drain timeout passed).
///
/// # Examples
/// See the module docs.
#[must_use = "a server does nothing until awaited"]
pub struct WithGracefulShutdown<S, F> {
    serve: Serve<S>,
    signal: F,
    drain_timeout: Duration,
}

impl<S, F> WithGracefulShutdown<S, F> {
    /// How long to wait for in-flight requests after the signal before dropping
    /// the connections that are left ([`DEFAULT_DRAIN_TIMEOUT`] unless set).
    ///
    /// # Examples
    /// ```
    /// # use std::convert::Infallible;
    /// # use http_body_util::Full;
    /// # use hyper::body::{Bytes, Incoming};
    /// # use hyper::{Request, Response};
    /// # #[derive(Clone)] struct Hello;
    /// # impl tower_service::Service<Request<Incoming>> for Hello {
    /// #     type Response = Response<Full<Bytes>>;
    /// #     type Error = Infallible;
    /// #     type Future = std::future::Ready<Result<Response<Full<Bytes>>, Infallible>>;
    /// #     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> { std::task::Poll::Ready(Ok(())) }
    /// #     fn call(&mut self, _: Request<Incoming>) -> Self::Future { std::future::ready(Ok(Response::new(Full::new(Bytes::from("hi"))))) }
    /// # }
    /// use std::time::Duration;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = ticktock_executor::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     // The signal has already fired: the server returns at once.
    ///     ticktock_executor::serve(listener, Hello)
    ///         .with_graceful_shutdown(async {})
    ///         .drain_timeout(Duration::from_secs(5))
    ///         .await
    ///         .unwrap();
    /// });
    /// ```
    pub fn drain_timeout(mut self, timeout: Duration) -> WithGracefulShutdown<S, F> {
        self.drain_timeout = timeout;
        self
    }
}

impl<S, B> IntoFuture for Serve<S>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(run(self, std::future::pending(), DEFAULT_DRAIN_TIMEOUT))
    }
}

impl<S, B, F> IntoFuture for WithGracefulShutdown<S, F>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    F: Future<Output = ()> + Send + 'static,
{
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(run(self.serve, self.signal, self.drain_timeout))
    }
}

/// What ended one turn of the accept loop.
enum Turn {
    Accepted(io::Result<(crate::net::TcpStream, std::net::SocketAddr)>),
    Signalled,
}

/// The accept loop and the shutdown sequence (see the module docs).
async fn run<S, B, F>(serve: Serve<S>, signal: F, drain_timeout: Duration) -> io::Result<()>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    F: Future<Output = ()> + Send + 'static,
{
    let Serve {
        listener,
        service,
        header_read_timeout,
        accept_error_pause,
    } = serve;
    let mut errors = AcceptErrors::new(accept_error_pause);
    let builder = Arc::new(connection_builder(header_read_timeout));
    let drain = Arc::new(Drain::default());
    let mut signal = pin!(signal);
    loop {
        let turn = poll_fn(|cx| {
            if signal.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Turn::Signalled);
            }
            listener.poll_accept(cx).map(Turn::Accepted)
        })
        .await;
        let (stream, peer) = match turn {
            Turn::Signalled => break,
            Turn::Accepted(Ok(accepted)) => {
                errors.after_success();
                accepted
            }
            Turn::Accepted(Err(error)) if crate::net::is_shutting_down(&error) => break,
            Turn::Accepted(Err(error)) => {
                errors.after_error(&error).await;
                continue;
            }
        };
        let service = HyperService {
            service: service.clone(),
            peer,
        };
        drop(crate::spawn(serve_connection(
            builder.clone(),
            drain.clone(),
            stream,
            service,
        )));
    }
    // Step 1: refuse new connections.
    drop(listener);
    // Step 2: drain; step 3: wait, then force what is left.
    drain.advance(Phase::Draining);
    let all_done = poll_fn(|cx| drain.poll_all_done(cx));
    if crate::time::timeout(drain_timeout, all_done).await.is_err() {
        drain.advance(Phase::Forced);
        poll_fn(|cx| drain.poll_all_done(cx)).await;
    }
    Ok(())
}

/// hyper-util's auto builder with ticktock's executor and timers.
fn connection_builder(header_read_timeout: Option<Duration>) -> auto::Builder<Executor> {
    let mut builder = auto::Builder::new(Executor);
    builder.http1().timer(Timer);
    if let Some(timeout) = header_read_timeout {
        builder.http1().header_read_timeout(timeout);
    }
    builder.http2().timer(Timer);
    builder
}

/// One connection's task: serves until the connection ends, draining when told
/// and giving up when forced.
async fn serve_connection<S, B>(
    builder: Arc<auto::Builder<Executor>>,
    drain: Arc<Drain>,
    stream: crate::net::TcpStream,
    service: HyperService<S>,
) where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let mut tracked = drain.track();
    let mut connection = pin!(builder.serve_connection_with_upgrades(Io::new(stream), service));
    let mut told_to_drain = false;
    poll_fn(|cx| {
        match tracked.poll_phase(cx) {
            Phase::Serving => {}
            Phase::Draining if !told_to_drain => {
                told_to_drain = true;
                connection.as_mut().graceful_shutdown();
            }
            Phase::Draining => {}
            Phase::Forced => return Poll::Ready(()),
        }
        // A connection error (a client that vanished, a malformed request) ends
        // this connection only; hyper has already answered what it could.
        connection.as_mut().poll(cx).map(drop)
    })
    .await;
}

impl<S> fmt::Debug for Serve<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("accept_error_pause", &self.accept_error_pause)
            .finish()
    }
}

impl<S, F> fmt::Debug for WithGracefulShutdown<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithGracefulShutdown")
            .field("serve", &self.serve)
            .field("drain_timeout", &self.drain_timeout)
            .finish()
    }
}
