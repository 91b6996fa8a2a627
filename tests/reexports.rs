//! tokio's `use` lines compile against ticktock: one program, written once with a
//! crate alias `rt`, compiled twice (`rt` = tokio, `rt` = ticktock) and run on both.
//! Each `use` line names what tokio's `time`, `task`, `runtime`, `net` and `signal`
//! modules export and a ported program imports; a re-export missing from ticktock
//! fails to compile here. The run checks the items behave as tokio's do.

macro_rules! tokio_style_program {
    () => {
        #[allow(unused_imports)]
        use rt::net::tcp::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
        #[allow(unused_imports)]
        use rt::net::unix::{self as unix_net, SocketAddr as UnixSocketAddr};
        #[allow(unused_imports)]
        use rt::net::{
            lookup_host, TcpListener, TcpSocket, TcpStream, ToSocketAddrs, UdpSocket, UnixDatagram,
            UnixListener, UnixStream,
        };
        use rt::runtime::{Builder, Handle, RuntimeFlavor, TryCurrentError};
        #[allow(unused_imports)]
        use rt::runtime::{EnterGuard, Runtime};
        #[allow(unused_imports)]
        use rt::signal::ctrl_c;
        #[allow(unused_imports)]
        use rt::signal::unix::{signal, Signal, SignalKind};
        use rt::task::coop::has_budget_remaining;
        use rt::task::futures::TaskLocalFuture;
        #[allow(unused_imports)]
        use rt::task::{
            block_in_place, spawn_blocking, spawn_local, AbortHandle, Id, JoinError, JoinHandle,
            LocalEnterGuard, LocalSet,
        };
        use rt::task::{consume_budget, unconstrained, JoinSet, LocalKey, Unconstrained};
        use rt::time::error::Elapsed;
        use rt::time::{self, Duration, Instant};
        #[allow(unused_imports)]
        use rt::time::{Interval, MissedTickBehavior, Sleep, Timeout};

        rt::task_local! {
            static REQUEST_ID: u64;
        }

        /// What the program observed, compared across the two runtimes.
        #[derive(Debug, PartialEq)]
        pub struct Observed {
            pub flavor: RuntimeFlavor,
            pub outside_is_missing_context: bool,
            pub request_id_inside: u64,
            pub request_id_outside_is_err: bool,
            pub timed_out: bool,
            pub joined: u64,
            pub budget_left_in_fresh_task: bool,
            pub unconstrained_loop: u32,
        }

        pub fn run() -> Observed {
            let outside: Result<Handle, TryCurrentError> = Handle::try_current();
            let rt = Builder::new_current_thread().enable_all().build().unwrap();
            let flavor = rt.handle().runtime_flavor();
            rt.block_on(async {
                let key: &'static LocalKey<u64> = &REQUEST_ID;
                let scoped: TaskLocalFuture<u64, _> = key.scope(7, async { REQUEST_ID.get() });
                let request_id_inside = scoped.await;
                let start = Instant::now();
                let elapsed: Result<(), Elapsed> = time::timeout(
                    Duration::from_millis(2),
                    time::sleep(Duration::from_secs(60)),
                )
                .await;
                assert!(start.elapsed() >= Duration::from_millis(2));
                let mut set: JoinSet<u64> = JoinSet::new();
                for i in 1..=4 {
                    set.spawn(async move { i });
                }
                let mut joined = 0;
                while let Some(result) = set.join_next().await {
                    joined += result.unwrap();
                }
                let budget_left_in_fresh_task =
                    rt::spawn(async { has_budget_remaining() }).await.unwrap();
                let looping: Unconstrained<_> = unconstrained(async {
                    let mut rounds = 0;
                    for _ in 0..1000 {
                        consume_budget().await;
                        rounds += 1;
                    }
                    rounds
                });
                Observed {
                    flavor,
                    outside_is_missing_context: outside.unwrap_err().is_missing_context(),
                    request_id_inside,
                    request_id_outside_is_err: REQUEST_ID.try_get().is_err(),
                    timed_out: elapsed.is_err(),
                    joined,
                    budget_left_in_fresh_task,
                    unconstrained_loop: rt::spawn(looping).await.unwrap(),
                }
            })
        }
    };
}

mod on_tokio {
    use tokio as rt;
    tokio_style_program!();
}

mod on_ticktock {
    use ticktock as rt;
    tokio_style_program!();
}

#[test]
fn tokio_use_lines_compile_and_behave_alike_on_ticktock() {
    let tokio = on_tokio::run();
    let ticktock = on_ticktock::run();
    assert_eq!(
        ticktock.flavor,
        ticktock::runtime::RuntimeFlavor::CurrentThread
    );
    assert_eq!(tokio.flavor, tokio::runtime::RuntimeFlavor::CurrentThread);
    assert!(ticktock.outside_is_missing_context && tokio.outside_is_missing_context);
    assert_eq!(
        (
            ticktock.request_id_inside,
            ticktock.request_id_outside_is_err
        ),
        (tokio.request_id_inside, tokio.request_id_outside_is_err)
    );
    assert_eq!(
        (
            ticktock.request_id_inside,
            ticktock.request_id_outside_is_err
        ),
        (7, true)
    );
    assert!(ticktock.timed_out && tokio.timed_out);
    assert_eq!((ticktock.joined, tokio.joined), (10, 10));
    assert!(ticktock.budget_left_in_fresh_task && tokio.budget_left_in_fresh_task);
    assert_eq!(
        (ticktock.unconstrained_loop, tokio.unconstrained_loop),
        (1000, 1000)
    );
}

/// Task-local values follow their task across polls and workers, nest, and stay
/// out of other tasks on the same worker.
#[test]
fn task_locals_follow_their_task_and_nest() {
    ticktock::task_local! {
        static NAME: &'static str;
    }
    let rt = ticktock::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = ["a", "b", "c", "d"]
            .into_iter()
            .map(|name| {
                ticktock::spawn(NAME.scope(name, async move {
                    for _ in 0..20 {
                        ticktock::task::yield_now().await;
                        ticktock::time::sleep(std::time::Duration::from_micros(50)).await;
                        assert_eq!(NAME.get(), name);
                    }
                    let inner = NAME.scope("inner", async { NAME.get() }).await;
                    (inner, NAME.get())
                }))
            })
            .collect();
        for (task, name) in tasks.into_iter().zip(["a", "b", "c", "d"]) {
            assert_eq!(task.await.unwrap(), ("inner", name));
        }
        // A task without a scope sees no value, on the same workers.
        assert!(ticktock::spawn(async { NAME.try_get().is_err() })
            .await
            .unwrap());
    });
}

/// `consume_budget` in a loop yields to the runtime once the task's budget is spent,
/// so another queued task runs while the loop is still going.
#[test]
fn consume_budget_lets_other_tasks_run() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let rt = ticktock::Builder::new_current_thread().build().unwrap();
    let other_ran = Arc::new(AtomicBool::new(false));
    let flag = other_ran.clone();
    let saw_other = rt.block_on(async move {
        let looping = ticktock::spawn(async move {
            // Spawned from the looping task: it can only run once the loop yields.
            ticktock::spawn(async move { flag.store(true, Ordering::SeqCst) });
            for _ in 0..100_000 {
                if other_ran.load(Ordering::SeqCst) {
                    return true;
                }
                ticktock::task::consume_budget().await;
            }
            false
        });
        looping.await.unwrap()
    });
    assert!(saw_other, "the loop never yielded to the other task");
}
