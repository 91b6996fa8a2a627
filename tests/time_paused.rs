//! Paused time: when the virtual clock may jump, on both flavours.
//!
//! The clock of a paused runtime jumps to the next deadline only when nothing else
//! can happen (the definition is in `time::pause`'s rustdoc and docs/design.md):
//! no runnable task on any worker, no I/O event ready, no blocking job in flight, no
//! `block_on` main future being polled. These tests check each clause, on the
//! current-thread and on the multi-thread runtime.
//!
//! Every test runs under [`real_time_guard`]: a paused runtime that waits for the
//! wrong thing hangs rather than fails, and a hang must fail the test, never stall
//! CI. The guard measures real time, which no runtime can pause.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use ticktock::net::{TcpListener, TcpStream};
use ticktock::time::{self, sleep, Instant};

/// Real time any one test may take before it counts as hung. Each finishes in
/// milliseconds; the margin is for a loaded 2-core CI machine.
const HANG_LIMIT: Duration = Duration::from_secs(30);

/// Runs `test` on its own thread and fails (with `what`) if it has not returned
/// within [`HANG_LIMIT`] of real time. A panic in `test` is re-raised here.
fn real_time_guard<T: Send + 'static>(what: &str, test: impl FnOnce() -> T + Send + 'static) -> T {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let output = test();
        let _ = done_tx.send(());
        output
    });
    match done_rx.recv_timeout(HANG_LIMIT) {
        Ok(()) => thread.join().expect("joined after it reported"),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match thread.join() {
            Ok(_) => unreachable!("the test thread returned without reporting"),
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: hung for {HANG_LIMIT:?} of real time")
        }
    }
}

/// A paused runtime of the given flavour (`None`: current-thread; `Some(n)`: n workers).
fn paused_runtime(workers: Option<usize>) -> ticktock::Runtime {
    let mut builder = match workers {
        None => ticktock::Builder::new_current_thread(),
        Some(n) => {
            let mut builder = ticktock::Builder::new_multi_thread();
            builder.worker_threads(n);
            builder
        }
    };
    builder.start_paused(true).build().expect("runtime builds")
}

/// The mini-redis `key_value_timeout` test, replayed with a two-command protocol:
/// the server stores a key with a 1 s expiry (a task sleeping 1 s removes it) and
/// replies `+OK` over a real loopback socket; the client reads that reply, then
/// asks for the key. The reply is in the client's socket before the runtime goes
/// idle, so it must be read before the clock jumps: the expiry must not have run.
///
/// This failed before the runtime polled its reactor (without waiting) ahead of
/// every jump: the clock jumped to the expiry first, and `GET` found no key.
fn reply_is_read_before_the_expiry_fires(workers: Option<usize>) {
    let rt = paused_runtime(workers);
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let key: Arc<Mutex<Option<&'static str>>> = Arc::new(Mutex::new(None));
        let server = ticktock::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut command = [0u8; 16];
            let n = socket.read(&mut command).await.unwrap();
            assert_eq!(&command[..n], b"SET k v EX 1");
            *key.lock().unwrap() = Some("v");
            let expiring = key.clone();
            ticktock::spawn(async move {
                sleep(Duration::from_secs(1)).await;
                *expiring.lock().unwrap() = None;
            });
            socket.write_all(b"+OK").await.unwrap();
            let n = socket.read(&mut command).await.unwrap();
            assert_eq!(&command[..n], b"GET k");
            let reply: &[u8] = match *key.lock().unwrap() {
                Some(_) => b"$v",
                None => b"$-1",
            };
            socket.write_all(reply).await.unwrap();
        });
        let start = Instant::now();
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"SET k v EX 1").await.unwrap();
        let mut reply = [0u8; 3];
        client.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"+OK");
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "the clock jumped before the reply already in the socket was read"
        );
        client.write_all(b"GET k").await.unwrap();
        let mut value = [0u8; 2];
        client.read_exact(&mut value).await.unwrap();
        assert_eq!(
            &value, b"$v",
            "the 1 s expiry ran before the reply was read"
        );
        server.await.unwrap();
        // Nothing else to do: the clock may now jump to the expiry.
        sleep(Duration::from_secs(2)).await;
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    });
}

#[test]
fn current_thread_reads_ready_io_before_the_clock_jumps() {
    real_time_guard("current_thread mini-redis replay", || {
        for _ in 0..20 {
            reply_is_read_before_the_expiry_fires(None)
        }
    });
}

