//! Shutdown and drop with work of every kind in flight: sleeps, intervals (one
//! ticking every millisecond), tasks pending forever, a task that yields forever,
//! an accept loop that ignores its errors (issue 22's loop) holding accepted
//! sockets, clients waiting for data, signal listeners (the runtime registers its
//! own duplicate of the signal pipe), blocking jobs running and queued. After
//! `shutdown_timeout`, `shutdown_background` (once its threads finish) or drop:
//! every future is dropped, no runtime thread is left, the descriptor count is
//! back where it was before the runtime, and the process uses no CPU.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ticktock::net::{TcpListener, TcpStream};
use ticktock::signal::unix::{signal, SignalKind};
use ticktock::time::{interval, sleep};

use super::probe::{cpu_used_over, describe_fds, open_fds, threads_named, wait_for, ThreadState};

/// The runtime's thread names start with this (workers `flt-0`, `flt-1`; blocking
/// threads `flt-blocking`).
const THREAD_PREFIX: &str = "flt";

/// Long enough to be pending for the whole scenario.
const FOREVER: Duration = Duration::from_secs(3600);

/// How long the checks wait for what they expect (a loaded CI machine included).
const SETTLE_LIMIT: Duration = Duration::from_secs(30);

/// The quiet window over which the process's CPU time is read after shutdown.
const IDLE_WINDOW: Duration = Duration::from_millis(500);

/// CPU time allowed over [`IDLE_WINDOW`]: a thread left spinning uses nearly all of
/// it (at least a quarter even on a machine loaded 4 runnable threads per core);
/// an idle process uses close to none (`/proc` counts in 10 ms ticks).
const IDLE_CPU_LIMIT: Duration = Duration::from_millis(100);

/// Work in flight, by kind.
const SLEEPS: usize = 2_000;
const INTERVALS: usize = 200;
const FAST_INTERVALS: usize = 20;
const PENDING: usize = 200;
const CLIENTS: usize = 50;
const SIGNAL_LISTENERS: usize = 4;
const BLOCKING_RUNNING: usize = 2;
const BLOCKING_QUEUED: usize = 8;

/// How long a running blocking job lasts: it cannot be interrupted, so the checks
/// wait for it (tokio's blocking threads behave the same).
const BLOCKING_JOB: Duration = Duration::from_millis(200);

/// Counts live values: `Guard::new` adds one, dropping the guard takes it away.
#[derive(Clone, Default)]
struct Live(Arc<AtomicUsize>);

struct Guard(Arc<AtomicUsize>);

