//! The simulated network (`ticktock::sim::net`): `ticktock::net`'s TCP and UDP in
//! memory and in virtual time, on a paused current-thread runtime with
//! `Builder::simulated_network(seed)` (deterministic on its one thread). Each test
//! checks an instant to the nanosecond where the model fixes it: latency,
//! retransmission after a heal, a refused or timed-out connect.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use ticktock::net::{TcpListener, TcpStream, UdpSocket};
use ticktock::sim::net::{heal, on_host, partition, set_link, Link};
use ticktock::time::{sleep, Instant};

/// The server's host in these tests; clients speak from 127.0.0.1.
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const CLIENT: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// A paused current-thread runtime with a simulated network seeded by `seed`.
fn sim(seed: u64) -> ticktock::Runtime {
    ticktock::Builder::new_current_thread()
        .start_paused(true)
        .simulated_network(seed)
        .build()
        .unwrap()
}

fn latency(ms: u64) -> Link {
    Link {
        latency: Duration::from_millis(ms),
        loss: 0.0,
    }
}

#[test]
fn tcp_echo_arrives_exactly_after_the_latency() {
    sim(1).block_on(async {
        set_link(SERVER, CLIENT, latency(10));
        let listener = TcpListener::bind((SERVER, 7)).await.unwrap();
        let start = Instant::now();
        let server = ticktock::spawn(async move {
            let (mut stream, peer) = listener.accept().await.unwrap();
            // SYN, SYN-ACK, ACK: the server has the connection after 1.5 round trips.
            assert_eq!(start.elapsed(), Duration::from_millis(30));
            assert_eq!(peer.ip(), IpAddr::V4(CLIENT));
            let mut buf = [0; 5];
            stream.read_exact(&mut buf).await.unwrap();
            let got_at = start.elapsed();
            stream.write_all(&buf).await.unwrap();
            got_at
        });
        let mut client = TcpStream::connect((SERVER, 7)).await.unwrap();
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(20),
            "connect takes one round trip"
        );
        assert_eq!(client.peer_addr().unwrap(), SocketAddr::from((SERVER, 7)));
        assert_eq!(
            client.local_addr().unwrap().port(),
            32768,
            "the first ephemeral port"
        );
        client.write_all(b"hello").await.unwrap();
        let mut echo = [0; 5];
        client.read_exact(&mut echo).await.unwrap();
        assert_eq!(&echo, b"hello");
        assert_eq!(server.await.unwrap(), Duration::from_millis(30));
        assert_eq!(start.elapsed(), Duration::from_millis(40));
    });
}

#[test]
fn a_large_transfer_waits_for_the_reader_and_arrives_whole() {
    sim(2).block_on(async {
        let listener = TcpListener::bind("10.0.0.1:9").await.unwrap();
        let mut client = TcpStream::connect("10.0.0.1:9").await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let data: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
        let expected = data.clone();
        let writer = ticktock::spawn(async move {
            client.write_all(&data).await.unwrap();
            client.close().await.unwrap();
        });
        let mut received = Vec::new();
        server.read_to_end(&mut received).await.unwrap();
        assert!(received == expected, "the bytes arrive whole and in order");
        writer.await.unwrap();
    });
}

#[test]
fn udp_loss_rate_is_within_bounds_and_the_same_for_the_same_seed() {
    fn received(seed: u64) -> Vec<u32> {
        sim(seed).block_on(async {
            set_link(
                SERVER,
                CLIENT,
                Link {
                    latency: Duration::from_millis(1),
                    loss: 0.3,
                },
            );
            let receiver = UdpSocket::bind((SERVER, 53)).await.unwrap();
            let sender = UdpSocket::bind("0.0.0.0:0").await.unwrap();
            for i in 0..10_000u32 {
                sender
                    .send_to(&i.to_be_bytes(), (SERVER, 53))
                    .await
                    .unwrap();
            }
            sleep(Duration::from_millis(1)).await;
            let mut got = Vec::new();
            let mut buf = [0; 4];
            while let Ok((4, from)) = receiver.try_recv_from(&mut buf) {
                assert_eq!(from.ip(), IpAddr::V4(CLIENT));
                got.push(u32::from_be_bytes(buf));
            }
            got
        })
    }
    let first = received(7);
    let lost = 10_000 - first.len();
    assert!(
        (2_700..=3_300).contains(&lost),
        "lost {lost} of 10,000 at 30 %"
    );
    assert!(
        first.windows(2).all(|w| w[0] < w[1]),
        "arrival order is sending order"
    );
    assert_eq!(first, received(7), "the same seed loses the same datagrams");
    assert_ne!(first, received(8), "another seed loses others");
}

