//! Memory of idle keep-alive connections: a hyper hello-world server on ticktock
//! and the same on tokio + hyper-util, each in its own process; the client opens
//! N connections, sends one request on each, keeps them all open and idle, and
//! reads the server's resident set size (VmRSS) before and after.
//!
//! ```text
//! cargo run --release --features hyper --example idle_memory -- [connections]
//! ```
//! Prints, for each runtime, the RSS growth per idle connection.

use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};

/// Connections unless given on the command line.
const DEFAULT_CONNECTIONS: usize = 10_000;

async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from("hello"))))
}

fn serve_ticktock() {
    let rt = ticktock::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = ticktock::net::TcpSocket::new_v4().unwrap();
        listener.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = listener.listen(4096).unwrap();
        println!("{}", listener.local_addr().unwrap());
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            ticktock::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(ticktock::hyper::Timer)
                    .serve_connection(
                        ticktock::hyper::Io::new(stream),
                        hyper::service::service_fn(hello),
                    )
                    .await;
            });
        }
    });
}

fn serve_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(4096).unwrap();
        println!("{}", listener.local_addr().unwrap());
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .serve_connection(
                        hyper_util::rt::TokioIo::new(stream),
                        hyper::service::service_fn(hello),
                    )
                    .await;
            });
        }
    });
}

/// The resident set size of process `pid`, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .unwrap()
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kb * 1024
}

/// Raises this process's descriptor limit to its hard limit.
fn raise_fd_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    let _ = setrlimit(
        Resource::Nofile,
        Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        },
    );
}

fn measure(runtime: &str, connections: usize) -> f64 {
    let mut server = Command::new(std::env::current_exe().unwrap())
        .args(["--serve", runtime])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr: SocketAddr = line.trim().parse().unwrap();
    // Warm-up: one connection, so lazily made buffers and threads exist.
    let mut warm = open_one(addr);
    std::thread::sleep(Duration::from_millis(200));
    let before = rss(server.id());
    let mut open = Vec::with_capacity(connections);
    for _ in 0..connections {
        open.push(open_one(addr));
    }
    std::thread::sleep(Duration::from_millis(500));
    let after = rss(server.id());
    let per_connection = (after.saturating_sub(before)) as f64 / connections as f64;
    println!(
        "{runtime}: RSS {:.1} MiB -> {:.1} MiB, {:.0} bytes per idle connection",
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
        per_connection
    );
    warm.flush().unwrap();
    drop(open);
    server.kill().unwrap();
    server.wait().unwrap();
    per_connection
}

/// A connection that has made one keep-alive request and read its response.
fn open_one(addr: SocketAddr) -> std::net::TcpStream {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 512];
    let mut got = Vec::new();
    while !got.ends_with(b"hello") {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "server closed");
        got.extend_from_slice(&buf[..n]);
    }
    stream
}

fn main() {
    raise_fd_limit();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--serve") => match args[1].as_str() {
            "ticktock" => serve_ticktock(),
            "tokio" => serve_tokio(),
            other => panic!("unknown runtime {other}"),
        },
        count => {
            let connections = count.map_or(DEFAULT_CONNECTIONS, |c| c.parse().unwrap());
            let ticktock = measure("ticktock", connections);
            let tokio = measure("tokio", connections);
            println!(
                "ticktock / tokio bytes per idle connection: {:.2}",
                ticktock / tokio
            );
        }
    }
}
