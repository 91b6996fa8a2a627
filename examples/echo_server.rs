//! A TCP echo server on ticktock, with a per-connection idle timeout.
//!
//! ```text
//! cargo run --example echo_server                  # serve on 127.0.0.1:7878 until killed
//! cargo run --example echo_server -- 127.0.0.1:9000
//! cargo run --example echo_server -- --self-test   # serve, test itself, exit 0
//! ```
//!
//! Each connection echoes what it reads. A connection silent for longer than the
//! idle timeout is closed: every read runs under `ticktock::time::timeout`, so a
//! waiting connection holds one timer on its worker's heap, freed as soon as data
//! comes (and a new one armed for the next read).
//!
//! `--self-test` binds a free port, runs [`SELF_TEST_CLIENTS`] clients doing
//! [`SELF_TEST_ROUND_TRIPS`] round trips each, checks every echo, checks that a
//! silent client is disconnected after the (shortened) idle timeout, and exits 0.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::io::{AsyncReadExt, AsyncWriteExt};
use ticktock::net::{TcpListener, TcpStream};
use ticktock::time::timeout;

/// Where the server listens without an address argument.
const DEFAULT_ADDR: &str = "127.0.0.1:7878";
/// How long a connection may stay silent before the server closes it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// The idle timeout in `--self-test`: short, so the test sees it fire.
const SELF_TEST_IDLE_TIMEOUT: Duration = Duration::from_millis(200);
/// Concurrent clients in `--self-test`.
const SELF_TEST_CLIENTS: usize = 8;
/// Round trips per client in `--self-test`.
const SELF_TEST_ROUND_TRIPS: usize = 200;
/// Bytes read per call: one socket-buffer's worth is plenty for an echo.
const READ_CHUNK: usize = 4096;

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let self_test = args.iter().any(|arg| arg == "--self-test");
    let addr = args
        .iter()
        .find(|arg| !arg.starts_with("--"))
        .map_or(DEFAULT_ADDR, String::as_str)
        .to_string();
    let rt = ticktock::Builder::new_multi_thread()
        .worker_threads(2)
        .build()?;
    if self_test {
        rt.block_on(self_test_run())
    } else {
        rt.block_on(async {
            let listener = TcpListener::bind(addr.as_str()).await?;
            println!(
                "echo server on {} (idle timeout {IDLE_TIMEOUT:?})",
                listener.local_addr()?
            );
            serve(listener, IDLE_TIMEOUT).await
        })
    }
}

/// Accepts connections until the listener fails, echoing each in its own task.
async fn serve(listener: TcpListener, idle_timeout: Duration) -> io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        ticktock::spawn(async move {
            match echo(stream, idle_timeout).await {
                Ok(Ending::PeerClosed { bytes }) => println!("{peer}: closed after {bytes} bytes"),
                Ok(Ending::Idle) => println!("{peer}: idle for {idle_timeout:?}, disconnected"),
                Err(error) => println!("{peer}: {error}"),
            }
        });
    }
}

/// Why a connection's echo loop ended.
enum Ending {
    /// The peer closed its side, after sending `bytes`.
    PeerClosed { bytes: u64 },
    /// The peer sent nothing for the idle timeout.
    Idle,
}

/// Echoes `stream` until the peer closes it or stays silent for `idle_timeout`.
async fn echo(mut stream: TcpStream, idle_timeout: Duration) -> io::Result<Ending> {
    stream.set_nodelay(true)?;
    let mut buf = vec![0u8; READ_CHUNK];
    let mut bytes = 0u64;
    loop {
        let read = match timeout(idle_timeout, stream.read(&mut buf)).await {
            Ok(read) => read?,
            Err(_elapsed) => return Ok(Ending::Idle),
        };
        if read == 0 {
            return Ok(Ending::PeerClosed { bytes });
        }
        stream.write_all(&buf[..read]).await?;
        bytes += read as u64;
    }
}

/// `--self-test`: the server and its clients on one runtime.
async fn self_test_run() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = ticktock::spawn(serve(listener, SELF_TEST_IDLE_TIMEOUT));
    println!("self-test: echo server on {addr}");

    let started = Instant::now();
    let clients: Vec<_> = (0..SELF_TEST_CLIENTS)
        .map(|client| ticktock::spawn(client_round_trips(addr, client)))
        .collect();
    for client in clients {
        client.await??;
    }
    let round_trips = SELF_TEST_CLIENTS * SELF_TEST_ROUND_TRIPS;
    println!(
        "self-test: {round_trips} round trips checked in {:?}",
        started.elapsed()
    );

    // A client that says nothing is cut off after the idle timeout.
    // Timed from before the connect: the server may accept it (and start its idle
    // timer) before this task sees the connect complete.
    let connecting = Instant::now();
    let mut silent = TcpStream::connect(addr).await?;
    let mut byte = [0u8; 1];
    let read = timeout(Duration::from_secs(10), silent.read(&mut byte))
        .await
        .map_err(|_| io::Error::other("idle connection was never closed"))??;
    let waited = connecting.elapsed();
    if read != 0 || waited < SELF_TEST_IDLE_TIMEOUT {
        return Err(io::Error::other(format!(
            "idle connection: read {read} bytes after {waited:?}"
        )));
    }
    println!("self-test: silent client disconnected after {waited:?}");
    server.abort();
    println!("self-test: ok");
    Ok(())
}

/// One client: [`SELF_TEST_ROUND_TRIPS`] messages, each echo checked.
async fn client_round_trips(addr: SocketAddr, client: usize) -> io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    for round in 0..SELF_TEST_ROUND_TRIPS {
        let message = format!("client {client} says {round}");
        stream.write_all(message.as_bytes()).await?;
        let mut echo = vec![0u8; message.len()];
        stream.read_exact(&mut echo).await?;
        if echo != message.as_bytes() {
            return Err(io::Error::other(format!("client {client}: bad echo")));
        }
    }
    stream.close().await
}
