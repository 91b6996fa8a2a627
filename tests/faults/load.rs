//! Load: a graceful shutdown with handlers in flight, a panic storm of tasks
//! holding timers, and a 1 ns interval beside other tasks.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::io::{AsyncReadExt, AsyncWriteExt};
use ticktock::net::{TcpListener, TcpStream};
use ticktock::time::{interval, sleep};

use super::probe::{rss_kib, wait_for};

/// How long the checks wait for what they expect (a loaded CI machine included).
const LIMIT: Duration = Duration::from_secs(30);

/// Connections with a request in flight when the graceful shutdown starts.
const IN_FLIGHT: usize = 200;

/// How long each handler works on its request (a timer): the shutdown starts
/// while every one of them is in this sleep.
const HANDLER_WORK: Duration = Duration::from_millis(300);

fn runtime(workers: usize) -> ticktock::Runtime {
    ticktock::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .expect("runtime builds")
}

/// `Runtime::shutdown_timeout` while 200 handlers are in flight: the listener
/// stops accepting at once (the accept loop ends on its refusal and drops it, so
/// new connections are refused), every accepted request is answered, and the call
/// returns once they are done, well before its timeout.
pub fn graceful_shutdown_under_load() -> String {
    let server = runtime(2);
    let clients = runtime(1);
    let in_handler = Arc::new(AtomicUsize::new(0));
    let accept_loop_ended = Arc::new(AtomicBool::new(false));
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    {
        let (in_handler, ended) = (in_handler.clone(), accept_loop_ended.clone());
        server.spawn(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            while let Ok((mut stream, _)) = listener.accept().await {
                let in_handler = in_handler.clone();
                ticktock::spawn(async move {
                    let mut request = [0u8; 6];
                    stream.read_exact(&mut request).await.unwrap();
                    in_handler.fetch_add(1, Ordering::SeqCst);
                    sleep(HANDLER_WORK).await;
                    stream.write_all(b"done\n").await.unwrap();
                });
            }
            // Closed before the flag is set: a connect after it must be refused.
            drop(listener);
            ended.store(true, Ordering::SeqCst);
        });
    }
    let addr = addr_rx.recv_timeout(LIMIT).unwrap();
    let answers: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            clients.spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                stream.write_all(b"hello\n").await.unwrap();
                let mut answer = Vec::new();
                stream.read_to_end(&mut answer).await.unwrap();
                answer
            })
        })
        .collect();
    assert!(
        wait_for(LIMIT, || in_handler.load(Ordering::SeqCst) == IN_FLIGHT).is_some(),
        "only {} of {IN_FLIGHT} requests reached their handler",
        in_handler.load(Ordering::SeqCst)
    );
    let start = Instant::now();
    let shutdown = std::thread::spawn(move || server.shutdown_timeout(LIMIT));
    assert!(
        wait_for(LIMIT, || accept_loop_ended.load(Ordering::SeqCst)).is_some(),
        "the accept loop did not end when the runtime started draining"
    );
    let refused = std::net::TcpStream::connect(addr)
        .err()
        .map(|error| error.kind());
    assert_eq!(
        refused,
        Some(std::io::ErrorKind::ConnectionRefused),
        "a new connection during the drain was not refused"
    );
    shutdown.join().unwrap();
    let took = start.elapsed();
    let answered = clients.block_on(async {
        let mut answered = 0;
        for answer in answers {
            if answer.await.unwrap() == b"done\n" {
                answered += 1;
            }
        }
        answered
    });
    assert_eq!(answered, IN_FLIGHT, "accepted requests left unanswered");
    assert!(
        took < LIMIT,
        "the drain waited for its whole timeout: {took:?}"
    );
    format!(
        "{answered} of {IN_FLIGHT} in-flight requests answered, new connection refused, \
         shutdown returned in {} ms (handlers work {} ms)",
        took.as_millis(),
        HANDLER_WORK.as_millis()
    )
}

/// Tasks per round of the panic storm, and the share that panics.
const STORM_TASKS: usize = 100_000;
const PANIC_EVERY: usize = 10;
const ROUNDS: usize = 3;

/// The storm's sleeps last 1 to [`STORM_SLEEP_SPREAD_MS`] ms.
const STORM_SLEEP_SPREAD_MS: u64 = 20;

/// How late a probe sleep may complete after the storm: generous (a debug build on
/// a loaded machine), yet far below what a lost or stuck timer would show (never).
const PROBE_LATENESS: Duration = Duration::from_secs(2);

