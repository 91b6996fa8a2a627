//! tokio's I/O ecosystem on ticktock sockets (feature `tokio-io`): tokio-util's
//! codecs, tokio-rustls, tokio-tungstenite and tokio's own `AsyncReadExt` /
//! `AsyncWriteExt` / `copy_bidirectional`, each end to end over 127.0.0.1 or a Unix
//! socket pair, on the stream types and on their borrowed and owned halves.
//!
//! There is no tokio runtime in these tests: every body runs on a ticktock runtime
//! and asserts that `tokio::runtime::Handle::try_current()` finds none, so the tokio
//! crates can only have worked through the traits ticktock implements.

#![cfg(feature = "tokio-io")]

mod common;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::runtime;
use futures::{SinkExt, StreamExt};
use ticktock::net::{TcpListener, TcpStream, UnixStream};
use ticktock::time::timeout;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::{Framed, FramedRead, FramedWrite, LengthDelimitedCodec, LinesCodec};

/// How long any one test body may take before it counts as hung (generous: CI has
/// two loaded cores, and the TLS handshake runs unoptimised crypto in debug builds).
const TEST_LIMIT: Duration = Duration::from_secs(60);

/// Size of the large payloads: far over a loopback socket's buffers, so reads and
/// writes come back short and `WouldBlock` more than once.
const LARGE: usize = 1024 * 1024;

/// Runs `body` on a 2-worker ticktock runtime under a ticktock timeout, after
/// checking that no tokio runtime is around.
fn run<F: Future>(body: F) -> F::Output {
    let rt = runtime(2);
    rt.block_on(async {
        assert!(
            tokio::runtime::Handle::try_current().is_err(),
            "a tokio runtime is in scope: the test would prove nothing"
        );
        timeout(TEST_LIMIT, body)
            .await
            .expect("test body timed out")
    })
}

/// A connected pair of TCP streams over 127.0.0.1: (client, server).
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = futures::join!(TcpStream::connect(addr), listener.accept());
    (client.unwrap(), accepted.unwrap().0)
}

/// `len` bytes of a pattern that a shifted or dropped byte would break.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Serves `LinesCodec` frames on `io`: answers each line with its upper case until
/// the peer closes, then closes too. Returns how many lines it served.
async fn shouting_lines<T: AsyncRead + AsyncWrite + Unpin>(io: T) -> usize {
    let mut framed = Framed::new(io, LinesCodec::new());
    let mut served = 0;
    while let Some(line) = framed.next().await {
        framed.send(line.unwrap().to_uppercase()).await.unwrap();
        served += 1;
    }
    SinkExt::<String>::close(&mut framed).await.unwrap();
    served
}

/// Sends `lines` through `LinesCodec` on `io`, one at a time, checks each answer of
/// [`shouting_lines`], then closes and expects the peer's end of stream.
async fn talk_lines<T: AsyncRead + AsyncWrite + Unpin>(io: T, lines: &[&str]) {
    let mut framed = Framed::new(io, LinesCodec::new());
    for line in lines {
        framed.send(*line).await.unwrap();
        let answer = framed.next().await.expect("an answer").unwrap();
        assert_eq!(answer, line.to_uppercase());
    }
    SinkExt::<&str>::close(&mut framed).await.unwrap();
    assert!(framed.next().await.is_none(), "the server closes after us");
}

const LINES: [&str; 4] = ["hello", "ticktock speaks tokio", "", "last line"];

#[test]
fn lines_codec_over_tcp() {
    run(async {
        let (client, server) = tcp_pair().await;
        let served = ticktock::spawn(shouting_lines(server));
        talk_lines(client, &LINES).await;
        assert_eq!(served.await.unwrap(), LINES.len());
    });
}

#[test]
fn lines_codec_over_unix_pair() {
    run(async {
        let (client, server) = UnixStream::pair().unwrap();
        let served = ticktock::spawn(shouting_lines(server));
        talk_lines(client, &LINES).await;
        assert_eq!(served.await.unwrap(), LINES.len());
    });
}

