//! Issue 21's service test: an axum service on `ticktock::serve` with per-request
//! timeouts and keep-alive, 100 clients, 10 virtual minutes, one partition healed
//! after a minute, all inside `ticktock::sim` (4 logical workers, the simulated
//! network). Checked: the service works through the partition (requests before
//! and after it succeed, requests during it time out on the client, connections
//! recover), and the same seed gives the same `trace_hash` and the same outcomes
//! in 3 runs for each of 100 seeds, with different digests across seeds.
//!
//! The real time of one run is printed (`--nocapture`), not asserted; the figure
//! and its command are in docs/testing.md.

#![cfg(feature = "http")]

use std::net::Ipv4Addr;
use std::time::Duration;

use axum::extract::Path;
use axum::routing::get;
use futures::io::{AsyncReadExt, AsyncWriteExt};
use ticktock::net::{TcpListener, TcpStream};
use ticktock::serve::TimeoutLayer;
use ticktock::sim;
use ticktock::sim::net::{heal, partition, set_link, Link};
use ticktock::task::JoinSet;
use ticktock::time::{sleep, timeout, Instant};

/// The server's host; the clients speak from 127.0.0.1.
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// The scale: 100 clients for 10 virtual minutes.
const FULL: Scale = Scale {
    clients: 100,
    run: Duration::from_secs(600),
};
/// A smaller run (same partition) for the determinism check in debug builds.
const SMALL: Scale = Scale {
    clients: 10,
    run: Duration::from_secs(180),
};
/// The partition between the server and its clients: cut at 60 s, healed at 120 s.
const PARTITION_AT: Duration = Duration::from_secs(60);
const HEAL_AT: Duration = Duration::from_secs(120);
/// The server answers 503 to a request that takes longer than this.
const SERVER_TIMEOUT: Duration = Duration::from_secs(2);
/// A client gives up on a request (and its connection) after this.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// A client's pause between requests, and before reconnecting after a failure.
const THINK: Duration = Duration::from_secs(10);
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

/// How many clients, for how long (virtual time).
#[derive(Clone, Copy, Debug)]
struct Scale {
    clients: u64,
    run: Duration,
}

/// What happened to the requests of one run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Outcomes {
    /// 200 responses.
    ok: u64,
    /// 503 responses: the server's per-request timeout.
    server_timeouts: u64,
    /// Requests the client gave up on (no response within `CLIENT_TIMEOUT`).
    client_timeouts: u64,
    /// Connects or reads that failed.
    errors: u64,
    /// Connections opened.
    connections: u64,
    /// Successful requests sent on a connection that had served one before.
    reused: u64,
    /// 200 responses received while the partition was up (must be 0).
    ok_during_partition: u64,
}

impl Outcomes {
    fn add(&mut self, other: &Outcomes) {
        self.ok += other.ok;
        self.server_timeouts += other.server_timeouts;
        self.client_timeouts += other.client_timeouts;
        self.errors += other.errors;
        self.connections += other.connections;
        self.reused += other.reused;
        self.ok_during_partition += other.ok_during_partition;
    }
}

