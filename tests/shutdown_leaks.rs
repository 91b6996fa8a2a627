//! Shutdown with work in flight: a runtime dropped (or shut down with a timeout)
//! while tasks sleep, intervals are armed, tasks wait forever, a listener waits for
//! connections and connected sockets wait for data. Afterwards every task's future
//! has been dropped, every timer entry freed, and values that outlive the runtime (a
//! registered `Sleep`, a `JoinHandle`) can still be dropped or awaited safely.
//!
//! Small on purpose: `.ci/valgrind.sh` runs this file under memcheck, where a
//! definite leak or an invalid access at shutdown fails the run.

mod common;

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{runtime, total_timers, DropFlag};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use futures::FutureExt;
use ticktock::net::{TcpListener, TcpStream};
use ticktock::time::{interval, sleep, timeout, Sleep};

/// Long enough to be pending for the whole test.
const FOREVER: Duration = Duration::from_secs(3600);

/// How long to wait for the scenario to be in place (generous: under valgrind
/// everything runs tens of times slower).
const SETUP_LIMIT: Duration = Duration::from_secs(60);

/// Quiet time before shutdown, for wake-ups already in flight to be handled.
const SETTLE: Duration = Duration::from_millis(20);

/// Sockets connected in each scenario.
const CONNECTIONS: usize = 3;

/// What a scenario left behind for the checks after shutdown.
struct InFlight {
    flags: Vec<Arc<std::sync::atomic::AtomicBool>>,
    outside_sleep: Pin<Box<Sleep>>,
    outside_join: ticktock::task::JoinHandle<()>,
    handle: ticktock::Handle,
}

/// Puts work of every kind in flight on `rt` and waits until it is all registered.
fn set_up(rt: &ticktock::Runtime) -> InFlight {
    let mut flags = Vec::new();
    let mut flag = || {
        let (flag, dropped) = DropFlag::new();
        flags.push(dropped);
        flag
    };
    // Sleeping tasks, armed intervals, tasks pending forever, a pending timeout.
    for i in 0..8u64 {
        let f = flag();
        rt.spawn(async move {
            let _f = f;
            sleep(FOREVER + Duration::from_secs(i)).await;
        });
    }
    for _ in 0..4 {
        let f = flag();
        rt.spawn(async move {
            let _f = f;
            let mut ticker = interval(FOREVER);
            ticker.tick().await;
            ticker.tick().await;
        });
    }
    for _ in 0..4 {
        let f = flag();
        rt.spawn(async move {
            let _f = (f, vec![0u8; 4096]);
            std::future::pending::<()>().await;
        });
    }
    let f = flag();
    rt.spawn(async move {
        let _f = f;
        let _ = timeout(FOREVER, std::future::pending::<()>()).await;
    });

    // A listener whose accept loop hands each connection to a task that waits for
    // data that never comes, and clients that wrote a little and wait for a reply.
    let accepted = Arc::new(AtomicUsize::new(0));
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr = listener.local_addr().unwrap();
    let f = flag();
    {
        let accepted = accepted.clone();
        rt.spawn(async move {
            let _f = f;
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                accepted.fetch_add(1, Ordering::SeqCst);
                ticktock::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = stream.read(&mut buf).await {
                        if n == 0 {
                            return;
                        }
                    }
                });
            }
        });
    }
    for _ in 0..CONNECTIONS {
        let f = flag();
        rt.spawn(async move {
            let _f = f;
            let mut client = TcpStream::connect(addr).await.expect("connect");
            client.write_all(b"hello").await.expect("write");
            let mut reply = [0u8; 16];
            let _ = client.read(&mut reply).await;
        });
    }

    // A registered sleep and a join handle that will outlive the runtime.
    let (outside_sleep, outside_join) = rt.block_on(async {
        let mut s = Box::pin(sleep(FOREVER));
        assert!(s.as_mut().now_or_never().is_none());
        (s, ticktock::spawn(std::future::pending::<()>()))
    });

    let handle = rt.handle().clone();
    // 8 sleeps + 4 intervals + 1 timeout + the outside sleep.
    let timers = 8 + 4 + 1 + 1;
    let ready = {
        let (accepted, handle) = (accepted.clone(), handle.clone());
        move || {
            accepted.load(Ordering::SeqCst) == CONNECTIONS
                && total_timers(&handle.metrics(), |t| t.live) == timers
        }
    };
    // Wait inside `block_on`, so a current-thread runtime makes progress meanwhile
    // (the polling sleep has fired, so it is not live, whenever `ready` looks).
    let in_place = rt.block_on(async {
        let give_up = std::time::Instant::now() + SETUP_LIMIT;
        while !ready() && std::time::Instant::now() < give_up {
            sleep(Duration::from_millis(1)).await;
        }
        // Let spurious wake-ups (a socket's write readiness) run out, so no task sits
        // in a worker's run queue at shutdown: see `tasks_queued_at_shutdown_...`.
        sleep(SETTLE).await;
        ready()
    });
    assert!(
        in_place,
        "scenario not in place: {} accepted, {} live timers",
        accepted.load(Ordering::SeqCst),
        total_timers(&handle.metrics(), |t| t.live)
    );
    InFlight {
        flags,
        outside_sleep,
        outside_join,
        handle,
    }
}

