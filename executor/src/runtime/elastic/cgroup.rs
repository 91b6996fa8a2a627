//! Reading the container's CPU limit (cgroup v2 `cpu.max`, v1 CFS quota and
//! period), for [`Builder::worker_threads_auto`](crate::Builder::worker_threads_auto).
//!
//! # What it owns
//! The parsers and [`read_workers`]: the worker count a CPU limit allows (the quota
//! divided by the period, rounded up, at least 1, at most the CPUs available), read
//! from a cgroup directory that the caller names (`/sys/fs/cgroup` in production, a
//! temporary directory in tests). Nothing here starts or stops a worker.
//!
//! # Ground rules
//! A file that is missing or malformed means "no limit known": the caller keeps
//! the worker count it has. Reads are plain file reads (a few microseconds); the
//! caller rate-limits them (once a second, like Go 1.25's GOMAXPROCS updates).

use std::path::Path;

/// Environment variable that fixes the worker count of an auto-sized runtime
/// (it wins over the cgroup limit, which is then not followed).
pub(crate) const WORKER_THREADS_ENV: &str = "TICKTOCK_WORKER_THREADS";

/// A CPU limit read from a cgroup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CpuLimit {
    /// No quota (`max` in v2, `-1` in v1).
    Unlimited,
    /// `quota` microseconds of CPU time per `period` microseconds.
    Quota { quota: u64, period: u64 },
}

impl CpuLimit {
    /// Workers that fit the limit on a machine with `available` CPUs: the quota
    /// in CPUs rounded up (1.5 CPUs get 2 workers), within `1..=available`.
    pub(crate) fn workers(self, available: usize) -> usize {
        let available = available.max(1);
        match self {
            CpuLimit::Unlimited => available,
            CpuLimit::Quota { quota, period } => {
                let cpus = quota.div_ceil(period.max(1));
                usize::try_from(cpus)
                    .unwrap_or(usize::MAX)
                    .clamp(1, available)
            }
        }
    }
}

/// Parses cgroup v2 `cpu.max`: `"max 100000"` or `"200000 100000"` (quota, period).
pub(crate) fn parse_cpu_max(text: &str) -> Option<CpuLimit> {
    let mut fields = text.split_whitespace();
    let quota = fields.next()?;
    let period: u64 = fields.next().map_or(Some(100_000), |p| p.parse().ok())?;
    if period == 0 {
        return None;
    }
    if quota == "max" {
        return Some(CpuLimit::Unlimited);
    }
    let quota: u64 = quota.parse().ok()?;
    Some(CpuLimit::Quota { quota, period })
}

/// Parses cgroup v1 `cpu.cfs_quota_us` and `cpu.cfs_period_us` (quota `-1`: none).
pub(crate) fn parse_cfs(quota: &str, period: &str) -> Option<CpuLimit> {
    let quota: i64 = quota.trim().parse().ok()?;
    let period: u64 = period.trim().parse().ok()?;
    if period == 0 {
        return None;
    }
    if quota < 0 {
        return Some(CpuLimit::Unlimited);
    }
    Some(CpuLimit::Quota {
        quota: quota.unsigned_abs(),
        period,
    })
}

/// The limit in the cgroup directory `root`: v2 `cpu.max`, else v1's files in
/// `root` or `root/cpu`. `None` if none is readable.
pub(crate) fn read_limit(root: &Path) -> Option<CpuLimit> {
    if let Ok(text) = std::fs::read_to_string(root.join("cpu.max")) {
        return parse_cpu_max(&text);
    }
    for dir in [root.to_path_buf(), root.join("cpu")] {
        let quota = std::fs::read_to_string(dir.join("cpu.cfs_quota_us"));
        let period = std::fs::read_to_string(dir.join("cpu.cfs_period_us"));
        if let (Ok(quota), Ok(period)) = (quota, period) {
            return parse_cfs(&quota, &period);
        }
    }
    None
}

/// Workers allowed by the limit in `root` with `available` CPUs; `None` if no
/// limit is readable.
pub(crate) fn read_workers(root: &Path, available: usize) -> Option<usize> {
    read_limit(root).map(|limit| limit.workers(available))
}

/// `TICKTOCK_WORKER_THREADS`, if set to a positive number.
pub(crate) fn env_workers() -> Option<usize> {
    std::env::var(WORKER_THREADS_ENV)
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|&n| n > 0)
}

