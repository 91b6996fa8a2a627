//! Libraries that call tokio's runtime themselves, from ticktock tasks, through the
//! bridge (feature `tokio-compat`): reqwest GETs against a ticktock server, a tonic
//! client calling a tonic service served by `ticktock::serve`, sqlx on an in-memory
//! SQLite database, and tower-http's `TimeoutLayer`. Each also runs on a runtime
//! built with `Builder::tokio_compat(false)`, where the library must fail with the
//! message it gives outside a tokio runtime (so each test shows the bridge is what
//! makes it work).
//!
//! Run with `cargo test --features tokio-compat,http --test tokio_compat`.

#![cfg(all(feature = "tokio-compat", feature = "http"))]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use ticktock::net::TcpListener;
use ticktock::task::JoinError;
use ticktock::{Builder, Runtime};

/// tokio's panic message when a tokio runtime function is called outside a tokio
/// runtime (tokio's `util/error.rs`).
const TOKIO_NO_RUNTIME: &str =
    "there is no reactor running, must be called from the context of a Tokio 1.x runtime";
/// sqlx's panic message when it finds no tokio runtime (sqlx-core's `rt::missing_rt`).
const SQLX_NO_RUNTIME: &str = "this functionality requires a Tokio context";

/// Concurrent ticktock tasks in the multi-task tests, and calls per task.
const TASKS: usize = 8;
const CALLS_PER_TASK: usize = 5;

/// A multi-thread ticktock runtime with the bridge on (the feature's default).
fn bridged_runtime() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// A multi-thread ticktock runtime with the bridge turned off.
fn unbridged_runtime() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .tokio_compat(false)
        .build()
        .unwrap()
}

/// The panic message carried by a task's `JoinError`.
fn panic_message(error: JoinError) -> String {
    assert!(error.is_panic(), "expected a panic, got {error}");
    let payload = error.into_panic();
    if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_string()
    } else {
        panic!("panic payload is not a string")
    }
}

/// Runs `body` in a task of `rt` and returns the message it panicked with.
fn panic_of<F: Future + Send + 'static>(rt: &Runtime, body: F) -> String
where
    F::Output: Send + 'static,
{
    let error = rt
        .block_on(rt.spawn(body))
        .err()
        .expect("the library call succeeded without a tokio runtime");
    panic_message(error)
}

// ---------------------------------------------------------------------------------
// The bridge itself.

#[test]
fn tokio_spawn_time_and_net_work_from_ticktock_tasks() {
    let rt = bridged_runtime();
    rt.block_on(async {
        let task = ticktock::spawn(async {
            // tokio::spawn: runs on the bridge runtime, awaited from ticktock.
            let spawned = tokio::spawn(async { 21 * 2 }).await.unwrap();
            // tokio::time: a timer on tokio's wheel.
            let start = std::time::Instant::now();
            tokio::time::sleep(Duration::from_millis(5)).await;
            assert!(start.elapsed() >= Duration::from_millis(5));
            // tokio::net: a socket registered with the bridge's reactor.
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let accept = tokio::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                let mut byte = [0u8; 1];
                loop {
                    stream.readable().await.unwrap();
                    match stream.try_read(&mut byte) {
                        Ok(n) => return (n, byte[0]),
                        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(error) => panic!("{error}"),
                    }
                }
            });
            let client = tokio::net::TcpStream::connect(address).await.unwrap();
            client.writable().await.unwrap();
            client.try_write(b"x").unwrap();
            assert_eq!(accept.await.unwrap(), (1, b'x'));
            spawned
        });
        assert_eq!(task.await.unwrap(), 42);
    });
    assert!(ticktock::compat::is_started());
    // The bridge's worker thread exists, under its name (Linux truncates thread
    // names to 15 bytes).
    #[cfg(target_os = "linux")]
    {
        let prefix = &ticktock::compat::BRIDGE_THREAD_NAME[..15];
        let bridge_threads = std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|entry| std::fs::read_to_string(entry.unwrap().path().join("comm")).ok())
            .filter(|name| name.trim_end() == prefix)
            .count();
        assert!(bridge_threads >= 1, "no thread named {prefix}");
    }
}

