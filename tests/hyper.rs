//! hyper 1.x on ticktock: HTTP/1.1 keep-alive, HTTP/2 with the ticktock executor,
//! and hyper's own timeouts running on ticktock timers. Servers and clients are
//! both hyper, both on ticktock, over 127.0.0.1 (and a Unix socket pair).

#![cfg(feature = "hyper")]

mod common;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::runtime;
use futures::io::AsyncReadExt;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use ticktock::hyper::{Executor, Io, Timer};
use ticktock::net::{TcpListener, TcpStream, UnixStream};
use ticktock::time::{sleep, timeout};

/// How long any one test body may take before it counts as hung.
const TEST_LIMIT: Duration = Duration::from_secs(30);

/// Runs `body` on a 2-worker runtime under a ticktock timeout.
fn run<F: Future>(body: F) -> F::Output {
    let rt = runtime(2);
    rt.block_on(timeout(TEST_LIMIT, body))
        .expect("test body timed out")
}

/// Answers every request with `"{method} {path} #{n}"`, `n` counting the requests
/// this service (one connection) has served.
fn numbering_service() -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send,
> + Clone {
    let served = Arc::new(AtomicUsize::new(0));
    hyper::service::service_fn(move |request: Request<Incoming>| {
        let n = served.fetch_add(1, Ordering::Relaxed) + 1;
        async move {
            let text = format!("{} {} #{n}", request.method(), request.uri().path());
            Ok(Response::new(Full::new(Bytes::from(text))))
        }
    })
}

/// Accepts connections on `listener` forever, counting them in `accepted`, and
/// serves each with `serve` in its own task.
fn accept_loop<S, Fut>(listener: TcpListener, accepted: Arc<AtomicUsize>, serve: S)
where
    S: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    ticktock::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            accepted.fetch_add(1, Ordering::Relaxed);
            ticktock::spawn(serve(stream));
        }
    });
}

/// Starts an HTTP/1.1 server with keep-alive and the ticktock timer.
async fn http1_server(header_read_timeout: Duration) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    accept_loop(listener, accepted.clone(), move |stream| async move {
        hyper::server::conn::http1::Builder::new()
            .timer(Timer)
            .keep_alive(true)
            .header_read_timeout(header_read_timeout)
            .serve_connection(Io::new(stream), numbering_service())
            .await
    });
    (addr, accepted)
}

/// An HTTP/2 client connection to `addr` on ticktock's executor and timer, its
/// connection task spawned; returns the request sender.
async fn http2_client(addr: SocketAddr) -> hyper::client::conn::http2::SendRequest<Empty<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http2::Builder::new(Executor)
        .timer(Timer)
        .handshake::<_, Empty<Bytes>>(Io::new(stream))
        .await
        .unwrap();
    ticktock::spawn(connection);
    sender
}