/// How `build` sizes a runtime: its initial worker count, the default bound, and
/// the cgroup directory to follow (if any).
pub(crate) struct Sizing<'a> {
    pub(crate) initial: usize,
    pub(crate) default_max: usize,
    pub(crate) follow: Option<&'a Path>,
}

/// `worker_threads`, or with `worker_threads_auto` (`auto` is the cgroup
/// directory): the `TICKTOCK_WORKER_THREADS` override (`env`), else the cgroup
/// limit, else the CPUs available.
pub(crate) fn sizing<'a>(
    auto: Option<&'a Path>,
    env: Option<usize>,
    worker_threads: Option<usize>,
    available: usize,
) -> Sizing<'a> {
    match (auto, env) {
        (Some(_), Some(n)) => Sizing {
            initial: n,
            default_max: n,
            follow: None,
        },
        (Some(root), None) => Sizing {
            initial: read_workers(root, available).unwrap_or(available),
            default_max: available,
            follow: Some(root),
        },
        (None, _) => {
            let initial = worker_threads.unwrap_or(available);
            Sizing {
                initial,
                default_max: initial,
                follow: None,
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::path::Path;

    use super::{parse_cfs, parse_cpu_max, read_workers, sizing, CpuLimit};

    #[test]
    fn sizing_env_wins_then_cgroup_then_cpus() {
        let missing = Path::new("/nonexistent/ticktock-cgroup");
        let fixed = sizing(Some(missing), Some(3), Some(5), 8);
        assert_eq!(
            (fixed.initial, fixed.default_max, fixed.follow),
            (3, 3, None)
        );
        let auto = sizing(Some(missing), None, Some(5), 8);
        assert_eq!((auto.initial, auto.default_max), (8, 8));
        assert_eq!(auto.follow, Some(missing));
        let manual = sizing(None, Some(3), Some(5), 8);
        assert_eq!(
            (manual.initial, manual.default_max, manual.follow),
            (5, 5, None)
        );
        assert_eq!(sizing(None, None, None, 6).initial, 6);
    }

    #[test]
    fn cgroup_v2_cpu_max() {
        assert_eq!(parse_cpu_max("max 100000\n"), Some(CpuLimit::Unlimited));
        assert_eq!(
            parse_cpu_max("200000 100000\n"),
            Some(CpuLimit::Quota {
                quota: 200_000,
                period: 100_000
            })
        );
        assert_eq!(
            parse_cpu_max("50000"),
            Some(CpuLimit::Quota {
                quota: 50_000,
                period: 100_000
            })
        );
        assert_eq!(parse_cpu_max(""), None);
        assert_eq!(parse_cpu_max("lots 100000"), None);
        assert_eq!(parse_cpu_max("100 0"), None);
    }

    #[test]
    fn cgroup_v1_quota_and_period() {
        assert_eq!(parse_cfs("-1\n", "100000\n"), Some(CpuLimit::Unlimited));
        assert_eq!(
            parse_cfs("150000", "100000"),
            Some(CpuLimit::Quota {
                quota: 150_000,
                period: 100_000
            })
        );
        assert_eq!(parse_cfs("x", "100000"), None);
        assert_eq!(parse_cfs("100", "0"), None);
    }

    #[test]
    fn workers_round_up_within_the_cpus_available() {
        let limit = |quota, period| CpuLimit::Quota { quota, period };
        assert_eq!(limit(150_000, 100_000).workers(8), 2);
        assert_eq!(limit(200_000, 100_000).workers(8), 2);
        assert_eq!(limit(10_000, 100_000).workers(8), 1);
        assert_eq!(limit(0, 100_000).workers(8), 1);
        assert_eq!(limit(1_600_000, 100_000).workers(4), 4);
        assert_eq!(CpuLimit::Unlimited.workers(6), 6);
    }

    #[test]
    fn reads_v2_then_v1_layouts() {
        let dir = std::env::temp_dir().join(format!("ticktock-cgroup-unit-{}", std::process::id()));
        let v1 = dir.join("cpu");
        std::fs::create_dir_all(&v1).unwrap();
        assert_eq!(read_workers(&dir, 8), None);
        std::fs::write(v1.join("cpu.cfs_quota_us"), "300000\n").unwrap();
        std::fs::write(v1.join("cpu.cfs_period_us"), "100000\n").unwrap();
        assert_eq!(read_workers(&dir, 8), Some(3));
        std::fs::write(dir.join("cpu.max"), "100000 100000\n").unwrap();
        assert_eq!(read_workers(&dir, 8), Some(1));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
