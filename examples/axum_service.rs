//! An axum service on ticktock: JSON routes, a route that waits on a ticktock
//! timer, a per-request timeout layer on ticktock's timers, the peer address in
//! handlers, and a graceful shutdown on SIGTERM or ctrl-c.
//!
//! ```text
//! cargo run --release --features http --example axum_service -- [--addr 127.0.0.1:3000] [--workers N] [--resize-every-ms MS]
//! cargo run --release --features http --example axum_service -- --self-test
//! ```
//!
//! `--workers N` sets the worker count (default: the CPUs available, as tokio's).
//! `--resize-every-ms MS` resizes the running runtime while it serves: every `MS`
//! milliseconds a task switches between 1 worker and the initial count (which must
//! be at least 2) with [`ticktock::Handle::set_worker_threads`], and prints
//! `resize K: N workers`; at shutdown it prints the workers started and retired by
//! resizes. `benches/http_bench.sh resize` runs wrk across these resizes.
//!
//! Routes:
//! - `GET /hello/{name}`: `{"greeting":"hello, {name}","peer":"127.0.0.1"}`
//! - `POST /echo` with a JSON body: `{"echo": <the body>}`
//! - `GET /sleep/{ms}`: waits `ms` milliseconds on a ticktock timer, then
//!   `{"slept_ms": ms}`; past [`REQUEST_TIMEOUT`] the timeout layer answers 503
//! - `GET /health`: `{"status":"ok"}`
//!
//! The server prints `listening on ADDR` once it accepts, and `drained` when a
//! shutdown signal has been handled and every accepted request answered; it then
//! exits with status 0. The same app on tokio (`axum::serve`) is
//! `examples/axum_tokio.rs`; `benches/http_bench.sh` compares the two.

use std::future::IntoFuture;
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{Extension, Path};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ticktock::net::TcpListener;
use ticktock::serve::{ConnectInfo, TimeoutLayer};
use ticktock::signal::unix::{signal, SignalKind};

/// Time a request may take before the timeout layer answers 503.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// How long in-flight requests may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The worker count `--resize-every-ms` shrinks to: the smallest runtime, so every
/// shrink retires all workers but one and migrates their tasks and timers.
const SHRUNK_WORKERS: usize = 1;

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Greeting {
    greeting: String,
    peer: String,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Slept {
    slept_ms: u64,
}

async fn hello(
    Path(name): Path<String>,
    Extension(ConnectInfo(peer)): Extension<ConnectInfo>,
) -> Json<Greeting> {
    Json(Greeting {
        greeting: format!("hello, {name}"),
        peer: peer.ip().to_string(),
    })
}

async fn echo(Json(body): Json<Value>) -> Json<Value> {
    Json(serde_json::json!({ "echo": body }))
}

async fn sleep_route(Path(ms): Path<u64>) -> Json<Slept> {
    ticktock::time::sleep(Duration::from_millis(ms)).await;
    Json(Slept { slept_ms: ms })
}

async fn health() -> Json<Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// The application: every route, under the timeout layer.
fn app() -> Router {
    Router::new()
        .route("/hello/{name}", get(hello))
        .route("/echo", post(echo))
        .route("/sleep/{ms}", get(sleep_route))
        .route("/health", get(health))
        .layer(TimeoutLayer::new(REQUEST_TIMEOUT))
}

/// Completes on the first SIGTERM or ctrl-c (SIGINT).
async fn shutdown_signal() {
    let mut terminate = signal(SignalKind::terminate()).expect("listen for SIGTERM");
    let mut interrupt = signal(SignalKind::interrupt()).expect("listen for SIGINT");
    futures::future::select(Box::pin(terminate.recv()), Box::pin(interrupt.recv())).await;
}

/// Every `every`, switches the runtime between [`SHRUNK_WORKERS`] and the worker
/// count it had when this started, and prints each resize. Runs until the runtime
/// is dropped.
async fn resize_forever(every: Duration) {
    let handle = ticktock::Handle::current();
    let full = handle.worker_threads();
    assert!(
        full > SHRUNK_WORKERS,
        "--resize-every-ms needs at least {} workers (--workers N), not {full}",
        SHRUNK_WORKERS + 1
    );
    for count in 1u64.. {
        ticktock::time::sleep(every).await;
        let target = if handle.worker_threads() == full {
            SHRUNK_WORKERS
        } else {
            full
        };
        handle.set_worker_threads(target);
        println!("resize {count}: {target} workers");
    }
}

struct Options {
    addr: SocketAddr,
    workers: Option<usize>,
    resize_every: Option<Duration>,
    self_test: bool,
}

fn options() -> Options {
    let mut options = Options {
        addr: "127.0.0.1:3000".parse().unwrap(),
        workers: None,
        resize_every: None,
        self_test: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => {
                options.addr = args
                    .next()
                    .expect("--addr ADDR")
                    .parse()
                    .expect("an address")
            }
            "--workers" => {
                options.workers = Some(args.next().expect("--workers N").parse().expect("a number"))
            }
            "--resize-every-ms" => {
                let ms = args.next().expect("--resize-every-ms MS");
                options.resize_every = Some(Duration::from_millis(ms.parse().expect("a number")))
            }
            "--self-test" => options.self_test = true,
            other => panic!("unknown argument {other}; see the example's docs"),
        }
    }
    options
}