/// Echoes length-delimited frames from `read` to `write` until `read` ends.
async fn echo_frames<R, W>(read: R, write: W) -> usize
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut frames = FramedRead::new(read, LengthDelimitedCodec::new());
    let mut sink = FramedWrite::new(write, LengthDelimitedCodec::new());
    let mut echoed = 0;
    while let Some(frame) = frames.next().await {
        sink.send(frame.unwrap().freeze()).await.unwrap();
        echoed += 1;
    }
    SinkExt::<Bytes>::close(&mut sink).await.unwrap();
    echoed
}

/// The frames the half tests send: small, empty and larger than the socket buffers.
fn frames() -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"first"),
        Bytes::new(),
        Bytes::from(pattern(LARGE)),
        Bytes::from_static(b"last"),
    ]
}

#[test]
fn length_delimited_over_tcp_owned_halves() {
    run(async {
        let (client, server) = tcp_pair().await;
        let (server_read, server_write) = server.into_split();
        let echo = ticktock::spawn(echo_frames(server_read, server_write));

        // Writer and reader are separate tasks: the large frame does not fit the
        // socket buffers, so one task writing then reading would deadlock.
        let (client_read, client_write) = client.into_split();
        let sent = frames();
        let to_send = sent.clone();
        let writer = ticktock::spawn(async move {
            let mut sink = FramedWrite::new(client_write, LengthDelimitedCodec::new());
            for frame in to_send {
                sink.send(frame).await.unwrap();
            }
            SinkExt::<Bytes>::close(&mut sink).await.unwrap(); // shuts the writing direction down
        });
        let received: Vec<Bytes> = FramedRead::new(client_read, LengthDelimitedCodec::new())
            .map(|frame| frame.unwrap().freeze())
            .collect()
            .await;
        writer.await.unwrap();
        assert_eq!(echo.await.unwrap(), sent.len());
        assert_eq!(received, sent);
    });
}

#[test]
fn length_delimited_over_unix_borrowed_halves() {
    run(async {
        let (mut client, mut server) = UnixStream::pair().unwrap();
        let echo = ticktock::spawn(async move {
            let (read, write) = UnixStream::split(&mut server);
            echo_frames(read, write).await
        });
        let (read, write) = UnixStream::split(&mut client);
        let sent = frames();
        let send = async {
            let mut sink = FramedWrite::new(write, LengthDelimitedCodec::new());
            for frame in sent.clone() {
                sink.send(frame).await.unwrap();
            }
            SinkExt::<Bytes>::close(&mut sink).await.unwrap();
        };
        let receive = FramedRead::new(read, LengthDelimitedCodec::new())
            .map(|frame| frame.unwrap().freeze())
            .collect::<Vec<_>>();
        let ((), received) = futures::join!(send, receive);
        assert_eq!(echo.await.unwrap(), sent.len());
        assert_eq!(received, sent);
    });
}

/// A self-signed certificate for `localhost` (made now, by rcgen with ring) and the
/// matching rustls server and client configurations.
fn tls_configs() -> (
    Arc<tokio_rustls::rustls::ServerConfig>,
    Arc<tokio_rustls::rustls::ClientConfig>,
) {
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};
    use tokio_rustls::rustls::{crypto, ClientConfig, RootCertStore, ServerConfig};

    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der());
    let provider = Arc::new(crypto::ring::default_provider());

    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key.into())
        .unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client))
}

#[test]
fn rustls_over_tcp() {
    use tokio_rustls::rustls::pki_types::ServerName;
    use tokio_rustls::{TlsAcceptor, TlsConnector};

    let (server_config, client_config) = tls_configs();
    run(async move {
        let (client, server) = tcp_pair().await;
        let reply = pattern(LARGE);
        let expected = reply.clone();
        let server = ticktock::spawn(async move {
            let mut tls = TlsAcceptor::from(server_config)
                .accept(server)
                .await
                .expect("server handshake");
            let mut request = [0; 7];
            tls.read_exact(&mut request).await.unwrap();
            assert_eq!(&request, b"request");
            tls.write_all(&reply).await.unwrap();
            // close_notify, then the TCP writing direction.
            tls.shutdown().await.unwrap();
            // The client's close_notify ends our reading side cleanly.
            let mut rest = Vec::new();
            tls.read_to_end(&mut rest).await.unwrap();
            rest
        });

        let name = ServerName::try_from("localhost").unwrap();
        let mut tls = TlsConnector::from(client_config)
            .connect(name, client)
            .await
            .expect("client handshake");
        tls.write_all(b"request").await.unwrap();
        // read_to_end fails with UnexpectedEof unless the server's close_notify came.
        let mut received = Vec::new();
        tls.read_to_end(&mut received).await.unwrap();
        assert_eq!(received.len(), expected.len());
        assert!(received == expected, "the TLS payload arrived altered");
        tls.write_all(b"goodbye").await.unwrap();
        tls.shutdown().await.unwrap();
        assert_eq!(server.await.unwrap(), b"goodbye");
    });
}

