//! The app of `examples/axum_service.rs` on tokio with `axum::serve`: the
//! baseline `benches/http_bench.sh` measures ticktock against. Same routes and
//! JSON; the timeout is axum middleware around `tokio::time::timeout` (ticktock's
//! `TimeoutLayer` runs on ticktock's timers only).
//!
//! ```text
//! cargo run --release --features http --example axum_tokio -- [--addr 127.0.0.1:3001] [--workers N]
//! ```

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

/// Time a request may take before the timeout answers 503 (as the ticktock app).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

async fn hello(
    Path(name): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Json<Value> {
    Json(serde_json::json!({ "greeting": format!("hello, {name}"), "peer": peer.ip().to_string() }))
}

async fn echo(Json(body): Json<Value>) -> Json<Value> {
    Json(serde_json::json!({ "echo": body }))
}

async fn sleep_route(Path(ms): Path<u64>) -> Json<Value> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Json(serde_json::json!({ "slept_ms": ms }))
}

async fn health() -> Json<Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn timeout(request: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

fn app() -> Router {
    Router::new()
        .route("/hello/{name}", get(hello))
        .route("/echo", post(echo))
        .route("/sleep/{ms}", get(sleep_route))
        .route("/health", get(health))
        .layer(middleware::from_fn(timeout))
}

async fn shutdown_signal() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).unwrap();
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

fn main() {
    let mut addr: SocketAddr = "127.0.0.1:3001".parse().unwrap();
    let mut workers = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => {
                addr = args
                    .next()
                    .expect("--addr ADDR")
                    .parse()
                    .expect("an address")
            }
            "--workers" => {
                workers = Some(args.next().expect("--workers N").parse().expect("a number"))
            }
            other => panic!("unknown argument {other}"),
        }
    }
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(workers) = workers {
        builder.worker_threads(workers);
    }
    builder.build().unwrap().block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
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
