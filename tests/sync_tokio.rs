//! `tokio::sync` on ticktock: tokio documents its sync
//! primitives as runtime-independent; these tests use them across ticktock's
//! workers, with ticktock's timers and tokio's `select!`/`join!`/`pin!` macros
//! (runtime-free too), and check every result against what the operations must
//! produce.
//!
//! Each scenario runs in a short form in the normal suite and a long `#[ignore]`
//! form: `cargo test --release --test sync_tokio -- --ignored`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ticktock::task::JoinSet;
use ticktock::time::{sleep, timeout};
use tokio::sync::{broadcast, mpsc, oneshot, watch, Mutex, Notify, RwLock, Semaphore};

/// How many times each scenario runs per round of the normal suite.
const SHORT_ROUNDS: usize = 3;
/// Rounds of the long form.
const LONG_ROUNDS: usize = 200;
/// Workers: more than the CI machine's 2 cores, so tasks really move between threads.
const WORKERS: usize = 4;

/// Producers on every worker into one bounded channel; the consumer sees every
/// message exactly once, in order per producer.
async fn mpsc_many_producers(producers: u64, per_producer: u64) {
    let (tx, mut rx) = mpsc::channel::<(u64, u64)>(16);
    for p in 0..producers {
        let tx = tx.clone();
        ticktock::spawn(async move {
            for i in 0..per_producer {
                tx.send((p, i)).await.unwrap();
                if i % 7 == 0 {
                    ticktock::task::yield_now().await;
                }
            }
        });
    }
    drop(tx);
    let mut next = vec![0; producers as usize];
    let mut count = 0;
    while let Some((p, i)) = rx.recv().await {
        assert_eq!(next[p as usize], i, "producer {p} out of order");
        next[p as usize] += 1;
        count += 1;
    }
    assert_eq!(count, producers * per_producer);

    // Unbounded, from plain threads too.
    let (tx, mut rx) = mpsc::unbounded_channel::<u64>();
    let thread_tx = tx.clone();
    let thread = std::thread::spawn(move || {
        for i in 0..100 {
            thread_tx.send(i).unwrap();
        }
    });
    ticktock::spawn(async move {
        for i in 100..200 {
            tx.send(i).unwrap();
        }
    });
    let mut sum = 0;
    while let Some(i) = rx.recv().await {
        sum += i;
    }
    thread.join().unwrap();
    assert_eq!(sum, (0..200).sum::<u64>());
}

/// Ping-pong over oneshot channels between tasks on different workers, and a
/// oneshot that is dropped reports closure.
async fn oneshot_ping_pong(pairs: usize) {
    let mut set = JoinSet::new();
    for n in 0..pairs {
        let (ping_tx, ping_rx) = oneshot::channel::<usize>();
        let (pong_tx, pong_rx) = oneshot::channel::<usize>();
        ticktock::spawn(async move {
            let v = ping_rx.await.unwrap();
            pong_tx.send(v + 1).unwrap();
        });
        set.spawn(async move {
            ping_tx.send(n).unwrap();
            pong_rx.await.unwrap()
        });
    }
    let mut total = 0;
    while let Some(v) = set.join_next().await {
        total += v.unwrap();
    }
    assert_eq!(total, (1..=pairs).sum::<usize>());
    let (tx, rx) = oneshot::channel::<()>();
    ticktock::spawn(async move { drop(tx) });
    assert!(rx.await.is_err());
}

/// Every receiver of a broadcast channel sees every message (the capacity covers
/// the burst), then the close.
async fn broadcast_fan_out(receivers: usize, messages: u64) {
    let (tx, _) = broadcast::channel::<u64>(messages as usize);
    let mut set = JoinSet::new();
    for _ in 0..receivers {
        let mut rx = tx.subscribe();
        set.spawn(async move {
            let mut expected = 0;
            loop {
                match rx.recv().await {
                    Ok(v) => {
                        assert_eq!(v, expected);
                        expected += 1;
                    }
                    Err(broadcast::error::RecvError::Closed) => return expected,
                    Err(e) => panic!("unexpected {e}"),
                }
            }
        });
    }
    for i in 0..messages {
        tx.send(i).unwrap();
        if i % 10 == 0 {
            ticktock::task::yield_now().await;
        }
    }
    drop(tx);
    while let Some(received) = set.join_next().await {
        assert_eq!(received.unwrap(), messages);
    }
}