#[test]
fn websocket_over_tcp() {
    use tokio_tungstenite::tungstenite::Message;

    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = ticktock::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(stream).await.unwrap();
            let mut echoed = 0;
            // Echo data messages; tungstenite answers the client's close by itself,
            // after which the stream ends.
            while let Some(message) = ws.next().await {
                let message = message.unwrap();
                if message.is_text() || message.is_binary() {
                    ws.send(message).await.unwrap();
                    echoed += 1;
                }
            }
            echoed
        });

        let stream = TcpStream::connect(addr).await.unwrap();
        let url = format!("ws://{addr}/echo");
        let (mut ws, response) = tokio_tungstenite::client_async(url, stream).await.unwrap();
        assert_eq!(response.status(), 101);
        let sent = vec![
            Message::text("hello, websocket"),
            Message::binary(pattern(300_000)),
            Message::text("ünïcødé ✓"),
        ];
        for message in &sent {
            ws.send(message.clone()).await.unwrap();
            let echo = ws.next().await.expect("an echo").unwrap();
            assert_eq!(&echo, message);
        }
        ws.close(None).await.unwrap();
        // The server's answer to our close, then the end of the stream.
        match ws.next().await {
            Some(Ok(message)) => assert!(message.is_close(), "got {message:?}"),
            other => panic!("expected the server's close, got {other:?}"),
        }
        assert!(ws.next().await.is_none());
        assert_eq!(server.await.unwrap(), sent.len());
    });
}

#[test]
fn read_exact_write_all_and_shutdown() {
    run(async {
        let (mut client, mut server) = tcp_pair().await;
        client.write_all(b"0123456789").await.unwrap();
        // tokio's `shutdown()`, as a ported program writes it (it would not compile
        // if the stream had an inherent `shutdown`).
        client.shutdown().await.unwrap();
        let mut head = [0; 4];
        server.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"0123");
        // read_buf hands poll_read an uninitialised BytesMut chunk.
        let mut rest = bytes::BytesMut::with_capacity(64);
        while server.read_buf(&mut rest).await.unwrap() > 0 {}
        assert_eq!(&rest[..], b"456789");
        // The client shut its writing side only: the server can still answer.
        server.write_all(b"answer").await.unwrap();
        drop(server);
        let mut answer = String::new();
        client.read_to_string(&mut answer).await.unwrap();
        assert_eq!(answer, "answer");
    });
}

/// How much of an uninitialised `ReadBuf` one read may zero: ticktock's
/// `MAX_ZEROED_PER_READ` (private), copied here.
const MAX_ZEROED_PER_READ: usize = 64 * 1024;

#[test]
fn read_zeroes_a_bounded_tail_and_uses_initialised_space() {
    use std::future::poll_fn;
    use std::mem::MaybeUninit;
    use std::pin::Pin;
    use tokio::io::ReadBuf;

    run(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();

        // A large uninitialised buffer: a read must not zero all of it first (a
        // FramedRead hands over its whole spare capacity on every read).
        a.write_all(b"0123456789").await.unwrap();
        let mut storage = vec![MaybeUninit::<u8>::uninit(); 4 * 1024 * 1024];
        let mut buf = ReadBuf::uninit(&mut storage);
        poll_fn(|cx| Pin::new(&mut b).poll_read(cx, &mut buf))
            .await
            .unwrap();
        assert_eq!(buf.filled(), b"0123456789");
        assert!(
            buf.initialized().len() <= MAX_ZEROED_PER_READ,
            "one read zeroed {} bytes",
            buf.initialized().len()
        );

        // An initialised buffer is read into whole, beyond that bound: 100 KiB that
        // are all in b's receive queue come back from one read.
        let sent = pattern(100 * 1024);
        a.write_all(&sent).await.unwrap();
        let mut storage = vec![0u8; 1024 * 1024];
        let mut buf = ReadBuf::new(&mut storage);
        poll_fn(|cx| Pin::new(&mut b).poll_read(cx, &mut buf))
            .await
            .unwrap();
        assert_eq!(buf.filled().len(), sent.len());
        assert!(buf.filled() == &sent[..], "the bytes arrived altered");
    });
}

