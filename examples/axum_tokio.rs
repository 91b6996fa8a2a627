//! The app of `examples/axum_service.rs` on tokio with `axum::serve`: the
//! baseline `benches/http_bench.sh` measures ticktock against. Same routes, same
//! JSON types, same command-line flags (`--addr`, `--workers`), and the same kind
//! of per-request timeout: a tower layer whose future polls the handler, then a
//! timer (here `tokio::time::timeout`; ticktock's `TimeoutLayer` runs on ticktock's
//! timers only), answering an empty 503 when the timer wins.
//!
//! ```text
//! cargo run --release --features http --example axum_tokio -- [--addr 127.0.0.1:3001] [--workers N]
//! ```
//!
//! `--workers N` sets the worker count (default: the CPUs available, as ticktock's).
//! tokio cannot resize a running runtime, so there is no `--resize-every-ms`.

use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{ConnectInfo, Path};
use axum::http::{Response, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::FutureExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tower_layer::Layer;
use tower_service::Service;

/// Time a request may take before the timeout layer answers 503 (as the ticktock app).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

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
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
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
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Json(Slept { slept_ms: ms })
}

async fn health() -> Json<Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// The tokio counterpart of `ticktock::serve::TimeoutLayer`: each request gets
/// `0` to produce its response, else an empty 503.
#[derive(Clone, Copy)]
struct TimeoutLayer(Duration);

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            inner,
            duration: self.0,
        }
    }
}

#[derive(Clone)]
struct Timeout<S> {
    inner: S,
    duration: Duration,
}

/// What `tokio::time::timeout` around a handler yields.
type Timed<B, E> = Result<Result<Response<B>, E>, tokio::time::error::Elapsed>;

/// The response future: the handler's under `tokio::time::timeout`, mapped by a
/// plain function (no box, as ticktock's `TimeoutFuture`).
type TimeoutFuture<F, B, E> =
    futures::future::Map<tokio::time::Timeout<F>, fn(Timed<B, E>) -> Result<Response<B>, E>>;

/// An elapsed timeout becomes an empty 503 response.
fn expired<B: Default, E>(timed: Timed<B, E>) -> Result<Response<B>, E> {
    timed.unwrap_or_else(|_| {
        let mut response = Response::new(B::default());
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        Ok(response)
    })
}

impl<S, R, B> Service<R> for Timeout<S>
where
    S: Service<R, Response = Response<B>>,
    B: Default,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = TimeoutFuture<S::Future, B, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        tokio::time::timeout(self.duration, self.inner.call(request))
            .map(expired as fn(Timed<B, S::Error>) -> Result<Response<B>, S::Error>)
    }
}

/// The application: every route, under the timeout layer.
fn app() -> Router {
    Router::new()
        .route("/hello/{name}", get(hello))
        .route("/echo", post(echo))
        .route("/sleep/{ms}", get(sleep_route))
        .route("/health", get(health))
        .layer(TimeoutLayer(REQUEST_TIMEOUT))
}

/// Completes on the first SIGTERM or ctrl-c (SIGINT).
async fn shutdown_signal() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).unwrap();
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

struct Options {
    addr: SocketAddr,
    workers: Option<usize>,
}

fn options() -> Options {
    let mut options = Options {
        addr: "127.0.0.1:3001".parse().unwrap(),
        workers: None,
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
            other => panic!("unknown argument {other}; see the example's docs"),
        }
    }
    options
}

fn main() {
    let options = options();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(workers) = options.workers {
        builder.worker_threads(workers);
    }
    builder.build().unwrap().block_on(async {
        let listener = tokio::net::TcpListener::bind(options.addr).await.unwrap();
        println!("listening on {}", listener.local_addr().unwrap());
        axum::serve(
            listener,
            app().into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await
        .unwrap();
        println!("drained");
    });
}