#[test]
fn data_sent_into_a_partition_arrives_after_the_heal_not_never() {
    sim(3).block_on(async {
        set_link(SERVER, CLIENT, latency(10));
        let listener = TcpListener::bind((SERVER, 80)).await.unwrap();
        let mut client = TcpStream::connect((SERVER, 80)).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let start = Instant::now();
        partition(SERVER, CLIENT);
        client.write_all(b"delayed").await.unwrap();
        ticktock::spawn(async {
            sleep(Duration::from_secs(5)).await;
            heal(SERVER, CLIENT);
        });
        let mut buf = [0; 7];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"delayed");
        // Retransmissions after an RTO of 200 ms + a 20 ms round trip, doubling:
        // at 0.22, 0.66, 1.54, 3.30 s (dropped) and 6.82 s (through), + 10 ms.
        assert_eq!(start.elapsed(), Duration::from_millis(6_830));
    });
}

#[test]
fn connect_to_a_closed_port_is_refused_after_one_round_trip() {
    sim(4).block_on(async {
        set_link(SERVER, CLIENT, latency(25));
        let start = Instant::now();
        let error = TcpStream::connect((SERVER, 81)).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
        assert_eq!(start.elapsed(), Duration::from_millis(50));
    });
}

#[test]
fn connect_into_a_partition_times_out_after_linux_syn_retries() {
    sim(5).block_on(async {
        let _listener = TcpListener::bind((SERVER, 80)).await.unwrap();
        partition(SERVER, CLIENT);
        let start = Instant::now();
        let error = TcpStream::connect((SERVER, 80)).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
        assert_eq!(start.elapsed(), Duration::from_secs(127));
    });
}

#[test]
fn close_is_end_of_stream_and_drop_with_unread_data_is_a_reset() {
    sim(6).block_on(async {
        set_link(SERVER, CLIENT, latency(1));
        let listener = TcpListener::bind((SERVER, 80)).await.unwrap();
        // Close: the peer reads what was sent, then end of stream, and can still
        // write back.
        let mut client = TcpStream::connect((SERVER, 80)).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        client.write_all(b"bye").await.unwrap();
        client.close().await.unwrap();
        let mut text = String::new();
        server.read_to_string(&mut text).await.unwrap();
        assert_eq!(text, "bye");
        server.write_all(b"ok").await.unwrap();
        let mut reply = [0; 2];
        client.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"ok");

        // Drop with unread data: the peer's reads and writes fail with a reset.
        let mut client = TcpStream::connect((SERVER, 80)).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        client.write_all(b"never read").await.unwrap();
        sleep(Duration::from_millis(1)).await; // it has arrived
        drop(server);
        let mut buf = [0; 4];
        let error = client.read(&mut buf).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
        let error = client.write_all(b"more").await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);

        // Writing to a peer that closed: the data reaches a closed end (1 ms), an
        // RST comes back (1 ms), and the writer's next write fails.
        let mut client = TcpStream::connect((SERVER, 80)).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        drop(server);
        let mut buf = [0; 1];
        assert_eq!(client.read(&mut buf).await.unwrap(), 0, "the FIN arrives");
        client.write_all(b"into the void").await.unwrap();
        sleep(Duration::from_micros(1_999)).await;
        client.write_all(b"still accepted").await.unwrap();
        sleep(Duration::from_micros(1)).await;
        let error = client.write_all(b"refused").await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
    });
}

#[test]
fn closing_a_listener_resets_the_connections_it_never_accepted() {
    sim(13).block_on(async {
        set_link(SERVER, CLIENT, latency(2));
        let listener = TcpListener::bind((SERVER, 80)).await.unwrap();
        let mut client = TcpStream::connect((SERVER, 80)).await.unwrap();
        let start = Instant::now();
        drop(listener);
        let mut buf = [0; 1];
        let error = client.read(&mut buf).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(2),
            "the RST takes one latency"
        );
        let _port_free_again = TcpListener::bind((SERVER, 80)).await.unwrap();
    });
}

