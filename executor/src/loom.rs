//! The one place the runtime imports its synchronization primitives from.
//!
//! Under `--cfg loom` every atomic, mutex and condition variable comes from
//! [loom](https://docs.rs/loom), so the parking protocol can be model-checked;
//! otherwise they are the standard library's.
//!
//! # The rule
//! Code under `runtime/` (the scheduler, parking, timers, the blocking pool) and the
//! thread-local context write `use crate::loom::sync::...` for state other threads
//! race on, and take locks through [`lock`] and [`wait_until`]. Three exceptions,
//! each because loom has no equivalent and no model needs one: `OnceLock`/`Weak`
//! (written once before any race), a `static` atomic (loom's are not `const`), and
//! the `std::sync::Arc` a [`std::task::Wake`] impl requires.
//!
//! Outside `runtime/` (task handles, `io/`'s reactor, `signal/`) state is
//! `std::sync`: no loom model covers those files yet. A file that gets a model moves
//! onto this facade first.

use std::time::Instant;

#[cfg(not(loom))]
pub(crate) mod sync {
    pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard};

    pub(crate) mod atomic {
        pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
    }
}

#[cfg(loom)]
pub(crate) mod sync {
    // `Arc` stays the standard one: timer stores hand out `Weak`s of it, and no
    // model checks reference counts.
    pub(crate) use loom::sync::{Condvar, Mutex, MutexGuard};
    pub(crate) use std::sync::Arc;

    pub(crate) mod atomic {
        pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
    }
}

/// Locks `mutex`, recovering it if a panicking thread poisoned it: no lock of the
/// runtime guards an invariant that a panic under it could break half-way (none
/// runs user code while held), so the data is as good as before.
pub(crate) fn lock<T>(mutex: &sync::Mutex<T>) -> sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// How a [`wait_until`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Waited {
    /// Notified, or woken spuriously, before the deadline: the caller re-checks
    /// its condition.
    Woken,
    /// The deadline has passed.
    DeadlinePassed,
}

/// Waits on `condvar` (releasing `guard`) until notified or woken spuriously, or
/// until `deadline` passes if one is given. Recovers a poisoned lock like [`lock`].
pub(crate) fn wait_until<'a, T>(
    condvar: &sync::Condvar,
    guard: sync::MutexGuard<'a, T>,
    deadline: Option<Instant>,
) -> (sync::MutexGuard<'a, T>, Waited) {
    let Some(deadline) = deadline else {
        let guard = match condvar.wait(guard) {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        return (guard, Waited::Woken);
    };
    let left = deadline.saturating_duration_since(Instant::now());
    let guard = match condvar.wait_timeout(guard, left) {
        Ok((guard, _)) => guard,
        Err(poisoned) => poisoned.into_inner().0,
    };
    let waited = if Instant::now() >= deadline {
        Waited::DeadlinePassed
    } else {
        Waited::Woken
    };
    (guard, waited)
}