/// 100,000 tasks per round, every tenth panicking while its sleep is registered:
/// every `JoinHandle` resolves (90,000 outputs, 10,000 panics), no sleep completes
/// early, every timer entry is freed, a sleep after the storm is on time, and the
/// resident memory does not grow from round to round.
pub fn panic_storm() -> String {
    // 10,000 panics a round: their messages would flood the output.
    std::panic::set_hook(Box::new(|_| {}));
    let rt = runtime(2);
    let mut rss = Vec::new();
    let mut round_ms = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let (ok, panicked) = rt.block_on(async {
            let handles: Vec<_> = (0..STORM_TASKS)
                .map(|i| {
                    ticktock::spawn(async move {
                        let wait = Duration::from_millis(1 + i as u64 % STORM_SLEEP_SPREAD_MS);
                        let deadline = Instant::now() + wait;
                        let mut nap = std::pin::pin!(sleep(wait));
                        // Registered before the panic: the timer is held.
                        let _ = futures::poll!(nap.as_mut());
                        if i % PANIC_EVERY == 0 {
                            panic!("storm");
                        }
                        nap.await;
                        assert!(Instant::now() >= deadline, "a sleep completed early");
                    })
                })
                .collect();
            let (mut ok, mut panicked) = (0, 0);
            for handle in handles {
                match handle.await {
                    Ok(()) => ok += 1,
                    Err(error) if error.is_panic() => panicked += 1,
                    Err(error) => panic!("task ended with {error}"),
                }
            }
            (ok, panicked)
        });
        round_ms.push(start.elapsed().as_millis());
        assert_eq!(panicked, STORM_TASKS / PANIC_EVERY, "panics");
        assert_eq!(ok, STORM_TASKS - STORM_TASKS / PANIC_EVERY, "outputs");
        let metrics = rt.metrics();
        let live: usize = metrics
            .per_worker
            .iter()
            .map(|w| w.timers.live)
            .sum::<usize>()
            + metrics.external_timers.live;
        assert_eq!(live, 0, "timer entries left after the round");
        assert_eq!(metrics.alive_tasks, 0, "tasks left after the round");
        rss.push(rss_kib());
    }
    let lateness = rt.block_on(async {
        let wait = Duration::from_millis(20);
        let start = Instant::now();
        sleep(wait).await;
        start.elapsed() - wait
    });
    assert!(
        lateness < PROBE_LATENESS,
        "a sleep after the storm was {lateness:?} late"
    );
    // Round 1 warms the allocator; later rounds must not grow (a leak of a few
    // hundred bytes per panicking task would add megabytes each round).
    let (second, last) = (rss[1], rss[ROUNDS - 1]);
    assert!(
        last <= second + second / 4 + 8 * 1024,
        "resident memory grew across rounds: {rss:?} KiB"
    );
    rt.shutdown_timeout(LIMIT);
    format!(
        "{ROUNDS} rounds of {STORM_TASKS} tasks ({} panicking) in {round_ms:?} ms; RSS \
         after each {rss:?} KiB; probe sleep {} us late",
        STORM_TASKS / PANIC_EVERY,
        lateness.as_micros()
    )
}

/// Other tasks beside the 1 ns interval, and the sleeps each one takes.
const NEIGHBOURS: usize = 8;
const NEIGHBOUR_SLEEPS: usize = 20;

/// A 1 ns interval ticking as fast as it can on a one-worker runtime, beside 8
/// tasks that each sleep 1 ms 20 times: they all finish, and the interval keeps
/// ticking meanwhile. On a current-thread runtime too.
pub fn one_nanosecond_interval() -> String {
    let mut figures = Vec::new();
    for flavor in ["multi-thread, 1 worker", "current-thread"] {
        let rt = if flavor == "current-thread" {
            ticktock::Builder::new_current_thread().build().unwrap()
        } else {
            runtime(1)
        };
        let stop = Arc::new(AtomicBool::new(false));
        let ticks = Arc::new(AtomicUsize::new(0));
        let ticker = {
            let (stop, ticks) = (stop.clone(), ticks.clone());
            rt.spawn(async move {
                let mut every_ns = interval(Duration::from_nanos(1));
                while !stop.load(Ordering::SeqCst) {
                    every_ns.tick().await;
                    ticks.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        let start = Instant::now();
        let neighbours_done = rt.block_on(async {
            let neighbours: Vec<_> = (0..NEIGHBOURS)
                .map(|_| {
                    ticktock::spawn(async {
                        for _ in 0..NEIGHBOUR_SLEEPS {
                            sleep(Duration::from_millis(1)).await;
                        }
                    })
                })
                .collect();
            ticktock::time::timeout(LIMIT, futures::future::join_all(neighbours))
                .await
                .is_ok()
        });
        let took = start.elapsed();
        assert!(
            neighbours_done,
            "{flavor}: the neighbours starved beside the 1 ns interval"
        );
        stop.store(true, Ordering::SeqCst);
        rt.block_on(ticker).unwrap();
        let ticks = ticks.load(Ordering::Relaxed);
        assert!(
            ticks > NEIGHBOUR_SLEEPS,
            "{flavor}: the interval ticked only {ticks} times"
        );
        figures.push(format!(
            "{flavor}: neighbours done in {} ms, {ticks} ticks meanwhile",
            took.as_millis()
        ));
        rt.shutdown_timeout(LIMIT);
    }
    figures.join("; ")
}
