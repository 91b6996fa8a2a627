//! `net`: sockets through each runtime's reactor, ticktock against tokio.
//!
//! - `echo/CxR`: C persistent TCP connections to an echo server on the same
//!   runtime, each doing R round trips of a [`MESSAGE_BYTES`]-byte message
//!   concurrently (one client task per connection). Counts round trips.
//! - `hyper/CxR` (with `--features hyper`): C persistent HTTP/1.1 keep-alive
//!   connections to a hyper "hello world" server on the same runtime, each sending
//!   R requests in turn with hyper's client. Counts requests. ticktock runs hyper
//!   through `ticktock::hyper::{Io, Timer}`, tokio through hyper-util's
//!   `TokioIo`/`TokioTimer`.
//!
//! Both runtimes: multi-thread, 2 workers ([`common::WORKERS`]), built once; the
//! servers and the connections are set up once, outside the measurement. Traffic
//! is on 127.0.0.1 only, with `TCP_NODELAY` on every socket.

mod common;

use std::sync::Mutex;

use common::echo::{ticktock_echo_server, tokio_echo_server, tokio_io_rt};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// Size of one echoed message: a small request, as in an RPC.
const MESSAGE_BYTES: usize = 64;
/// (connections, round trips per connection) of the echo variants.
const ECHO: [(usize, u64); 2] = [(1, 2_000), (100, 50)];

/// Opens `count` connections to `addr` on runtime `$rt` (crate name) `$runtime`.
macro_rules! connect_all {
    ($rt:ident, $runtime:expr, $addr:expr, $count:expr) => {{
        let (addr, count) = ($addr, $count);
        $runtime.block_on(async move {
            let mut streams = Vec::with_capacity(count);
            for _ in 0..count {
                let stream = ::$rt::net::TcpStream::connect(addr).await.unwrap();
                stream.set_nodelay(true).unwrap();
                streams.push(stream);
            }
            streams
        })
    }};
}

/// One measured iteration: every connection in `$pool` does `$rounds` round trips
/// in its own task; the connections go back to the pool afterwards. `$io` is the
/// module of the extension traits to call (`futures::io` or `tokio::io`), named
/// in full: with `--all-features` ticktock's streams implement both families, and
/// a method call would be ambiguous.
macro_rules! echo_rounds {
    ($rt:ident, $io:path, $runtime:expr, $pool:expr, $rounds:expr) => {{
        use $io as io;
        let rounds: u64 = $rounds;
        let streams = std::mem::take(&mut *$pool.lock().unwrap());
        let runtime = $runtime;
        let streams = runtime
            .block_on(runtime.spawn(async move {
                let clients: Vec<_> = streams
                    .into_iter()
                    .map(|mut stream| {
                        ::$rt::spawn(async move {
                            let message = [7u8; MESSAGE_BYTES];
                            let mut echo = [0u8; MESSAGE_BYTES];
                            for _ in 0..rounds {
                                io::AsyncWriteExt::write_all(&mut stream, &message)
                                    .await
                                    .unwrap();
                                io::AsyncReadExt::read_exact(&mut stream, &mut echo)
                                    .await
                                    .unwrap();
                            }
                            stream
                        })
                    })
                    .collect();
                let mut streams = Vec::with_capacity(clients.len());
                for client in clients {
                    streams.push(client.await.unwrap());
                }
                streams
            }))
            .unwrap();
        *$pool.lock().unwrap() = streams;
    }};
}

fn echo(c: &mut Criterion) {
    let ticktock = common::ticktock_rt();
    let tokio = tokio_io_rt();
    let ticktock_addr = ticktock_echo_server(&ticktock);
    let tokio_addr = tokio_echo_server(&tokio);
    let mut group = c.benchmark_group("net");
    common::configure(&mut group, 3, true);
    for (connections, rounds) in ECHO {
        let ticktock_pool =
            Mutex::new(connect_all!(ticktock, ticktock, ticktock_addr, connections));
        let tokio_pool = Mutex::new(connect_all!(tokio, tokio, tokio_addr, connections));
        group.throughput(Throughput::Elements(connections as u64 * rounds));
        let id = format!("echo/{connections}x{rounds}");
        group.bench_function(BenchmarkId::new(&id, "ticktock"), |b| {
            b.iter(|| echo_rounds!(ticktock, futures::io, &ticktock, ticktock_pool, rounds))
        });
        group.bench_function(BenchmarkId::new(&id, "tokio"), |b| {
            b.iter(|| echo_rounds!(tokio, tokio::io, &tokio, tokio_pool, rounds))
        });
    }
    group.finish();
}

#[cfg(feature = "hyper")]
mod http {
    //! The hyper variants: servers, client pools and the measured loop.

    use std::convert::Infallible;
    use std::net::SocketAddr;
    use std::sync::Mutex;

    use bytes::Bytes;
    use criterion::{BenchmarkId, Criterion, Throughput};
    use http_body_util::{BodyExt, Empty, Full};
    use hyper::body::Incoming;
    use hyper::client::conn::http1::SendRequest;
    use hyper::{Request, Response};

