//! A pooled HTTP client on ticktock (feature `http-client`): hyper-util's client
//! (the "legacy" pooled `Client`) with a ticktock [`Connector`], executor and
//! timer, so no tokio runtime is involved.
//!
//! # What it owns
//! A [`Client`] is a cheap handle (clone it freely) to one connection pool:
//! idle keep-alive connections per host, reused by later requests; HTTP/1.1 by
//! default, HTTP/2 with prior knowledge ([`ClientBuilder::http2_only`]). hyper's
//! background futures (connection drivers, HTTP/2 streams) run as ticktock tasks
//! ([`Executor`](crate::hyper::Executor)); the pool's idle timeout and hyper's
//! timeouts run on ticktock's timers ([`Timer`](crate::hyper::Timer)), and so do
//! [`ClientBuilder::timeout`] and [`ClientBuilder::connect_timeout`].
//!
//! # Ground rules
//! - Use it from inside a ticktock runtime (a task or `block_on`): connecting and
//!   the timers use the current runtime, and panic outside one as `spawn` does.
//! - A pooled connection belongs to the runtime it was opened on; a client shared
//!   by two runtimes keeps a connection per runtime that used it.
//! - `https://` needs the feature `http-client-rustls` and [`ClientBuilder::tls`]
//!   (rustls over ticktock's socket); without them it is refused with an error.
//!
//! # Examples
//! ```
//! use std::convert::Infallible;
//!
//! use http_body_util::{BodyExt, Empty, Full};
//! use hyper::body::{Bytes, Incoming};
//! use hyper::{Request, Response};
//! use ticktock_executor::http::Client;
//! use ticktock_executor::hyper::{Io, Timer};
//! use ticktock_executor::net::TcpListener;
//!
//! let rt = ticktock_executor::Runtime::new().unwrap();
//! rt.block_on(async {
//!     // A one-connection HTTP/1.1 server to talk to.
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
//!     let client: Client<Empty<Bytes>> = Client::new();
//!     let uri = format!("http://{addr}/").parse().unwrap();
//!     let response = client.get(uri).await.unwrap();
//!     assert_eq!(response.status(), 200);
//!     let body = response.into_body().collect().await.unwrap().to_bytes();
//!     assert_eq!(body, "hello");
//! });
//! ```

mod connector;

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::{Request, Response, Uri};

pub use connector::{ClientStream, Connector};

/// rustls, as [`ClientBuilder::tls`] takes its configuration (feature
/// `http-client-rustls`; the `ring` crypto provider is compiled in).
#[cfg(feature = "http-client-rustls")]
pub use futures_rustls::rustls;

/// What a request may fail with: hyper-util's client error (connecting, the
/// connection closing, a protocol error), or the client's timeout.
#[derive(Debug)]
pub enum Error {
    /// The request failed before a response head arrived.
    Request(hyper_util::client::legacy::Error),
    /// No response head within [`ClientBuilder::timeout`].
    TimedOut(Duration),
}

impl Error {
    /// `true` if the client's timeout ended the request.
    ///
    /// # Examples
    /// ```
    /// let error = ticktock_executor::http::Error::TimedOut(std::time::Duration::from_secs(1));
    /// assert!(error.is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::TimedOut(_))
    }

    /// `true` if the request failed while connecting (refused, unreachable, DNS,
    /// the connect timeout).
    ///
    /// # Examples
    /// ```
    /// let error = ticktock_executor::http::Error::TimedOut(std::time::Duration::from_secs(1));
    /// assert!(!error.is_connect());
    /// ```
    pub fn is_connect(&self) -> bool {
        matches!(self, Error::Request(error) if error.is_connect())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Request(error) => match error.source() {
                Some(source) => write!(f, "{error}: {source}"),
                None => write!(f, "{error}"),
            },
            Error::TimedOut(limit) => write!(f, "no response within {limit:?}"),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Error::Request(error) => Some(error),
            Error::TimedOut(_) => None,
        }
    }
}

/// A pooled HTTP/1.1 and HTTP/2 client on ticktock. See the [module docs](self).
///
/// `B` is the request body type (`http_body_util::Empty<Bytes>`, `Full<Bytes>`,
/// `String`, ...).
///
/// # Examples
/// ```
/// use http_body_util::Full;
/// use hyper::body::Bytes;
///
/// let client: ticktock_executor::http::Client<Full<Bytes>> =
///     ticktock_executor::http::Client::builder()
///         .pool_max_idle_per_host(8)
///         .build();
/// # drop(client);
/// ```
pub struct Client<B> {
    inner: hyper_util::client::legacy::Client<Connector, B>,
    timeout: Option<Duration>,
}

impl<B> Clone for Client<B> {
    fn clone(&self) -> Client<B> {
        Client {
            inner: self.inner.clone(),
            timeout: self.timeout,
        }
    }
}