#[test]
fn write_vectored_gathers_buffers() {
    run(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        assert!(a.is_write_vectored());
        let bufs = [
            std::io::IoSlice::new(b"one "),
            std::io::IoSlice::new(b"two "),
            std::io::IoSlice::new(b"three"),
        ];
        let written = a.write_vectored(&bufs).await.unwrap();
        // A fresh socket's buffer takes 13 bytes at once: one writev wrote them all.
        assert_eq!(written, 13);
        let mut got = [0; 13];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"one two three");
    });
}

#[test]
fn copy_through_borrowed_halves() {
    run(async {
        // An echo server made of tokio::io::copy between its own two halves.
        let (mut client, mut server) = tcp_pair().await;
        let echo = ticktock::spawn(async move {
            let (mut read, mut write) = TcpStream::split(&mut server);
            let copied = tokio::io::copy(&mut read, &mut write).await.unwrap();
            write.shutdown().await.unwrap();
            copied
        });
        let payload = pattern(LARGE);
        let (mut read, mut write) = TcpStream::split(&mut client);
        let send = async {
            write.write_all(&payload).await.unwrap();
            write.shutdown().await.unwrap();
        };
        let mut echoed = Vec::new();
        let receive = read.read_to_end(&mut echoed);
        let ((), received) = futures::join!(send, receive);
        assert_eq!(received.unwrap(), LARGE);
        assert!(echoed == payload, "the echo arrived altered");
        assert_eq!(echo.await.unwrap(), LARGE as u64);
    });
}

#[test]
fn copy_bidirectional_proxies_tcp_to_unix() {
    run(async {
        // client --TCP--> proxy --Unix--> backend, with copy_bidirectional in the
        // proxy; the backend answers with the length it read and ends its side.
        let (mut client, mut proxy_front) = tcp_pair().await;
        let (mut proxy_back, mut backend) = UnixStream::pair().unwrap();
        let proxy = ticktock::spawn(async move {
            tokio::io::copy_bidirectional(&mut proxy_front, &mut proxy_back)
                .await
                .unwrap()
        });
        let backend = ticktock::spawn(async move {
            let mut request = Vec::new();
            backend.read_to_end(&mut request).await.unwrap();
            let answer = format!("read {} bytes", request.len());
            backend.write_all(answer.as_bytes()).await.unwrap();
            backend.shutdown().await.unwrap();
            request
        });
        let payload = pattern(LARGE);
        client.write_all(&payload).await.unwrap();
        client.shutdown().await.unwrap();
        let mut answer = String::new();
        client.read_to_string(&mut answer).await.unwrap();
        assert_eq!(answer, format!("read {LARGE} bytes"));
        assert!(
            backend.await.unwrap() == payload,
            "the proxied bytes arrived altered"
        );
        let (up, down) = proxy.await.unwrap();
        assert_eq!(up, LARGE as u64);
        assert_eq!(down, answer.len() as u64);
    });
}

#[test]
fn shared_reference_reads_while_another_writes() {
    run(async {
        // `&TcpStream` implements tokio's traits too: one task reads through an Arc
        // while this one writes.
        let (client, mut server) = tcp_pair().await;
        let client = Arc::new(client);
        let reader = {
            let client = client.clone();
            ticktock::spawn(async move {
                let mut got = [0; 5];
                (&*client).read_exact(&mut got).await.unwrap();
                got
            })
        };
        (&*client).write_all(b"ping").await.unwrap();
        let mut ping = [0; 4];
        server.read_exact(&mut ping).await.unwrap();
        assert_eq!(&ping, b"ping");
        server.write_all(b"pong!").await.unwrap();
        assert_eq!(&reader.await.unwrap(), b"pong!");
    });
}
