//! The cooperative budget on every operation that can complete at once: a task that
//! loops over such an operation (an accept loop that ignores errors, a read loop at
//! end of stream, a `select!` over an elapsed sleep) must still yield, or its worker
//! never runs anything else and shutdown can never take the task off it.
//!
//! Each test runs one operation over and over inside ONE poll of one task and counts
//! how many times it completes before it answers `Pending`. With the budget charged
//! that count is the budget (128); an operation that does not charge it completes
//! every time, up to [`CAP`], and the test fails. The tests marked "failed before the
//! fix" did so on the tree before issue 22; the others guard paths that were already
//! charged.

mod common;

use std::future::Future;
use std::io::ErrorKind;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use common::{runtime, wait_until, DropFlag};
use futures::io::{AsyncRead, AsyncWrite};
use ticktock::net::{TcpListener, TcpSocket, TcpStream, UdpSocket, UnixStream};
use ticktock::time::{interval_at, sleep, Instant, MissedTickBehavior};

/// Completions counted in one poll before the test gives up counting: far above the
/// budget (128), far below what takes long to run.
const CAP: usize = 100_000;

/// What a budgeted operation may complete in one poll: the budget (128) plus room,
/// so the tests do not depend on its exact value.
const MOST_PER_POLL: usize = 1_000;

/// How long a test waits for something that takes microseconds (a loaded CI machine
/// included).
const LIMIT: Duration = Duration::from_secs(20);

/// Inside one poll, runs `op` until it answers `Pending` (or [`CAP`] times) and
/// returns how many times it completed. `op` gets the task's context; it polls a
/// future or a `poll_*` method once.
async fn completions_in_one_poll<T>(mut op: impl FnMut(&mut Context<'_>) -> Poll<T>) -> usize {
    std::future::poll_fn(|cx| {
        let mut completed = 0;
        while completed < CAP {
            match op(cx) {
                Poll::Ready(_) => completed += 1,
                Poll::Pending => break,
            }
        }
        Poll::Ready(completed)
    })
    .await
}

/// Polls a fresh future made by `make` once.
fn poll_once<F: Future>(cx: &mut Context<'_>, make: impl FnOnce() -> F) -> Poll<F::Output> {
    pin!(make()).poll(cx)
}

/// Runs `body` in a task of a fresh 1-worker runtime and returns its count.
fn count_in_task<F>(body: F) -> usize
where
    F: Future<Output = usize> + Send + 'static,
{
    let rt = runtime(1);
    let count = rt
        .block_on(rt.spawn(body))
        .expect("the counting task completes");
    rt.shutdown_timeout(LIMIT);
    count
}

fn assert_budgeted(what: &str, completed: usize) {
    assert!(completed > 0, "{what}: the operation never completed");
    assert!(
        completed <= MOST_PER_POLL,
        "{what}: completed {completed} times in one poll without yielding (the budget \
         is 128): it does not charge the cooperative budget"
    );
}

/// A connected pair of TCP streams, made inside the runtime.
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = futures::join!(TcpStream::connect(addr), listener.accept());
    (client.unwrap(), accepted.unwrap().0)
}

