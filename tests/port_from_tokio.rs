//! The tokio program of docs/porting.md, with its tests, compiled and run twice from
//! one source: once on tokio and once on ticktock. The only thing that differs
//! between the two is the crate named in `$rt` (the runtime, `spawn`, `JoinSet`,
//! `time` and the test attribute); `tokio::sync` and `tokio::select!` stay tokio's
//! in both, since they need no runtime. So the port is "change the imports", and
//! every test below is checked on both runtimes.

/// The program: a job server. Clients send jobs with a reply channel; the server
/// runs at most `limit` jobs at once, each under a deadline, counts heartbeats,
/// and stops when told to, cancelling the jobs still running.
macro_rules! job_server {
    ($rt:ident) => {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        use std::time::Duration;

        use tokio::sync::{mpsc, oneshot, watch, Semaphore};
        use $rt::task::JoinSet;
        use $rt::time::{interval, sleep, timeout};

        pub struct Job {
            pub id: u64,
            pub work: Duration,
            pub reply: oneshot::Sender<Result<u64, &'static str>>,
        }

        #[derive(Debug)]
        pub struct Stats {
            pub heartbeats: u64,
            pub peak: usize,
        }

        pub async fn serve(
            mut jobs: mpsc::Receiver<Job>,
            mut stop: watch::Receiver<bool>,
            limit: usize,
            deadline: Duration,
        ) -> Stats {
            let permits = Arc::new(Semaphore::new(limit));
            let inside = Arc::new(AtomicUsize::new(0));
            let peak = Arc::new(AtomicUsize::new(0));
            let mut running = JoinSet::new();
            let mut heartbeat = interval(Duration::from_millis(5));
            let mut heartbeats = 0;
            loop {
                tokio::select! {
                    Some(job) = jobs.recv() => {
                        let permit = permits.clone().acquire_owned().await.unwrap();
                        let (inside, peak) = (inside.clone(), peak.clone());
                        running.spawn(async move {
                            let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                            peak.fetch_max(now, Ordering::SeqCst);
                            let result = timeout(deadline, sleep(job.work))
                                .await
                                .map(|()| job.id * 2)
                                .map_err(|_| "timed out");
                            inside.fetch_sub(1, Ordering::SeqCst);
                            let _ = job.reply.send(result);
                            drop(permit);
                        });
                    }
                    Some(finished) = running.join_next() => finished.unwrap(),
                    _ = heartbeat.tick() => heartbeats += 1,
                    Ok(()) = stop.changed() => break,
                    else => break,
                }
            }
            // Jobs still running are cancelled: their clients see the reply dropped.
            running.shutdown().await;
            Stats {
                heartbeats,
                peak: peak.load(Ordering::SeqCst),
            }
        }

        /// Sends a job and waits for its reply.
        pub async fn submit(
            jobs: &mpsc::Sender<Job>,
            id: u64,
            work: Duration,
        ) -> Result<Result<u64, &'static str>, oneshot::error::RecvError> {
            let (reply, answer) = oneshot::channel();
            jobs.send(Job { id, work, reply }).await.unwrap();
            answer.await
        }

        #[$rt::test(flavor = "multi_thread", worker_threads = 2)]
        async fn jobs_get_answers_and_slow_ones_time_out() {
            let (jobs, rx) = mpsc::channel(16);
            let (stop, stop_rx) = watch::channel(false);
            let server = $rt::spawn(serve(rx, stop_rx, 4, Duration::from_millis(200)));
            let mut clients = JoinSet::new();
            for id in 0..8 {
                let jobs = jobs.clone();
                clients.spawn(async move {
                    let work = Duration::from_millis(if id == 7 { 10_000 } else { 2 });
                    (id, submit(&jobs, id, work).await.unwrap())
                });
            }
            while let Some(answer) = clients.join_next().await {
                let (id, answer) = answer.unwrap();
                if id == 7 {
                    assert_eq!(answer, Err("timed out"));
                } else {
                    assert_eq!(answer, Ok(id * 2));
                }
            }
            stop.send(true).unwrap();
            let stats = server.await.unwrap();
            assert!(stats.heartbeats >= 1);
            assert!(stats.peak >= 1 && stats.peak <= 4, "peak {}", stats.peak);
        }

        #[$rt::test]
        async fn stopping_cancels_running_jobs() {
            let (jobs, rx) = mpsc::channel(16);
            let (stop, stop_rx) = watch::channel(false);
            let server = $rt::spawn(serve(rx, stop_rx, 2, Duration::from_secs(60)));
            let (reply, answer) = oneshot::channel();
            jobs.send(Job {
                id: 1,
                work: Duration::from_secs(30),
                reply,
            })
            .await
            .unwrap();
            sleep(Duration::from_millis(20)).await;
            stop.send(true).unwrap();
            server.await.unwrap();
            assert!(answer.await.is_err(), "a cancelled job drops its reply");
        }

        #[$rt::test]
        async fn closing_every_channel_ends_the_server() {
            let (jobs, rx) = mpsc::channel::<Job>(1);
            let (stop, stop_rx) = watch::channel(false);
            drop(jobs);
            drop(stop);
            // `recv` gives `None`, `changed` an error, the set is empty: only the
            // heartbeat keeps the loop going, so bound the wait.
            let server = $rt::spawn(serve(rx, stop_rx, 1, Duration::from_secs(1)));
            sleep(Duration::from_millis(20)).await;
            server.abort();
            assert!(server.await.unwrap_err().is_cancelled());
        }
    };
}

mod on_tokio {
    job_server!(tokio);
}

mod on_ticktock {
    job_server!(ticktock);
}
