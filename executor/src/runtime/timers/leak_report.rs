//! The timer leak report: live timers grouped by the source line that created them.
//!
//! Go's classic leak (a `Ticker` nobody stopped, 100,000 of them) cannot happen in
//! ticktock, since dropping a timer frees it; but a program can still *keep*
//! timers it no longer needs, in a growing `Vec` or a map never pruned. Every
//! `Sleep`, `Interval` and `Timeout` records its creation site (`#[track_caller]`),
//! each store entry carries it as its label (from registration until the handle
//! lets go, so a sleep re-armed after firing is counted too), and this report walks
//! the stores and groups the armed ones.

use std::collections::HashMap;
use std::panic::Location;
use std::time::Duration;

use crate::runtime::shared::Shared;

/// Live timers created at one source location, from
/// [`Handle::timer_sites`](crate::Handle::timer_sites).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// let sites = rt.block_on(async {
///     let mut sleep = Box::pin(ticktock_executor::time::sleep(Duration::from_secs(60)));
///     let _ = futures::poll!(&mut sleep); // registers
///     ticktock_executor::Handle::current().timer_sites()
/// });
/// assert_eq!(sites.len(), 1);
/// assert_eq!(sites[0].live, 1);
/// assert!(sites[0].location.file().ends_with(".rs"));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TimerSite {
    /// Where the timers were created (the caller of `sleep`, `interval`, `timeout`...).
    pub location: &'static Location<'static>,
    /// How many are pending now.
    pub live: usize,
    /// Time until the soonest of them is due (zero if one is already due).
    pub next_due: Duration,
    /// Time until the furthest of them is due: a site whose timers are due hours
    /// or years from now (`Duration::MAX` sleeps clamp to about 30 years) and keep
    /// growing in number is a leak candidate.
    pub last_due: Duration,
}

pub(crate) fn timer_sites(shared: &Shared) -> Vec<TimerSite> {
    let clock = &shared.timers.clock;
    let now = clock.runtime_nanos();
    // Keyed by file, line and column: one call site may be present under several
    // `Location` addresses (one per codegen unit).
    let mut sites: HashMap<(&'static str, u32, u32), TimerSite> = HashMap::new();
    for cell in shared.timers.stores() {
        // A timer cancelled on another thread before this call is not a leak.
        cell.settle();
        let store = cell.lock();
        store.for_each_waiting(|when, _, location| {
            let due = Duration::from_nanos(when.saturating_sub(now));
            let site = sites
                .entry((location.file(), location.line(), location.column()))
                .or_insert(TimerSite {
                    location,
                    live: 0,
                    next_due: due,
                    last_due: due,
                });
            site.live += 1;
            site.next_due = site.next_due.min(due);
            site.last_due = site.last_due.max(due);
        });
    }
    let mut sites: Vec<TimerSite> = sites.into_values().collect();
    sites.sort_by(|a, b| {
        b.live.cmp(&a.live).then_with(|| {
            (a.location.file(), a.location.line(), a.location.column()).cmp(&(
                b.location.file(),
                b.location.line(),
                b.location.column(),
            ))
        })
    });
    sites
}