fn main() {
    let options = options();
    let mut builder = ticktock::Builder::new_multi_thread();
    if let Some(workers) = options.workers {
        builder.worker_threads(workers);
    }
    let rt = builder.build().expect("runtime");
    if options.self_test {
        rt.block_on(self_test());
        println!("self-test passed");
        return;
    }
    rt.block_on(async {
        let listener = TcpListener::bind(options.addr).await.expect("bind");
        println!("listening on {}", listener.local_addr().unwrap());
        std::io::stdout().flush().unwrap();
        if let Some(every) = options.resize_every {
            drop(ticktock::spawn(resize_forever(every)));
        }
        ticktock::serve(listener, app())
            .with_graceful_shutdown(shutdown_signal())
            .drain_timeout(DRAIN_TIMEOUT)
            .await
            .expect("serve");
        println!("drained");
        if options.resize_every.is_some() {
            let metrics = ticktock::Handle::current().metrics();
            println!(
                "workers started by resizes: {}, retired: {}",
                metrics.workers_started, metrics.workers_retired
            );
        }
    });
}

/// Starts the app on an ephemeral port, checks every route with a hyper client on
/// ticktock, then shuts the server down through its signal future.
async fn self_test() {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    use hyper::{Method, Request, StatusCode};

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = futures::channel::oneshot::channel::<()>();
    let server = ticktock::spawn(
        ticktock::serve(listener, app())
            .with_graceful_shutdown(async {
                stopped.await.ok();
            })
            .into_future(),
    );

    let stream = ticktock::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(ticktock::hyper::Io::new(stream))
            .await
            .unwrap();
    let connection = ticktock::spawn(connection);
    let mut call = |method: Method, path: &str, body: &'static str| {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let response = sender.send_request(request);
        async move {
            let response = response.await.unwrap();
            let status = response.status();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, body)
        }
    };

    let (status, body) = call(Method::GET, "/hello/ticktock", "").await;
    assert_eq!(status, StatusCode::OK);
    let greeting: Greeting = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        greeting,
        Greeting {
            greeting: "hello, ticktock".into(),
            peer: "127.0.0.1".into()
        }
    );

    let (status, body) = call(Method::POST, "/echo", r#"{"n":[1,2,3]}"#).await;
    assert_eq!(status, StatusCode::OK);
    let echoed: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(echoed, serde_json::json!({"echo": {"n": [1, 2, 3]}}));

    let started = std::time::Instant::now();
    let (status, body) = call(Method::GET, "/sleep/50", "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(50),
        "the route waited on its timer"
    );
    assert_eq!(
        serde_json::from_slice::<Slept>(&body).unwrap(),
        Slept { slept_ms: 50 }
    );

    let started = std::time::Instant::now();
    let (status, _) = call(Method::GET, "/sleep/60000", "").await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "the timeout layer answered"
    );
    assert!(started.elapsed() < REQUEST_TIMEOUT * 5);

    let (status, _) = call(Method::GET, "/health", "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(Method::GET, "/nowhere", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    connection.await.unwrap().unwrap();
}