#[test]
fn tokio_context_is_current_on_every_kind_of_runtime_thread() {
    let rt = bridged_runtime();
    rt.block_on(async {
        assert!(tokio::runtime::Handle::try_current().is_ok(), "block_on");
        let worker = ticktock::spawn(async { tokio::runtime::Handle::try_current().is_ok() });
        assert!(worker.await.unwrap(), "worker thread");
        let blocking =
            ticktock::task::spawn_blocking(|| tokio::runtime::Handle::try_current().is_ok());
        assert!(blocking.await.unwrap(), "blocking thread");
        let in_place = ticktock::spawn(async {
            ticktock::task::block_in_place(|| ());
            tokio::runtime::Handle::try_current().is_ok()
        });
        assert!(in_place.await.unwrap(), "after block_in_place");
    });
    let current = Builder::new_current_thread().build().unwrap();
    current.block_on(async {
        let task = ticktock::spawn(async {
            tokio::time::sleep(Duration::from_millis(1)).await;
            tokio::runtime::Handle::try_current().is_ok()
        });
        assert!(task.await.unwrap(), "current-thread runtime");
    });
    // Outside every ticktock runtime, the thread has no tokio context.
    assert!(tokio::runtime::Handle::try_current().is_err());
}

#[test]
fn without_the_bridge_tokio_calls_panic_with_tokios_message() {
    let rt = unbridged_runtime();
    let message = panic_of(&rt, async {
        tokio::time::sleep(Duration::from_millis(1)).await;
    });
    assert!(message.contains(TOKIO_NO_RUNTIME), "{message}");
    rt.block_on(async {
        assert!(tokio::runtime::Handle::try_current().is_err());
    });
}

// ---------------------------------------------------------------------------------
// reqwest against a ticktock server.

