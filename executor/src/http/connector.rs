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
//! Only `http` URIs: an `https` URI is refused with an error saying so (no TLS in
//! this client).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};

use crate::hyper::Io;
use crate::net::TcpStream;

/// The default port of an `http` URI without one.
const HTTP_PORT: u16 = 80;

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
#[derive(Clone, Debug, Default)]
pub struct Connector {
    connect_timeout: Option<Duration>,
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
}

/// Connects to `uri`'s host and port.
async fn connect(uri: Uri, timeout: Option<Duration>) -> io::Result<Io<TcpStream>> {
    match uri.scheme_str() {
        Some("http") | None => {}
        Some("https") => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "ticktock's http::Client has no TLS: use an http:// URI",
            ))
        }
        Some(other) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unsupported URI scheme {other:?}"),
            ))
        }
    }
    let host = uri
        .host()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "URI has no host"))?;
    // `[::1]` in a URI is `::1` to the resolver.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(HTTP_PORT);
    let open = async {
        let stream = TcpStream::connect((host, port)).await?;
        stream.set_nodelay(true)?;
        Ok(Io::new(stream))
    };
    match timeout {
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
    type Response = Io<TcpStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Io<TcpStream>>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        Box::pin(connect(uri, self.connect_timeout))
    }
}

impl Connection for Io<TcpStream> {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}
