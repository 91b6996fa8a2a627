//! Host-name resolution runs on the blocking pool, never on a worker; IP literals
//! never touch the resolver. Loopback names only (`localhost` from /etc/hosts).

mod common;

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use ticktock::net::{lookup_host, TcpListener, TcpStream, UdpSocket};
use ticktock::time::timeout;

/// Long enough for a `localhost` lookup on a loaded machine.
const LOOKUP_LIMIT: Duration = Duration::from_secs(10);

/// A runtime with one worker and one blocking thread, so a test can occupy the
/// whole blocking pool.
fn one_blocking_thread() -> ticktock::Runtime {
    ticktock::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(1)
        .build()
        .unwrap()
}

#[test]
fn host_names_wait_for_the_blocking_pool_while_the_worker_keeps_running() {
    let rt = one_blocking_thread();
    rt.block_on(async {
        // Occupy the only blocking thread until `release` is sent.
        let (release, released) = mpsc::channel::<()>();
        let blocker = ticktock::task::spawn_blocking(move || released.recv().unwrap());
        let lookup = ticktock::spawn(async { lookup_host("localhost:80").await });
        // The lookup is queued behind the blocker: it cannot finish, yet the worker
        // runs other tasks (a resolver on the worker would have answered by now).
        ticktock::time::sleep(Duration::from_millis(200)).await;
        assert!(
            !lookup.is_finished(),
            "the lookup did not wait for the blocking pool"
        );
        let on_the_worker = ticktock::spawn(async { 1 + 1 }).await.unwrap();
        assert_eq!(on_the_worker, 2);
        // IP literals do not need the pool: they resolve while it is still busy.
        let literal: Vec<SocketAddr> = lookup_host("127.0.0.1:80").await.unwrap().collect();
        assert_eq!(literal, vec![SocketAddr::from(([127, 0, 0, 1], 80))]);
        release.send(()).unwrap();
        blocker.await.unwrap();
        let addrs: Vec<SocketAddr> = timeout(LOOKUP_LIMIT, lookup)
            .await
            .expect("the lookup finishes once the pool is free")
            .unwrap()
            .unwrap()
            .collect();
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
    });
}

#[test]
fn host_name_forms_of_connect_and_bind() {
    common::runtime(2).block_on(async {
        let listener = TcpListener::bind("localhost:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(addr.ip().is_loopback());
        let server = ticktock::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.write_all(b"resolved").await.unwrap();
        });
        let mut client = timeout(LOOKUP_LIMIT, TcpStream::connect(("localhost", addr.port())))
            .await
            .unwrap()
            .unwrap();
        let mut text = String::new();
        client.read_to_string(&mut text).await.unwrap();
        assert_eq!(text, "resolved");
        server.await.unwrap();

        let a = UdpSocket::bind(("localhost", 0)).await.unwrap();
        let a_addr = a.local_addr().unwrap();
        let b = UdpSocket::bind(format!("localhost:{}", 0)).await.unwrap();
        b.connect(format!("localhost:{}", a_addr.port()))
            .await
            .unwrap();
        // `localhost` may resolve to ::1 first; connect picks the family `b` has.
        assert_eq!(b.peer_addr().unwrap().port(), a_addr.port());
        b.send(b"dns").await.unwrap();
        let mut buf = [0; 8];
        let (len, from) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..len], from), (&b"dns"[..], b.local_addr().unwrap()));
    });
}

#[test]
fn resolver_errors_are_returned_not_panicked() {
    common::runtime(1).block_on(async {
        // No port: the resolver rejects the form (on the blocking pool).
        let error = lookup_host("localhost").await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        let empty: &[SocketAddr] = &[];
        let error = TcpStream::connect(empty).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    });
}
