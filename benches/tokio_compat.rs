//! `tokio_compat`: what the tokio bridge (feature `tokio-compat`) costs a library
//! call made from a ticktock task, against the same call on tokio and against
//! ticktock's native equivalent, in one run.
//!
//! - `compat/echo/1x2000`: one TCP connection, 2000 round trips of a 64-byte
//!   message, latency-bound. `tokio`: tokio's client and echo server on a tokio
//!   runtime. `ticktock-bridge`: a `tokio::net::TcpStream` client in a ticktock
//!   task (its socket on the bridge's reactor: each readiness event crosses from
//!   the bridge thread to a ticktock worker) against a ticktock echo server.
//!   `ticktock-native`: a `ticktock::net::TcpStream` client against the same
//!   ticktock server.
//! - `compat/spawn/1000`: 1000 spawn-and-await of an empty task in a row.
//!   `tokio`: `tokio::spawn` on tokio. `ticktock-bridge`: `tokio::spawn` from a
//!   ticktock task (runs on the bridge's worker, two cross-thread wakes).
//!   `ticktock-native`: `ticktock::spawn`.
//! - `compat/reqwest/50x20`: 50 concurrent tasks, each 20 reqwest GETs on a
//!   keep-alive client (one per runtime), against one hyper server (`ticktock::serve`, on a
//!   runtime of its own with one worker). `tokio`: reqwest on a tokio runtime.
//!   `ticktock-bridge`: reqwest in ticktock tasks through the bridge.
//!   `ticktock-native`: `ticktock::http::Client` (hyper-util's pooled client on
//!   ticktock's connector, executor and timer) in ticktock tasks.
//!
//! - `compat/grpc/50x20`: 50 concurrent tasks, each 20 unary calls of
//!   `examples/grpc/echo.rs`'s service on one tonic `Channel` (HTTP/2), the client
//!   on a tokio runtime. `ticktock-serve`: the service's tonic `Routes` served by
//!   `ticktock::serve` on a ticktock runtime with one worker. `tokio`: the same
//!   `Routes` served by tonic's own server on a tokio runtime with one worker.
//!
//! Client runtimes: multi-thread, 2 workers ([`common::WORKERS`]), built once.
//! Run: `cargo bench --features tokio-compat,http,http-client --bench tokio_compat`.

mod common;

#[path = "../examples/grpc/echo.rs"]
mod echo;

use std::net::SocketAddr;
use std::sync::Mutex;

use common::echo::{ticktock_echo_server, tokio_echo_server, tokio_io_rt};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// Size of one echoed message: a small request, as in an RPC.
const MESSAGE_BYTES: usize = 64;
/// Round trips per iteration of the echo variants.
const ECHO_ROUNDS: u64 = 2_000;
/// Spawn-and-await per iteration of the spawn variants.
const SPAWNS: u64 = 1_000;
/// (concurrent tasks, GETs per task) of the reqwest variants.
const REQWEST: (usize, u64) = (50, 20);
/// (concurrent tasks, unary calls per task) of the gRPC variants.
const GRPC: (usize, u64) = (50, 20);

/// `rounds` echo round trips on `stream`, with the extension traits of `$io`
/// (named in full: ticktock's streams implement both families here).
macro_rules! echo_rounds {
    ($io:path, $stream:expr, $rounds:expr) => {{
        use $io as io;
        let stream = &mut $stream;
        let message = [7u8; MESSAGE_BYTES];
        let mut echo = [0u8; MESSAGE_BYTES];
        for _ in 0..$rounds {
            io::AsyncWriteExt::write_all(stream, &message)
                .await
                .unwrap();
            io::AsyncReadExt::read_exact(stream, &mut echo)
                .await
                .unwrap();
        }
    }};
}

