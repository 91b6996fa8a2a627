//! The fault suite: each scenario runs in a child process of this binary, so it
//! may change process limits (`setrlimit`) and count the process's threads,
//! descriptors and CPU time without other tests in the way.
//!
//! `cargo test --test faults` runs every scenario (a name as argument runs those
//! whose names contain it); `--list` lists them. The binary re-executes itself as
//! `faults --scenario NAME` for each one; a child that fails prints why and exits
//! non-zero, and one that runs past [`SCENARIO_LIMIT`] is killed. Each child prints
//! one line of figures, which the runner shows beside the result.
//!
//! The scenarios, what they promise and how they check it are in
//! docs/reliability.md ("Fault suite"). Bounds are generous (a loaded 2-core CI
//! machine must pass): a failure means something stayed behind or spun, never
//! that the machine was slow.
//!
//! Linux only: it reads `/proc`.

#[cfg(target_os = "linux")]
mod fd_limit;
#[cfg(target_os = "linux")]
mod load;
#[cfg(target_os = "linux")]
mod probe;
#[cfg(target_os = "linux")]
mod shutdown;

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one scenario may take before its child is killed as hung.
const SCENARIO_LIMIT: Duration = Duration::from_secs(120);

/// A scenario: its name and the function the child runs. It panics on failure
/// and returns its figures for the report.
type Scenario = (&'static str, fn() -> String);

#[cfg(target_os = "linux")]
fn scenarios() -> Vec<Scenario> {
    #[allow(unused_mut)]
    let mut all: Vec<Scenario> = vec![
        (
            "shutdown_timeout_with_work_in_flight",
            shutdown::shutdown_timeout,
        ),
        (
            "shutdown_background_with_work_in_flight",
            shutdown::shutdown_background,
        ),
        ("drop_with_work_in_flight", shutdown::drop_multi_thread),
        (
            "current_thread_drop_with_work_in_flight",
            shutdown::drop_current_thread,
        ),
        (
            "a_poll_that_never_returns_is_left_and_counted",
            shutdown::never_returning_poll,
        ),
        ("fd_exhaustion_accept_loop", fd_limit::accept_loop),
        (
            "graceful_shutdown_under_load",
            load::graceful_shutdown_under_load,
        ),
        ("panic_storm_holding_timers", load::panic_storm),
        (
            "one_nanosecond_interval_beside_other_tasks",
            load::one_nanosecond_interval,
        ),
    ];
    #[cfg(feature = "http")]
    all.push(("fd_exhaustion_serve", fd_limit::serve));
    all
}

#[cfg(not(target_os = "linux"))]
fn scenarios() -> Vec<Scenario> {
    Vec::new()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|arg| arg == "--scenario") {
        let name = args.get(at + 1).expect("--scenario NAME");
        run_child(name, &args[at + 2..]);
        return;
    }
    if args.iter().any(|arg| arg == "--list") {
        for (name, _) in scenarios() {
            println!("{name}: test");
        }
        return;
    }
    if args.iter().any(|arg| arg == "--ignored") {
        // No scenario is ignored.
        return;
    }
    let filters: Vec<&String> = args.iter().filter(|arg| !arg.starts_with('-')).collect();
    let chosen: Vec<Scenario> = scenarios()
        .into_iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
        .collect();
    println!(
        "\nrunning {} fault scenarios (one child process each)",
        chosen.len()
    );
    let started = Instant::now();
    let mut failed = Vec::new();
    for (name, _) in &chosen {
        let (ok, report) = run_in_child(name, &[]);
        println!(
            "test {name} ... {} {}",
            if ok { "ok" } else { "FAILED" },
            report.lines().last().unwrap_or("")
        );
        if !ok {
            println!("---- {name} output ----\n{report}");
            failed.push(*name);
        }
    }
    println!(
        "\nfault suite: {} passed; {} failed; {:.1} s",
        chosen.len() - failed.len(),
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    if !failed.is_empty() {
        println!("failed: {failed:?}");
        std::process::exit(1);
    }
}

/// Runs scenario `name` in a child process; returns whether it passed and its
/// output (stdout, then stderr).
pub fn run_in_child(name: &str, extra: &[&str]) -> (bool, String) {
    let mut child = Command::new(std::env::current_exe().expect("the test binary's path"))
        .arg("--scenario")
        .arg(name)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the child starts");
    let deadline = Instant::now() + SCENARIO_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the child") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut output = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_string(&mut output);
    }
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(&mut output);
    }
    match status {
        Some(status) if status.success() => (true, output),
        Some(status) => (false, format!("{output}\nexit: {status}")),
        None => (
            false,
            format!("{output}\nkilled: ran past {SCENARIO_LIMIT:?}"),
        ),
    }
}

/// The child's side: runs the scenario and prints its figures.
fn run_child(name: &str, rest: &[String]) {
    if name == fd_limit_server_name() {
        #[cfg(target_os = "linux")]
        fd_limit::server_child(rest);
        return;
    }
    let Some((_, scenario)) = scenarios().into_iter().find(|(n, _)| *n == name) else {
        panic!("no scenario named {name}");
    };
    let figures = scenario();
    println!("({figures})");
}

/// The name under which the fd-limit scenarios start their server child.
fn fd_limit_server_name() -> &'static str {
    "fd-limit-server"
}