impl<B> fmt::Debug for Client<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<B> Client<B>
where
    B: Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    /// A client with the default settings: HTTP/1.1, keep-alive pool (90 s idle
    /// timeout), no request or connect timeout.
    ///
    /// # Examples
    /// ```
    /// let client: ticktock_executor::http::Client<String> = ticktock_executor::http::Client::new();
    /// # drop(client);
    /// ```
    pub fn new() -> Client<B> {
        ClientBuilder::new().build()
    }

    /// Sends `request` and waits for the response head (the body streams after).
    ///
    /// # Examples
    /// ```no_run
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let client: ticktock_executor::http::Client<String> = ticktock_executor::http::Client::new();
    ///     let request = hyper::Request::post("http://127.0.0.1:8080/items")
    ///         .body("{}".to_string())
    ///         .unwrap();
    ///     let response = client.request(request).await.unwrap();
    ///     println!("{}", response.status());
    /// });
    /// ```
    pub fn request(
        &self,
        request: Request<B>,
    ) -> impl Future<Output = Result<Response<Incoming>, Error>> + Send + 'static {
        let response = self.inner.request(request);
        let timeout = self.timeout;
        async move {
            match timeout {
                Some(limit) => match crate::time::timeout(limit, response).await {
                    Ok(result) => result.map_err(Error::Request),
                    Err(_) => Err(Error::TimedOut(limit)),
                },
                None => response.await.map_err(Error::Request),
            }
        }
    }

    /// Sends a `GET` request for `uri` with an empty body.
    ///
    /// # Examples
    /// ```no_run
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let client: ticktock_executor::http::Client<String> = ticktock_executor::http::Client::new();
    ///     let response = client.get("http://127.0.0.1:8080/".parse().unwrap()).await.unwrap();
    ///     println!("{}", response.status());
    /// });
    /// ```
    pub fn get(
        &self,
        uri: Uri,
    ) -> impl Future<Output = Result<Response<Incoming>, Error>> + Send + 'static
    where
        B: Default,
    {
        let mut request = Request::new(B::default());
        *request.uri_mut() = uri;
        self.request(request)
    }
}

impl Client<()> {
    /// A builder for a client with other settings.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let client: ticktock_executor::http::Client<String> = ticktock_executor::http::Client::builder()
    ///     .timeout(Duration::from_secs(5))
    ///     .build();
    /// # drop(client);
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }
}

impl<B> Default for Client<B>
where
    B: Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    fn default() -> Client<B> {
        Client::new()
    }
}

/// Settings of a [`Client`]: the pool, the protocol, the timeouts.
///
/// # Examples
/// ```
/// use std::time::Duration;
///
/// let client: ticktock_executor::http::Client<String> = ticktock_executor::http::Client::builder()
///     .http2_only(true)
///     .pool_idle_timeout(Duration::from_secs(30))
///     .connect_timeout(Duration::from_secs(2))
///     .timeout(Duration::from_secs(10))
///     .build();
/// # drop(client);
/// ```
pub struct ClientBuilder {
    inner: hyper_util::client::legacy::Builder,
    connector: Connector,
    timeout: Option<Duration>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("connector", &self.connector)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    fn new() -> ClientBuilder {
        let mut inner = hyper_util::client::legacy::Builder::new(crate::hyper::Executor);
        inner
            .timer(crate::hyper::Timer)
            .pool_timer(crate::hyper::Timer);
        ClientBuilder {
            inner,
            connector: Connector::new(),
            timeout: None,
        }
    }

    /// HTTP/2 only, with prior knowledge (`h2c`: no upgrade, no ALPN); requests
    /// share one connection per host, multiplexed.
    ///
    /// # Examples
    /// ```
    /// let builder = ticktock_executor::http::Client::builder().http2_only(true);
    /// # drop(builder);
    /// ```
    pub fn http2_only(mut self, enabled: bool) -> ClientBuilder {
        self.inner.http2_only(enabled);
        self
    }

    /// How long an idle pooled connection is kept (default 90 s).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let builder = ticktock_executor::http::Client::builder()
    ///     .pool_idle_timeout(Duration::from_secs(10));
    /// # drop(builder);
    /// ```
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.inner.pool_idle_timeout(timeout);
        self
    }

    /// The most idle connections kept per host (default: no limit).
    ///
    /// # Examples
    /// ```
    /// let builder = ticktock_executor::http::Client::builder().pool_max_idle_per_host(4);
    /// # drop(builder);
    /// ```
    pub fn pool_max_idle_per_host(mut self, max_idle: usize) -> ClientBuilder {
        self.inner.pool_max_idle_per_host(max_idle);
        self
    }

    /// Gives up connecting after `timeout`.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let builder = ticktock_executor::http::Client::builder()
    ///     .connect_timeout(Duration::from_secs(1));
    /// # drop(builder);
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.connector = self.connector.connect_timeout(timeout);
        self
    }

    /// Fails a request ([`Error::TimedOut`]) if its response head has not arrived
    /// within `timeout` (connecting included).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let builder = ticktock_executor::http::Client::builder().timeout(Duration::from_secs(5));
    /// # drop(builder);
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.timeout = Some(timeout);
        self
    }

    /// Connects `https` URIs with TLS under `config` (rustls; its root
    /// certificates and ALPN protocols: put `h2` first for HTTP/2).
    ///
    /// # Examples
    /// ```
    /// use std::sync::Arc;
    /// use ticktock_executor::http::rustls::{ClientConfig, RootCertStore};
    ///
    /// let provider = Arc::new(ticktock_executor::http::rustls::crypto::ring::default_provider());
    /// let config = ClientConfig::builder_with_provider(provider)
    ///     .with_safe_default_protocol_versions()
    ///     .unwrap()
    ///     .with_root_certificates(RootCertStore::empty())
    ///     .with_no_client_auth();
    /// let client: ticktock_executor::http::Client<String> =
    ///     ticktock_executor::http::Client::builder().tls(Arc::new(config)).build();
    /// # drop(client);
    /// ```
    #[cfg(feature = "http-client-rustls")]
    pub fn tls(
        mut self,
        config: std::sync::Arc<futures_rustls::rustls::ClientConfig>,
    ) -> ClientBuilder {
        self.connector = self.connector.tls(config);
        self
    }

    /// Builds the client.
    ///
    /// # Examples
    /// ```
    /// let client: ticktock_executor::http::Client<String> =
    ///     ticktock_executor::http::Client::builder().build();
    /// # drop(client);
    /// ```
    pub fn build<B>(&self) -> Client<B>
    where
        B: Body + Send + Unpin + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        Client {
            inner: self.inner.build(self.connector.clone()),
            timeout: self.timeout,
        }
    }
}