fn echo(c: &mut Criterion) {
    let ticktock = common::ticktock_rt();
    let tokio = tokio_io_rt();
    let ticktock_server = ticktock_echo_server(&ticktock);
    let tokio_server = tokio_echo_server(&tokio);
    // One connection per variant, opened once on the runtime that drives it.
    let tokio_stream = Mutex::new(Some(tokio.block_on(async {
        let stream = tokio::net::TcpStream::connect(tokio_server).await.unwrap();
        stream.set_nodelay(true).unwrap();
        stream
    })));
    let bridged_stream = Mutex::new(Some(
        ticktock
            .block_on(ticktock.spawn(async move {
                let stream = tokio::net::TcpStream::connect(ticktock_server)
                    .await
                    .unwrap();
                stream.set_nodelay(true).unwrap();
                stream
            }))
            .unwrap(),
    ));
    let native_stream = Mutex::new(Some(ticktock.block_on(async {
        let stream = ticktock::net::TcpStream::connect(ticktock_server)
            .await
            .unwrap();
        stream.set_nodelay(true).unwrap();
        stream
    })));

    let mut group = c.benchmark_group("compat");
    common::configure(&mut group, 3, true);
    group.throughput(Throughput::Elements(ECHO_ROUNDS));
    let id = format!("echo/1x{ECHO_ROUNDS}");
    group.bench_function(BenchmarkId::new(&id, "tokio"), |b| {
        b.iter(|| {
            let mut stream = tokio_stream.lock().unwrap().take().unwrap();
            let stream = tokio
                .block_on(tokio.spawn(async move {
                    echo_rounds!(tokio::io, stream, ECHO_ROUNDS);
                    stream
                }))
                .unwrap();
            *tokio_stream.lock().unwrap() = Some(stream);
        })
    });
    group.bench_function(BenchmarkId::new(&id, "ticktock-bridge"), |b| {
        b.iter(|| {
            let mut stream = bridged_stream.lock().unwrap().take().unwrap();
            let stream = ticktock
                .block_on(ticktock.spawn(async move {
                    echo_rounds!(tokio::io, stream, ECHO_ROUNDS);
                    stream
                }))
                .unwrap();
            *bridged_stream.lock().unwrap() = Some(stream);
        })
    });
    group.bench_function(BenchmarkId::new(&id, "ticktock-native"), |b| {
        b.iter(|| {
            let mut stream = native_stream.lock().unwrap().take().unwrap();
            let stream = ticktock
                .block_on(ticktock.spawn(async move {
                    echo_rounds!(futures::io, stream, ECHO_ROUNDS);
                    stream
                }))
                .unwrap();
            *native_stream.lock().unwrap() = Some(stream);
        })
    });

    group.throughput(Throughput::Elements(SPAWNS));
    let id = format!("spawn/{SPAWNS}");
    group.bench_function(BenchmarkId::new(&id, "tokio"), |b| {
        b.iter(|| {
            tokio
                .block_on(tokio.spawn(async {
                    for _ in 0..SPAWNS {
                        tokio::spawn(async {}).await.unwrap();
                    }
                }))
                .unwrap()
        })
    });
    group.bench_function(BenchmarkId::new(&id, "ticktock-bridge"), |b| {
        b.iter(|| {
            ticktock
                .block_on(ticktock.spawn(async {
                    for _ in 0..SPAWNS {
                        tokio::spawn(async {}).await.unwrap();
                    }
                }))
                .unwrap()
        })
    });
    group.bench_function(BenchmarkId::new(&id, "ticktock-native"), |b| {
        b.iter(|| {
            ticktock
                .block_on(ticktock.spawn(async {
                    for _ in 0..SPAWNS {
                        ticktock::spawn(async {}).await.unwrap();
                    }
                }))
                .unwrap()
        })
    });
    group.finish();
}

/// Starts the HTTP server of the reqwest variants on a ticktock runtime of its own
/// (one worker), which the caller keeps alive; returns its address.
fn http_server() -> (ticktock::Runtime, SocketAddr) {
    let rt = ticktock::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("bench-http-server")
        .build()
        .expect("build server runtime");
    let addr = rt.block_on(async {
        let router = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
        let listener = ticktock::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        ticktock::spawn(async move { ticktock::serve(listener, router).await });
        addr
    });
    (rt, addr)
}

