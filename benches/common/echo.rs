//! TCP echo servers on each runtime, and a tokio runtime with its I/O driver: what the
//! socket benches (`net.rs`, `tokio_compat.rs`) measure against.

use std::net::SocketAddr;

/// A tokio runtime like [`super::tokio_rt`], with its I/O driver enabled.
pub fn tokio_io_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(super::WORKERS)
        .enable_all()
        .build()
        .expect("build tokio runtime")
}

/// Starts an echo server on ticktock; returns its address.
pub fn ticktock_echo_server(rt: &ticktock::Runtime) -> SocketAddr {
    rt.block_on(async {
        let listener = ticktock::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        ticktock::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                stream.set_nodelay(true).unwrap();
                ticktock::spawn(async move {
                    let (mut reader, mut writer) = (&stream, &stream);
                    let _ = futures::io::copy(&mut reader, &mut writer).await;
                });
            }
        });
        addr
    })
}

/// Starts an echo server on tokio; returns its address.
pub fn tokio_echo_server(rt: &tokio::runtime::Runtime) -> SocketAddr {
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                stream.set_nodelay(true).unwrap();
                tokio::spawn(async move {
                    let (mut reader, mut writer) = stream.split();
                    let _ = tokio::io::copy(&mut reader, &mut writer).await;
                });
            }
        });
        addr
    })
}