/// Watchers see values only move forward and all end on the last one.
async fn watch_latest_value(watchers: usize, updates: u64) {
    let (tx, rx) = watch::channel(0u64);
    let mut set = JoinSet::new();
    for _ in 0..watchers {
        let mut rx = rx.clone();
        set.spawn(async move {
            let mut last = *rx.borrow_and_update();
            while rx.changed().await.is_ok() {
                let now = *rx.borrow_and_update();
                assert!(now > last, "watch went backwards: {last} -> {now}");
                last = now;
            }
            last
        });
    }
    for i in 1..=updates {
        tx.send(i).unwrap();
        if i % 5 == 0 {
            sleep(Duration::from_micros(50)).await;
        }
    }
    drop(tx);
    while let Some(last) = set.join_next().await {
        assert_eq!(last.unwrap(), updates);
    }
}

/// A tokio Mutex held across awaits (a ticktock sleep) by tasks on every worker
/// loses no increment; an RwLock lets readers see only whole updates.
async fn mutex_and_rwlock(tasks: usize, increments: usize) {
    let counter = Arc::new(Mutex::new(0usize));
    let pair = Arc::new(RwLock::new((0usize, 0usize)));
    let mut set = JoinSet::new();
    for t in 0..tasks {
        let counter = counter.clone();
        let pair = pair.clone();
        set.spawn(async move {
            for i in 0..increments {
                let mut guard = counter.lock().await;
                let seen = *guard;
                if i % 16 == 0 {
                    sleep(Duration::from_micros(10)).await;
                } else {
                    ticktock::task::yield_now().await;
                }
                *guard = seen + 1;
                drop(guard);
                if t % 2 == 0 {
                    let mut w = pair.write().await;
                    w.0 += 1;
                    ticktock::task::yield_now().await;
                    w.1 += 1;
                } else {
                    let r = pair.read().await;
                    assert_eq!(r.0, r.1, "a reader saw half an update");
                }
            }
        });
    }
    while let Some(done) = set.join_next().await {
        done.unwrap();
    }
    assert_eq!(*counter.lock().await, tasks * increments);
}

/// A Semaphore caps concurrency across workers, exactly.
async fn semaphore_caps_concurrency(tasks: usize, permits: usize) {
    let semaphore = Arc::new(Semaphore::new(permits));
    let inside = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for _ in 0..tasks {
        let (semaphore, inside, peak) = (semaphore.clone(), inside.clone(), peak.clone());
        set.spawn(async move {
            let _permit = semaphore.acquire().await.unwrap();
            let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            sleep(Duration::from_micros(200)).await;
            inside.fetch_sub(1, Ordering::SeqCst);
        });
    }
    while let Some(done) = set.join_next().await {
        done.unwrap();
    }
    assert!(peak.load(Ordering::SeqCst) <= permits);
    assert!(peak.load(Ordering::SeqCst) >= 1);
    assert_eq!(semaphore.available_permits(), permits);
}

/// Notify: a baton passed around a ring of tasks on different workers with
/// `notify_one` (the stored permit means no wake-up is lost), then one
/// `notify_waiters` releasing every waiter at once.
async fn notify_ring_and_broadcast(ring: usize, laps: usize) {
    let notifies: Arc<Vec<Notify>> = Arc::new((0..ring).map(|_| Notify::new()).collect());
    let passes = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for i in 0..ring {
        let (notifies, passes) = (notifies.clone(), passes.clone());
        set.spawn(async move {
            for _ in 0..laps {
                notifies[i].notified().await;
                passes.fetch_add(1, Ordering::SeqCst);
                notifies[(i + 1) % ring].notify_one();
            }
        });
    }
    notifies[0].notify_one();
    while let Some(done) = set.join_next().await {
        done.unwrap();
    }
    assert_eq!(passes.load(Ordering::SeqCst), ring * laps);

    let gate = Arc::new(Notify::new());
    let waiting = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for _ in 0..8 {
        let (gate, waiting) = (gate.clone(), waiting.clone());
        set.spawn(async move {
            let notified = gate.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            waiting.fetch_add(1, Ordering::SeqCst);
            notified.await;
        });
    }
    while waiting.load(Ordering::SeqCst) < 8 {
        sleep(Duration::from_micros(100)).await;
    }
    gate.notify_waiters();
    while let Some(done) = set.join_next().await {
        done.unwrap();
    }
}

