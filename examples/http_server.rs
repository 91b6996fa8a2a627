//! "Hello, world" over HTTP/1.1 with hyper 1.x on ticktock (needs `--features hyper`).
//!
//! ```text
//! cargo run --features hyper --example http_server                 # 127.0.0.1:3000 until killed
//! cargo run --features hyper --example http_server -- --self-test  # serve, test itself, exit 0
//! ```
//!
//! hyper gets three things from ticktock: the TCP stream wrapped in
//! `ticktock::hyper::Io`, `ticktock::hyper::Timer` for its header-read and
//! keep-alive timeouts, and (for HTTP/2) `ticktock::hyper::Executor`.
//!
//! `--self-test` serves on a free port, sends [`SELF_TEST_REQUESTS`] requests over
//! each of [`SELF_TEST_CONNECTIONS`] keep-alive connections with hyper's client,
//! checks every response, and exits 0.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use ticktock::hyper::{Io, Timer};
use ticktock::net::{TcpListener, TcpStream};

/// Where the server listens without `--self-test`.
const ADDR: &str = "127.0.0.1:3000";
/// The answer to every request.
const HELLO: &str = "Hello, world!\n";
/// How long a client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Keep-alive connections in `--self-test`.
const SELF_TEST_CONNECTIONS: usize = 4;
/// Requests per connection in `--self-test`.
const SELF_TEST_REQUESTS: usize = 100;

fn main() -> io::Result<()> {
    let self_test = std::env::args().any(|arg| arg == "--self-test");
    let rt = ticktock::Builder::new_multi_thread()
        .worker_threads(2)
        .build()?;
    rt.block_on(async {
        let listener = TcpListener::bind(if self_test { "127.0.0.1:0" } else { ADDR }).await?;
        let addr = listener.local_addr()?;
        if !self_test {
            println!("listening on http://{addr}");
            return serve(listener).await;
        }
        let server = ticktock::spawn(serve(listener));
        let outcome = self_test_run(addr).await;
        server.abort();
        outcome
    })
}

/// The service: the same greeting for every request.
async fn hello(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        HELLO.as_bytes(),
    ))))
}

/// Accepts connections and serves each with hyper's HTTP/1.1 server in its own task.
async fn serve(listener: TcpListener) -> io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        stream.set_nodelay(true)?;
        ticktock::spawn(async move {
            let served = hyper::server::conn::http1::Builder::new()
                .timer(Timer)
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(Io::new(stream), hyper::service::service_fn(hello))
                .await;
            if let Err(error) = served {
                eprintln!("{peer}: {error}");
            }
        });
    }
}

/// `--self-test`: keep-alive clients against the server, every response checked.
async fn self_test_run(addr: SocketAddr) -> io::Result<()> {
    let started = Instant::now();
    let clients: Vec<_> = (0..SELF_TEST_CONNECTIONS)
        .map(|_| ticktock::spawn(keep_alive_client(addr)))
        .collect();
    for client in clients {
        client.await??;
    }
    let total = SELF_TEST_CONNECTIONS * SELF_TEST_REQUESTS;
    println!(
        "self-test: {total} requests over {SELF_TEST_CONNECTIONS} keep-alive connections in {:?}",
        started.elapsed()
    );
    println!("self-test: ok");
    Ok(())
}

/// One connection, [`SELF_TEST_REQUESTS`] requests on it.
async fn keep_alive_client(addr: SocketAddr) -> io::Result<()> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(Io::new(stream))
        .await
        .map_err(io::Error::other)?;
    ticktock::spawn(connection);
    for _ in 0..SELF_TEST_REQUESTS {
        sender.ready().await.map_err(io::Error::other)?;
        let request = Request::get("/")
            .header(hyper::header::HOST, addr.to_string())
            .body(Empty::<Bytes>::new())
            .map_err(io::Error::other)?;
        let response = sender
            .send_request(request)
            .await
            .map_err(io::Error::other)?;
        if !response.status().is_success() {
            return Err(io::Error::other(format!("status {}", response.status())));
        }
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(io::Error::other)?;
        if body.to_bytes() != HELLO.as_bytes() {
            return Err(io::Error::other("wrong body"));
        }
    }
    Ok(())
}
