//! The runtime's clock: real time, or virtual time frozen for tests.
//!
//! # What it owns
//! The epoch every timer deadline is measured from (nanoseconds since it; one
//! epoch for the whole process, see [`process_epoch`]), and the
//! pause state behind [`time::pause`](crate::time::pause),
//! [`time::resume`](crate::time::resume) and [`time::advance`](crate::time::advance).
//!
//! # Model
//! `now = real elapsed since epoch + offset`, or the frozen value while paused.
//! Pausing freezes `now`; advancing moves the frozen value forward; resuming lets
//! it run again from where it stood (the offset keeps what was advanced). While
//! paused, an idle current-thread runtime jumps the clock to the next deadline
//! instead of sleeping (auto-advance), so tests of timeout logic take no time.
//!
//! # Invariants
//! `now` never goes backwards. The running clock costs two relaxed loads over a
//! plain `Instant::now()`.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ticktock_timer::Nanos;

/// How far before its first use the process epoch is placed (if the monotonic
/// clock allows: it starts near boot on Linux). Instants earlier than the epoch
/// map to it; this margin keeps `sleep_until(x).deadline() == x` exact for any
/// instant from the last day before the process first used ticktock.
const EPOCH_MARGIN: Duration = Duration::from_secs(86_400);

/// The instant all ticktock deadlines are measured from, shared by every runtime
/// of the process, so a `Sleep` can keep its deadline as 8 bytes of nanoseconds
/// before it knows its runtime.
pub(crate) fn process_epoch() -> Instant {
    epochs().instant
}

/// The process epoch twice: as an `Instant`, and (on Linux) as the same instant's
/// `CLOCK_MONOTONIC` nanoseconds, which [`monotonic_nanos`] subtracts from a raw read.
struct Epochs {
    instant: Instant,
    /// `instant` on the raw monotonic clock, exactly (see [`exact_raw_nanos`]);
    /// `None` if that could not be established: then every read goes through
    /// `Instant` as before.
    #[cfg(target_os = "linux")]
    raw: Option<i64>,
}

fn epochs() -> &'static Epochs {
    static EPOCHS: OnceLock<Epochs> = OnceLock::new();
    EPOCHS.get_or_init(|| {
        let now = Instant::now();
        let instant = [
            EPOCH_MARGIN,
            Duration::from_secs(3_600),
            Duration::from_secs(1),
        ]
        .into_iter()
        .find_map(|margin| now.checked_sub(margin))
        .unwrap_or(now);
        Epochs {
            instant,
            #[cfg(target_os = "linux")]
            raw: exact_raw_nanos(instant),
        }
    })
}

/// `CLOCK_MONOTONIC` read straight from the vDSO (rustix), as signed nanoseconds:
/// the clock `std::time::Instant` reads on Linux, without the checked `Timespec`
/// arithmetic of `Instant::elapsed` (about a third of a clock read's cost on the
/// timer hot path, measured in docs/benchmarks.md).
#[cfg(target_os = "linux")]
#[inline]
fn raw_monotonic_nanos() -> i64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    now.tv_sec * 1_000_000_000 + now.tv_nsec
}

/// The exact `CLOCK_MONOTONIC` nanoseconds of `instant`, so that raw reads minus
/// them equal `Instant::now() - instant` to the nanosecond: "now" neither trails
/// nor leads `std::time::Instant::now()`, and a deadline given as an `Instant` is
/// met exactly, never early. `Instant` does not expose its value; its `Debug`
/// output on Linux does (`Instant { tv_sec: S, tv_nsec: N }`). That text is not a
/// stable interface, so the value is accepted only if it parses and checks out: a
/// fresh `Instant` read between two raw reads must parse to a value between them.
/// Otherwise `None`, and time is read through `Instant` (correct, a little dearer).
#[cfg(target_os = "linux")]
fn exact_raw_nanos(instant: Instant) -> Option<i64> {
    let parse = |instant: Instant| parse_instant_debug(&format!("{instant:?}"));
    let before = raw_monotonic_nanos();
    let probe = parse(Instant::now())?;
    let after = raw_monotonic_nanos();
    if !(before..=after).contains(&probe) {
        return None;
    }
    // The epoch itself: parsed the same way, and consistent with the probe.
    let raw = parse(instant)?;
    let since = i64::try_from(Instant::now().checked_duration_since(instant)?.as_nanos()).ok()?;
    (raw.checked_add(since)? >= probe).then_some(raw)
}

/// Nanoseconds from the `Debug` text of a Linux `Instant`
/// (`Instant { tv_sec: S, tv_nsec: N }`), or `None` for any other text.
#[cfg(target_os = "linux")]
fn parse_instant_debug(text: &str) -> Option<i64> {
    let rest = text.strip_prefix("Instant { tv_sec: ")?;
    let (secs, rest) = rest.split_once(", tv_nsec: ")?;
    let nanos: i64 = rest.strip_suffix(" }")?.parse().ok()?;
    let secs: i64 = secs.parse().ok()?;
    (0..1_000_000_000)
        .contains(&nanos)
        .then(|| secs.checked_mul(1_000_000_000)?.checked_add(nanos))
        .flatten()
}