/// Sends `GET path` on a kept-alive connection and reads the response's status.
async fn request(stream: &mut TcpStream, path: &str) -> std::io::Result<u16> {
    let request = format!("GET {path} HTTP/1.1\r\nhost: sim\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::new();
    let mut byte = [0; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let status = head[9..12].parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await?;
    Ok(status)
}

/// One client: keep-alive requests with a think time, a timeout per request, a
/// new connection after any failure. Work times come from a per-client sequence,
/// some longer than the server's timeout.
async fn client(id: u64, scale: Scale, start: Instant) -> Outcomes {
    let mut outcomes = Outcomes::default();
    let mut state = id.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    // Spread the first requests over the first think time.
    sleep(Duration::from_millis(
        id * THINK.as_millis() as u64 / scale.clients,
    ))
    .await;
    let mut connection: Option<(TcpStream, u64)> = None;
    while start.elapsed() < scale.run {
        if connection.is_none() {
            match timeout(CLIENT_TIMEOUT, TcpStream::connect((SERVER, 80))).await {
                Ok(Ok(stream)) => {
                    outcomes.connections += 1;
                    connection = Some((stream, 0));
                }
                Ok(Err(_)) => outcomes.errors += 1,
                Err(_) => outcomes.client_timeouts += 1,
            }
            if connection.is_none() {
                sleep(RECONNECT_PAUSE).await;
                continue;
            }
        }
        let (stream, served) = connection.as_mut().expect("connected above");
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let work_ms = state % 2_500; // one in five is longer than SERVER_TIMEOUT
        let path = format!("/work/{work_ms}");
        match timeout(CLIENT_TIMEOUT, request(stream, &path)).await {
            Ok(Ok(200)) => {
                outcomes.ok += 1;
                if *served > 0 {
                    outcomes.reused += 1;
                }
                *served += 1;
                let now = start.elapsed();
                if now > PARTITION_AT && now < HEAL_AT {
                    outcomes.ok_during_partition += 1;
                }
            }
            Ok(Ok(503)) => {
                outcomes.server_timeouts += 1;
                *served += 1;
            }
            Ok(Ok(status)) => panic!("unexpected status {status}"),
            Ok(Err(_)) => {
                outcomes.errors += 1;
                connection = None;
            }
            Err(_) => {
                outcomes.client_timeouts += 1;
                connection = None;
            }
        }
        sleep(if connection.is_some() {
            THINK
        } else {
            RECONNECT_PAUSE
        })
        .await;
    }
    outcomes
}

/// One run of the service under `seed`: the outcomes and the simulation's digest.
fn run(seed: u64, scale: Scale) -> (Outcomes, u64) {
    let rt = sim::Builder::new()
        .seed(seed)
        .worker_threads(4)
        .build()
        .unwrap();
    let outcomes = rt.block_on(async {
        set_link(
            SERVER,
            Ipv4Addr::LOCALHOST,
            Link {
                latency: Duration::from_millis(5),
                loss: 0.01,
            },
        );
        let app = axum::Router::new()
            .route(
                "/work/{ms}",
                get(|Path(ms): Path<u64>| async move {
                    sleep(Duration::from_millis(ms)).await;
                    "done"
                }),
            )
            .layer(TimeoutLayer::new(SERVER_TIMEOUT));
        let listener = TcpListener::bind((SERVER, 80)).await.unwrap();
        let server = ticktock::spawn(async move { ticktock::serve(listener, app).await });
        let start = Instant::now();
        let chaos = ticktock::spawn(async move {
            sleep(PARTITION_AT).await;
            partition(SERVER, Ipv4Addr::LOCALHOST);
            sleep(HEAL_AT - PARTITION_AT).await;
            heal(SERVER, Ipv4Addr::LOCALHOST);
        });
        let mut clients = JoinSet::new();
        for id in 0..scale.clients {
            clients.spawn(client(id, scale, start));
        }
        let mut total = Outcomes::default();
        while let Some(outcomes) = clients.join_next().await {
            total.add(&outcomes.unwrap());
        }
        chaos.await.unwrap();
        server.abort();
        total
    });
    (outcomes, rt.trace_hash())
}

#[test]
fn the_service_survives_a_partition_in_ten_virtual_minutes() {
    let real = std::time::Instant::now();
    let (outcomes, digest) = run(1, FULL);
    println!(
        "sim_service: one run (seed 1) took {:?} of real time: {outcomes:?}, digest {digest:#x}",
        real.elapsed()
    );
    assert_eq!(
        outcomes.ok_during_partition, 0,
        "nothing crosses a partition"
    );
    assert!(
        outcomes.client_timeouts >= FULL.clients,
        "requests during the partition time out: {outcomes:?}"
    );
    assert!(
        outcomes.server_timeouts > 0,
        "slow requests get the server's 503: {outcomes:?}"
    );
    assert!(
        outcomes.reused > outcomes.ok / 2,
        "keep-alive reuses connections: {outcomes:?}"
    );
    assert!(
        outcomes.connections > FULL.clients,
        "clients reconnect after the partition: {outcomes:?}"
    );
    // Outside the partition each client makes a request every 10 s: about 5,400
    // in all, of which one in five is slower than the server's timeout.
    let expected = FULL.clients * (FULL.run - HEAL_AT + PARTITION_AT).as_secs() / THINK.as_secs();
    assert!(
        outcomes.ok > expected / 2,
        "{} requests succeeded, expected about {expected} x 0.8",
        outcomes.ok
    );
}

/// Runs `scale` 3 times under each of `seeds`: the same outcomes and digest each
/// time, and at least two different digests across the seeds. Prints the time.
fn check_replays(scale: Scale, seeds: std::ops::Range<u64>) {
    let real = std::time::Instant::now();
    let mut digests = std::collections::BTreeSet::new();
    for seed in seeds.clone() {
        let first = run(seed, scale);
        for _ in 0..2 {
            assert_eq!(run(seed, scale), first, "seed {seed} replayed differently");
        }
        digests.insert(first.1);
    }
    println!(
        "sim_service: {scale:?}, 3 runs of each of {} seeds took {:?} of real time; \
         {} distinct digests",
        seeds.end - seeds.start,
        real.elapsed(),
        digests.len()
    );
    assert!(digests.len() >= 2, "every seed gave the same execution");
}

#[test]
fn the_same_seed_replays_a_small_service_exactly() {
    check_replays(SMALL, 0..20);
}

/// The figure: 100 seeds x 3 runs of the full service. About 16 minutes in
/// a debug build (64 s in release), so it runs in release: `.ci/run` runs it with
/// `--release --all-features -- --include-ignored`.
#[test]
#[ignore = "300 runs of the full service: run in release (`.ci/run` does)"]
fn the_same_seed_gives_the_same_digest_in_three_runs_for_a_hundred_seeds() {
    check_replays(FULL, 0..100);
}
