//! Networking: TCP, UDP and Unix sockets on the reactor, their faults (reset,
//! half-close, refused, address in use), descriptor hygiene over many connections,
//! and listeners ending at a graceful shutdown.
//!
//! Every test runs its body under a ticktock `timeout` and, around that, a watchdog
//! thread: a hang fails the test instead of stalling the suite. Traffic stays on
//! 127.0.0.1 and Unix sockets in the temp directory.

mod common;

use std::future::Future;
use std::io::{ErrorKind, Read as _, Write as _};
use std::net::Shutdown;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use common::runtime;
use futures::io::{AsyncReadExt, AsyncWriteExt};
use ticktock::net::{TcpListener, TcpStream, UdpSocket, UnixListener, UnixStream};
use ticktock::time::{sleep, timeout};

/// How long any one test body may take before it counts as hung.
const TEST_LIMIT: Duration = Duration::from_secs(60);

/// Held for reading by every test, for writing by the descriptor-count test, whose
/// before/after comparison must not see other tests' sockets.
static FD_COUNT_LOCK: RwLock<()> = RwLock::new(());

fn shared_lock() -> RwLockReadGuard<'static, ()> {
    FD_COUNT_LOCK.read().unwrap_or_else(|p| p.into_inner())
}

/// Runs `body` on `rt` under a ticktock timeout, on a thread watched from here, so a
/// hang panics (with `what`) instead of blocking the test binary.
fn bounded<F>(rt: &ticktock::Runtime, what: &str, body: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handle = rt.handle().clone();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let result = handle.block_on(timeout(TEST_LIMIT, body));
        let _ = done_tx.send(result);
    });
    match done_rx.recv_timeout(TEST_LIMIT + Duration::from_secs(5)) {
        Ok(Ok(output)) => output,
        Ok(Err(_elapsed)) => panic!("{what}: timed out after {TEST_LIMIT:?}"),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: hung (the runtime's own timeout did not fire)")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: body panicked"),
    }
}

/// A fresh Unix socket path in the temp directory.
fn socket_path(name: &str) -> std::path::PathBuf {
    let path =
        std::env::temp_dir().join(format!("ticktock-net-{}-{name}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// Spawns an echo server on `listener`: each connection echoes until end of stream.
fn spawn_echo_server(listener: TcpListener) -> ticktock::task::JoinHandle<()> {
    ticktock::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            ticktock::spawn(async move {
                let (mut reader, mut writer) = (&stream, &stream);
                let _ = futures::io::copy(&mut reader, &mut writer).await;
            });
        }
    })
}

#[test]
fn tcp_echo_many_clients() {
    let _lock = shared_lock();
    let rt = runtime(2);
    bounded(&rt, "tcp echo", async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn_echo_server(listener);
        let clients: Vec<_> = (0..20u32)
            .map(|client| {
                ticktock::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    for round in 0..50u32 {
                        let message = format!("client {client} round {round}");
                        stream.write_all(message.as_bytes()).await.unwrap();
                        let mut echo = vec![0; message.len()];
                        stream.read_exact(&mut echo).await.unwrap();
                        assert_eq!(echo, message.as_bytes());
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
        server.abort();
    });
}

#[test]
fn tcp_large_transfer_both_ways_through_shared_references() {
    const BYTES: usize = 4 << 20;
    let _lock = shared_lock();
    let rt = runtime(2);
    bounded(&rt, "large transfer", async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn_echo_server(listener);
        let stream = Arc::new(TcpStream::connect(addr).await.unwrap());
        let payload: Vec<u8> = (0..BYTES).map(|i| (i * 31 % 251) as u8).collect();
        let expected = payload.clone();
        let writer = {
            let stream = stream.clone();
            ticktock::spawn(async move {
                let mut writer = &*stream;
                writer.write_all(&payload).await.unwrap();
                writer.close().await.unwrap();
            })
        };
        let mut received = Vec::with_capacity(BYTES);
        let mut reader = &*stream;
        reader.read_to_end(&mut received).await.unwrap();
        writer.await.unwrap();
        assert_eq!(received.len(), expected.len());
        assert!(received == expected, "echoed bytes differ");
        server.abort();
    });
}

#[test]
fn tcp_vectored_write_sends_every_slice() {
    let _lock = shared_lock();
    let rt = runtime(2);
    bounded(&rt, "vectored write", async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let slices = [
            std::io::IoSlice::new(b"head "),
            std::io::IoSlice::new(b"body "),
            std::io::IoSlice::new(b"tail"),
        ];
        let written = client.write_vectored(&slices).await.unwrap();
        assert_eq!(
            written, 14,
            "one writev takes all 14 bytes on an empty socket"
        );
        client.close().await.unwrap();
        let mut received = String::new();
        server.read_to_string(&mut received).await.unwrap();
        assert_eq!(received, "head body tail");
    });
}

