//! The adapter from a tower `Service` to hyper's, and [`ConnectInfo`].
//!
//! hyper calls its services through `&self`; tower's take `&mut self` and must be
//! driven to `poll_ready` before each `call`. So each request clones the tower
//! service (cheap for an axum `Router`: an `Arc`), waits for it to be ready, then
//! calls it, as `tower::ServiceExt::oneshot` does. The connection's peer address
//! rides along in the request's extensions.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use hyper::body::Incoming;
use hyper::Request;
use pin_project_lite::pin_project;
use tower_service::Service;

/// The peer address of the connection a request came on, in the request's
/// extensions: axum handlers read it with `Extension(ConnectInfo(addr)):
/// Extension<ConnectInfo>` (the equivalent of axum's own `ConnectInfo`, which
/// only `axum::serve` fills in).
///
/// # Examples
/// ```
/// use ticktock_executor::serve::ConnectInfo;
///
/// let info = ConnectInfo("127.0.0.1:4000".parse().unwrap());
/// assert_eq!(info.0.port(), 4000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnectInfo(pub SocketAddr);

/// A tower service seen as a hyper service, for one connection.
#[derive(Clone, Debug)]
pub(super) struct HyperService<S> {
    pub(super) service: S,
    pub(super) peer: SocketAddr,
}

impl<S> hyper::service::Service<Request<Incoming>> for HyperService<S>
where
    S: Service<Request<Incoming>> + Clone,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Oneshot<S, Request<Incoming>>;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        request.extensions_mut().insert(ConnectInfo(self.peer));
        Oneshot {
            state: State::Ready {
                service: self.service.clone(),
                request: Some(request),
            },
        }
    }
}

pin_project! {
    /// `poll_ready`, then `call`, then the call's future.
    pub(super) struct Oneshot<S: Service<R>, R> {
        #[pin]
        state: State<S, R>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S: Service<R>, R> {
        Ready { service: S, request: Option<R> },
        Calling { #[pin] future: S::Future },
    }
}

impl<S: Service<R>, R> Future for Oneshot<S, R> {
    type Output = Result<S::Response, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                StateProj::Ready { service, request } => {
                    ready!(service.poll_ready(cx))?;
                    let request = request.take().expect("ticktock: a request is called once");
                    let future = service.call(request);
                    state.set(State::Calling { future });
                }
                StateProj::Calling { future } => return future.poll(cx),
            }
        }
    }
}