#[test]
fn a_partition_longer_than_the_retransmission_budget_times_the_sender_out() {
    sim(7).block_on(async {
        let listener = TcpListener::bind((SERVER, 80)).await.unwrap();
        let mut client = TcpStream::connect((SERVER, 80)).await.unwrap();
        let (_server, _) = listener.accept().await.unwrap();
        partition(SERVER, CLIENT);
        let start = Instant::now();
        client.write_all(b"x").await.unwrap();
        let mut buf = [0; 1];
        let error = client.read(&mut buf).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
        // 200 ms doubling to the 120 s cap, 15 retransmissions, then one more
        // timeout: 0.2 + 0.4 + ... + 102.4 + 6 x 120 = 924.6 s, Linux's figure.
        assert_eq!(start.elapsed(), Duration::from_millis(924_600));
    });
}

#[test]
fn listeners_and_ports_clash_and_wildcards_receive() {
    sim(8).block_on(async {
        let any = TcpListener::bind("0.0.0.0:443").await.unwrap();
        let clash = TcpListener::bind((SERVER, 443)).await.unwrap_err();
        assert_eq!(clash.kind(), std::io::ErrorKind::AddrInUse);
        let client = TcpStream::connect((SERVER, 443)).await.unwrap();
        let (server, peer) = any.accept().await.unwrap();
        assert_eq!(
            server.local_addr().unwrap(),
            SocketAddr::from((SERVER, 443))
        );
        assert_eq!(peer, client.local_addr().unwrap());
        let ephemeral = TcpListener::bind((SERVER, 0)).await.unwrap();
        assert_eq!(ephemeral.local_addr().unwrap().port(), 32768);
    });
}

#[test]
fn what_a_simulated_socket_cannot_do_is_a_clear_error() {
    sim(9).block_on(async {
        let listener = TcpListener::bind((SERVER, 80)).await.unwrap();
        let client = TcpStream::connect((SERVER, 80)).await.unwrap();
        let error = client.into_std().unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::Unsupported);
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let error = TcpListener::from_std(std_listener).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::Unsupported);
        let socket = ticktock::net::TcpSocket::new_v4().unwrap();
        let error = socket
            .connect(listener.local_addr().unwrap())
            .await
            .unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::Unsupported);
        let udp = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        let error = udp
            .join_multicast_v4(Ipv4Addr::new(239, 0, 0, 1), Ipv4Addr::UNSPECIFIED)
            .unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::Unsupported);
        // Unix sockets are OS sockets: refused rather than left waiting on a
        // reactor that a simulation never polls.
        #[cfg(unix)]
        {
            let error = ticktock::net::UnixStream::pair().unwrap_err();
            assert_eq!(error.kind(), std::io::ErrorKind::Unsupported);
        }
    });
}

#[cfg(unix)]
#[test]
#[should_panic(expected = "has no file descriptor")]
fn as_raw_fd_of_a_simulated_stream_panics_with_a_message() {
    use std::os::fd::AsRawFd;
    sim(10).block_on(async {
        let listener = TcpListener::bind((SERVER, 80)).await.unwrap();
        let _ = listener.as_raw_fd();
    });
}

#[cfg(target_os = "linux")]
#[test]
fn no_file_descriptor_is_opened() {
    // The process's descriptors can only be counted with no other test running
    // (every runtime opens its poller): the count runs in a child process.
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "fd_count_probe",
            "--ignored",
            "--test-threads=1",
            "--nocapture",
        ])
        .env("TICKTOCK_FD_PROBE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("fd probe: 41 sockets, no new descriptor"),
        "{stdout}"
    );
}

