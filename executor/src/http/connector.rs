//! [`Connector`]: how the pooled client opens a connection, on ticktock's sockets.
//!
//! # What it owns
//! Nothing shared: a connector is a small `Copy`-like value (its settings), cloned
//! into the client's pool. Each call resolves the URI's host (`lookup_host`, on
//! the blocking pool for names; directly for IP addresses), connects to each
//! address in turn until one answers, under the connect timeout if one is set
//! (ticktock's timer), and hands the stream back wrapped in [`Io`] so hyper can
//! read and write it.
//!
//! # Ground rules
//! `https` URIs need the feature `http-client-rustls` and a rustls configuration
//! ([`Connector::tls`]); without them an `https` URI is refused with an error
//! saying so. The TLS handshake runs on the connection's ticktock socket
//! (futures-rustls), under the same connect timeout.

use std::future::Future;
use std::io;
use std::pin::Pin;
#[cfg(feature = "http-client-rustls")]
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite};

use hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};

use crate::hyper::Io;
use crate::net::TcpStream;

/// The default port of an `http` URI without one.
const HTTP_PORT: u16 = 80;
/// The default port of an `https` URI without one.
#[cfg(feature = "http-client-rustls")]
const HTTPS_PORT: u16 = 443;

/// Opens TCP connections for [`Client`](super::Client): DNS through
/// [`lookup_host`](crate::net::lookup_host), `TCP_NODELAY` on, an optional
/// connect timeout on ticktock's timer.
///
/// # Examples
/// ```
/// use ticktock_executor::http::Connector;
///
/// let connector = Connector::new().connect_timeout(std::time::Duration::from_secs(3));
/// # drop(connector);
/// ```
#[derive(Clone, Default)]
pub struct Connector {
    connect_timeout: Option<Duration>,
    /// The rustls configuration for `https` URIs, if any.
    #[cfg(feature = "http-client-rustls")]
    tls: Option<Arc<futures_rustls::rustls::ClientConfig>>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("Connector");
        debug.field("connect_timeout", &self.connect_timeout);
        #[cfg(feature = "http-client-rustls")]
        debug.field("tls", &self.tls.is_some());
        debug.finish()
    }
}

impl Connector {
    /// A connector with no connect timeout.
    ///
    /// # Examples
    /// ```
    /// let connector = ticktock_executor::http::Connector::new();
    /// # drop(connector);
    /// ```
    pub fn new() -> Connector {
        Connector::default()
    }

    /// Gives up on connecting after `timeout` (over all the host's addresses).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let connector = ticktock_executor::http::Connector::new().connect_timeout(Duration::from_secs(1));
    /// # drop(connector);
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Connector {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Connects `https` URIs with TLS under `config` (its root certificates, and
    /// its ALPN protocols: put `h2` first to get HTTP/2 where the server offers it).
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
    /// let connector = ticktock_executor::http::Connector::new().tls(Arc::new(config));
    /// # drop(connector);
    /// ```
    #[cfg(feature = "http-client-rustls")]
    pub fn tls(mut self, config: Arc<futures_rustls::rustls::ClientConfig>) -> Connector {
        self.tls = Some(config);
        self
    }
}

/// A connection the [`Connector`] opened: a TCP stream, or TLS over one (feature
/// `http-client-rustls`). The client reads and writes it through
/// [`Io`](crate::hyper::Io).
///
/// # Examples
/// ```
/// fn _pooled(_: ticktock_executor::hyper::Io<ticktock_executor::http::ClientStream>) {}
/// ```
#[derive(Debug)]
pub struct ClientStream(StreamKind);

/// What a [`ClientStream`] runs over.
#[derive(Debug)]
enum StreamKind {
    Plain(TcpStream),
    #[cfg(feature = "http-client-rustls")]
    Tls(Box<futures_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for ClientStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().0 {
            StreamKind::Plain(stream) => Pin::new(stream).poll_read(cx, buf),
            #[cfg(feature = "http-client-rustls")]
            StreamKind::Tls(stream) => Pin::new(stream.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ClientStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().0 {
            StreamKind::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
            #[cfg(feature = "http-client-rustls")]
            StreamKind::Tls(stream) => Pin::new(stream.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().0 {
            StreamKind::Plain(stream) => Pin::new(stream).poll_flush(cx),
            #[cfg(feature = "http-client-rustls")]
            StreamKind::Tls(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().0 {
            StreamKind::Plain(stream) => Pin::new(stream).poll_close(cx),
            #[cfg(feature = "http-client-rustls")]
            StreamKind::Tls(stream) => Pin::new(stream.as_mut()).poll_close(cx),
        }
    }
}

/// Connects to `uri`'s host and port, with TLS for `https`.
async fn connect(uri: Uri, connector: Connector) -> io::Result<Io<ClientStream>> {
    let tls = match uri.scheme_str() {
        Some("http") | None => false,
        Some("https") => true,
        Some(other) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unsupported URI scheme {other:?}"),
            ))
        }
    };
    #[cfg(not(feature = "http-client-rustls"))]
    if tls {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "https needs TLS: enable ticktock's feature `http-client-rustls` and set \
             `ClientBuilder::tls`, or use an http:// URI",
        ));
    }
    // Checked before connecting: an https URI without a configuration is refused.
    #[cfg(feature = "http-client-rustls")]
    let tls_config = match (tls, connector.tls.clone()) {
        (false, _) => None,
        (true, Some(config)) => Some(config),
        (true, None) => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "https needs a rustls configuration: set `ClientBuilder::tls`",
            ))
        }
    };
    let host = uri
        .host()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "URI has no host"))?;
    // `[::1]` in a URI is `::1` to the resolver.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    #[cfg(feature = "http-client-rustls")]
    let default_port = if tls { HTTPS_PORT } else { HTTP_PORT };
    #[cfg(not(feature = "http-client-rustls"))]
    let default_port = HTTP_PORT;
    let port = uri.port_u16().unwrap_or(default_port);
    let open = async {
        let stream = TcpStream::connect((host, port)).await?;
        stream.set_nodelay(true)?;
        #[cfg(feature = "http-client-rustls")]
        if let Some(config) = tls_config {
            let name = futures_rustls::rustls::pki_types::ServerName::try_from(host.to_string())
                .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?;
            let stream = futures_rustls::TlsConnector::from(config)
                .connect(name, stream)
                .await?;
            return Ok(Io::new(ClientStream(StreamKind::Tls(Box::new(stream)))));
        }
        Ok(Io::new(ClientStream(StreamKind::Plain(stream))))
    };
    match connector.connect_timeout {
        Some(limit) => crate::time::timeout(limit, open).await.unwrap_or_else(|_| {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("connecting to {host}:{port} timed out after {limit:?}"),
            ))
        }),
        None => open.await,
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = Io<ClientStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Io<ClientStream>>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        Box::pin(connect(uri, self.clone()))
    }
}

impl Connection for Io<ClientStream> {
    fn connected(&self) -> Connected {
        match &self.inner().0 {
            StreamKind::Plain(_) => Connected::new(),
            // ALPN chose HTTP/2: the pool then shares this connection.
            #[cfg(feature = "http-client-rustls")]
            StreamKind::Tls(stream) if stream.get_ref().1.alpn_protocol() == Some(b"h2") => {
                Connected::new().negotiated_h2()
            }
            #[cfg(feature = "http-client-rustls")]
            StreamKind::Tls(_) => Connected::new(),
        }
    }
}
