//! The axum example as a real process under load: concurrent HTTP/1.1 clients,
//! SIGTERM in the middle, and the graceful-shutdown promise checked from the
//! outside: every request the server accepted got its complete response, the
//! ones it did not accept were refused cleanly (no partial response), and the
//! process exited with status 0. And the same example resizing its runtime
//! (2 workers, 1, 2, ...) under load without failing a request (issue 13).

#![cfg(all(feature = "http", unix))]

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::process::{kill_process, Pid, Signal};

/// Client threads loading the server.
const CLIENTS: usize = 16;
/// Requests per keep-alive connection before a client reconnects.
const REQUESTS_PER_CONNECTION: usize = 4;
/// How long `/sleep` requests wait on the server's timer: long enough that
/// SIGTERM lands while many are in flight.
const SLEEP_MS: u64 = 200;
/// Load before SIGTERM.
const LOAD_BEFORE_SIGNAL: Duration = Duration::from_millis(800);
/// Upper bound for the whole run after SIGTERM (the example drains in 10 s max).
const EXIT_LIMIT: Duration = Duration::from_secs(20);
/// `--resize-every-ms` of the resize test: many resizes within its load.
const RESIZE_EVERY_MS: &str = "100";
/// Load of the resize test, before SIGTERM: at 100 ms per resize, about seven
/// shrinks and seven grows when the machine is idle, and at least one of each
/// even when its timers run late on a loaded machine.
const LOAD_WHILE_RESIZING: Duration = Duration::from_millis(1500);

/// Builds `examples/axum_service.rs` in this test's profile and returns its path.
fn example_binary() -> std::path::PathBuf {
    let test_exe = std::env::current_exe().unwrap();
    let profile_dir = test_exe.parent().unwrap().parent().unwrap().to_path_buf();
    let mut build = Command::new(env!("CARGO"));
    build.args([
        "build",
        "--quiet",
        "--features",
        "http",
        "--example",
        "axum_service",
    ]);
    if profile_dir.ends_with("release") {
        build.arg("--release");
    }
    let status = build.status().expect("run cargo build");
    assert!(status.success(), "building the example failed");
    profile_dir.join("examples").join("axum_service")
}

/// What happened to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// A complete, correct response.
    Complete,
    /// Refused without a single response byte: not accepted by the server.
    NotAccepted,
}

/// Sends one request on `stream` and reads its complete response. `Err` means a
/// broken promise: a partial or wrong response.
fn request(stream: &mut TcpStream, path: &str, expect: &str) -> Result<Outcome, String> {
    let head = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    if stream.write_all(head.as_bytes()).is_err() {
        return Ok(Outcome::NotAccepted);
    }
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            Err(e) if received.is_empty() && e.kind() == ErrorKind::ConnectionReset => 0,
            Err(e) => return Err(format!("read error after {} bytes: {e}", received.len())),
        };
        if n == 0 {
            return if received.is_empty() {
                Ok(Outcome::NotAccepted)
            } else {
                Err(format!(
                    "partial response: {:?}",
                    String::from_utf8_lossy(&received)
                ))
            };
        }
        received.extend_from_slice(&buf[..n]);
        let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&received[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .ok_or_else(|| format!("no content-length in {head:?}"))?
            .trim()
            .parse()
            .unwrap();
        if received.len() < end + 4 + length {
            continue;
        }
        if !head.starts_with("http/1.1 200") {
            return Err(format!("status: {head:?}"));
        }
        let body = String::from_utf8_lossy(&received[end + 4..end + 4 + length]).to_string();
        return if body.contains(expect) {
            Ok(Outcome::Complete)
        } else {
            Err(format!("body {body:?} lacks {expect:?}"))
        };
    }
}

/// Counts of one client's run.
#[derive(Default, Debug)]
struct Tally {
    complete: usize,
    /// Sent before SIGTERM, answered after it: in flight while the server drained.
    spanning_signal: usize,
    not_accepted: usize,
    broken: Vec<String>,
}