/// The child of `no_file_descriptor_is_opened`.
#[cfg(target_os = "linux")]
#[test]
#[ignore = "run alone, in a child process, by no_file_descriptor_is_opened"]
fn fd_count_probe() {
    if std::env::var_os("TICKTOCK_FD_PROBE").is_none() {
        return; // run by hand among other tests: their descriptors would count
    }
    let open_fds = || std::fs::read_dir("/proc/self/fd").unwrap().count();
    let rt = sim(11);
    rt.block_on(async {
        // The runtime's own poller and waker are open already; count from here.
        let before = open_fds();
        let listener = TcpListener::bind((SERVER, 80)).await.unwrap();
        let mut streams = Vec::new();
        for _ in 0..20 {
            streams.push(TcpStream::connect((SERVER, 80)).await.unwrap());
            streams.push(listener.accept().await.unwrap().0);
        }
        let udp = UdpSocket::bind("10.0.0.2:5000").await.unwrap();
        udp.send_to(b"x", "10.0.0.2:5000").await.unwrap();
        assert_eq!(
            open_fds(),
            before,
            "sockets of a simulated network open no fd"
        );
        assert_eq!(ticktock::Handle::current().metrics().io_registrations, 0);
        println!("fd probe: {} sockets, no new descriptor", streams.len() + 1);
    });
}

/// One run of a small client-server exchange over a lossy link, as a log of
/// (virtual instant, event).
fn lossy_exchange_log(seed: u64) -> Vec<(Duration, String)> {
    sim(seed).block_on(async {
        set_link(
            SERVER,
            CLIENT,
            Link {
                latency: Duration::from_millis(3),
                loss: 0.2,
            },
        );
        let start = Instant::now();
        let listener = TcpListener::bind((SERVER, 80)).await.unwrap();
        let server = ticktock::spawn(async move {
            let mut log = Vec::new();
            for _ in 0..3 {
                let (mut stream, peer) = listener.accept().await.unwrap();
                let mut buf = [0; 8];
                stream.read_exact(&mut buf).await.unwrap();
                log.push((start.elapsed(), format!("{peer} sent {buf:?}")));
                stream.write_all(&buf).await.unwrap();
            }
            log
        });
        let mut log = Vec::new();
        for i in 0..3u64 {
            let mut client = TcpStream::connect((SERVER, 80)).await.unwrap();
            client.write_all(&i.to_be_bytes()).await.unwrap();
            let mut buf = [0; 8];
            client.read_exact(&mut buf).await.unwrap();
            log.push((start.elapsed(), format!("echo {i}")));
        }
        log.extend(server.await.unwrap());
        log
    })
}

#[test]
fn the_same_seed_runs_the_same_and_another_seed_differs() {
    let first = lossy_exchange_log(42);
    assert_eq!(first, lossy_exchange_log(42));
    let differs = (43..53).any(|seed| lossy_exchange_log(seed) != first);
    assert!(
        differs,
        "ten other seeds all lost the same segments: loss is not seeded"
    );
}

#[cfg(feature = "http")]
mod axum_app {
    use super::*;
    use axum::routing::get;

    /// Sends one HTTP/1.1 GET on `stream` (kept alive) and reads the response:
    /// (status line, body).
    async fn get_path(stream: &mut TcpStream, path: &str) -> (String, String) {
        let request = format!("GET {path} HTTP/1.1\r\nhost: sim\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut head = Vec::new();
        let mut byte = [0; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).await.unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().unwrap())
            })
            .expect("a content-length");
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await.unwrap();
        let status = head.lines().next().unwrap().to_string();
        (status, String::from_utf8(body).unwrap())
    }

    #[test]
    fn an_axum_app_on_serve_answers_over_the_simulated_network() {
        sim(12).block_on(async {
            set_link(SERVER, CLIENT, latency(5));
            let app = axum::Router::new()
                .route("/hello", get(|| async { "hello from the simulation" }))
                .route(
                    "/slow",
                    get(|| async {
                        sleep(Duration::from_secs(30)).await;
                        "slow"
                    }),
                );
            let listener = TcpListener::bind((SERVER, 80)).await.unwrap();
            let server = ticktock::spawn(async move { ticktock::serve(listener, app).await });
            let start = Instant::now();
            let mut stream = TcpStream::connect((SERVER, 80)).await.unwrap();
            let (status, body) = get_path(&mut stream, "/hello").await;
            assert_eq!(status, "HTTP/1.1 200 OK");
            assert_eq!(body, "hello from the simulation");
            // Connect (10 ms), request (5 ms), response (5 ms): virtual time.
            assert_eq!(start.elapsed(), Duration::from_millis(20));
            // Keep-alive: the same connection serves a second request.
            let (status, body) = get_path(&mut stream, "/slow").await;
            assert_eq!(
                (status.as_str(), body.as_str()),
                ("HTTP/1.1 200 OK", "slow")
            );
            assert_eq!(start.elapsed(), Duration::from_millis(20 + 10 + 30_000));
            server.abort();
        });
    }
}