/// Serves an axum router on `ticktock::serve` in a task of the current runtime:
/// `/hello` answers a fixed body.
async fn start_http_server() -> SocketAddr {
    let router = axum::Router::new().route(
        "/hello",
        axum::routing::get(|| async { "hello from ticktock" }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    ticktock::spawn(async move { ticktock::serve(listener, router).await });
    address
}

#[test]
fn reqwest_gets_from_ticktock_tasks() {
    let rt = bridged_runtime();
    rt.block_on(async {
        let address = start_http_server().await;
        let client = reqwest::Client::new();
        let url = format!("http://{address}/hello");
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let client = client.clone();
                let url = url.clone();
                ticktock::spawn(async move {
                    for _ in 0..CALLS_PER_TASK {
                        let response = client.get(&url).send().await.unwrap();
                        assert_eq!(response.status(), 200);
                        assert_eq!(response.text().await.unwrap(), "hello from ticktock");
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        // reqwest's own timeout (a tokio timer) fires for a server that never answers.
        let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let silent_url = format!("http://{}/", silent.local_addr().unwrap());
        let error = client
            .get(&silent_url)
            .timeout(Duration::from_millis(50))
            .send()
            .await
            .unwrap_err();
        assert!(error.is_timeout(), "{error}");
        drop(silent);
    });
}

#[test]
fn reqwest_without_the_bridge_panics_with_tokios_message() {
    let rt = unbridged_runtime();
    let address = rt.block_on(async {
        let (tx, rx) = futures::channel::oneshot::channel();
        ticktock::spawn(async move {
            tx.send(start_http_server().await).unwrap();
        });
        rx.await.unwrap()
    });
    let message = panic_of(&rt, async move {
        let _ = reqwest::get(format!("http://{address}/hello")).await;
    });
    assert!(message.contains(TOKIO_NO_RUNTIME), "{message}");
}

// ---------------------------------------------------------------------------------
// tower-http's TimeoutLayer (a tokio timer in the middleware).

/// A tower service that answers after `delay` on ticktock's timer.
#[derive(Clone)]
struct SlowService {
    delay: Duration,
}

impl tower_service::Service<http::Request<String>> for SlowService {
    type Response = http::Response<String>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<http::Response<String>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<String>) -> Self::Future {
        let delay = self.delay;
        Box::pin(async move {
            ticktock::time::sleep(delay).await;
            Ok(http::Response::new("done".to_string()))
        })
    }
}

/// Calls `SlowService { delay }` through tower-http's `TimeoutLayer` (`limit`) and
/// returns the response status.
async fn call_with_timeout(delay: Duration, limit: Duration) -> http::StatusCode {
    use tower_layer::Layer;
    use tower_service::Service;
    let layer = tower_http::timeout::TimeoutLayer::with_status_code(
        http::StatusCode::REQUEST_TIMEOUT,
        limit,
    );
    let mut service = layer.layer(SlowService { delay });
    std::future::poll_fn(|cx| service.poll_ready(cx))
        .await
        .unwrap();
    service
        .call(http::Request::new(String::new()))
        .await
        .unwrap()
        .status()
}

#[test]
fn tower_http_timeout_layer_from_ticktock_tasks() {
    let rt = bridged_runtime();
    rt.block_on(async {
        let slow = ticktock::spawn(call_with_timeout(
            Duration::from_secs(30),
            Duration::from_millis(20),
        ));
        assert_eq!(slow.await.unwrap(), http::StatusCode::REQUEST_TIMEOUT);
        let fast = ticktock::spawn(call_with_timeout(
            Duration::from_millis(1),
            Duration::from_secs(30),
        ));
        assert_eq!(fast.await.unwrap(), http::StatusCode::OK);
    });
}

#[test]
fn tower_http_timeout_layer_without_the_bridge_panics_with_tokios_message() {
    let rt = unbridged_runtime();
    let message = panic_of(
        &rt,
        call_with_timeout(Duration::from_millis(1), Duration::from_secs(30)),
    );
    assert!(message.contains(TOKIO_NO_RUNTIME), "{message}");
}

// ---------------------------------------------------------------------------------
// sqlx on SQLite in memory.

/// Creates a table, inserts `rows` rows from concurrent ticktock tasks, and
/// returns the sum of their values, read back with a query.
async fn sqlite_round_trip(rows: i64) -> i64 {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        // One connection: every task sees the same in-memory database.
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect("sqlite::memory:")
        .await
        .unwrap();
    sqlx::query("CREATE TABLE items (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    let inserts: Vec<_> = (1..=rows)
        .map(|value| {
            let pool = pool.clone();
            ticktock::spawn(async move {
                sqlx::query("INSERT INTO items (value) VALUES (?)")
                    .bind(value)
                    .execute(&pool)
                    .await
                    .unwrap();
            })
        })
        .collect();
    for insert in inserts {
        insert.await.unwrap();
    }
    let (sum,): (i64,) = sqlx::query_as("SELECT SUM(value) FROM items")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    sum
}

#[test]
fn sqlx_sqlite_in_memory_from_ticktock_tasks() {
    let rt = bridged_runtime();
    let sum = rt.block_on(async { ticktock::spawn(sqlite_round_trip(20)).await.unwrap() });
    assert_eq!(sum, (1..=20).sum::<i64>());
}

#[test]
fn sqlx_without_the_bridge_panics_with_its_message() {
    let rt = unbridged_runtime();
    let message = panic_of(&rt, sqlite_round_trip(1));
    assert!(message.contains(SQLX_NO_RUNTIME), "{message}");
}

// ---------------------------------------------------------------------------------
// tonic: a hand-written service (prost messages, no protoc), served by
// `ticktock::serve`, called with tonic's `Channel` client.

#[path = "../examples/grpc/echo.rs"]
mod echo;

use echo::{say, EchoReply, EchoRequest, EchoServer};

/// Serves `EchoServer` through tonic's `Routes` on `ticktock::serve`.
async fn start_grpc_server() -> SocketAddr {
    let routes = tonic::service::Routes::new(EchoServer::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    ticktock::spawn(async move { ticktock::serve(listener, routes).await });
    address
}

#[test]
fn tonic_client_calls_a_service_served_by_ticktock() {
    let rt = bridged_runtime();
    rt.block_on(async {
        let address = start_grpc_server().await;
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let tasks: Vec<_> = (0..TASKS)
            .map(|task| {
                let channel = channel.clone();
                ticktock::spawn(async move {
                    for call in 0..CALLS_PER_TASK {
                        let message = format!("task {task} call {call}");
                        let reply = say(channel.clone(), &message).await.unwrap();
                        assert_eq!(reply.message, message);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let last = say(channel.clone(), "last").await.unwrap();
        assert_eq!(last.calls, (TASKS * CALLS_PER_TASK + 1) as u64);
        // An unknown method gets tonic's `Unimplemented`.
        let mut client = tonic::client::Grpc::new(channel);
        client.ready().await.unwrap();
        let status = client
            .unary::<_, EchoReply, _>(
                tonic::Request::new(EchoRequest::default()),
                http::uri::PathAndQuery::from_static("/ticktock.test.Echo/Missing"),
                tonic_prost::ProstCodec::<EchoRequest, EchoReply>::default(),
            )
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unimplemented);
    });
}

#[test]
fn tonic_client_without_the_bridge_panics_with_tokios_message() {
    let rt = unbridged_runtime();
    let address = rt.block_on(async {
        let (tx, rx) = futures::channel::oneshot::channel();
        ticktock::spawn(async move {
            tx.send(start_grpc_server().await).unwrap();
        });
        rx.await.unwrap()
    });
    let message = panic_of(&rt, async move {
        let _ = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
            .unwrap()
            .connect()
            .await;
    });
    assert!(message.contains(TOKIO_NO_RUNTIME), "{message}");
}

#[test]
fn tonic_service_on_ticktock_serve_needs_no_bridge() {
    // The server runs on a ticktock runtime without the bridge: tonic's `Routes` is
    // a tower service, served natively. The client is tonic's, on a tokio runtime.
    let server_rt = unbridged_runtime();
    let address = server_rt.block_on(async {
        let (tx, rx) = futures::channel::oneshot::channel();
        ticktock::spawn(async move {
            tx.send(start_grpc_server().await).unwrap();
        });
        rx.await.unwrap()
    });
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let reply = client_rt.block_on(async move {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        say(channel, "native server").await.unwrap()
    });
    assert_eq!((reply.message.as_str(), reply.calls), ("native server", 1));
}

// ---------------------------------------------------------------------------------
// tokio-stream: runtime-free adapters natively, time adapters through the bridge.

#[test]
fn tokio_stream_adapters_without_the_bridge() {
    use tokio_stream::StreamExt;
    let rt = unbridged_runtime();
    let total = rt.block_on(rt.spawn(async {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        ticktock::spawn(async move {
            for i in 1..=10u32 {
                tx.send(i).await.unwrap();
            }
        });
        tokio_stream::wrappers::ReceiverStream::new(rx)
            .filter(|i| i % 2 == 0)
            .fold(0, |total, i| total + i)
            .await
    }));
    assert_eq!(total.unwrap(), 2 + 4 + 6 + 8 + 10);
}

#[test]
fn tokio_stream_timeout_through_the_bridge() {
    use tokio_stream::StreamExt;
    let bridged = bridged_runtime();
    let items = bridged.block_on(bridged.spawn(async {
        let slow = tokio_stream::iter([1u32, 2]).chain(tokio_stream::pending());
        let stream = slow.timeout(Duration::from_millis(10)).take(3);
        tokio::pin!(stream);
        let mut items = Vec::new();
        while let Some(item) = stream.next().await {
            items.push(item.is_ok());
        }
        items
    }));
    assert_eq!(items.unwrap(), [true, true, false]);
    let unbridged = unbridged_runtime();
    let message = panic_of(&unbridged, async {
        let stream = tokio_stream::iter([1u32]).timeout(Duration::from_millis(10));
        tokio::pin!(stream);
        let _ = stream.next().await;
    });
    assert!(message.contains(TOKIO_NO_RUNTIME), "{message}");
}

// ---------------------------------------------------------------------------------
// What the bridge does not give.

#[test]
fn tokio_spawn_local_is_not_available_through_the_bridge() {
    // tokio's `spawn_local` needs tokio's `LocalSet`; the bridge is a plain handle.
    // Ported code uses `ticktock::task::spawn_local` inside a `ticktock::task::LocalSet`.
    let rt = bridged_runtime();
    let message = panic_of(&rt, async {
        drop(tokio::task::spawn_local(async {}));
    });
    assert!(message.contains("spawn_local"), "{message}");
    let local = ticktock::task::LocalSet::new();
    let value = rt.block_on(local.run_until(async {
        ticktock::task::spawn_local(async { std::rc::Rc::new(5) })
            .await
            .map(|rc| *rc)
    }));
    assert_eq!(value.unwrap(), 5);
}