impl Live {
    fn guard(&self) -> Guard {
        self.0.fetch_add(1, Ordering::SeqCst);
        Guard(self.0.clone())
    }

    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Spawns every kind of work on `rt` (through `spawn`, inside `enter`) and returns
/// once all of it is in place: every task polled at least once, every client
/// accepted.
fn put_work_in_flight(rt: &ticktock::Runtime, live: &Live, jobs: &Live) {
    let started = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(AtomicUsize::new(0));
    let _enter = rt.enter();
    let spawn_counted =
        |guard: Guard, future: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>| {
            let started = started.clone();
            ticktock::spawn(async move {
                let _guard = guard;
                started.fetch_add(1, Ordering::SeqCst);
                future.await;
            })
        };
    for i in 0..SLEEPS {
        spawn_counted(
            live.guard(),
            Box::pin(sleep(FOREVER + Duration::from_millis(i as u64))),
        );
    }
    for i in 0..INTERVALS + FAST_INTERVALS {
        let period = if i < FAST_INTERVALS {
            Duration::from_millis(1)
        } else {
            FOREVER
        };
        spawn_counted(
            live.guard(),
            Box::pin(async move {
                let mut ticks = interval(period);
                loop {
                    ticks.tick().await;
                }
            }),
        );
    }
    for _ in 0..PENDING {
        spawn_counted(live.guard(), Box::pin(std::future::pending()));
    }
    // Busy but cooperative: must be taken off its worker.
    spawn_counted(
        live.guard(),
        Box::pin(async {
            loop {
                ticktock::task::yield_now().await;
            }
        }),
    );
    // Issue 22's accept loop: errors ignored, accepted sockets kept.
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    {
        let accepted = accepted.clone();
        spawn_counted(
            live.guard(),
            Box::pin(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let mut held = Vec::new();
                loop {
                    if let Ok((stream, _)) = listener.accept().await {
                        held.push(stream);
                        accepted.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }),
        );
    }
    let addr = addr_rx
        .recv_timeout(SETTLE_LIMIT)
        .expect("the listener binds");
    for _ in 0..SIGNAL_LISTENERS {
        spawn_counted(
            live.guard(),
            Box::pin(async {
                let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
                usr1.recv().await;
            }),
        );
    }
    for _ in 0..CLIENTS {
        spawn_counted(
            live.guard(),
            Box::pin(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                let mut buf = [0u8; 1];
                // Waits for data that never comes.
                let _ = futures::io::AsyncReadExt::read(&mut stream, &mut buf).await;
                std::future::pending::<()>().await;
            }),
        );
    }
    for _ in 0..BLOCKING_RUNNING + BLOCKING_QUEUED {
        let guard = jobs.guard();
        drop(ticktock::task::spawn_blocking(move || {
            let _guard = guard;
            std::thread::sleep(BLOCKING_JOB);
        }));
    }
    let tasks = SLEEPS + INTERVALS + FAST_INTERVALS + PENDING + 2 + CLIENTS + SIGNAL_LISTENERS;
    let in_place = wait_for(SETTLE_LIMIT, || {
        started.load(Ordering::SeqCst) == tasks && accepted.load(Ordering::SeqCst) == CLIENTS
    });
    assert!(
        in_place.is_some(),
        "work never in place: {} of {tasks} tasks started, {} of {CLIENTS} accepted",
        started.load(Ordering::SeqCst),
        accepted.load(Ordering::SeqCst)
    );
}

fn multi_thread_runtime() -> ticktock::Runtime {
    ticktock::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(BLOCKING_RUNNING)
        .thread_name(THREAD_PREFIX)
        .build()
        .expect("runtime builds")
}

/// How the runtime is ended.
#[derive(Clone, Copy, Debug)]
enum End {
    Timeout,
    Background,
    Drop,
}

/// The descriptors open before any runtime exists, with the process-wide signal
/// self-pipe already created (by a listener on a throw-away runtime): that pipe
/// lives as long as the process, by design; each runtime's duplicate of its
/// receiving end must not.
fn fds_before_any_runtime() -> usize {
    let rt = ticktock::Builder::new_current_thread().build().unwrap();
    rt.block_on(async { drop(signal(SignalKind::user_defined1()).unwrap()) });
    drop(rt);
    open_fds(None)
}

/// What shutdown must leave: checks it and returns the figures. `tasks_at_return`
/// is the count of task futures not yet dropped when the call returned.
fn check_nothing_left(
    live: &Live,
    jobs: &Live,
    tasks_at_return: usize,
    fds_before: usize,
    ended_in: Duration,
) -> String {
    let dropped_in = wait_for(SETTLE_LIMIT, || live.count() == 0);
    assert!(
        dropped_in.is_some(),
        "{} task futures were never dropped",
        live.count()
    );
    // Running blocking jobs cannot be interrupted: they end on their own.
    let jobs_done_in = wait_for(SETTLE_LIMIT, || jobs.count() == 0);
    assert!(
        jobs_done_in.is_some(),
        "{} blocking jobs never ended or were never dropped",
        jobs.count()
    );
    let threads_gone_in = wait_for(SETTLE_LIMIT, || threads_named(THREAD_PREFIX).is_empty());
    let left: Vec<ThreadState> = threads_named(THREAD_PREFIX);
    assert!(
        threads_gone_in.is_some(),
        "runtime threads still there: {left:?}"
    );
    let fds_back_in = wait_for(SETTLE_LIMIT, || open_fds(None) == fds_before);
    assert!(
        fds_back_in.is_some(),
        "{} descriptors open, {fds_before} before the runtime: {:#?}",
        open_fds(None),
        describe_fds()
    );
    let cpu = cpu_used_over(None, IDLE_WINDOW);
    assert!(
        cpu < IDLE_CPU_LIMIT,
        "the process used {cpu:?} of CPU over {IDLE_WINDOW:?} after shutdown: something spins"
    );
    format!(
        "returned in {} ms with {tasks_at_return} task futures not yet dropped; all dropped \
         +{} ms, blocking jobs done +{} ms, threads gone +{} ms, fds back +{} ms; CPU over \
         {} ms idle: {} ms",
        ended_in.as_millis(),
        dropped_in.unwrap_or_default().as_millis(),
        jobs_done_in.unwrap_or_default().as_millis(),
        threads_gone_in.unwrap_or_default().as_millis(),
        fds_back_in.unwrap_or_default().as_millis(),
        IDLE_WINDOW.as_millis(),
        cpu.as_millis()
    )
}

fn end_multi_thread(end: End) -> String {
    let fds_before = fds_before_any_runtime();
    let (live, jobs) = (Live::default(), Live::default());
    let rt = multi_thread_runtime();
    put_work_in_flight(&rt, &live, &jobs);
    let start = Instant::now();
    match end {
        End::Timeout => rt.shutdown_timeout(Duration::from_millis(300)),
        End::Background => rt.shutdown_background(),
        End::Drop => drop(rt),
    }
    let ended_in = start.elapsed();
    let tasks_at_return = live.count();
    match end {
        End::Timeout => assert!(
            ended_in < Duration::from_secs(10),
            "shutdown_timeout(300 ms) took {ended_in:?}"
        ),
        End::Drop => assert_eq!(
            tasks_at_return, 0,
            "drop returned before dropping every task"
        ),
        End::Background => {}
    }
    check_nothing_left(&live, &jobs, tasks_at_return, fds_before, ended_in)
}

pub fn shutdown_timeout() -> String {
    end_multi_thread(End::Timeout)
}

pub fn shutdown_background() -> String {
    end_multi_thread(End::Background)
}

pub fn drop_multi_thread() -> String {
    end_multi_thread(End::Drop)
}

pub fn drop_current_thread() -> String {
    let fds_before = fds_before_any_runtime();
    let (live, jobs) = (Live::default(), Live::default());
    let rt = ticktock::Builder::new_current_thread()
        .max_blocking_threads(BLOCKING_RUNNING)
        .thread_name(THREAD_PREFIX)
        .build()
        .expect("runtime builds");
    // Tasks of a current-thread runtime run inside `block_on` only: drive them
    // while another thread puts the work in place.
    let driving = std::sync::atomic::AtomicBool::new(true);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            put_work_in_flight(&rt, &live, &jobs);
            driving.store(false, Ordering::SeqCst);
        });
        rt.block_on(async {
            while driving.load(Ordering::SeqCst) {
                sleep(Duration::from_millis(1)).await;
            }
        });
    });
    let start = Instant::now();
    drop(rt);
    let tasks_at_return = live.count();
    assert_eq!(
        tasks_at_return, 0,
        "drop returned before dropping every task"
    );
    check_nothing_left(&live, &jobs, tasks_at_return, fds_before, start.elapsed())
}

