//! `ticktock::serve`: HTTP/1.1 and HTTP/2 on one port, the peer address in the
//! request, upgrades, and the graceful shutdown (idle keep-alive connections
//! closed, in-flight requests finished, the drain timeout). hyper clients on
//! ticktock over 127.0.0.1.

#![cfg(feature = "http")]

mod common;

use std::convert::Infallible;
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::io::{AsyncReadExt, AsyncWriteExt};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use ticktock::hyper::{Executor, Io};
use ticktock::net::{TcpListener, TcpStream};
use ticktock::serve::ConnectInfo;
use ticktock::time::{sleep, timeout};

const TEST_LIMIT: Duration = Duration::from_secs(30);

fn run<F: Future>(body: F) -> F::Output {
    common::runtime(2)
        .block_on(timeout(TEST_LIMIT, body))
        .expect("test body timed out")
}

/// Routes: `/peer` answers the peer address, `/sleep/{ms}` waits, `/upgrade`
/// switches protocols and echoes one message on the raw connection.
#[derive(Clone)]
struct App;

type BoxFuture = Pin<Box<dyn Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send>>;

impl tower_service::Service<Request<Incoming>> for App {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = BoxFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request<Incoming>) -> BoxFuture {
        Box::pin(async move {
            let path = request.uri().path().to_string();
            if path == "/peer" {
                let ConnectInfo(peer) = *request.extensions().get::<ConnectInfo>().unwrap();
                return Ok(Response::new(Full::new(Bytes::from(peer.to_string()))));
            }
            if let Some(ms) = path.strip_prefix("/sleep/") {
                sleep(Duration::from_millis(ms.parse().unwrap())).await;
                return Ok(Response::new(Full::new(Bytes::from("slept"))));
            }
            if path == "/upgrade" {
                let upgrade = hyper::upgrade::on(&mut request);
                ticktock::spawn(async move {
                    let upgraded = upgrade.await.unwrap();
                    let mut io = hyper_util_free::Upgraded(upgraded);
                    let mut buf = [0u8; 4];
                    io.read_exact(&mut buf).await.unwrap();
                    io.write_all(&buf).await.unwrap();
                });
                let mut response = Response::new(Full::new(Bytes::new()));
                *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
                response
                    .headers_mut()
                    .insert("upgrade", "echo".parse().unwrap());
                response
                    .headers_mut()
                    .insert("connection", "upgrade".parse().unwrap());
                return Ok(response);
            }
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::NOT_FOUND;
            Ok(response)
        })
    }
}

/// hyper's `Upgraded` speaks hyper's I/O traits; this wraps it in futures-io for
/// the test's read/write helpers (no tokio types involved).
mod hyper_util_free {
    use std::io;
    use std::pin::Pin;
    use std::task::{ready, Context, Poll};

    use hyper::rt::{Read, ReadBuf, Write};

    pub struct Upgraded(pub hyper::upgrade::Upgraded);

    impl futures::io::AsyncRead for Upgraded {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            let mut read_buf = ReadBuf::new(buf);
            ready!(Pin::new(&mut self.0).poll_read(cx, read_buf.unfilled()))?;
            Poll::Ready(Ok(read_buf.filled().len()))
        }
    }

    impl futures::io::AsyncWrite for Upgraded {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.0).poll_write(cx, buf)
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.0).poll_flush(cx)
        }

        fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.0).poll_shutdown(cx)
        }
    }
}

/// A server on an ephemeral port; returns its address, its task, and the sender
/// that triggers its graceful shutdown.
async fn start(
    drain_timeout: Duration,
) -> (
    SocketAddr,
    ticktock::task::JoinHandle<std::io::Result<()>>,
    futures::channel::oneshot::Sender<()>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = futures::channel::oneshot::channel::<()>();
    let server = ticktock::spawn(
        ticktock::serve(listener, App)
            .with_graceful_shutdown(async {
                stopped.await.ok();
            })
            .drain_timeout(drain_timeout)
            .into_future(),
    );
    (addr, server, stop)
}

async fn body_of(response: Response<Incoming>) -> Bytes {
    response.into_body().collect().await.unwrap().to_bytes()
}

fn get(path: &str) -> Request<Empty<Bytes>> {
    Request::get(path)
        .header("host", "localhost")
        .body(Empty::new())
        .unwrap()
}