#[test]
fn multi_thread_reads_ready_io_before_the_clock_jumps() {
    real_time_guard("multi_thread mini-redis replay", || {
        for _ in 0..20 {
            reply_is_read_before_the_expiry_fires(Some(2));
        }
    });
}

/// Sleeps of many tasks spread over the workers each end at exactly their
/// deadline, and they end in deadline order (ties in any order).
#[test]
fn multi_thread_sleeps_end_at_their_deadlines_in_order() {
    real_time_guard("multi_thread sleep ordering", || {
        let rt = paused_runtime(Some(4));
        rt.block_on(async {
            let start = Instant::now();
            let finished: Arc<Mutex<Vec<(Duration, u64)>>> = Arc::default();
            let tasks: Vec<_> = (0..64u64)
                .map(|i| {
                    let finished = finished.clone();
                    // Deadlines 10 ms apart, each shared by two tasks, spawned shuffled.
                    let millis = (i * 37 % 64) / 2 * 10;
                    ticktock::spawn(async move {
                        sleep(Duration::from_millis(millis)).await;
                        let woke = start.elapsed();
                        finished.lock().unwrap().push((woke, millis));
                        assert_eq!(woke, Duration::from_millis(millis), "woke late or early");
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            let finished = finished.lock().unwrap();
            assert_eq!(finished.len(), 64);
            assert!(
                finished.windows(2).all(|w| w[0].0 <= w[1].0),
                "tasks finished out of deadline order: {finished:?}"
            );
            assert_eq!(start.elapsed(), Duration::from_millis(310));
        });
    });
}

/// `timeout` on paused multi-thread time: an inner future that finishes first wins
/// at its own instant; one that never does times out at exactly the limit.
#[test]
fn multi_thread_timeouts_fire_at_exactly_their_limit() {
    real_time_guard("multi_thread timeouts", || {
        let rt = paused_runtime(Some(2));
        rt.block_on(async {
            let start = Instant::now();
            let fast = time::timeout(Duration::from_secs(1), sleep(Duration::from_millis(500)));
            assert!(fast.await.is_ok());
            assert_eq!(start.elapsed(), Duration::from_millis(500));
            let slow = ticktock::spawn(time::timeout(
                Duration::from_secs(30),
                std::future::pending::<()>(),
            ));
            assert!(
                slow.await.unwrap().is_err(),
                "a pending future cannot finish"
            );
            assert_eq!(start.elapsed(), Duration::from_millis(30_500));
        });
    });
}

/// An interval on a worker ticks at exact multiples of its period, while another
/// worker's interval with another period interleaves with it.
#[test]
fn multi_thread_intervals_tick_on_their_period() {
    real_time_guard("multi_thread intervals", || {
        let rt = paused_runtime(Some(2));
        rt.block_on(async {
            let start = Instant::now();
            let ticker = |period_ms: u64, ticks: usize| {
                ticktock::spawn(async move {
                    let mut interval = time::interval(Duration::from_millis(period_ms));
                    let mut seen = Vec::new();
                    for _ in 0..ticks {
                        interval.tick().await;
                        seen.push(start.elapsed());
                    }
                    seen
                })
            };
            let (a, b) = (ticker(100, 10), ticker(150, 7));
            let (a, b) = (a.await.unwrap(), b.await.unwrap());
            let expect = |period: u64, ticks: u64| -> Vec<Duration> {
                (0..ticks)
                    .map(|k| Duration::from_millis(k * period))
                    .collect()
            };
            assert_eq!(a, expect(100, 10));
            assert_eq!(b, expect(150, 7));
        });
    });
}

/// A chain of tasks, each sleeping then spawning the next (which lands on any
/// worker): 100 steps of 10 ms take exactly 1 s of virtual time.
#[test]
fn multi_thread_spawn_chain_across_workers_keeps_exact_time() {
    fn step(left: u32, start: Instant, done: futures::channel::oneshot::Sender<Duration>) {
        ticktock::spawn(async move {
            sleep(Duration::from_millis(10)).await;
            if left == 1 {
                let _ = done.send(start.elapsed());
            } else {
                step(left - 1, start, done);
            }
        });
    }
    real_time_guard("multi_thread spawn chain", || {
        let rt = paused_runtime(Some(4));
        rt.block_on(async {
            let (done, elapsed) = futures::channel::oneshot::channel();
            step(100, Instant::now(), done);
            assert_eq!(elapsed.await.unwrap(), Duration::from_secs(1));
        });
    });
}

/// The `block_on` caller's future is polled on a thread that is not a worker: while
/// it runs (here it blocks for real time), the clock stands still even though
/// every worker is idle and a timer is pending.
#[test]
fn multi_thread_clock_stands_still_while_block_on_polls() {
    real_time_guard("multi_thread block_on poll", || {
        let rt = paused_runtime(Some(2));
        rt.block_on(async {
            let start = Instant::now();
            let timer = ticktock::spawn(sleep(Duration::from_millis(1)));
            // Let the workers park with the 1 ms timer pending.
            std::thread::sleep(Duration::from_millis(50));
            assert_eq!(
                start.elapsed(),
                Duration::ZERO,
                "the clock jumped while the main future was being polled"
            );
            timer.await.unwrap();
            assert_eq!(start.elapsed(), Duration::from_millis(1));
        });
    });
}

/// The clock stands still while a blocking job runs, on the multi-thread runtime.
#[test]
fn multi_thread_clock_waits_for_a_blocking_job() {
    real_time_guard("multi_thread spawn_blocking", || {
        let rt = paused_runtime(Some(2));
        rt.block_on(async {
            let start = Instant::now();
            let timer = ticktock::spawn(async move {
                sleep(Duration::from_secs(5)).await;
                start.elapsed()
            });
            let job = ticktock::task::spawn_blocking(move || {
                std::thread::sleep(Duration::from_millis(30));
                start.elapsed()
            });
            assert_eq!(job.await.unwrap(), Duration::ZERO, "jumped during the job");
            assert_eq!(timer.await.unwrap(), Duration::from_secs(5));
        });
    });
}

/// A wake that completes before the runtime goes idle is seen by the jump
/// decision: the woken task runs at the old time. Here the waker is the last thing
/// that kept the runtime busy: a blocking thread (not a worker) wakes a task, then
/// its job ends and the workers decide. Repeated to meet many interleavings.
#[test]
fn multi_thread_wake_from_a_blocking_thread_wins_over_the_jump() {
    real_time_guard("multi_thread wake before the jump", || {
        let rt = paused_runtime(Some(2));
        for _ in 0..200 {
            rt.block_on(async {
                let start = Instant::now();
                let (tx, rx) = futures::channel::oneshot::channel::<()>();
                let waiter = ticktock::spawn(async move {
                    // Either the message, or an hour of virtual time.
                    let hour = std::pin::pin!(sleep(Duration::from_secs(3600)));
                    match futures::future::select(rx, hour).await {
                        futures::future::Either::Left(_) => start.elapsed(),
                        futures::future::Either::Right(_) => panic!("the hour passed first"),
                    }
                });
                ticktock::task::spawn_blocking(move || tx.send(()).unwrap());
                assert_eq!(waiter.await.unwrap(), Duration::ZERO);
            });
        }
    });
}

/// A wake from a plain thread, outside the runtime, racing the jump: the runtime
/// is idle with an hour-long timer pending. Whichever comes first, the task sees
/// either the message at the old time or the hour at exactly one hour: never the
/// message at a time that the jump passed, and never a hang.
#[test]
fn multi_thread_wake_from_a_foreign_thread_racing_the_jump() {
    real_time_guard("multi_thread wake racing the jump", || {
        let rt = paused_runtime(Some(2));
        let mut jumped_first = 0;
        for round in 0..200u32 {
            let (tx, rx) = futures::channel::oneshot::channel::<()>();
            let start = rt.block_on(async { Instant::now() });
            let waiter = rt.spawn(async move {
                let hour = std::pin::pin!(sleep(Duration::from_secs(3600)));
                match futures::future::select(rx, hour).await {
                    futures::future::Either::Left(_) => (true, start.elapsed()),
                    futures::future::Either::Right(_) => (false, start.elapsed()),
                }
            });
            let sender = std::thread::spawn(move || {
                if round % 2 == 0 {
                    std::thread::yield_now();
                }
                let _ = tx.send(());
            });
            let (got_message, elapsed) = rt.block_on(waiter).unwrap();
            sender.join().unwrap();
            if got_message {
                assert!(
                    elapsed == Duration::ZERO || elapsed == Duration::from_secs(3600),
                    "the message arrived at {elapsed:?}"
                );
            } else {
                jumped_first += 1;
                assert_eq!(elapsed, Duration::from_secs(3600));
            }
        }
        // Both outcomes are legal; the count is only printed (no timing assertion).
        println!("the jump came first in {jumped_first} of 200 rounds");
    });
}

/// Counts how many tasks observe a given virtual instant: used to check that a
/// `block_on` caller that wakes a task and then goes to sleep lets the task run
/// before the jump.
#[test]
fn multi_thread_block_on_wakes_a_task_then_sleeps_the_task_runs_first() {
    real_time_guard("multi_thread block_on hand-off", || {
        let rt = paused_runtime(Some(2));
        rt.block_on(async {
            let start = Instant::now();
            let seen = Arc::new(AtomicUsize::new(usize::MAX));
            for _ in 0..100 {
                let (tx, rx) = futures::channel::oneshot::channel::<()>();
                let seen_by_task = seen.clone();
                let task = ticktock::spawn(async move {
                    rx.await.unwrap();
                    let at = start.elapsed().as_millis() as usize;
                    seen_by_task.store(at, Ordering::SeqCst);
                });
                let before = start.elapsed().as_millis() as usize;
                tx.send(()).unwrap();
                // The main future sleeps: the workers see the woken task first.
                sleep(Duration::from_millis(7)).await;
                assert_eq!(
                    seen.load(Ordering::SeqCst),
                    before,
                    "the task ran after the jump"
                );
                task.await.unwrap();
            }
            assert_eq!(start.elapsed(), Duration::from_millis(700));
        });
    });
}

/// `pause`, `advance` and `resume` on a multi-thread runtime: advance fires what
/// became due; after resume, a sleep takes real time again (the workers, asleep
/// without a timeout while paused, learn that the clock runs).
#[test]
fn multi_thread_pause_advance_resume() {
    real_time_guard("multi_thread pause/advance/resume", || {
        let rt = common::runtime(2);
        rt.block_on(async {
            time::pause();
            let start = Instant::now();
            let fired = Arc::new(AtomicBool::new(false));
            let flag = fired.clone();
            // `sleep_until`: the task may first run after the advance below.
            let sleeper = ticktock::spawn(async move {
                time::sleep_until(start + Duration::from_secs(10)).await;
                flag.store(true, Ordering::SeqCst);
            });
            time::advance(Duration::from_secs(10)).await;
            sleeper.await.unwrap();
            assert!(fired.load(Ordering::SeqCst));
            assert_eq!(start.elapsed(), Duration::from_secs(10));
            time::resume();
            let real = std::time::Instant::now();
            ticktock::spawn(sleep(Duration::from_millis(20)))
                .await
                .unwrap();
            assert!(
                real.elapsed() >= Duration::from_millis(20),
                "resumed time is real"
            );
            assert!(start.elapsed() >= Duration::from_millis(10_020));
        });
    });
}

/// The example of docs/testing.md, kept compiling and passing here: a retry loop
/// with exponential back-off, tested on virtual time on the multi-thread runtime.
mod testing_md_example {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use ticktock::time::{sleep, timeout, Instant};

    /// Calls `attempt` until it succeeds, waiting 100 ms, 200 ms, 400 ms, ...
    /// between tries, and gives up after `deadline`.
    async fn retry<F, Fut>(deadline: Duration, mut attempt: F) -> Option<u32>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<u32>>,
    {
        timeout(deadline, async {
            let mut backoff = Duration::from_millis(100);
            loop {
                if let Some(value) = attempt().await {
                    return value;
                }
                sleep(backoff).await;
                backoff *= 2;
            }
        })
        .await
        .ok()
    }

    #[ticktock::test(flavor = "multi_thread", worker_threads = 2, start_paused = true)]
    async fn retry_backs_off_exponentially() {
        let start = Instant::now();
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        // Succeeds on the 4th call: after 100 + 200 + 400 ms of back-off.
        let value = retry(Duration::from_secs(10), move || {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            async move { (n == 4).then_some(n) }
        })
        .await;
        assert_eq!(value, Some(4));
        assert_eq!(start.elapsed(), Duration::from_millis(700));
    }

    #[ticktock::test(flavor = "multi_thread", worker_threads = 2, start_paused = true)]
    async fn retry_gives_up_at_its_deadline() {
        let start = Instant::now();
        let value = retry(Duration::from_secs(10), || async { None }).await;
        assert_eq!(value, None);
        // Exactly 10 virtual seconds, in no real time.
        assert_eq!(start.elapsed(), Duration::from_secs(10));
    }
}