/// The checks after shutdown: every future dropped, nothing left registered, and
/// the leftovers behave.
fn check_after_shutdown(in_flight: InFlight) {
    let InFlight {
        flags,
        outside_sleep,
        outside_join,
        handle,
    } = in_flight;
    for (i, dropped) in flags.iter().enumerate() {
        assert!(dropped.load(Ordering::SeqCst), "task {i} was not dropped");
    }
    let err = futures::executor::block_on(outside_join).unwrap_err();
    assert!(err.is_cancelled());
    // Dropping a sleep registered with a runtime that is gone frees its entry.
    drop(outside_sleep);
    let metrics = handle.metrics();
    assert_eq!(metrics.alive_tasks, 0);
    assert_eq!(total_timers(&metrics, |t| t.live), 0);
    assert_eq!(
        total_timers(&metrics, |t| t.slab_len),
        0,
        "timer entries leaked"
    );
}

#[test]
fn multi_thread_runtime_dropped_with_work_in_flight() {
    let rt = runtime(2);
    let in_flight = set_up(&rt);
    drop(rt);
    check_after_shutdown(in_flight);
}

#[test]
fn current_thread_runtime_dropped_with_work_in_flight() {
    let rt = ticktock::Builder::new_current_thread().build().unwrap();
    let in_flight = set_up(&rt);
    drop(rt);
    check_after_shutdown(in_flight);
}

#[test]
fn shutdown_timeout_with_work_in_flight() {
    let rt = runtime(2);
    let in_flight = set_up(&rt);
    rt.shutdown_timeout(Duration::from_millis(50));
    check_after_shutdown(in_flight);
}

#[test]
fn runtimes_created_and_dropped_in_a_loop() {
    for i in 0..5 {
        let rt = if i % 2 == 0 {
            runtime(2)
        } else {
            ticktock::Builder::new_current_thread().build().unwrap()
        };
        rt.block_on(async {
            let child = ticktock::spawn(sleep(Duration::from_millis(1)));
            ticktock::spawn(sleep(FOREVER));
            let blocking = ticktock::task::spawn_blocking(|| vec![1u8; 1024].len());
            child.await.unwrap();
            assert_eq!(blocking.await.unwrap(), 1024);
        });
        drop(rt);
    }
}

/// Known bug (reported in `docs/reliability.md`): tasks waiting in a worker's local
/// run queue when the runtime shuts down are never dropped. The worker leaves its loop
/// without draining the queue; the queue's buffer stays alive through the runtime's
/// `Stealer`s, and each queued `Runnable` holds a `Handle` (its scheduler), so the
/// buffer, the tasks and the runtime's shared state form a cycle: their futures'
/// destructors never run and memcheck reports the buffer as definitely lost. Here one
/// worker is kept busy while ten tasks it spawned wait in its queue; at most the one
/// in its LIFO cell is dropped.
#[test]
fn tasks_queued_at_shutdown_are_dropped() {
    let rt = runtime(1);
    let (tx, rx) = std::sync::mpsc::channel();
    rt.spawn(async move {
        let mut flags = Vec::new();
        for _ in 0..10 {
            let (flag, dropped) = DropFlag::new();
            flags.push(dropped);
            ticktock::spawn(async move {
                let _flag = flag;
                std::future::pending::<()>().await;
            });
        }
        tx.send(flags).unwrap();
        // Busy in one poll, so the tasks it spawned stay queued behind it.
        std::thread::sleep(Duration::from_millis(300));
    });
    let flags = rx.recv().unwrap();
    drop(rt);
    let leaked = flags
        .iter()
        .filter(|dropped| !dropped.load(Ordering::SeqCst))
        .count();
    assert_eq!(leaked, 0, "{leaked} of 10 queued tasks were never dropped");
}
