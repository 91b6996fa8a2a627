//! The socket API a server needs, one test per call family: `TcpSocket`, `peek`,
//! `readable`/`try_read`, `split`/`into_split`, `UnixDatagram`, UDP `peek_from`,
//! IPv4 multicast, `set_linger`, `ttl`, and the addresses. Loopback only.

mod common;

use std::future::Future;
use std::io::ErrorKind;
use std::net::Ipv4Addr;
use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use ticktock::net::{TcpListener, TcpSocket, TcpStream, UdpSocket, UnixDatagram, UnixStream};
use ticktock::time::timeout;

/// How long any one test body may take before it counts as hung.
const TEST_LIMIT: Duration = Duration::from_secs(20);

fn run<F: Future>(body: F) -> F::Output {
    common::runtime(2)
        .block_on(timeout(TEST_LIMIT, body))
        .expect("test body timed out")
}

/// A connected pair: (client, server side).
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

#[test]
fn tcp_socket_binds_before_connect_and_listens_with_a_backlog() {
    run(async {
        let server = TcpSocket::new_v4().unwrap();
        server.set_reuseaddr(true).unwrap();
        assert!(server.reuseaddr().unwrap());
        server.set_recv_buffer_size(96 * 1024).unwrap();
        assert!(server.recv_buffer_size().unwrap() >= 96 * 1024);
        server.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = server.listen(4).unwrap();
        let addr = listener.local_addr().unwrap();

        let client = TcpSocket::new_v4().unwrap();
        client.set_send_buffer_size(48 * 1024).unwrap();
        assert!(client.send_buffer_size().unwrap() >= 48 * 1024);
        client.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let source = client.local_addr().unwrap();
        let mut stream = client.connect(addr).await.unwrap();
        let (mut accepted, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, source, "the connection comes from the bound address");
        assert_eq!(stream.local_addr().unwrap(), source);
        stream.write_all(b"bound").await.unwrap();
        let mut buf = [0; 5];
        accepted.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"bound");

        // Connecting to a closed port fails with the handshake's error.
        drop(listener);
        let refused = TcpSocket::new_v4()
            .unwrap()
            .connect(addr)
            .await
            .unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn tcp_socket_reuseport_lets_two_listeners_share_a_port() {
    run(async {
        let first = TcpSocket::new_v4().unwrap();
        first.set_reuseport(true).unwrap();
        assert!(first.reuseport().unwrap());
        first.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = first.local_addr().unwrap();
        let _first = first.listen(16).unwrap();

        let second = TcpSocket::new_v4().unwrap();
        second.set_reuseport(true).unwrap();
        second.bind(addr).unwrap();
        let _second = second.listen(16).unwrap();

        let third = TcpSocket::new_v4().unwrap();
        let error = third.bind(addr).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AddrInUse, "without SO_REUSEPORT");
    });
}

#[test]
fn tcp_socket_v6_when_the_host_has_ipv6() {
    run(async {
        let Ok(socket) = TcpSocket::new_v6() else {
            return;
        };
        if socket.bind("[::1]:0".parse().unwrap()).is_err() {
            return; // no IPv6 loopback in this sandbox
        }
        let listener = socket.listen(8).unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(addr.is_ipv6());
        let stream = TcpSocket::new_v6().unwrap().connect(addr).await.unwrap();
        assert_eq!(stream.peer_addr().unwrap(), addr);
    });
}

#[test]
fn peek_leaves_the_bytes_for_the_next_read() {
    run(async {
        let (mut client, mut server) = tcp_pair().await;
        client.write_all(b"abcdef").await.unwrap();
        let mut peeked = [0; 3];
        assert_eq!(server.peek(&mut peeked).await.unwrap(), 3);
        assert_eq!(&peeked, b"abc");
        let mut read = [0; 6];
        server.read_exact(&mut read).await.unwrap();
        assert_eq!(&read, b"abcdef");
    });
}

#[test]
fn readable_then_try_read_and_try_write() {
    run(async {
        let (client, server) = tcp_pair().await;
        let mut buf = [0; 16];
        assert_eq!(
            server.try_read(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        client.writable().await.unwrap();
        assert_eq!(client.try_write(b"try me").unwrap(), 6);
        let mut got = Vec::new();
        while got.len() < 6 {
            server.readable().await.unwrap();
            match server.try_read(&mut buf) {
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                Err(e) => panic!("try_read: {e}"),
            }
        }
        assert_eq!(got, b"try me");
        // Drained: WouldBlock again, and `readable` waits for the next write.
        assert_eq!(
            server.try_read(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        assert!(timeout(Duration::from_millis(50), server.readable())
            .await
            .is_err());

        // Fill the send buffer with try_write until it says WouldBlock.
        let chunk = vec![7u8; 64 * 1024];
        let mut sent = 0usize;
        loop {
            match client.try_write(&chunk) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("try_write: {e}"),
            }
            assert!(sent < 1 << 30, "the send buffer never filled");
        }
        assert!(sent > 0);
    });
}

#[test]
fn unix_stream_readable_and_try_read() {
    run(async {
        let (a, b) = UnixStream::pair().unwrap();
        let mut buf = [0; 4];
        assert_eq!(
            b.try_read(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        a.writable().await.unwrap();
        assert_eq!(a.try_write(b"unix").unwrap(), 4);
        b.readable().await.unwrap();
        assert_eq!(b.try_read(&mut buf).unwrap(), 4);
        assert_eq!(&buf, b"unix");
    });
}

#[test]
fn tcp_split_reads_and_writes_at_once() {
    run(async {
        let (mut client, mut server) = tcp_pair().await;
        let (mut read, mut write) = TcpStream::split(&mut server);
        let payload = vec![42u8; 256 * 1024];
        // Echo through the split halves while the client writes and reads at once:
        // more than a socket buffer, so one direction alone would deadlock.
        let echo = async {
            futures::io::copy(&mut (&mut read).take(payload.len() as u64), &mut write)
                .await
                .unwrap()
        };
        let (mut client_read, mut client_write) = TcpStream::split(&mut client);
        let client_side = async {
            let send = async { client_write.write_all(&payload).await.unwrap() };
            let mut back = vec![0; payload.len()];
            let recv = async { client_read.read_exact(&mut back).await.unwrap() };
            futures::join!(send, recv);
            back
        };
        let (copied, back) = futures::join!(echo, client_side);
        assert_eq!(copied as usize, payload.len());
        assert_eq!(back, payload);
    });
}

#[test]
fn tcp_into_split_moves_halves_to_tasks_and_reunites() {
    run(async {
        let (client, mut server) = tcp_pair().await;
        let client_addr = client.local_addr().unwrap();
        let (mut read, mut write) = client.into_split();
        assert_eq!(read.local_addr().unwrap(), client_addr);
        assert_eq!(write.local_addr().unwrap(), client_addr);
        assert_eq!(read.peer_addr().unwrap(), server.local_addr().unwrap());
        let writer = ticktock::spawn(async move {
            write.write_all(b"from the writer task").await.unwrap();
            write
        });
        let reader = ticktock::spawn(async move {
            let mut buf = [0; 5];
            read.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"reply");
            read
        });
        let mut buf = [0; 20];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"from the writer task");
        server.write_all(b"reply").await.unwrap();
        let (write, read) = (writer.await.unwrap(), reader.await.unwrap());
        let client = read.reunite(write).unwrap();
        assert_eq!(client.local_addr().unwrap(), client_addr);

        // Halves of different streams are refused, and dropping an owned write half
        // shuts the direction down: the peer reads end of stream.
        let (other, mut other_server) = tcp_pair().await;
        let (read, _write) = client.into_split();
        let (_other_read, other_write) = other.into_split();
        let ticktock::net::split::ReuniteError(_read, other_write) =
            read.reunite(other_write).unwrap_err();
        drop(other_write);
        let mut rest = Vec::new();
        other_server.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    });
}

#[test]
fn unix_split_and_into_split() {
    run(async {
        let (mut a, b) = UnixStream::pair().unwrap();
        {
            let (mut read, mut write) = UnixStream::split(&mut a);
            let (mut b_read, mut b_write) = (&b, &b);
            write.write_all(b"a->b").await.unwrap();
            let mut buf = [0; 4];
            b_read.read_exact(&mut buf).await.unwrap();
            b_write.write_all(&buf).await.unwrap();
            read.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"a->b");
        }
        let (mut read, write) = a.into_split();
        assert!(read.peer_addr().unwrap().is_unnamed());
        let mut b = b;
        drop(write);
        let mut buf = [0; 1];
        assert_eq!(
            b.read(&mut buf).await.unwrap(),
            0,
            "owned write half dropped"
        );
        b.write_all(b"!").await.unwrap();
        read.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"!");
    });
}

#[test]
fn unix_datagrams_by_path_and_connected() {
    let dir = std::env::temp_dir().join(format!("ticktock-dgram-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (server_path, client_path) = (dir.join("server.sock"), dir.join("client.sock"));
    run(async {
        let server = UnixDatagram::bind(&server_path).unwrap();
        let client = UnixDatagram::bind(&client_path).unwrap();
        assert_eq!(
            server.local_addr().unwrap().as_pathname(),
            Some(server_path.as_path())
        );
        client.send_to(b"hello", &server_path).await.unwrap();
        let mut buf = [0; 16];
        let (len, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..len], b"hello");
        assert_eq!(from.as_pathname(), Some(client_path.as_path()));
        server.connect(&client_path).unwrap();
        assert_eq!(
            server.peer_addr().unwrap().as_pathname(),
            Some(client_path.as_path())
        );
        server.send(b"back").await.unwrap();
        let len = client.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..len], b"back");
        // Nothing queued: try_recv says WouldBlock instead of waiting.
        assert_eq!(
            client.try_recv(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn udp_peek_from_keeps_the_datagram() {
    run(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.send_to(b"first", b.local_addr().unwrap()).await.unwrap();
        let mut buf = [0; 16];
        let (len, from) = b.peek_from(&mut buf).await.unwrap();
        assert_eq!(
            (&buf[..len], from),
            (&b"first"[..], a.local_addr().unwrap())
        );
        let (len, from) = b.peek_from(&mut buf).await.unwrap();
        assert_eq!(
            (&buf[..len], from),
            (&b"first"[..], a.local_addr().unwrap())
        );
        let (len, _) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..len], b"first");
        assert_eq!(
            b.try_recv_from(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
    });
}

#[test]
fn udp_multicast_v4_join_deliver_leave() {
    run(async {
        let group = Ipv4Addr::new(239, 255, 77, 7);
        let receiver = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        let port = receiver.local_addr().unwrap().port();
        receiver
            .join_multicast_v4(group, Ipv4Addr::LOCALHOST)
            .unwrap();
        let again = receiver
            .join_multicast_v4(group, Ipv4Addr::LOCALHOST)
            .unwrap_err();
        assert_eq!(again.kind(), ErrorKind::AddrInUse, "already a member");

        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        sender.set_multicast_if_v4(Ipv4Addr::LOCALHOST).unwrap();
        sender.set_multicast_loop_v4(true).unwrap();
        assert!(sender.multicast_loop_v4().unwrap());
        sender.set_multicast_ttl_v4(1).unwrap();
        assert_eq!(sender.multicast_ttl_v4().unwrap(), 1);
        sender
            .send_to(b"to the group", (group, port))
            .await
            .unwrap();
        let mut buf = [0; 32];
        let (len, from) = timeout(Duration::from_secs(5), receiver.recv_from(&mut buf))
            .await
            .expect("the group datagram arrives over loopback")
            .unwrap();
        assert_eq!(&buf[..len], b"to the group");
        assert_eq!(from, sender.local_addr().unwrap());

        receiver
            .leave_multicast_v4(group, Ipv4Addr::LOCALHOST)
            .unwrap();
        let again = receiver
            .leave_multicast_v4(group, Ipv4Addr::LOCALHOST)
            .unwrap_err();
        assert_eq!(
            again.kind(),
            ErrorKind::AddrNotAvailable,
            "no longer a member"
        );
    });
}

#[test]
fn set_linger_zero_resets_the_connection_on_drop() {
    run(async {
        let (client, mut server) = tcp_pair().await;
        assert_eq!(client.linger().unwrap(), None);
        client.set_linger(Some(Duration::ZERO)).unwrap();
        assert_eq!(client.linger().unwrap(), Some(Duration::ZERO));
        drop(client);
        let mut buf = [0; 1];
        let error = server.read(&mut buf).await.unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::ConnectionReset,
            "RST instead of FIN"
        );
    });
}

#[test]
fn ttl_on_every_ip_socket() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.set_ttl(33).unwrap();
        assert_eq!(listener.ttl().unwrap(), 33);
        let stream = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        stream.set_ttl(34).unwrap();
        assert_eq!(stream.ttl().unwrap(), 34);
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        udp.set_ttl(35).unwrap();
        assert_eq!(udp.ttl().unwrap(), 35);
    });
}

#[test]
fn local_and_peer_addr_everywhere() {
    run(async {
        let (client, server) = tcp_pair().await;
        assert_eq!(client.peer_addr().unwrap(), server.local_addr().unwrap());
        assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
        let (read, write) = server.into_split();
        assert_eq!(read.peer_addr().unwrap(), client.local_addr().unwrap());
        assert_eq!(write.local_addr().unwrap(), client.peer_addr().unwrap());

        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        assert_eq!(udp.peer_addr().unwrap_err().kind(), ErrorKind::NotConnected);
        udp.connect(client.local_addr().unwrap()).await.unwrap();
        assert_eq!(udp.peer_addr().unwrap(), client.local_addr().unwrap());

        let (a, b) = UnixDatagram::pair().unwrap();
        assert!(a.local_addr().unwrap().is_unnamed());
        assert!(b.peer_addr().unwrap().is_unnamed());
        let unbound = UnixDatagram::unbound().unwrap();
        assert!(unbound.peer_addr().is_err());
    });
}