/// Sends a GET for `path` and returns the response body as text.
async fn get(
    sender: &mut hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    path: &str,
) -> String {
    sender.ready().await.unwrap();
    let request = Request::get(path).body(Empty::new()).unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert!(response.status().is_success());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

#[test]
fn http1_keep_alive_serves_several_requests_on_one_connection() {
    run(async {
        let (addr, accepted) = http1_server(Duration::from_secs(5)).await;
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(Io::new(stream))
            .await
            .unwrap();
        let connection = ticktock::spawn(connection);
        for n in 1..=5 {
            let path = format!("/req/{n}");
            assert_eq!(get(&mut sender, &path).await, format!("GET {path} #{n}"));
        }
        assert_eq!(
            accepted.load(Ordering::Relaxed),
            1,
            "one connection served all"
        );
        drop(sender);
        connection.await.unwrap().unwrap();
    });
}

#[test]
fn http1_header_read_timeout_is_reset_between_keep_alive_requests() {
    // Requests arrive every 100 ms for ~1 s on one connection whose header-read
    // timeout is 300 ms: hyper re-arms (resets) its timer for each request, so
    // the connection survives well past 300 ms.
    run(async {
        let (addr, accepted) = http1_server(Duration::from_millis(300)).await;
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(Io::new(stream))
            .await
            .unwrap();
        ticktock::spawn(connection);
        let started = Instant::now();
        for n in 1..=10 {
            assert_eq!(get(&mut sender, "/tick").await, format!("GET /tick #{n}"));
            sleep(Duration::from_millis(100)).await;
        }
        assert!(started.elapsed() >= Duration::from_millis(900));
        assert_eq!(accepted.load(Ordering::Relaxed), 1);
    });
}

#[test]
fn http1_header_read_timeout_disconnects_a_silent_client() {
    const HEADER_TIMEOUT: Duration = Duration::from_millis(200);
    run(async {
        let (addr, _accepted) = http1_server(HEADER_TIMEOUT).await;
        // Timed from before the connect: the server may accept, and arm its
        // timer, before this task sees its connect complete.
        let connecting = Instant::now();
        let mut silent = TcpStream::connect(addr).await.unwrap();
        let mut buf = [0u8; 256];
        // hyper closes the connection (it may first send a 408 response).
        let mut received = Vec::new();
        loop {
            let n = silent.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buf[..n]);
        }
        let waited = connecting.elapsed();
        assert!(waited >= HEADER_TIMEOUT, "closed early, after {waited:?}");
        assert!(
            waited < Duration::from_secs(5),
            "closed late, after {waited:?}"
        );
        let received = String::from_utf8_lossy(&received);
        assert!(
            received.is_empty() || received.starts_with("HTTP/1.1 408"),
            "unexpected bytes: {received}"
        );
    });
}

#[test]
fn http2_server_and_client_on_the_ticktock_executor() {
    const REQUESTS: usize = 20;
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        accept_loop(listener, accepted.clone(), |stream| async move {
            hyper::server::conn::http2::Builder::new(Executor)
                .timer(Timer)
                .serve_connection(Io::new(stream), numbering_service())
                .await
        });

        let sender = http2_client(addr).await;
        // Concurrent streams on the one connection, each its own task.
        let requests: Vec<_> = (0..REQUESTS)
            .map(|i| {
                let mut sender = sender.clone();
                ticktock::spawn(async move {
                    sender.ready().await.unwrap();
                    let uri = format!("http://{addr}/stream/{i}");
                    let request = Request::get(uri).body(Empty::new()).unwrap();
                    let response = sender.send_request(request).await.unwrap();
                    assert_eq!(response.version(), hyper::Version::HTTP_2);
                    let body = response.into_body().collect().await.unwrap().to_bytes();
                    String::from_utf8(body.to_vec()).unwrap()
                })
            })
            .collect();
        let mut numbers = Vec::new();
        for (i, request) in requests.into_iter().enumerate() {
            let body = request.await.unwrap();
            let prefix = format!("GET /stream/{i} #");
            assert!(body.starts_with(&prefix), "{body}");
            numbers.push(body[prefix.len()..].parse::<usize>().unwrap());
        }
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=REQUESTS).collect::<Vec<_>>());
        assert_eq!(accepted.load(Ordering::Relaxed), 1);
    });
}

/// A stream that counts its completed writes (each is one `send` on a socket).
struct CountingWrites {
    stream: TcpStream,
    writes: Arc<AtomicUsize>,
}

