//! Slow and hostile clients: 1000 connections that send half a request header and
//! stall. hyper's header-read timeout, running on ticktock's timer, closes every
//! one of them; the process's descriptor count returns to where it was; normal
//! clients are served while the stalled ones hold their connections.
//!
//! One test in its own binary: it counts this process's open descriptors.

#![cfg(all(feature = "http", target_os = "linux"))]

use std::convert::Infallible;
use std::future::IntoFuture;
use std::io::{Read, Write};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
use ticktock::hyper::Io;
use ticktock::net::{TcpSocket, TcpStream};

/// Stalled connections.
const SLOW_CLIENTS: usize = 1000;
/// Normal requests served while the stalled connections are open.
const NORMAL_REQUESTS: usize = 50;
/// The server's header-read timeout.
const HEADER_TIMEOUT: Duration = Duration::from_secs(2);
/// Descriptors the test needs: both ends of each stalled connection, plus room.
const FDS_NEEDED: u64 = 2 * SLOW_CLIENTS as u64 + 512;

#[derive(Clone)]
struct Hello;

impl tower_service::Service<Request<Incoming>> for Hello {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<Full<Bytes>>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<Incoming>) -> Self::Future {
        std::future::ready(Ok(Response::new(Full::new(Bytes::from("hello")))))
    }
}

/// This process's open descriptors.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Raises the soft descriptor limit to what the test needs (up to the hard limit).
fn ensure_fd_limit() {
    let limit = getrlimit(Resource::Nofile);
    let current = limit.current.unwrap_or(u64::MAX);
    if current >= FDS_NEEDED {
        return;
    }
    let maximum = limit.maximum;
    let wanted = maximum.map_or(FDS_NEEDED, |max| max.min(FDS_NEEDED));
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(wanted),
            maximum,
        },
    )
    .expect("raise RLIMIT_NOFILE");
    assert!(
        wanted >= FDS_NEEDED,
        "the hard descriptor limit {maximum:?} is too low"
    );
}

/// Polls `condition` every 10 ms until it holds or `limit` passes.
fn wait_until(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    condition()
}

#[test]
fn stalled_headers_are_timed_out_and_their_descriptors_freed() {
    ensure_fd_limit();
    let rt = ticktock::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let (addr, stop, server) = rt.block_on(async {
        // A backlog for every stalled client: with `bind`'s 128, a burst of 1000
        // connects overflows the accept queue and the kernel drops SYNs (1 s retries).
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(2 * SLOW_CLIENTS as u32).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = futures::channel::oneshot::channel::<()>();
        let server = ticktock::spawn(
            ticktock::serve(listener, Hello)
                .header_read_timeout(HEADER_TIMEOUT)
                .with_graceful_shutdown(async {
                    stopped.await.ok();
                })
                .into_future(),
        );
        (addr, stop, server)
    });
    let baseline = open_fds();

    // The stalled clients: half a request head each, then nothing.
    let started = Instant::now();
    let mut slow: Vec<std::net::TcpStream> = (0..SLOW_CLIENTS)
        .map(|_| {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream.write_all(b"GET / HTTP/1.1\r\nHost: loc").unwrap();
            stream
        })
        .collect();
    assert!(
        wait_until(HEADER_TIMEOUT / 2, || open_fds()
            >= baseline + 2 * SLOW_CLIENTS),
        "the server accepted every stalled connection ({} fds open, baseline {baseline})",
        open_fds()
    );

    // Normal clients are served while the stalled ones hold their connections.
    rt.block_on(async {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(Io::new(stream))
            .await
            .unwrap();
        let conn = ticktock::spawn(conn);
        for _ in 0..NORMAL_REQUESTS {
            sender.ready().await.unwrap();
            let request = Request::get("/")
                .header("host", "localhost")
                .body(Empty::<Bytes>::new())
                .unwrap();
            let response = sender.send_request(request).await.unwrap();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body, "hello");
        }
        drop(sender);
        conn.await.unwrap().unwrap();
    });
    assert!(
        started.elapsed() < HEADER_TIMEOUT,
        "normal requests were served before the stalled ones timed out ({:?})",
        started.elapsed()
    );

    // Every stalled connection is closed by the server after the timeout.
    for stream in &mut slow {
        stream.set_read_timeout(Some(HEADER_TIMEOUT * 5)).unwrap();
        let mut rest = Vec::new();
        // EOF (possibly after a 408 response), or a reset: closed either way.
        let _ = stream.read_to_end(&mut rest);
        assert!(
            rest.is_empty() || rest.starts_with(b"HTTP/1.1 408"),
            "unexpected bytes: {:?}",
            String::from_utf8_lossy(&rest)
        );
    }
    let closed_after = started.elapsed();
    assert!(
        closed_after >= HEADER_TIMEOUT,
        "not closed before the timeout"
    );
    assert!(
        closed_after < HEADER_TIMEOUT * 4,
        "closed promptly after the timeout ({closed_after:?})"
    );
    // The server's ends are gone: only the clients' own descriptors remain.
    assert!(
        wait_until(Duration::from_secs(5), || open_fds()
            <= baseline + SLOW_CLIENTS),
        "server-side descriptors freed ({} open, expected at most {})",
        open_fds(),
        baseline + SLOW_CLIENTS
    );
    drop(slow);
    assert!(
        wait_until(Duration::from_secs(5), || open_fds() <= baseline),
        "back to the baseline ({} open, baseline {baseline})",
        open_fds()
    );

    stop.send(()).unwrap();
    rt.block_on(server).unwrap().unwrap();
}