#[test]
fn clients_on_hosts_of_their_own_are_cut_off_one_by_one() {
    sim(16).block_on(async {
        let listener = TcpListener::bind((SERVER, 80)).await.unwrap();
        ticktock::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                ticktock::spawn(async move {
                    let mut buf = [0; 2];
                    if stream.read_exact(&mut buf).await.is_ok() {
                        let _ = stream.write_all(&buf).await;
                    }
                });
            }
        });
        let (cut_off, reachable) = (Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 3));
        partition(SERVER, cut_off);
        let ask = |host: Ipv4Addr| {
            on_host(host, async move {
                let attempt = async move {
                    let mut stream = TcpStream::connect((SERVER, 80)).await?;
                    assert_eq!(stream.local_addr()?.ip(), IpAddr::V4(host));
                    stream.write_all(b"hi").await?;
                    let mut buf = [0; 2];
                    stream.read_exact(&mut buf).await?;
                    Ok::<_, std::io::Error>(buf)
                };
                ticktock::time::timeout(Duration::from_secs(1), attempt).await
            })
        };
        let (cut_answer, reachable_answer) = futures::join!(ask(cut_off), ask(reachable));
        assert!(
            cut_answer.is_err(),
            "10.0.0.2 is partitioned from the server"
        );
        assert_eq!(reachable_answer.unwrap().unwrap(), *b"hi");
        // A wildcard bind on a host binds that host's address.
        let udp = on_host(reachable, UdpSocket::bind("0.0.0.0:53"))
            .await
            .unwrap();
        assert_eq!(udp.local_addr().unwrap(), SocketAddr::from((reachable, 53)));
    });
}

#[test]
fn a_multi_thread_runtime_on_the_real_clock_can_have_the_network_too() {
    // Not deterministic (the OS schedules its workers), but correct: the waits are
    // ordinary timers on the real clock.
    let rt = ticktock::Builder::new_multi_thread()
        .worker_threads(2)
        .simulated_network(15)
        .build()
        .unwrap();
    rt.block_on(async {
        set_link(SERVER, CLIENT, latency(2));
        let listener = TcpListener::bind((SERVER, 80)).await.unwrap();
        let server = ticktock::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (mut read, mut write) = stream.into_split();
            futures::io::copy(&mut read, &mut write).await.unwrap();
        });
        let start = std::time::Instant::now();
        let mut client = TcpStream::connect((SERVER, 80)).await.unwrap();
        client.write_all(b"across threads").await.unwrap();
        client.close().await.unwrap();
        let mut echo = String::new();
        client.read_to_string(&mut echo).await.unwrap();
        assert_eq!(echo, "across threads");
        assert!(
            start.elapsed() >= Duration::from_millis(8),
            "two round trips of real time"
        );
        server.await.unwrap();
    });
}

/// tokio's I/O traits (feature `tokio-io`) on simulated streams: tokio-util's
/// codecs and tokio's `AsyncReadExt` run over the simulated network unchanged.
#[cfg(feature = "tokio-io")]
#[test]
fn tokio_io_traits_work_on_simulated_streams() {
    use futures::{SinkExt, StreamExt};
    use tokio_util::codec::{Framed, LinesCodec};

    sim(17).block_on(async {
        set_link(SERVER, CLIENT, latency(3));
        let listener = TcpListener::bind((SERVER, 80)).await.unwrap();
        let server = ticktock::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut lines = Framed::new(stream, LinesCodec::new());
            while let Some(line) = lines.next().await {
                lines.send(line.unwrap().to_uppercase()).await.unwrap();
            }
        });
        let start = Instant::now();
        let stream = TcpStream::connect((SERVER, 80)).await.unwrap();
        let mut lines = Framed::new(stream, LinesCodec::new());
        lines.send("framed").await.unwrap();
        assert_eq!(lines.next().await.unwrap().unwrap(), "FRAMED");
        assert_eq!(start.elapsed(), Duration::from_millis(12));
        drop(lines);
        server.await.unwrap();
    });
}