/// Failed before the fix: once the runtime drains, `accept` failed at once without
/// charging the budget, so `loop { let _ = listener.accept().await; }` never yielded,
/// shutdown could never take the task off its worker, and the worker spun forever.
#[test]
fn accept_refused_while_draining_yields_and_the_task_is_dropped() {
    let rt = runtime(2);
    let most = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let (flag, dropped) = DropFlag::new();
    let listening = Arc::new(AtomicBool::new(false));
    {
        let (most, refused, listening) = (most.clone(), refused.clone(), listening.clone());
        rt.spawn(async move {
            let _flag = flag;
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            listening.store(true, Ordering::SeqCst);
            // The loop that must survive EMFILE: errors are ignored. Each poll
            // records its longest run of completions; a run at CAP yields by hand
            // (so the test ends even when the budget is not charged).
            loop {
                let completed = completions_in_one_poll(|cx| {
                    let accepted = listener.poll_accept(cx);
                    if matches!(&accepted, Poll::Ready(Err(_))) {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    accepted
                })
                .await;
                most.fetch_max(completed, Ordering::SeqCst);
                ticktock::task::yield_now().await;
            }
        });
    }
    assert!(wait_until(LIMIT, || listening.load(Ordering::SeqCst)));
    rt.shutdown_timeout(Duration::from_millis(50));
    assert!(
        wait_until(LIMIT, || dropped.load(Ordering::SeqCst)),
        "the accept loop's future was never dropped"
    );
    assert!(
        refused.load(Ordering::Relaxed) > 0,
        "accept was never refused"
    );
    assert_budgeted("accept while draining", most.load(Ordering::SeqCst));
}

/// Failed before the fix: a `Sleep` that has elapsed answered `Ready` to every
/// later poll without charging the budget (a `select!` loop over a pinned sleep
/// that already fired spun).
#[test]
fn an_elapsed_sleep_polled_again_charges_the_budget() {
    let completed = count_in_task(async {
        let mut elapsed = pin!(sleep(Duration::ZERO));
        elapsed.as_mut().await;
        completions_in_one_poll(|cx| elapsed.as_mut().poll(cx)).await
    });
    assert_budgeted("elapsed sleep polled again", completed);
}

#[test]
fn a_fresh_sleep_of_a_passed_deadline_charges_the_budget() {
    let completed = count_in_task(async {
        completions_in_one_poll(|cx| poll_once(cx, || sleep(Duration::ZERO))).await
    });
    assert_budgeted("sleep(0)", completed);
}

#[test]
fn an_interval_with_missed_ticks_charges_the_budget() {
    let completed = count_in_task(async {
        let start = Instant::now() - Duration::from_secs(3600);
        let mut ticks = interval_at(start, Duration::from_nanos(1));
        ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
        completions_in_one_poll(|cx| ticks.poll_tick(cx)).await
    });
    assert_budgeted("interval tick (burst of missed ticks)", completed);
}

#[test]
fn read_at_end_of_stream_charges_the_budget() {
    let completed = count_in_task(async {
        let (mut reader, writer) = tcp_pair().await;
        drop(writer);
        let mut buf = [0u8; 16];
        // Wait for the end of stream to arrive, then count.
        let end = std::future::poll_fn(|cx| Pin::new(&mut reader).poll_read(cx, &mut buf)).await;
        assert_eq!(end.unwrap(), 0);
        completions_in_one_poll(|cx| Pin::new(&mut reader).poll_read(cx, &mut buf)).await
    });
    assert_budgeted("read at end of stream", completed);
}

#[test]
fn write_to_a_reset_peer_charges_the_budget() {
    let completed = count_in_task(async {
        let (mut writer, reader) = tcp_pair().await;
        // Linger 0: closing sends RST, so every later write fails at once.
        socket2::SockRef::from(&reader)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(reader);
        // Until the RST arrives writes may succeed; wait for the first failure.
        let deadline = std::time::Instant::now() + LIMIT;
        loop {
            let failed = std::future::poll_fn(|cx| Pin::new(&mut writer).poll_write(cx, b"x"))
                .await
                .is_err();
            if failed || std::time::Instant::now() > deadline {
                break;
            }
            sleep(Duration::from_millis(1)).await;
        }
        completions_in_one_poll(|cx| Pin::new(&mut writer).poll_write(cx, b"x")).await
    });
    assert_budgeted("write to a reset peer", completed);
}

#[test]
fn writable_on_an_idle_stream_charges_the_budget() {
    let completed = count_in_task(async {
        let (stream, _peer) = tcp_pair().await;
        completions_in_one_poll(|cx| poll_once(cx, || stream.writable())).await
    });
    assert_budgeted("writable()", completed);
}

#[test]
fn readable_with_data_waiting_charges_the_budget() {
    let completed = count_in_task(async {
        let (stream, mut peer) = tcp_pair().await;
        futures::io::AsyncWriteExt::write_all(&mut peer, b"data")
            .await
            .unwrap();
        stream.readable().await.unwrap();
        completions_in_one_poll(|cx| poll_once(cx, || stream.readable())).await
    });
    assert_budgeted("readable()", completed);
}

/// Failed before the fix: a connect whose socket call fails at once (here the
/// address family does not match the socket's) returned without charging.
#[test]
fn connect_failing_at_once_charges_the_budget() {
    let completed = count_in_task(async {
        let v6: std::net::SocketAddr = "[::1]:9".parse().unwrap();
        completions_in_one_poll(|cx| {
            poll_once(cx, || async {
                let socket = TcpSocket::new_v4().unwrap();
                let result = socket.connect(v6).await;
                assert!(result.is_err(), "a v4 socket connected to a v6 address");
            })
        })
        .await
    });
    assert_budgeted("TcpSocket::connect failing at once", completed);
}

/// Failed before the fix: `TcpStream::connect` to an address list that resolves to
/// nothing usable fails at once.
#[test]
fn tcp_stream_connect_failing_at_once_charges_the_budget() {
    let completed = count_in_task(async {
        let nowhere: &[std::net::SocketAddr] = &[];
        completions_in_one_poll(|cx| poll_once(cx, || TcpStream::connect(nowhere))).await
    });
    assert_budgeted("TcpStream::connect failing at once", completed);
}

/// Failed before the fix: connecting to a Unix path that does not exist fails at
/// once (`ENOENT`).
#[test]
fn unix_connect_to_a_missing_path_charges_the_budget() {
    let completed = count_in_task(async {
        let path =
            std::env::temp_dir().join(format!("ticktock-coop-missing-{}.sock", std::process::id()));
        completions_in_one_poll(|cx| {
            poll_once(cx, || async {
                let error = UnixStream::connect(&path).await.unwrap_err();
                assert_eq!(error.kind(), ErrorKind::NotFound);
            })
        })
        .await
    });
    assert_budgeted("UnixStream::connect to a missing path", completed);
}

#[test]
fn udp_send_failing_at_once_charges_the_budget() {
    let completed = count_in_task(async {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        socket.connect(socket.local_addr().unwrap()).await.unwrap();
        // Larger than any UDP datagram: EMSGSIZE on every send.
        let too_big = vec![0u8; 70_000];
        socket.writable().await.unwrap();
        completions_in_one_poll(|cx| socket.poll_send(cx, &too_big)).await
    });
    assert_budgeted("UDP send failing at once (EMSGSIZE)", completed);
}

#[test]
fn udp_recv_with_datagrams_waiting_charges_the_budget() {
    let completed = count_in_task(async {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        // More datagrams waiting than the budget allows in one poll.
        for _ in 0..400 {
            socket.send_to(b"d", addr).await.unwrap();
        }
        let mut buf = [0u8; 8];
        socket.readable().await.unwrap();
        completions_in_one_poll(|cx| socket.poll_recv(cx, &mut buf)).await
    });
    assert!(
        completed < 400,
        "all 400 datagrams were received in one poll"
    );
    assert_budgeted("UDP recv", completed);
}

/// Failed before the fix: `UdpSocket::connect` completes at once (no handshake)
/// and did not charge.
#[test]
fn udp_connect_charges_the_budget() {
    let completed = count_in_task(async {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        completions_in_one_poll(|cx| poll_once(cx, || socket.connect(addr))).await
    });
    assert_budgeted("UdpSocket::connect", completed);
}

/// Attempts the spinning task makes before it gives up (seconds before the fix,
/// when no other task could run meanwhile).
const ATTEMPTS: u64 = 200_000;

/// Failed before the fix: a task that spins on an operation completing at once
/// still lets the other tasks of its single worker run.
#[test]
fn a_task_looping_on_an_instant_error_does_not_starve_its_worker() {
    let rt = runtime(1);
    let progressed = Arc::new(AtomicBool::new(false));
    let spinner = {
        let progressed = progressed.clone();
        rt.spawn(async move {
            let v6: std::net::SocketAddr = "[::1]:9".parse().unwrap();
            let mut attempts = 0u64;
            while !progressed.load(Ordering::SeqCst) && attempts < ATTEMPTS {
                let _ = TcpSocket::new_v4().unwrap().connect(v6).await;
                attempts += 1;
            }
            attempts
        })
    };
    let other = {
        let progressed = progressed.clone();
        rt.spawn(async move { progressed.store(true, Ordering::SeqCst) })
    };
    rt.block_on(other).unwrap();
    let attempts = rt.block_on(spinner).unwrap();
    assert!(
        attempts < ATTEMPTS,
        "the spinning task never let the other task run"
    );
    rt.shutdown_timeout(LIMIT);
}
