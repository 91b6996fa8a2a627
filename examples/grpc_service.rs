//! A tonic gRPC service served by `ticktock::serve`, called by tonic's client from
//! ticktock tasks.
//!
//! The server is native: tonic's `Routes` is a tower service, and `ticktock::serve`
//! runs it over HTTP/2 on ticktock's sockets and timers. tonic's client
//! (`transport::Channel`) calls tokio's runtime itself, so the client side needs the
//! bridge (feature `tokio-compat`). The service is written by hand
//! (`examples/grpc/echo.rs`): no `protoc`, no build script.
//!
//! Run: `cargo run --example grpc_service --features http,tokio-compat`
//! (prints each reply, then serves until Ctrl-C on the printed address).

#[path = "grpc/echo.rs"]
mod echo;

use echo::{say, EchoServer};

#[ticktock::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let routes = tonic::service::Routes::new(EchoServer::default());
    let listener = ticktock::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = ticktock::spawn(async move {
        ticktock::serve(listener, routes)
            .with_graceful_shutdown(async {
                let _ = ticktock::signal::ctrl_c().await;
            })
            .await
    });
    println!("serving ticktock.test.Echo on {address}");

    let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))?
        .connect()
        .await?;
    let calls: Vec<_> = ["one", "two", "three"]
        .into_iter()
        .map(|message| {
            let channel = channel.clone();
            ticktock::spawn(async move { say(channel, message).await })
        })
        .collect();
    for call in calls {
        let reply = call.await??;
        println!(
            "reply: {:?} (call {} on the server)",
            reply.message, reply.calls
        );
    }
    if std::env::args().any(|arg| arg == "--once") {
        return Ok(());
    }
    server.await??;
    Ok(())
}
