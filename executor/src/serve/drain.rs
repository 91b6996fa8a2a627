//! [`Drain`]: the shared state between `serve`'s accept loop and its connection
//! tasks that makes a graceful shutdown possible.
//!
//! # The phases (one `AtomicU8`)
//! | phase | set by | connection tasks do |
//! |---|---|---|
//! | `SERVING` | start | serve |
//! | `DRAINING` | the accept loop, once the shutdown signal fired | call hyper's `graceful_shutdown` once (an idle keep-alive connection closes at once, an HTTP/2 one sends GOAWAY, requests in flight finish), then keep serving until done |
//! | `FORCED` | the accept loop, when the drain timeout passed | drop the connection |
//!
//! Phases only move forward. A task reads the phase on every poll (one atomic
//! load) and stores its waker once (again only if its waker changed), so the
//! mutex is not taken per request. Changing the phase wakes every stored waker.
//!
//! # Ground rules
//! `state` is one mutex for the connection count and the wakers; wakers are woken
//! after it is released.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use slab::Slab;

/// Phase: connections serve normally.
const SERVING: u8 = 0;
/// Phase: connections finish what is in flight and close.
const DRAINING: u8 = 1;
/// Phase: the drain timeout passed; connections close now.
const FORCED: u8 = 2;

/// What a connection task must do, read from the phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Serve.
    Serving,
    /// Shut down gracefully.
    Draining,
    /// Close now.
    Forced,
}

#[derive(Default)]
struct State {
    /// Wakers of the live connection tasks (by their key).
    connections: Slab<Option<Waker>>,
    /// The accept loop, waiting for the last connection to finish.
    all_done: Option<Waker>,
}

/// See the module docs.
#[derive(Default)]
pub(super) struct Drain {
    phase: AtomicU8,
    state: Mutex<State>,
}

impl Drain {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current phase.
    pub(super) fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            SERVING => Phase::Serving,
            DRAINING => Phase::Draining,
            FORCED => Phase::Forced,
            other => unreachable!("ticktock: serve's drain phase is {other}, not one of the three"),
        }
    }

    /// Moves to `phase` (forward only) and wakes every connection task.
    pub(super) fn advance(&self, phase: Phase) {
        let word = match phase {
            Phase::Serving => SERVING,
            Phase::Draining => DRAINING,
            Phase::Forced => FORCED,
        };
        self.phase.fetch_max(word, Ordering::AcqRel);
        let wakers: Vec<Waker> = self
            .state()
            .connections
            .iter_mut()
            .filter_map(|(_, waker)| waker.take())
            .collect();
        for waker in wakers {
            waker.wake();
        }
    }

    /// Registers a connection task; it counts until its [`Tracked`] drops.
    pub(super) fn track(self: &Arc<Self>) -> Tracked {
        let key = self.state().connections.insert(None);
        Tracked {
            drain: self.clone(),
            key,
            registered: None,
            seen: Phase::Serving,
        }
    }

    /// Ready when no connection task is left.
    pub(super) fn poll_all_done(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state();
        if state.connections.is_empty() {
            return Poll::Ready(());
        }
        state.all_done = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// One connection task's registration in the [`Drain`].
pub(super) struct Tracked {
    drain: Arc<Drain>,
    key: usize,
    /// The waker last stored, to skip the mutex while it stays the same.
    registered: Option<Waker>,
    /// The phase when the waker was stored: a newer phase means `advance` took it.
    seen: Phase,
}

impl Tracked {
    /// The phase, after making sure a phase change will wake this task.
    pub(super) fn poll_phase(&mut self, cx: &mut Context<'_>) -> Phase {
        let phase = self.drain.phase();
        if phase != self.seen {
            // `advance` took the stored waker when it moved the phase.
            self.registered = None;
            self.seen = phase;
        }
        let fresh = self
            .registered
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()));
        if !fresh {
            self.drain.state().connections[self.key] = Some(cx.waker().clone());
            self.registered = Some(cx.waker().clone());
        }
        // Re-read after storing: an `advance` that took the wakers before the store
        // moved the phase before it, so this load sees it (the mutex orders them);
        // `seen` keeps the old phase so the next poll stores the waker again.
        self.drain.phase()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let all_done = {
            let mut state = self.drain.state();
            state.connections.remove(self.key);
            if state.connections.is_empty() {
                state.all_done.take()
            } else {
                None
            }
        };
        if let Some(waker) = all_done {
            waker.wake();
        }
    }
}
