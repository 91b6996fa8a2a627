//! [`TimeoutLayer`]: a tower layer that answers a request that takes too long
//! with an error status, on ticktock's timers (tower's own `Timeout` needs tokio's).
//!
//! The inner future is polled first, then the timer: a response that is ready at
//! the deadline wins. On expiry the inner future is dropped (the handler is
//! cancelled at its current `.await`) and the client gets an empty response with
//! the layer's status, `503 Service Unavailable` unless set otherwise.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::{Response, StatusCode};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::time::{sleep, Sleep};

/// The status of a timed-out response unless [`TimeoutLayer::with_status`] says
/// otherwise: 503, "the server cannot answer now", which clients may retry.
const DEFAULT_STATUS: StatusCode = StatusCode::SERVICE_UNAVAILABLE;

/// Applies [`Timeout`] to a service: each request gets `duration` to produce its
/// response.
///
/// # Examples
/// ```
/// use std::convert::Infallible;
/// use std::time::Duration;
/// use hyper::{Request, Response, StatusCode};
/// use tower_layer::Layer;
/// use tower_service::Service;
/// use ticktock_executor::serve::TimeoutLayer;
///
/// #[derive(Clone)]
/// struct Slow;
/// impl Service<Request<()>> for Slow {
///     type Response = Response<String>;
///     type Error = Infallible;
///     type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response<String>, Infallible>> + Send>>;
///     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
///         std::task::Poll::Ready(Ok(()))
///     }
///     fn call(&mut self, _: Request<()>) -> Self::Future {
///         Box::pin(async {
///             ticktock_executor::time::sleep(Duration::from_secs(60)).await;
///             Ok(Response::new("late".to_string()))
///         })
///     }
/// }
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let mut service = TimeoutLayer::new(Duration::from_millis(10)).layer(Slow);
///     let response = service.call(Request::new(())).await.unwrap();
///     assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
/// });
/// ```
#[derive(Clone, Copy, Debug)]
pub struct TimeoutLayer {
    duration: Duration,
    status: StatusCode,
}

impl TimeoutLayer {
    /// A layer that gives each request `duration`.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use ticktock_executor::serve::TimeoutLayer;
    ///
    /// let layer = TimeoutLayer::new(Duration::from_secs(5));
    /// assert_eq!(layer.duration(), Duration::from_secs(5));
    /// ```
    pub fn new(duration: Duration) -> TimeoutLayer {
        TimeoutLayer {
            duration,
            status: DEFAULT_STATUS,
        }
    }

    /// The status of a timed-out response (for example `408 Request Timeout`).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use hyper::StatusCode;
    /// use ticktock_executor::serve::TimeoutLayer;
    ///
    /// let layer = TimeoutLayer::new(Duration::from_secs(1)).with_status(StatusCode::REQUEST_TIMEOUT);
    /// assert_eq!(layer.status(), StatusCode::REQUEST_TIMEOUT);
    /// ```
    pub fn with_status(mut self, status: StatusCode) -> TimeoutLayer {
        self.status = status;
        self
    }

    /// The time each request gets.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use ticktock_executor::serve::TimeoutLayer;
    ///
    /// assert_eq!(TimeoutLayer::new(Duration::from_millis(250)).duration(), Duration::from_millis(250));
    /// ```
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// The status of a timed-out response.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use ticktock_executor::serve::TimeoutLayer;
    ///
    /// assert_eq!(TimeoutLayer::new(Duration::from_secs(1)).status().as_u16(), 503);
    /// ```
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            inner,
            layer: *self,
        }
    }
}

/// A service whose requests get a deadline; made by [`TimeoutLayer`].
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use tower_layer::Layer;
/// use ticktock_executor::serve::{Timeout, TimeoutLayer};
///
/// let service: Timeout<()> = TimeoutLayer::new(Duration::from_secs(1)).layer(());
/// assert_eq!(service.get_ref(), &());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Timeout<S> {
    inner: S,
    layer: TimeoutLayer,
}

impl<S> Timeout<S> {
    /// The wrapped service.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use tower_layer::Layer;
    /// use ticktock_executor::serve::TimeoutLayer;
    ///
    /// let service = TimeoutLayer::new(Duration::from_secs(1)).layer(7);
    /// assert_eq!(*service.get_ref(), 7);
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, R, B> Service<R> for Timeout<S>
where
    S: Service<R, Response = Response<B>>,
    B: Default,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = TimeoutFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        TimeoutFuture {
            inner: self.inner.call(request),
            sleep: sleep(self.layer.duration),
            status: self.layer.status,
        }
    }
}

pin_project! {
    /// The response future of [`Timeout`].
    pub struct TimeoutFuture<F> {
        #[pin]
        inner: F,
        sleep: Sleep,
        status: StatusCode,
    }
}

impl<F, B, E> Future for TimeoutFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Default,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.inner.poll(cx) {
            return Poll::Ready(output);
        }
        match Pin::new(this.sleep).poll(cx) {
            Poll::Ready(()) => {
                let mut response = Response::new(B::default());
                *response.status_mut() = *this.status;
                Poll::Ready(Ok(response))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F> std::fmt::Debug for TimeoutFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeoutFuture")
            .field("status", &self.status)
            .finish()
    }
}
