//! Descriptor exhaustion: a server child limited to [`FD_LIMIT`] descriptors
//! (`setrlimit`), 400 clients from this process (with the ordinary limit). While
//! at the limit the server keeps serving what it holds and does not spin (its CPU
//! time, read from `/proc/<pid>/stat`, stays near zero); once the clients close,
//! new clients are served again; the accept errors are counted in its metrics.
//!
//! Two servers: the usual hand-written accept loop (`accept_loop`: errors
//! ignored, with a pause as every such loop needs) and `ticktock::serve`
//! (`serve`, feature `http`, its own pause).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use super::probe::{cpu_used_over, open_fds, wait_for};

/// The server's descriptor limit (soft and hard).
const FD_LIMIT: u64 = 256;

/// Clients connected at once: well over the limit.
const CLIENTS: usize = 400;

/// Clients connected after the first ones closed: all must be served.
const LATER_CLIENTS: usize = 50;

/// How long the checks wait for what they expect (a loaded CI machine included).
const LIMIT: Duration = Duration::from_secs(30);

/// The window over which the server's CPU time is read while it sits at the limit.
const AT_LIMIT_WINDOW: Duration = Duration::from_secs(1);

/// CPU time the server may use over [`AT_LIMIT_WINDOW`] at the limit. A spinning
/// accept loop uses most of the window (at least a quarter of it on a machine
/// loaded 4 runnable threads per core); pausing 50 ms between failing accepts
/// costs a few milliseconds.
const AT_LIMIT_CPU: Duration = Duration::from_millis(150);

/// The hand-written loop's pause after an accept error (as `serve`'s).
const LOOP_PAUSE: Duration = Duration::from_millis(50);

/// What a client sends and what a served client reads back.
const REQUEST_LINE: &[u8] = b"hello\n";

pub fn accept_loop() -> String {
    exhaust("loop", LOOP_PAUSE)
}

#[cfg(feature = "http")]
pub fn serve() -> String {
    let mut figures = exhaust("serve", ticktock::serve::ACCEPT_ERROR_PAUSE);
    if std::env::var_os("FAULTS_TUNING").is_some() {
        // axum's pause, for the comparison in docs/reliability.md.
        figures.push_str("; with axum's 1 s pause: ");
        figures.push_str(&exhaust("serve", Duration::from_secs(1)));
    }
    figures
}

/// The server child, as this process sees it.
struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    addr: SocketAddr,
}

impl Server {
    fn start(mode: &str, pause: Duration) -> Server {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--scenario", "fd-limit-server", mode])
            .arg(pause.as_millis().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the server child starts");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("server said {line:?}"));
        Server {
            child,
            stdin,
            stdout,
            addr,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's `accept_errors` metric.
    fn accept_errors(&mut self) -> u64 {
        writeln!(self.stdin, "stats").unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        line.trim()
            .strip_prefix("accept_errors ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("server said {line:?}"))
    }

    fn quit(mut self) {
        writeln!(self.stdin, "quit").unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "server exit: {status}");
    }
}

/// How long a client's connect may take. Beyond the connections the server holds
/// and its accept queue (mio's backlog, 128), the kernel drops the handshake and
/// connect would retry for minutes: those clients give up and count as refused.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(300);

/// A client: connects, sends one request. `None` if it could not connect.
fn client(addr: SocketAddr, mode: &str, connect_timeout: Duration) -> Option<TcpStream> {
    let mut stream = TcpStream::connect_timeout(&addr, connect_timeout).ok()?;
    let request: &[u8] = if mode == "serve" {
        b"GET / HTTP/1.1\r\nhost: faults\r\n\r\n"
    } else {
        REQUEST_LINE
    };
    stream.write_all(request).ok()?;
    Some(stream)
}

/// Whether the client's answer arrives within `wait`.
fn answered(mut stream: &TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 256];
    matches!(stream.read(&mut buf), Ok(n) if n > 0)
}

/// Whether the client's answer has already arrived.
fn answered_already(mut stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 256];
    let answered = matches!(stream.read(&mut buf), Ok(n) if n > 0);
    stream.set_nonblocking(false).unwrap();
    answered
}

/// Raises this process's own soft descriptor limit so 400 clients fit.
fn allow_many_fds() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    let want = 4 * CLIENTS as u64;
    if limit.current.is_some_and(|current| current < want) {
        limit.current = Some(limit.maximum.map_or(want, |max| max.min(want)));
        setrlimit(Resource::Nofile, limit).expect("raising the soft descriptor limit");
    }
}