/// ticktock's own pooled HTTP client (hyper-util's client with a ticktock
/// connector) against an axum app, both over the simulated network, in virtual time.
#[cfg(all(feature = "http", feature = "http-client"))]
#[test]
fn the_pooled_http_client_talks_to_an_axum_app_over_the_simulated_network() {
    use axum::routing::get;
    use http_body_util::{BodyExt, Empty};

    sim(14).block_on(async {
        set_link(SERVER, CLIENT, latency(5));
        let app = axum::Router::new().route("/", get(|| async { "pooled" }));
        let listener = TcpListener::bind((SERVER, 8080)).await.unwrap();
        let server = ticktock::spawn(async move { ticktock::serve(listener, app).await });
        let client: ticktock::http::Client<Empty<bytes::Bytes>> = ticktock::http::Client::new();
        let start = Instant::now();
        for round in 1..=3u32 {
            let response = client
                .get("http://10.0.0.1:8080/".parse().unwrap())
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body, "pooled");
            // The first request connects (10 ms) then asks (10 ms); the pool keeps
            // the connection, so the next ones take one round trip each.
            assert_eq!(
                start.elapsed(),
                Duration::from_millis(10 + 10 * u64::from(round))
            );
        }
        server.abort();
    });
}

/// The example of docs/testing.md ("A simulated network"), run here so it cannot rot.
mod testing_md_example {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use futures::io::{AsyncReadExt, AsyncWriteExt};
    use ticktock::net::{TcpListener, TcpStream};
    use ticktock::sim;
    use ticktock::sim::net::{heal, partition, set_link, Link};
    use ticktock::time::{sleep, timeout, Instant};

    const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

    /// Asks the server one question, giving each attempt 1 s; retries until one
    /// answers. Counts the attempts.
    async fn ask_with_retries(attempts: &mut u32) -> u8 {
        loop {
            *attempts += 1;
            let attempt = async {
                let mut stream = TcpStream::connect((SERVER, 7)).await?;
                stream.write_all(b"?").await?;
                let mut answer = [0; 1];
                stream.read_exact(&mut answer).await?;
                Ok::<_, std::io::Error>(answer[0])
            };
            if let Ok(Ok(answer)) = timeout(Duration::from_secs(1), attempt).await {
                return answer;
            }
        }
    }

    #[test]
    fn the_client_retries_until_the_partition_heals() {
        for seed in 0..20 {
            let rt = sim::Builder::new()
                .seed(seed)
                .worker_threads(2)
                .build()
                .unwrap();
            rt.block_on(async {
                let link = Link {
                    latency: Duration::from_millis(20),
                    loss: 0.0,
                };
                set_link(SERVER, Ipv4Addr::LOCALHOST, link);
                let listener = TcpListener::bind((SERVER, 7)).await.unwrap();
                ticktock::spawn(async move {
                    loop {
                        let (mut stream, _) = listener.accept().await.unwrap();
                        ticktock::spawn(async move {
                            let mut question = [0; 1];
                            if stream.read_exact(&mut question).await.is_ok() {
                                let _ = stream.write_all(b"!").await;
                            }
                        });
                    }
                });
                partition(SERVER, Ipv4Addr::LOCALHOST);
                ticktock::spawn(async {
                    sleep(Duration::from_millis(3_500)).await;
                    heal(SERVER, Ipv4Addr::LOCALHOST);
                });
                let start = Instant::now();
                let mut attempts = 0;
                assert_eq!(ask_with_retries(&mut attempts).await, b'!');
                // Attempts at 0, 1, 2, 3 s time out: their SYNs go into the
                // partition (the one retried at 4 s gets through too late). The
                // attempt at 4 s connects (40 ms) and gets its answer (40 ms).
                assert_eq!(attempts, 5);
                assert_eq!(start.elapsed(), Duration::from_millis(4_080));
            });
        }
    }
}