/// A poll that never returns cannot be taken: `shutdown_timeout` still returns on
/// time and drops every other task, and the runtime's metrics count the worker
/// left running (`worker_threads`). The process exits with that thread still
/// spinning: the documented limit (tokio's too).
pub fn never_returning_poll() -> String {
    let live = Live::default();
    let rt = multi_thread_runtime();
    let handle = rt.handle().clone();
    let spinning = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let spinning = spinning.clone();
        rt.spawn(async move {
            spinning.store(true, Ordering::SeqCst);
            loop {
                std::hint::spin_loop();
            }
        });
    }
    for _ in 0..100 {
        let guard = live.guard();
        rt.spawn(async move {
            let _guard = guard;
            sleep(FOREVER).await;
        });
    }
    assert!(wait_for(SETTLE_LIMIT, || spinning.load(Ordering::SeqCst)).is_some());
    let start = Instant::now();
    rt.shutdown_timeout(Duration::from_millis(200));
    let ended_in = start.elapsed();
    assert!(
        ended_in < Duration::from_secs(10),
        "shutdown_timeout(200 ms) took {ended_in:?}"
    );
    let dropped_in = wait_for(SETTLE_LIMIT, || live.count() == 0);
    assert!(
        dropped_in.is_some(),
        "{} other futures never dropped",
        live.count()
    );
    // The other worker stops within its current poll.
    let counted = wait_for(SETTLE_LIMIT, || handle.metrics().worker_threads == 1);
    let left = handle.metrics().worker_threads;
    assert!(
        counted.is_some(),
        "worker_threads = {left}, expected the 1 left in its poll"
    );
    let running: Vec<ThreadState> = threads_named(THREAD_PREFIX);
    assert_eq!(running.len(), 1, "threads: {running:?}");
    format!(
        "returned in {} ms; other futures dropped +{} ms; worker_threads = {left}; left: {} ({})",
        ended_in.as_millis(),
        dropped_in.unwrap_or_default().as_millis(),
        running[0].name,
        running[0].state
    )
}