/// An instant as nanoseconds since the process epoch: exact (an `Instant` has
/// nanosecond resolution), 0 before the epoch, saturating far in the future (the
/// timer store clamps to its `MAX_DEADLINE`).
pub(crate) fn nanos_at(instant: Instant) -> Nanos {
    match instant.checked_duration_since(process_epoch()) {
        Some(since) => u64::try_from(since.as_nanos()).unwrap_or(u64::MAX),
        None => 0,
    }
}

/// The instant `nanos` after the process epoch.
pub(crate) fn instant_at(nanos: Nanos) -> Instant {
    process_epoch() + Duration::from_nanos(nanos)
}

use std::sync::atomic::AtomicBool as StaticAtomicBool;

use crate::loom::sync::atomic::{AtomicBool, AtomicU64, Ordering};

thread_local! {
    /// The real nanoseconds since the process epoch that this thread read last.
    /// `Clock::recent_nanos` serves it to callers that can live with a reading a
    /// moment old, so one `sleep` costs one clock read, not three.
    static RECENT_REAL_NANOS: Cell<Nanos> = const { Cell::new(0) };
}

/// Set forever once any runtime of the process pauses its clock. Until then every
/// runtime's clock is plain real time since the process epoch, and "now" needs no
/// runtime lookup at all (see [`current_runtime_nanos`](crate::context::current_runtime_nanos)).
static ANY_CLOCK_ALTERED: StaticAtomicBool = StaticAtomicBool::new(false);

/// Whether any runtime of the process ever paused its clock (see
/// [`ANY_CLOCK_ALTERED`]). Until one has, real time is every runtime's "now".
pub(crate) fn any_clock_altered() -> bool {
    ANY_CLOCK_ALTERED.load(Ordering::Relaxed)
}

/// Real nanoseconds since the process epoch, read now from the monotonic clock
/// (no pause or advance applied), recorded as this thread's recent reading.
///
/// On Linux a raw vDSO read minus the epoch's exact raw value ([`exact_raw_nanos`]):
/// the same nanoseconds `process_epoch().elapsed()` gives, for less.
pub(crate) fn monotonic_nanos() -> Nanos {
    let nanos = match epochs() {
        #[cfg(target_os = "linux")]
        Epochs { raw: Some(raw), .. } => u64::try_from(raw_monotonic_nanos() - raw).unwrap_or(0),
        epochs => u64::try_from(epochs.instant.elapsed().as_nanos()).unwrap_or(u64::MAX),
    };
    let _ = RECENT_REAL_NANOS.try_with(|recent| recent.set(nanos));
    nanos
}