fn exhaust(mode: &str, pause: Duration) -> String {
    allow_many_fds();
    let mut server = Server::start(mode, pause);
    // Once a client times out beyond the descriptor limit, the accept queue is
    // full: the rest would time out too. (An early timeout on a loaded machine
    // does not stop the run.)
    let mut clients: Vec<TcpStream> = Vec::new();
    for _ in 0..CLIENTS {
        match client(server.addr, mode, CONNECT_TIMEOUT) {
            Some(stream) => clients.push(stream),
            None if clients.len() as u64 > FD_LIMIT => break,
            None => {}
        }
    }
    let connected = clients.len();
    assert!(
        connected as u64 > FD_LIMIT,
        "only {connected} clients connected: the limit was never exceeded"
    );
    let pid = server.pid();
    let at_limit = wait_for(LIMIT, || open_fds(Some(pid)) as u64 >= FD_LIMIT - 2);
    assert!(
        at_limit.is_some(),
        "the server never reached its limit: {} descriptors",
        open_fds(Some(pid))
    );
    let errors_seen = wait_for(LIMIT, || server.accept_errors() > 0);
    assert!(
        errors_seen.is_some(),
        "no accept error counted at the limit"
    );
    let cpu = cpu_used_over(Some(pid), AT_LIMIT_WINDOW);
    assert!(
        cpu < AT_LIMIT_CPU,
        "the server used {cpu:?} of CPU over {AT_LIMIT_WINDOW:?} at its descriptor limit: it spins"
    );
    // The connections the server holds were served; the rest wait in the accept
    // queue.
    let (served, queued): (Vec<TcpStream>, Vec<TcpStream>) =
        clients.into_iter().partition(answered_already);
    assert!(
        served.len() >= 100 && !queued.is_empty(),
        "{} of {connected} clients served at a limit of {FD_LIMIT}",
        served.len()
    );
    // Recovery: the served clients leave, descriptors free up, and the queued
    // ones are served once the accept loop's pause is over.
    let served_count = served.len();
    drop(served);
    let recovery = Instant::now();
    let unanswered = queued.iter().filter(|c| !answered(c, LIMIT)).count();
    let queued_served_in = recovery.elapsed();
    assert_eq!(unanswered, 0, "{unanswered} queued clients never served");
    let queued_count = queued.len();
    drop(queued);
    // Later clients are served too.
    let later: Vec<TcpStream> = (0..LATER_CLIENTS)
        .map(|_| client(server.addr, mode, LIMIT).expect("a later client connects"))
        .collect();
    let unanswered = later.iter().filter(|c| !answered(c, LIMIT)).count();
    assert_eq!(
        unanswered, 0,
        "{unanswered} of {LATER_CLIENTS} later clients never served"
    );
    let errors = server.accept_errors();
    drop(later);
    server.quit();
    format!(
        "{mode}, pause {} ms: {connected} of {CLIENTS} clients connected (the rest beyond \
         the accept queue), {served_count} served at the limit, {errors} accept errors, \
         server CPU at the limit {} ms per {} ms, the {queued_count} queued clients served \
         {} ms after the others left, {LATER_CLIENTS} later clients served",
        pause.as_millis(),
        cpu.as_millis(),
        AT_LIMIT_WINDOW.as_millis(),
        queued_served_in.as_millis()
    )
}

/// The server child: `fd-limit-server MODE PAUSE_MS`. Prints `listening ADDR`, then
/// answers `stats` with `accept_errors N` and exits on `quit`.
pub fn server_child(args: &[String]) {
    use rustix::process::{setrlimit, Resource, Rlimit};
    let mode = args.first().map(String::as_str).unwrap_or("loop");
    let pause = Duration::from_millis(args.get(1).and_then(|p| p.parse().ok()).unwrap_or(50));
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(FD_LIMIT),
            maximum: Some(FD_LIMIT),
        },
    )
    .expect("setrlimit(RLIMIT_NOFILE)");
    let rt = ticktock::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime builds");
    let listener = rt
        .block_on(ticktock::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    println!("listening {}", listener.local_addr().unwrap());
    match mode {
        #[cfg(feature = "http")]
        "serve" => {
            rt.spawn(std::future::IntoFuture::into_future(
                ticktock::serve::serve(listener, http::Hello).accept_error_pause(pause),
            ));
        }
        _ => {
            rt.spawn(accept_loop_server(listener, pause));
        }
    }
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        match line.unwrap_or_default().trim() {
            "stats" => println!("accept_errors {}", rt.metrics().accept_errors),
            "quit" => break,
            other => panic!("unknown command {other:?}"),
        }
    }
    rt.shutdown_timeout(Duration::from_secs(1));
}

/// The usual accept loop: serve each connection in a task, and on an accept
/// error pause before trying again.
async fn accept_loop_server(listener: ticktock::net::TcpListener, pause: Duration) {
    use futures::io::{AsyncReadExt, AsyncWriteExt};
    loop {
        match listener.accept().await {
            Ok((mut stream, _)) => {
                ticktock::spawn(async move {
                    let mut buf = [0u8; 64];
                    if stream.read(&mut buf).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let _ = stream.write_all(b"ok\n").await;
                    // Hold the connection until the client leaves.
                    while stream.read(&mut buf).await.unwrap_or(0) > 0 {}
                });
            }
            Err(_) => ticktock::time::sleep(pause).await,
        }
    }
}

#[cfg(feature = "http")]
mod http {
    use std::convert::Infallible;

    use bytes::Bytes;
    use http_body_util::Full;
    use hyper::body::Incoming;
    use hyper::{Request, Response};

    /// Answers every request with `ok`.
    #[derive(Clone)]
    pub struct Hello;

    impl tower_service::Service<Request<Incoming>> for Hello {
        type Response = Response<Full<Bytes>>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Response<Full<Bytes>>, Infallible>>;

        fn poll_ready(
            &mut self,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), Infallible>> {
            std::task::Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: Request<Incoming>) -> Self::Future {
            std::future::ready(Ok(Response::new(Full::new(Bytes::from("ok")))))
        }
    }
}