    /// (connections, requests per connection) of the hyper variants.
    const HYPER: [(usize, u64); 2] = [(1, 1_000), (32, 50)];
    /// The body of every response.
    const HELLO: &[u8] = b"Hello, world!\n";

    type Sender = SendRequest<Empty<Bytes>>;

    async fn hello(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
        Ok(Response::new(Full::new(Bytes::from_static(HELLO))))
    }

    /// Sends `requests` requests in turn on one keep-alive connection.
    async fn send_requests(sender: &mut Sender, requests: u64) {
        for _ in 0..requests {
            sender.ready().await.unwrap();
            let request = Request::get("/").body(Empty::new()).unwrap();
            let response = sender.send_request(request).await.unwrap();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body, HELLO);
        }
    }

    fn ticktock_server(rt: &ticktock::Runtime) -> SocketAddr {
        rt.block_on(async {
            let listener = ticktock::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap();
            let addr = listener.local_addr().unwrap();
            ticktock::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    stream.set_nodelay(true).unwrap();
                    ticktock::spawn(
                        hyper::server::conn::http1::Builder::new()
                            .timer(ticktock::hyper::Timer)
                            .serve_connection(
                                ticktock::hyper::Io::new(stream),
                                hyper::service::service_fn(hello),
                            ),
                    );
                }
            });
            addr
        })
    }

    fn tokio_server(rt: &tokio::runtime::Runtime) -> SocketAddr {
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    stream.set_nodelay(true).unwrap();
                    tokio::spawn(
                        hyper::server::conn::http1::Builder::new()
                            .timer(hyper_util::rt::TokioTimer::new())
                            .serve_connection(
                                hyper_util::rt::TokioIo::new(stream),
                                hyper::service::service_fn(hello),
                            ),
                    );
                }
            });
            addr
        })
    }

    fn ticktock_clients(rt: &ticktock::Runtime, addr: SocketAddr, count: usize) -> Vec<Sender> {
        rt.block_on(async move {
            let mut senders = Vec::with_capacity(count);
            for _ in 0..count {
                let stream = ticktock::net::TcpStream::connect(addr).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let (sender, connection) =
                    hyper::client::conn::http1::handshake(ticktock::hyper::Io::new(stream))
                        .await
                        .unwrap();
                ticktock::spawn(connection);
                senders.push(sender);
            }
            senders
        })
    }

    fn tokio_clients(rt: &tokio::runtime::Runtime, addr: SocketAddr, count: usize) -> Vec<Sender> {
        rt.block_on(async move {
            let mut senders = Vec::with_capacity(count);
            for _ in 0..count {
                let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let (sender, connection) =
                    hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                        .await
                        .unwrap();
                tokio::spawn(connection);
                senders.push(sender);
            }
            senders
        })
    }

    /// One measured iteration: every sender in `$pool` sends `$requests` requests
    /// in its own task; the senders go back to the pool afterwards.
    macro_rules! request_rounds {
        ($rt:ident, $runtime:expr, $pool:expr, $requests:expr) => {{
            let requests: u64 = $requests;
            let senders = std::mem::take(&mut *$pool.lock().unwrap());
            let runtime = $runtime;
            let senders = runtime
                .block_on(runtime.spawn(async move {
                    let clients: Vec<_> = senders
                        .into_iter()
                        .map(|mut sender| {
                            ::$rt::spawn(async move {
                                send_requests(&mut sender, requests).await;
                                sender
                            })
                        })
                        .collect();
                    let mut senders = Vec::with_capacity(clients.len());
                    for client in clients {
                        senders.push(client.await.unwrap());
                    }
                    senders
                }))
                .unwrap();
            *$pool.lock().unwrap() = senders;
        }};
    }

    pub fn bench(c: &mut Criterion) {
        let ticktock = super::common::ticktock_rt();
        let tokio = super::tokio_io_rt();
        let ticktock_addr = ticktock_server(&ticktock);
        let tokio_addr = tokio_server(&tokio);
        let mut group = c.benchmark_group("net");
        super::common::configure(&mut group, 3, true);
        for (connections, requests) in HYPER {
            let ticktock_pool = Mutex::new(ticktock_clients(&ticktock, ticktock_addr, connections));
            let tokio_pool = Mutex::new(tokio_clients(&tokio, tokio_addr, connections));
            group.throughput(Throughput::Elements(connections as u64 * requests));
            let id = format!("hyper/{connections}x{requests}");
            group.bench_function(BenchmarkId::new(&id, "ticktock"), |b| {
                b.iter(|| request_rounds!(ticktock, &ticktock, ticktock_pool, requests))
            });
            group.bench_function(BenchmarkId::new(&id, "tokio"), |b| {
                b.iter(|| request_rounds!(tokio, &tokio, tokio_pool, requests))
            });
        }
        group.finish();
    }
}

#[cfg(feature = "hyper")]
criterion_group!(benches, echo, http::bench);
#[cfg(not(feature = "hyper"))]
criterion_group!(benches, echo);
criterion_main!(benches);