/// See the module docs.
pub(crate) struct Clock {
    epoch: Instant,
    paused: AtomicBool,
    /// `now` while paused.
    frozen: AtomicU64,
    /// Added to the real elapsed time while running (what was advanced while paused).
    offset: AtomicU64,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        Clock {
            epoch: process_epoch(),
            paused: AtomicBool::new(false),
            frozen: AtomicU64::new(0),
            offset: AtomicU64::new(0),
        }
    }

    fn real_nanos(&self) -> Nanos {
        debug_assert_eq!(self.epoch, process_epoch());
        monotonic_nanos()
    }

    /// `runtime_nanos` as of this thread's last clock reading: never later than the
    /// true now, so a deadline `<=` it has certainly passed; one that is not may
    /// still have passed, and is then fired by the next expiry pass. Costs no
    /// clock read. (Runtimes share the process epoch, so readings made for any
    /// runtime serve them all.)
    pub(crate) fn recent_nanos(&self) -> Nanos {
        if self.paused.load(Ordering::Acquire) {
            self.frozen.load(Ordering::Acquire)
        } else {
            RECENT_REAL_NANOS
                .try_with(Cell::get)
                .unwrap_or(0)
                .saturating_add(self.offset.load(Ordering::Relaxed))
        }
    }

    /// This runtime's time, read now: nanoseconds since the epoch (rounded down),
    /// with pause and advance applied (real time plus the offset, or the frozen
    /// time while paused).
    pub(crate) fn runtime_nanos(&self) -> Nanos {
        if self.paused.load(Ordering::Acquire) {
            self.frozen.load(Ordering::Acquire)
        } else {
            self.real_nanos()
                .saturating_add(self.offset.load(Ordering::Relaxed))
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    /// Freezes the clock. Panics if it already is.
    pub(crate) fn pause(&self) {
        assert!(
            !self.is_paused(),
            "ticktock: `time::pause` called while time is already paused"
        );
        self.frozen.store(self.runtime_nanos(), Ordering::Release);
        ANY_CLOCK_ALTERED.store(true, Ordering::Release);
        self.paused.store(true, Ordering::Release);
    }

    /// Pauses a new clock at `nanos` (a simulation's fixed start,
    /// `shared::SIMULATION_START`), whatever the real time is.
    pub(crate) fn pause_at(&self, nanos: Nanos) {
        assert!(
            !self.is_paused(),
            "ticktock: `pause_at` called while time is already paused"
        );
        self.frozen.store(nanos, Ordering::Release);
        ANY_CLOCK_ALTERED.store(true, Ordering::Release);
        self.paused.store(true, Ordering::Release);
    }

    /// Lets the clock run again from its frozen value. Panics if it is not paused.
    pub(crate) fn resume(&self) {
        assert!(
            self.is_paused(),
            "ticktock: `time::resume` called while time is not paused"
        );
        let frozen = self.frozen.load(Ordering::Acquire);
        self.offset
            .store(frozen.saturating_sub(self.real_nanos()), Ordering::Relaxed);
        self.paused.store(false, Ordering::Release);
    }

    /// Moves the frozen clock forward to `nanos` if that is later (never backwards).
    pub(crate) fn advance_to(&self, nanos: Nanos) {
        self.frozen.fetch_max(nanos, Ordering::AcqRel);
    }

    /// Moves the frozen clock forward by `by`. Panics if it is not paused.
    pub(crate) fn advance(&self, by: Duration) {
        assert!(
            self.is_paused(),
            "ticktock: `time::advance` requires paused time; call `time::pause` first"
        );
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .frozen
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
                Some(now.saturating_add(by))
            });
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn only_an_instants_exact_debug_text_is_parsed() {
        use super::parse_instant_debug as parse;
        assert_eq!(
            parse("Instant { tv_sec: 13864, tv_nsec: 597127880 }"),
            Some(13_864_597_127_880)
        );
        assert_eq!(
            parse("Instant { tv_sec: -3, tv_nsec: 5 }"),
            Some(-2_999_999_995)
        );
        for text in [
            "Instant { tv_sec: 1, tv_nsec: 1000000000 }",
            "Instant { tv_sec: 1, tv_nsec: -1 }",
            "Instant { t: 1, tv_nsec: 1 }",
            "Instant { tv_sec: 1 }",
            "Instant { tv_sec: 9223372036854775807, tv_nsec: 0 }",
            "Instant(1.5s)",
            "",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn the_raw_clock_reads_exactly_what_instant_reads() {
        #[cfg(target_os = "linux")]
        assert!(
            super::epochs().raw.is_some(),
            "the epoch's raw value was not established: every read takes the slow path"
        );
        for _ in 0..10_000 {
            let before = super::process_epoch().elapsed().as_nanos();
            let raw = u128::from(super::monotonic_nanos());
            let after = super::process_epoch().elapsed().as_nanos();
            assert!(
                before <= raw && raw <= after,
                "raw {raw} ns outside Instant's {before}..={after} ns"
            );
        }
    }

    use super::Clock;

    /// One thing a test does to a clock. Operations that would panic in the
    /// current state (pausing a paused clock, advancing a running one) are skipped.
    #[derive(Clone, Debug)]
    enum Op {
        Pause,
        Resume,
        Advance(u64),
        AdvanceTo(u64),
        /// Lets real time pass (microseconds).
        Wait(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            Just(Op::Pause),
            Just(Op::Resume),
            (0u64..5_000_000_000).prop_map(Op::Advance),
            (0u64..u64::MAX / 2).prop_map(Op::AdvanceTo),
            (0u64..300).prop_map(Op::Wait),
        ]
    }

    fn apply(clock: &Clock, op: &Op) {
        match *op {
            Op::Pause if !clock.is_paused() => clock.pause(),
            Op::Resume if clock.is_paused() => clock.resume(),
            Op::Advance(nanos) if clock.is_paused() => clock.advance(Duration::from_nanos(nanos)),
            Op::AdvanceTo(nanos) if clock.is_paused() => clock.advance_to(nanos),
            Op::Wait(micros) => std::thread::sleep(Duration::from_micros(micros)),
            _ => {}
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// `now` never goes backwards across any mix of pause, advance and resume,
        /// and the no-read `recent_nanos` is never later than `now`.
        #[test]
        fn clock_never_goes_backwards(ops in proptest::collection::vec(op(), 1..40)) {
            let clock = Clock::new();
            let mut last = clock.runtime_nanos();
            for op in &ops {
                apply(&clock, op);
                let recent = clock.recent_nanos();
                let now = clock.runtime_nanos();
                prop_assert!(now >= last, "now went back from {last} to {now} after {op:?}");
                prop_assert!(recent <= now, "recent {recent} is later than now {now} after {op:?}");
                last = now;
            }
        }
    }

    #[test]
    fn paused_clock_stands_still_and_moves_only_by_advance() {
        let clock = Clock::new();
        clock.pause();
        let frozen = clock.runtime_nanos();
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(clock.runtime_nanos(), frozen);
        clock.advance(Duration::from_secs(5));
        assert_eq!(clock.runtime_nanos(), frozen + 5_000_000_000);
        // `advance_to` never moves it back.
        clock.advance_to(frozen);
        assert_eq!(clock.runtime_nanos(), frozen + 5_000_000_000);
        clock.resume();
        // Running again from where it stood: the 5 s advanced are kept.
        assert!(clock.runtime_nanos() >= frozen + 5_000_000_000);
    }

    #[test]
    #[should_panic(expected = "requires paused time")]
    fn advance_of_a_running_clock_panics() {
        Clock::new().advance(Duration::from_secs(1));
    }
}
