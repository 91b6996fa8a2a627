//! Signals delivered through the runtime's poller: real signals sent to this test
//! process with `kill(getpid(), ...)`. Each test uses its own signal number, so
//! tests running in parallel never see each other's signals.

#![cfg(unix)]

mod common;

use std::future::Future;
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::time::Duration;

use common::runtime;
use rustix::process::{getpid, kill_process, Signal as Sig};
use ticktock::signal::unix::{signal, SignalKind};
use ticktock::time::timeout;

/// How long a signal may take to arrive before the test counts it as lost.
const DELIVERY_LIMIT: Duration = Duration::from_secs(10);

/// How long a test waits to be sure that nothing more arrives.
const QUIET: Duration = Duration::from_millis(100);

/// Sends `signal` to this whole process (not to one thread).
fn send(signal: Sig) {
    kill_process(getpid(), signal).expect("kill(getpid())");
}

/// Runs `body` on a 2-worker runtime.
fn run<F: Future>(body: F) -> F::Output {
    runtime(2).block_on(body)
}

#[test]
fn several_listeners_of_one_signal_all_wake() {
    run(async {
        let listeners: Vec<_> = (0..3)
            .map(|_| signal(SignalKind::user_defined1()).unwrap())
            .collect();
        let tasks: Vec<_> = listeners
            .into_iter()
            .map(|mut listener| {
                ticktock::spawn(async move { timeout(DELIVERY_LIMIT, listener.recv()).await })
            })
            .collect();
        send(Sig::USR1);
        for task in tasks {
            assert_eq!(task.await.unwrap(), Ok(Some(())), "every listener wakes");
        }
    });
}

#[test]
fn each_arrival_completes_one_recv_and_bursts_coalesce() {
    run(async {
        let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
        // Nothing sent yet: nothing received.
        assert!(timeout(QUIET, usr2.recv()).await.is_err());
        send(Sig::USR2);
        timeout(DELIVERY_LIMIT, usr2.recv()).await.unwrap().unwrap();
        // Received once: the next recv waits for the next signal.
        assert!(timeout(QUIET, usr2.recv()).await.is_err());
        send(Sig::USR2);
        timeout(DELIVERY_LIMIT, usr2.recv()).await.unwrap().unwrap();
    });
}

#[test]
fn listener_on_a_one_worker_runtime_wakes_from_its_poller() {
    let rt = runtime(1);
    rt.block_on(async {
        let mut hup = signal(SignalKind::hangup()).unwrap();
        let waiter = ticktock::spawn(async move { timeout(DELIVERY_LIMIT, hup.recv()).await });
        ticktock::time::sleep(Duration::from_millis(20)).await;
        send(Sig::HUP);
        assert_eq!(waiter.await.unwrap(), Ok(Some(())));
    });
}

#[test]
fn ctrl_c_completes_on_sigint() {
    run(async {
        let mut ctrl_c = Box::pin(ticktock::signal::ctrl_c());
        // The listener exists from the first poll on.
        assert!(futures::poll!(ctrl_c.as_mut()).is_pending());
        send(Sig::INT);
        timeout(DELIVERY_LIMIT, ctrl_c).await.unwrap().unwrap();
    });
}

#[test]
fn uncatchable_signals_are_refused() {
    run(async {
        for signum in [9, 19] {
            // SIGKILL, SIGSTOP
            let error = signal(SignalKind::from_raw(signum)).unwrap_err();
            assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        }
    });
}

/// Set in the child process of [`dropping_the_last_listener_restores_the_default`].
const CHILD_ENV: &str = "TICKTOCK_SIGNAL_TEST_CHILD";

#[test]
fn dropping_the_last_listener_restores_the_default() {
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_drops_its_listener_then_gets_sigusr1",
            "--nocapture",
        ])
        .env(CHILD_ENV, "1")
        .status()
        .unwrap();
    assert_eq!(
        status.signal(),
        Some(sigusr1()),
        "after its last listener is dropped, SIGUSR1 terminates the process again \
         (child exited with {status:?})"
    );
}

/// SIGUSR1's number (its default action terminates without a core dump).
fn sigusr1() -> i32 {
    SignalKind::user_defined1().as_raw_value()
}

/// The child's half of [`dropping_the_last_listener_restores_the_default`]: a no-op
/// unless run as that test's child.
#[test]
fn child_drops_its_listener_then_gets_sigusr1() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    run(async {
        let mut first = signal(SignalKind::user_defined1()).unwrap();
        let mut second = signal(SignalKind::user_defined1()).unwrap();
        send(Sig::USR1);
        timeout(DELIVERY_LIMIT, first.recv())
            .await
            .unwrap()
            .unwrap();
        drop(first);
        // One listener left: the signal is still caught.
        send(Sig::USR1);
        timeout(DELIVERY_LIMIT, second.recv())
            .await
            .unwrap()
            .unwrap();
        drop(second);
    });
    // No listener left: the default action (terminate) runs.
    send(Sig::USR1);
    std::thread::sleep(Duration::from_secs(2));
    println!("still alive after SIGUSR1: the default was not restored");
}