fn client(addr: SocketAddr, id: usize, signalled: Arc<AtomicBool>, stop: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut n = 0usize;
    while Instant::now() < stop {
        let Ok(mut stream) = TcpStream::connect(addr) else {
            // Refused: the listener is closed. Not a broken promise.
            tally.not_accepted += 1;
            if signalled.load(Ordering::SeqCst) {
                break;
            }
            continue;
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        for _ in 0..REQUESTS_PER_CONNECTION {
            n += 1;
            let (path, expect) = if n % 2 == 0 {
                (
                    format!("/sleep/{SLEEP_MS}"),
                    format!("\"slept_ms\":{SLEEP_MS}"),
                )
            } else {
                (format!("/hello/c{id}"), format!("hello, c{id}"))
            };
            let signalled_before = signalled.load(Ordering::SeqCst);
            match request(&mut stream, &path, &expect) {
                Ok(Outcome::Complete) => {
                    tally.complete += 1;
                    if !signalled_before && signalled.load(Ordering::SeqCst) {
                        tally.spanning_signal += 1;
                    }
                }
                Ok(Outcome::NotAccepted) => {
                    tally.not_accepted += 1;
                    break;
                }
                Err(broken) => {
                    tally.broken.push(broken);
                    break;
                }
            }
        }
    }
    tally
}

/// Starts the example on a free port with 2 workers and `extra` arguments; returns
/// the process, its stdout past the `listening on` line, and the address.
fn start_example(extra: &[&str]) -> (Child, BufReader<ChildStdout>, SocketAddr) {
    let binary = example_binary();
    let mut server = Command::new(&binary)
        .args(["--addr", "127.0.0.1:0", "--workers", "2"])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the example");
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();
    (server, stdout, addr)
}

#[test]
fn sigterm_mid_load_drains_every_accepted_request_and_exits_zero() {
    let (mut server, mut stdout, addr) = start_example(&[]);

    let signalled = Arc::new(AtomicBool::new(false));
    let stop = Instant::now() + LOAD_BEFORE_SIGNAL + EXIT_LIMIT;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            let signalled = signalled.clone();
            std::thread::spawn(move || client(addr, id, signalled, stop))
        })
        .collect();
    std::thread::sleep(LOAD_BEFORE_SIGNAL);
    let pid = Pid::from_child(&server);
    // Mark first, then signal: a request counted "after" was sent before the
    // server could possibly have stopped accepting it.
    signalled.store(true, Ordering::SeqCst);
    kill_process(pid, Signal::TERM).unwrap();

    let tallies: Vec<Tally> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let status = server.wait().unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();

    let broken: Vec<&String> = tallies.iter().flat_map(|t| &t.broken).collect();
    let complete: usize = tallies.iter().map(|t| t.complete).sum();
    let spanning: usize = tallies.iter().map(|t| t.spanning_signal).sum();
    let refused: usize = tallies.iter().map(|t| t.not_accepted).sum();
    println!("complete {complete} (in flight at SIGTERM {spanning}), not accepted {refused}");
    assert!(
        broken.is_empty(),
        "accepted requests without a full response: {broken:?}"
    );
    assert!(
        complete > CLIENTS,
        "the server was loaded ({complete} responses)"
    );
    assert!(spanning > 0, "requests in flight at SIGTERM were answered");
    assert!(status.success(), "the example exited with {status:?}");
    assert!(
        rest.contains("drained"),
        "the example reported its drain: {rest:?}"
    );
}

/// Issue 13's service check without wrk: the example's runtime switches between 2
/// workers and 1 every 100 ms while clients load it (half the requests wait on a
/// ticktock timer, and every request arms the timeout layer's, so each shrink
/// migrates live timers); no request may fail, and the resizes must have happened.
#[test]
fn resizing_under_load_fails_no_request() {
    let (mut server, mut stdout, addr) = start_example(&["--resize-every-ms", RESIZE_EVERY_MS]);
    let signalled = Arc::new(AtomicBool::new(false));
    let stop = Instant::now() + LOAD_WHILE_RESIZING + EXIT_LIMIT;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            let signalled = signalled.clone();
            std::thread::spawn(move || client(addr, id, signalled, stop))
        })
        .collect();
    std::thread::sleep(LOAD_WHILE_RESIZING);
    signalled.store(true, Ordering::SeqCst);
    kill_process(Pid::from_child(&server), Signal::TERM).unwrap();

    let tallies: Vec<Tally> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let status = server.wait().unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();

    let broken: Vec<&String> = tallies.iter().flat_map(|t| &t.broken).collect();
    let complete: usize = tallies.iter().map(|t| t.complete).sum();
    let shrinks = rest.lines().filter(|l| l.ends_with(": 1 workers")).count();
    let grows = rest.lines().filter(|l| l.ends_with(": 2 workers")).count();
    println!("complete {complete}, {shrinks} shrinks, {grows} grows; log:\n{rest}");
    assert!(broken.is_empty(), "requests that failed: {broken:?}");
    assert!(
        complete > CLIENTS,
        "the server was loaded ({complete} responses)"
    );
    assert!(
        shrinks >= 1 && grows >= 1,
        "the runtime shrank and grew while serving"
    );
    let counted = rest
        .lines()
        .find_map(|l| l.strip_prefix("workers started by resizes: "))
        .unwrap_or_else(|| panic!("no resize metrics in {rest:?}"));
    let (started, retired) = counted.split_once(", retired: ").unwrap();
    assert!(
        started.parse::<u64>().unwrap() >= 1 && retired.parse::<u64>().unwrap() >= 1,
        "the runtime's metrics counted the resizes: {counted}"
    );
    assert!(status.success(), "the example exited with {status:?}");
}