/// `$tasks` tasks of runtime crate `$rt`, each `$gets` GETs of `$url` on `$client`.
macro_rules! get_loop {
    ($rt:ident, $client:expr, $url:expr, $tasks:expr, $gets:expr) => {{
        let tasks: Vec<_> = (0..$tasks)
            .map(|_| {
                let client: reqwest::Client = $client.clone();
                let url: String = $url.clone();
                ::$rt::spawn(async move {
                    for _ in 0..$gets {
                        let body = client
                            .get(&url)
                            .send()
                            .await
                            .unwrap()
                            .bytes()
                            .await
                            .unwrap();
                        assert_eq!(&body[..], b"hello");
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    }};
}

fn reqwest_gets(c: &mut Criterion) {
    let (_server_rt, addr) = http_server();
    let url = format!("http://{addr}/");
    let ticktock = common::ticktock_rt();
    let tokio = tokio_io_rt();
    let (tasks, gets) = REQWEST;
    // One client per runtime: a pooled connection belongs to the reactor that
    // opened it (tokio's, or the bridge's).
    let tokio_client = reqwest::Client::new();
    let bridged_client = reqwest::Client::new();
    let mut group = c.benchmark_group("compat");
    common::configure(&mut group, 3, true);
    group.throughput(Throughput::Elements(tasks as u64 * gets));
    let id = format!("reqwest/{tasks}x{gets}");
    group.bench_function(BenchmarkId::new(&id, "tokio"), |b| {
        b.iter(|| tokio.block_on(async { get_loop!(tokio, tokio_client, url, tasks, gets) }))
    });
    group.bench_function(BenchmarkId::new(&id, "ticktock-bridge"), |b| {
        b.iter(|| {
            ticktock.block_on(async { get_loop!(ticktock, bridged_client, url, tasks, gets) })
        })
    });
    let native_client: ticktock::http::Client<http_body_util::Empty<bytes::Bytes>> =
        ticktock::http::Client::new();
    let uri: hyper::Uri = url.parse().unwrap();
    group.bench_function(BenchmarkId::new(&id, "ticktock-native"), |b| {
        b.iter(|| {
            ticktock.block_on(async {
                let tasks: Vec<_> = (0..tasks)
                    .map(|_| {
                        let client = native_client.clone();
                        let uri = uri.clone();
                        ticktock::spawn(async move {
                            use http_body_util::BodyExt;
                            for _ in 0..gets {
                                let response = client.get(uri.clone()).await.unwrap();
                                let body = response.into_body().collect().await.unwrap();
                                assert_eq!(&body.to_bytes()[..], b"hello");
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
            })
        })
    });
    group.finish();
}

/// Serves the echo service's `Routes` with `ticktock::serve` on a one-worker
/// ticktock runtime, which the caller keeps alive; returns its address.
fn grpc_server_on_ticktock() -> (ticktock::Runtime, SocketAddr) {
    let rt = ticktock::Builder::new_multi_thread()
        .worker_threads(1)
        .tokio_compat(false)
        .build()
        .expect("build server runtime");
    let addr = rt.block_on(async {
        let routes = tonic::service::Routes::new(echo::EchoServer::default());
        let listener = ticktock::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        ticktock::spawn(async move { ticktock::serve(listener, routes).await });
        addr
    });
    (rt, addr)
}

/// Serves the same `Routes` with tonic's own server on a one-worker tokio runtime.
fn grpc_server_on_tokio() -> (tokio::runtime::Runtime, SocketAddr) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("build server runtime");
    let addr = rt.block_on(async {
        let routes = tonic::service::Routes::new(echo::EchoServer::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // TCP_NODELAY on every accepted socket, as tonic's `Server::serve(addr)`
        // does by default (`serve_with_incoming` leaves the streams as they come).
        // `ticktock::serve` leaves Nagle's algorithm on.
        let incoming = tokio_stream::StreamExt::map(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            |stream| {
                let stream = stream?;
                stream.set_nodelay(true)?;
                Ok::<_, std::io::Error>(stream)
            },
        );
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_routes(routes)
                .serve_with_incoming(incoming)
                .await
        });
        addr
    });
    (rt, addr)
}

/// `tasks` tasks on the current tokio runtime, each `calls` unary calls on `channel`.
async fn grpc_calls(channel: &tonic::transport::Channel, tasks: usize, calls: u64) {
    let tasks: Vec<_> = (0..tasks)
        .map(|_| {
            let channel = channel.clone();
            tokio::spawn(async move {
                for _ in 0..calls {
                    let reply = echo::say(channel.clone(), "ping").await.unwrap();
                    assert_eq!(reply.message, "ping");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

fn grpc_unary(c: &mut Criterion) {
    let (_ticktock_server_rt, ticktock_addr) = grpc_server_on_ticktock();
    let (_tokio_server_rt, tokio_addr) = grpc_server_on_tokio();
    let client_rt = tokio_io_rt();
    let connect = |addr: SocketAddr| {
        client_rt.block_on(async move {
            tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
                .unwrap()
                .connect()
                .await
                .unwrap()
        })
    };
    let ticktock_channel = connect(ticktock_addr);
    let tokio_channel = connect(tokio_addr);
    let (tasks, calls) = GRPC;
    let mut group = c.benchmark_group("compat");
    common::configure(&mut group, 3, true);
    group.throughput(Throughput::Elements(tasks as u64 * calls));
    let id = format!("grpc/{tasks}x{calls}");
    group.bench_function(BenchmarkId::new(&id, "ticktock-serve"), |b| {
        b.iter(|| client_rt.block_on(grpc_calls(&ticktock_channel, tasks, calls)))
    });
    group.bench_function(BenchmarkId::new(&id, "tokio"), |b| {
        b.iter(|| client_rt.block_on(grpc_calls(&tokio_channel, tasks, calls)))
    });
    group.finish();
}

criterion_group!(benches, echo, reqwest_gets, grpc_unary);
criterion_main!(benches);