#[test]
fn tcp_half_close_reads_to_end_and_still_answers() {
    let _lock = shared_lock();
    let rt = runtime(2);
    bounded(&rt, "half close", async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = ticktock::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            stream.read_to_end(&mut request).await.unwrap();
            stream.write_all(b"got: ").await.unwrap();
            stream.write_all(&request).await.unwrap();
            stream.close().await.unwrap();
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"question").await.unwrap();
        client.shutdown_direction(Shutdown::Write).unwrap();
        let mut answer = String::new();
        client.read_to_string(&mut answer).await.unwrap();
        assert_eq!(answer, "got: question");
        // Writing after our own shutdown fails instead of panicking or hanging.
        let error = client.write_all(b"late").await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::BrokenPipe);
        server.await.unwrap();
    });
}

#[test]
fn tcp_peer_reset_mid_write_fails_the_writer_and_the_reader() {
    let _lock = shared_lock();
    let rt = runtime(2);
    bounded(&rt, "peer reset", async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let server = Arc::new(server);
        let writer = {
            let server = server.clone();
            ticktock::spawn(async move {
                let chunk = vec![7u8; 64 * 1024];
                let mut writer = &*server;
                // Bounded: the reset ends this long before 1 GiB.
                for _ in 0..16 * 1024 {
                    if let Err(error) = writer.write_all(&chunk).await {
                        return error;
                    }
                }
                panic!("1 GiB written to a reset connection");
            })
        };
        // Let the writer fill the buffers, then reset: SO_LINGER 0 makes close send RST.
        sleep(Duration::from_millis(50)).await;
        socket2::SockRef::from(&client)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(client);
        let error = writer.await.unwrap();
        assert!(
            matches!(
                error.kind(),
                ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
            ),
            "writer saw {error:?}"
        );
        let mut buf = [0u8; 16];
        let mut reader = &*server;
        match reader.read(&mut buf).await {
            Ok(0) => {}
            Ok(n) => panic!("read {n} bytes from a reset connection"),
            Err(error) => assert_eq!(error.kind(), ErrorKind::ConnectionReset),
        }
    });
}

#[test]
fn tcp_connect_to_closed_port_is_refused() {
    let _lock = shared_lock();
    let rt = runtime(2);
    bounded(&rt, "connect refused", async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let error = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
        // Every resolved address is tried; the last error is returned.
        let error = TcpStream::connect(&[addr, addr][..]).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn binding_an_address_in_use_fails() {
    let _lock = shared_lock();
    let rt = runtime(2);
    bounded(&rt, "address in use", async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let error = TcpListener::bind(listener.local_addr().unwrap())
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AddrInUse);

        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let error = UdpSocket::bind(socket.local_addr().unwrap())
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AddrInUse);

        let path = socket_path("in-use");
        let unix = UnixListener::bind(&path).unwrap();
        let error = UnixListener::bind(&path).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AddrInUse);
        drop(unix);
        std::fs::remove_file(&path).unwrap();
    });
}

#[test]
fn tcp_addresses_options_and_std_conversions() {
    let _lock = shared_lock();
    let rt = runtime(2);
    bounded(&rt, "addresses and conversions", async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let listener = TcpListener::from_std(std_listener).unwrap();
        let client = TcpStream::connect(("127.0.0.1", addr.port()))
            .await
            .unwrap();
        let (server, peer) = listener.accept().await.unwrap();
        assert_eq!(client.peer_addr().unwrap(), addr);
        assert_eq!(server.peer_addr().unwrap(), peer);
        assert_eq!(client.local_addr().unwrap(), peer);
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        assert!(client.take_error().unwrap().is_none());
        assert!(format!("{client:?}").contains("TcpStream"));
        // Back to a blocking std stream; the other side still talks to it.
        let mut std_client = client.into_std().unwrap();
        std_client.write_all(b"std").unwrap();
        let mut server = server;
        let mut buf = [0u8; 3];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"std");
        server.write_all(b"ack").await.unwrap();
        ticktock::task::spawn_blocking(move || {
            let mut reply = [0u8; 3];
            std_client.read_exact(&mut reply).unwrap();
            assert_eq!(&reply, b"ack");
        })
        .await
        .unwrap();
    });
}

