//! What a scenario reads about a process from `/proc`: open descriptors, threads
//! and their states, CPU time, resident memory. Linux only, like the suite.

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// `/proc/self` or `/proc/<pid>`.
fn proc_dir(pid: Option<u32>) -> PathBuf {
    match pid {
        Some(pid) => PathBuf::from(format!("/proc/{pid}")),
        None => PathBuf::from("/proc/self"),
    }
}

/// Open file descriptors of the process (for `/proc/self`, the directory handle
/// that reads them is counted too, the same way every time).
pub fn open_fds(pid: Option<u32>) -> usize {
    std::fs::read_dir(proc_dir(pid).join("fd"))
        .map(|entries| entries.count())
        .unwrap_or(0)
}

/// What each open descriptor of this process points at, for failure messages.
pub fn describe_fds() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return Vec::new();
    };
    let mut fds: Vec<String> = entries
        .flatten()
        .map(|entry| {
            let target = std::fs::read_link(entry.path())
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            format!("{} -> {target}", entry.file_name().to_string_lossy())
        })
        .collect();
    fds.sort();
    fds
}

/// A thread of this process: its name and scheduler state (`R` running, `S`
/// sleeping, ...).
#[derive(Debug)]
pub struct ThreadState {
    pub name: String,
    pub state: char,
}

/// This process's threads whose names start with `prefix`.
pub fn threads_named(prefix: &str) -> Vec<ThreadState> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| {
            let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
            let (name, rest) = split_stat(&stat)?;
            let state = rest.split_whitespace().next()?.chars().next()?;
            name.starts_with(prefix).then(|| ThreadState {
                name: name.to_string(),
                state,
            })
        })
        .collect()
}

/// Splits a `stat` line into the name (between the first `(` and the last `)`)
/// and the fields after it.
fn split_stat(stat: &str) -> Option<(&str, &str)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    Some((&stat[open + 1..close], &stat[close + 1..]))
}

/// CPU time (user + system) the process has used so far.
pub fn cpu_time(pid: Option<u32>) -> Duration {
    let stat = std::fs::read_to_string(proc_dir(pid).join("stat")).unwrap_or_default();
    let Some((_, rest)) = split_stat(&stat) else {
        return Duration::ZERO;
    };
    // After the name: state is field 3 of stat(5), utime 14 and stime 15.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields
        .get(11..13)
        .map(|t| t.iter().filter_map(|f| f.parse::<u64>().ok()).sum())
        .unwrap_or(0);
    Duration::from_nanos(ticks * 1_000_000_000 / rustix::param::clock_ticks_per_second())
}

/// CPU time the process uses while this thread sleeps for `window`.
pub fn cpu_used_over(pid: Option<u32>, window: Duration) -> Duration {
    let before = cpu_time(pid);
    std::thread::sleep(window);
    cpu_time(pid).saturating_sub(before)
}

/// Resident memory of this process, in KiB.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Polls `condition` until it holds or `limit` passes; returns how long it took,
/// or `None` if it never held.
pub fn wait_for(limit: Duration, mut condition: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if condition() {
            return Some(start.elapsed());
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
