//! The one place the executor imports its synchronization primitives from.
//!
//! Under `--cfg loom` every atomic, mutex and condition variable comes from
//! [loom](https://docs.rs/loom), so the parking protocol can be model-checked;
//! otherwise they are the standard library's. Code elsewhere in the crate writes
//! `use crate::loom::sync::...` and never names `std::sync` directly for state that
//! other threads race on.

#[cfg(not(loom))]
pub(crate) mod sync {
    pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard};

    pub(crate) mod atomic {
        pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
    }
}

#[cfg(loom)]
pub(crate) mod sync {
    // `Arc` stays the standard one: timer slots hand out `Weak`s of it, and no
    // model checks reference counts.
    pub(crate) use loom::sync::{Condvar, Mutex, MutexGuard};
    pub(crate) use std::sync::Arc;

    pub(crate) mod atomic {
        pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
    }
}

/// Locks `mutex`, recovering the data if a previous holder panicked.
///
/// Every lock in the executor guards plain bookkeeping that stays consistent across
/// a panic (a panic can only come from user code, which never runs under these
/// locks), so poisoning carries no information here.
pub(crate) fn lock<T>(mutex: &sync::Mutex<T>) -> sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}