#[test]
fn tcp_over_ipv6_loopback_when_available() {
    let _lock = shared_lock();
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback here: skipped");
        return;
    }
    let rt = runtime(2);
    bounded(&rt, "ipv6", async {
        let listener = TcpListener::bind("[::1]:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(addr.is_ipv6());
        let server = spawn_echo_server(listener);
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"six").await.unwrap();
        let mut buf = [0u8; 3];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"six");
        server.abort();
    });
}

#[test]
fn udp_datagrams_connected_and_not() {
    let _lock = shared_lock();
    let rt = runtime(2);
    bounded(&rt, "udp", async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        let mut buf = [0u8; 64];
        for i in 0..10u8 {
            a.send_to(&[i; 5], b_addr).await.unwrap();
            let (len, from) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..len], from), (&[i; 5][..], a_addr));
        }
        a.connect(b_addr).await.unwrap();
        b.connect(a_addr).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b_addr);
        // A receiver waiting before the datagram is sent gets woken by it.
        let b = Arc::new(b);
        let receiver = {
            let b = b.clone();
            ticktock::spawn(async move {
                let mut buf = [0u8; 64];
                let len = b.recv(&mut buf).await.unwrap();
                buf[..len].to_vec()
            })
        };
        sleep(Duration::from_millis(10)).await;
        a.send(b"connected").await.unwrap();
        assert_eq!(receiver.await.unwrap(), b"connected");
        b.send(b"back").await.unwrap();
        let len = a.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..len], b"back");
    });
}

/// An ICMP "port unreachable" is reported once; then the socket waits normally
/// again (a sticky error readiness once made the next `recv` spin forever).
#[test]
fn udp_error_from_closed_port_is_reported_once_then_socket_waits() {
    let _lock = shared_lock();
    let rt = runtime(2);
    bounded(&rt, "udp icmp error", async {
        let closed = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let closed_addr = closed.local_addr().unwrap();
        drop(closed);
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        socket.connect(closed_addr).await.unwrap();
        socket.send(b"anyone?").await.unwrap();
        let mut buf = [0u8; 16];
        let error = socket.recv(&mut buf).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
        let started = Instant::now();
        let waited = timeout(Duration::from_millis(50), socket.recv(&mut buf)).await;
        assert!(waited.is_err(), "nothing to receive: {waited:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        // Still usable with a live peer.
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        socket.connect(peer.local_addr().unwrap()).await.unwrap();
        socket.send(b"hello").await.unwrap();
        let (len, _) = peer.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..len], b"hello");
    });
}

#[test]
fn unix_stream_echo_and_half_close() {
    let _lock = shared_lock();
    let rt = runtime(2);
    let path = socket_path("echo");
    let server_path = path.clone();
    bounded(&rt, "unix echo", async move {
        let listener = UnixListener::bind(&server_path).unwrap();
        let server = ticktock::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            stream.read_to_end(&mut request).await.unwrap();
            request.reverse();
            stream.write_all(&request).await.unwrap();
        });
        let mut client = UnixStream::connect(&server_path).await.unwrap();
        client.write_all(b"stressed").await.unwrap();
        client.close().await.unwrap();
        let mut answer = String::new();
        client.read_to_string(&mut answer).await.unwrap();
        assert_eq!(answer, "desserts");
        server.await.unwrap();

        // 1 MiB, far more than the socket buffers hold: the writer waits for the reader.
        let (a, b) = UnixStream::pair().unwrap();
        let writer = ticktock::spawn(async move {
            let mut writer = &a;
            writer.write_all(&vec![1u8; 1 << 20]).await.unwrap();
        });
        let mut all = Vec::new();
        let mut reader = &b;
        reader.read_to_end(&mut all).await.unwrap();
        assert_eq!(all.len(), 1 << 20);
        writer.await.unwrap();
    });
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn unix_connect_to_missing_path_fails() {
    let _lock = shared_lock();
    let rt = runtime(2);
    bounded(&rt, "unix missing", async {
        let error = UnixStream::connect(socket_path("missing"))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
    });
}

#[test]
fn sockets_work_on_a_current_thread_runtime() {
    let _lock = shared_lock();
    let rt = ticktock::Builder::new_current_thread().build().unwrap();
    let echoed = rt.block_on(timeout(TEST_LIMIT, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn_echo_server(listener);
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"single thread").await.unwrap();
        let mut buf = [0u8; 13];
        client.read_exact(&mut buf).await.unwrap();
        server.abort();
        buf
    }));
    assert_eq!(&echoed.unwrap(), b"single thread");
}