impl futures::io::AsyncRead for CountingWrites {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl futures::io::AsyncWrite for CountingWrites {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let written = std::pin::Pin::new(&mut self.stream).poll_write(cx, buf);
        if written.is_ready() {
            self.writes.fetch_add(1, Ordering::Relaxed);
        }
        written
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_close(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_close(cx)
    }
}

/// HTTP/2 streams answered together leave in few writes: each stream's task wakes
/// the connection task, and without `Io`'s yield before a write the connection ran
/// (and wrote one response) after every stream task (about one write per request).
#[test]
fn http2_responses_of_concurrent_streams_share_writes() {
    const REQUESTS: usize = 64;
    // At most one write per this many requests: with the coalescing a burst of
    // streams read together is answered in one write.
    const REQUESTS_PER_WRITE_AT_LEAST: usize = 4;
    let rt = runtime(1);
    rt.block_on(timeout(TEST_LIMIT, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server_writes = Arc::new(AtomicUsize::new(0));
        let writes = server_writes.clone();
        ticktock::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let counted = CountingWrites { stream, writes };
            hyper::server::conn::http2::Builder::new(Executor)
                .timer(Timer)
                .serve_connection(Io::new(counted), numbering_service())
                .await
        });
        let sender = http2_client(addr).await;
        // One request first, so the handshake's writes (settings, their
        // acknowledgements) are behind us.
        let mut first = sender.clone();
        first.ready().await.unwrap();
        let request = Request::get(format!("http://{addr}/first")).body(Empty::new());
        let response = first.send_request(request.unwrap()).await.unwrap();
        response.into_body().collect().await.unwrap();
        sleep(Duration::from_millis(50)).await;
        let before = server_writes.load(Ordering::Relaxed);

        let requests: Vec<_> = (0..REQUESTS)
            .map(|i| {
                let mut sender = sender.clone();
                ticktock::spawn(async move {
                    sender.ready().await.unwrap();
                    let uri = format!("http://{addr}/stream/{i}");
                    let request = Request::get(uri).body(Empty::new()).unwrap();
                    let response = sender.send_request(request).await.unwrap();
                    response.into_body().collect().await.unwrap().to_bytes()
                })
            })
            .collect();
        for request in requests {
            assert!(request.await.unwrap().starts_with(b"GET /stream/"));
        }
        let writes = server_writes.load(Ordering::Relaxed) - before;
        assert!(
            writes * REQUESTS_PER_WRITE_AT_LEAST <= REQUESTS,
            "{writes} server writes for {REQUESTS} concurrent requests"
        );
    }))
    .expect("test body timed out");
}

#[test]
fn http1_over_a_unix_socket_pair() {
    run(async {
        let (server_end, client_end) = UnixStream::pair().unwrap();
        let server = ticktock::spawn(async move {
            hyper::server::conn::http1::Builder::new()
                .timer(Timer)
                .serve_connection(Io::new(server_end), numbering_service())
                .await
        });
        let (mut sender, connection) = hyper::client::conn::http1::handshake(Io::new(client_end))
            .await
            .unwrap();
        ticktock::spawn(connection);
        assert_eq!(get(&mut sender, "/unix").await, "GET /unix #1");
        assert_eq!(get(&mut sender, "/unix").await, "GET /unix #2");
        drop(sender);
        server.await.unwrap().unwrap();
    });
}

#[test]
fn timer_reset_moves_the_registered_sleep_in_place() {
    use hyper::rt::Timer as _;
    let rt = runtime(2);
    let reset_before = common::total_timers(&rt.metrics(), |t| t.events.reset as usize);
    let inserted_before = common::total_timers(&rt.metrics(), |t| t.events.inserted as usize);
    rt.block_on(async {
        let started = Instant::now();
        let mut sleep = Timer.sleep(Duration::from_secs(3600));
        // Registered on its first poll.
        assert!(futures::poll!(&mut sleep).is_pending());
        Timer.reset(&mut sleep, Instant::now() + Duration::from_millis(5));
        timeout(TEST_LIMIT, sleep).await.expect("reset sleep fires");
        assert!(started.elapsed() >= Duration::from_millis(5));
    });
    let metrics = rt.metrics();
    assert_eq!(
        common::total_timers(&metrics, |t| t.events.reset as usize) - reset_before,
        1,
        "the deadline moved in the heap"
    );
    // One entry for the sleep, one for the `timeout` around it: no new entry for the reset.
    assert_eq!(
        common::total_timers(&metrics, |t| t.events.inserted as usize) - inserted_before,
        2
    );
}

/// hyper reads "now" through `Timer::now`: under paused time it follows the
/// runtime's clock, as the sleeps the timer makes do.
#[test]
fn timer_now_follows_the_paused_clock() {
    use hyper::rt::Timer as _;
    let rt = ticktock::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        ticktock::time::pause();
        let start = Timer.now();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(Timer.now(), start, "the paused clock moved");
        ticktock::time::advance(Duration::from_secs(7)).await;
        assert_eq!(Timer.now() - start, Duration::from_secs(7));
    });
}