#[test]
fn http1_and_http2_on_one_port_with_the_peer_address() {
    run(async {
        let (addr, server, stop) = start(Duration::from_secs(5)).await;

        let stream = TcpStream::connect(addr).await.unwrap();
        let local = stream.local_addr().unwrap();
        let (mut h1, conn) = hyper::client::conn::http1::handshake(Io::new(stream))
            .await
            .unwrap();
        let h1_conn = ticktock::spawn(conn);
        let response = h1.send_request(get("/peer")).await.unwrap();
        assert_eq!(response.version(), hyper::Version::HTTP_11);
        assert_eq!(body_of(response).await, local.to_string());

        let stream = TcpStream::connect(addr).await.unwrap();
        let local = stream.local_addr().unwrap();
        let (mut h2, conn) = hyper::client::conn::http2::handshake(Executor, Io::new(stream))
            .await
            .unwrap();
        let h2_conn = ticktock::spawn(conn);
        let response = h2.send_request(get("http://localhost/peer")).await.unwrap();
        assert_eq!(response.version(), hyper::Version::HTTP_2);
        assert_eq!(body_of(response).await, local.to_string());

        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
        h1_conn.await.unwrap().unwrap();
        h2_conn.await.unwrap().unwrap();
    });
}

#[test]
fn upgrades_hand_over_the_connection() {
    run(async {
        let (addr, server, stop) = start(Duration::from_secs(5)).await;
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(Io::new(stream))
            .await
            .unwrap();
        let conn = ticktock::spawn(conn.with_upgrades());
        let request = Request::get("/upgrade")
            .header("host", "localhost")
            .header("connection", "upgrade")
            .header("upgrade", "echo")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        let upgraded = hyper::upgrade::on(response).await.unwrap();
        let mut io = hyper_util_free::Upgraded(upgraded);
        io.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        io.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        drop(io);
        conn.await.unwrap().unwrap();
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
    });
}

#[test]
fn graceful_shutdown_finishes_in_flight_and_closes_idle_connections() {
    run(async {
        let (addr, server, stop) = start(Duration::from_secs(10)).await;
        // An idle keep-alive connection (one request done) ...
        let (mut idle, idle_conn) =
            hyper::client::conn::http1::handshake(Io::new(TcpStream::connect(addr).await.unwrap()))
                .await
                .unwrap();
        let idle_conn = ticktock::spawn(idle_conn);
        let response = idle.send_request(get("/peer")).await.unwrap();
        body_of(response).await;
        // ... and one with a slow request in flight.
        let (mut busy, busy_conn) =
            hyper::client::conn::http1::handshake(Io::new(TcpStream::connect(addr).await.unwrap()))
                .await
                .unwrap();
        let busy_conn = ticktock::spawn(busy_conn);
        let in_flight = ticktock::spawn(async move {
            let response = busy.send_request(get("/sleep/300")).await.unwrap();
            body_of(response).await
        });
        sleep(Duration::from_millis(50)).await;
        let signalled = Instant::now();
        stop.send(()).unwrap();

        // The idle connection is closed by the server at once.
        timeout(Duration::from_millis(250), idle_conn)
            .await
            .expect("the idle keep-alive connection was closed promptly")
            .unwrap()
            .unwrap();
        // New connections are refused.
        sleep(Duration::from_millis(20)).await;
        let refused = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
        // The request in flight gets its full response, then the server returns.
        assert_eq!(in_flight.await.unwrap(), "slept");
        server.await.unwrap().unwrap();
        assert!(signalled.elapsed() >= Duration::from_millis(200));
        busy_conn.await.unwrap().unwrap();
    });
}

#[test]
fn drain_timeout_drops_requests_that_take_too_long() {
    run(async {
        let (addr, server, stop) = start(Duration::from_millis(100)).await;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(Io::new(TcpStream::connect(addr).await.unwrap()))
                .await
                .unwrap();
        let conn = ticktock::spawn(conn);
        let stuck = ticktock::spawn(async move { sender.send_request(get("/sleep/60000")).await });
        sleep(Duration::from_millis(50)).await;
        let signalled = Instant::now();
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
        let waited = signalled.elapsed();
        assert!(
            waited >= Duration::from_millis(100),
            "waited the drain timeout: {waited:?}"
        );
        assert!(
            waited < Duration::from_secs(5),
            "then stopped waiting: {waited:?}"
        );
        assert!(
            stuck.await.unwrap().is_err(),
            "the dropped request got no response"
        );
        let _ = conn.await.unwrap();
    });
}