#[test]
fn creating_a_socket_outside_a_runtime_panics_with_a_clear_message() {
    let _lock = shared_lock();
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let panic = std::panic::catch_unwind(move || TcpListener::from_std(std_listener))
        .expect_err("no runtime, no socket");
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(message.contains("outside a ticktock runtime"), "{message}");
}

/// Open descriptors of this process.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

#[test]
fn ten_thousand_connections_leave_no_descriptors_behind() {
    const CONNECTIONS: usize = 10_000;
    /// Descriptors the process may open meanwhile for reasons of its own.
    const SLACK: usize = 8;
    let _exclusive = FD_COUNT_LOCK.write().unwrap_or_else(|p| p.into_inner());
    if !std::path::Path::new("/proc/self/fd").exists() {
        eprintln!("no /proc/self/fd here: skipped");
        return;
    }
    let rt = runtime(2);
    let (before, after) = bounded(&rt, "10k connections", async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let before = open_fds();
        for i in 0..CONNECTIONS {
            let mut client = TcpStream::connect(addr).await.unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            if i % 100 == 0 {
                // Some connections carry a byte, so their registrations see events.
                client.write_all(b"x").await.unwrap();
                let mut byte = [0u8; 1];
                server.read_exact(&mut byte).await.unwrap();
            }
        }
        (before, open_fds())
    });
    assert!(
        after <= before + SLACK,
        "{CONNECTIONS} connections left descriptors open: {before} before, {after} after"
    );
    drop(rt);
}

#[test]
fn graceful_shutdown_ends_the_accept_loop_and_lets_handlers_finish() {
    let _lock = shared_lock();
    let rt = runtime(2);
    let accept_error: Arc<Mutex<Option<std::io::Error>>> = Arc::default();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    {
        let accept_error = accept_error.clone();
        rt.spawn(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                match listener.accept().await {
                    Ok((mut stream, _)) => {
                        // A long in-flight request: answered 200 ms later.
                        ticktock::spawn(async move {
                            let mut request = [0u8; 4];
                            stream.read_exact(&mut request).await.unwrap();
                            sleep(Duration::from_millis(200)).await;
                            stream.write_all(b"done").await.unwrap();
                        });
                    }
                    Err(error) => {
                        *accept_error.lock().unwrap() = Some(error);
                        break;
                    }
                }
            }
        });
    }
    let addr = addr_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let mut client = std::net::TcpStream::connect(addr).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    client.write_all(b"work").unwrap();
    // Let the handler start before shutting down.
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    rt.shutdown_timeout(Duration::from_secs(10));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    let mut reply = [0u8; 4];
    client.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"done", "the in-flight handler finished");
    let error = accept_error
        .lock()
        .unwrap()
        .take()
        .expect("accept loop ended");
    assert_eq!(error.kind(), ErrorKind::Other);
    assert_eq!(error.to_string(), "ticktock runtime is shutting down");
}

#[test]
fn shutdown_timeout_cancels_a_handler_that_never_ends() {
    let _lock = shared_lock();
    let rt = runtime(2);
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    rt.spawn(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        addr_tx.send(listener.local_addr().unwrap()).unwrap();
        while let Ok((stream, _)) = listener.accept().await {
            ticktock::spawn(async move {
                let _stream = stream;
                std::future::pending::<()>().await;
            });
        }
    });
    let addr = addr_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let mut client = std::net::TcpStream::connect(addr).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    rt.shutdown_timeout(Duration::from_millis(300));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "shutdown took {took:?}");
    // The cancelled handler dropped its stream: the client sees the end of it.
    let mut rest = Vec::new();
    assert_eq!(client.read_to_end(&mut rest).unwrap(), 0);
}

/// An accept that fails with an error from the operating system is counted in
/// `RuntimeMetrics::accept_errors` (here `EINVAL`: the socket is bound but not
/// listening, so every accept fails at once); refusals while draining are not.
#[test]
fn accept_errors_are_counted_in_metrics() {
    let _lock = shared_lock();
    let rt = runtime(1);
    let metrics = rt.handle().clone();
    let failures = bounded(&rt, "accept on a socket that does not listen", async {
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket
            .bind(
                &"127.0.0.1:0"
                    .parse::<std::net::SocketAddr>()
                    .unwrap()
                    .into(),
            )
            .unwrap();
        let listener = TcpListener::from_std(socket.into()).unwrap();
        let mut failures = 0u64;
        for _ in 0..3 {
            let error = listener.accept().await.unwrap_err();
            assert_eq!(error.raw_os_error(), Some(22), "{error}");
            failures += 1;
        }
        failures
    });
    assert_eq!(metrics.metrics().accept_errors, failures);
    rt.shutdown_timeout(Duration::from_secs(5));
}
