//! hyper 1.x on ticktock (cargo feature `hyper`): the three adapters hyper's
//! connection builders ask a runtime for.
//!
//! | type | hyper trait | what it does |
//! |---|---|---|
//! | [`Executor`] | [`hyper::rt::Executor`] | spawns hyper's background futures (HTTP/2 streams) as ticktock tasks |
//! | [`Timer`] | [`hyper::rt::Timer`] | hyper's timeouts and keep-alive pings on ticktock's timer heaps; `reset` moves the deadline in place |
//! | [`Io`] | [`hyper::rt::Read`], [`hyper::rt::Write`] | wraps any `futures::io` stream, e.g. [`TcpStream`](crate::net::TcpStream) |
//!
//! # What it owns
//! Nothing shared: each adapter is a thin value. `Executor` and `Timer` use the
//! runtime of the thread that calls them (hyper calls them from the connection's
//! task), so they must be used from inside a ticktock runtime; outside one they
//! panic with the same message as [`spawn`](crate::spawn) and
//! [`sleep`](crate::time::sleep).
//!
//! # Examples
//! An HTTP/1.1 server and client on one runtime:
//! ```
//! use std::convert::Infallible;
//!
//! use http_body_util::{BodyExt, Empty, Full};
//! use hyper::body::{Bytes, Incoming};
//! use hyper::{Request, Response};
//! use ticktock_executor::hyper::{Io, Timer};
//! use ticktock_executor::net::{TcpListener, TcpStream};
//!
//! let rt = ticktock_executor::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     ticktock_executor::spawn(async move {
//!         let (stream, _) = listener.accept().await.unwrap();
//!         let hello = hyper::service::service_fn(|_request: Request<Incoming>| async {
//!             Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("hello"))))
//!         });
//!         hyper::server::conn::http1::Builder::new()
//!             .timer(Timer)
//!             .serve_connection(Io::new(stream), hello)
//!             .await
//!     });
//!
//!     let stream = TcpStream::connect(addr).await.unwrap();
//!     let (mut sender, connection) =
//!         hyper::client::conn::http1::handshake(Io::new(stream)).await.unwrap();
//!     ticktock_executor::spawn(connection);
//!     let request = Request::get("/").body(Empty::<Bytes>::new()).unwrap();
//!     let response = sender.send_request(request).await.unwrap();
//!     let body = response.into_body().collect().await.unwrap().to_bytes();
//!     assert_eq!(body, "hello");
//! });
//! ```

mod io;
mod timer;

use std::future::Future;

pub use io::Io;
pub use timer::Timer;

/// Runs hyper's background futures (HTTP/2 connection and stream tasks) as
/// detached ticktock tasks on the current runtime.
///
/// # Panics
/// `execute` panics outside a ticktock runtime.
///
/// # Examples
/// ```
/// use hyper::rt::Executor as _;
/// use ticktock_executor::hyper::Executor;
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (done_tx, done_rx) = futures::channel::oneshot::channel();
///     Executor.execute(async move {
///         done_tx.send("ran").unwrap();
///     });
///     assert_eq!(done_rx.await.unwrap(), "ran");
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Executor;

impl<F> ::hyper::rt::Executor<F> for Executor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    #[track_caller]
    fn execute(&self, future: F) {
        // Dropping the handle detaches the task: hyper never joins these futures.
        drop(crate::spawn(future));
    }
}

/// Compile-time checks: the adapters can be shared with hyper's connection tasks.
#[allow(dead_code)]
fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Executor>();
    send_sync::<Timer>();
    send_sync::<Io<crate::net::TcpStream>>();
}