/// A ported `tokio::select!` loop: tokio's macros with ticktock's timers and
/// tokio's channels, on a ticktock runtime.
async fn select_loop() {
    let (tx, mut rx) = mpsc::channel::<u32>(8);
    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    ticktock::spawn(async move {
        for i in 0..5 {
            tx.send(i).await.unwrap();
            sleep(Duration::from_millis(1)).await;
        }
        sleep(Duration::from_millis(5)).await;
        stop_tx.send(()).unwrap();
    });
    let mut ticks = ticktock::time::interval(Duration::from_millis(2));
    let (mut received, mut ticked) = (Vec::new(), 0);
    loop {
        tokio::select! {
            Some(v) = rx.recv() => received.push(v),
            _ = ticks.tick() => ticked += 1,
            _ = &mut stop_rx => break,
        }
    }
    // `select!` picks among ready branches at random: on a loaded machine the stop
    // can be ready together with the last message. Take what is left.
    while let Ok(v) = rx.try_recv() {
        received.push(v);
    }
    assert_eq!(received, [0, 1, 2, 3, 4]);
    assert!(ticked >= 1);
    let (a, b) = tokio::join!(async { 1 }, sleep(Duration::from_millis(1)));
    assert_eq!((a, b), (1, ()));
    let both: Result<(u8, u8), ()> = tokio::try_join!(async { Ok(1) }, async { Ok(2) });
    assert_eq!(both, Ok((1, 2)));
    // A timeout around a tokio receive.
    let (_keep, mut silent) = mpsc::channel::<()>(1);
    assert!(timeout(Duration::from_millis(5), silent.recv())
        .await
        .is_err());
}

fn all_scenarios(rounds: usize, scale: usize) {
    let rt = common::runtime(WORKERS);
    for _ in 0..rounds {
        rt.block_on(async {
            mpsc_many_producers(8, 200 * scale as u64).await;
            oneshot_ping_pong(200 * scale).await;
            broadcast_fan_out(6, 300 * scale as u64).await;
            watch_latest_value(6, 200 * scale as u64).await;
            mutex_and_rwlock(8, 50 * scale).await;
            semaphore_caps_concurrency(40 * scale, 3).await;
            notify_ring_and_broadcast(5, 50 * scale).await;
            select_loop().await;
        });
    }
    // Nothing of ticktock's is left behind: no task, no timer.
    assert!(common::wait_until(Duration::from_secs(5), || {
        rt.metrics().alive_tasks == 0
    }));
}

#[test]
fn tokio_sync_primitives_work_across_ticktock_workers() {
    all_scenarios(SHORT_ROUNDS, 1);
}

#[test]
fn tokio_sync_primitives_work_on_a_current_thread_runtime() {
    let rt = ticktock::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        mpsc_many_producers(4, 100).await;
        oneshot_ping_pong(100).await;
        broadcast_fan_out(3, 100).await;
        watch_latest_value(3, 100).await;
        mutex_and_rwlock(4, 20).await;
        semaphore_caps_concurrency(20, 2).await;
        notify_ring_and_broadcast(3, 20).await;
        select_loop().await;
    });
}

#[test]
#[ignore = "long: run with --release -- --ignored"]
fn tokio_sync_primitives_work_across_ticktock_workers_long() {
    all_scenarios(LONG_ROUNDS, 4);
}
