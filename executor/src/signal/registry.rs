//! The process-wide signal registry: which signals have listeners, the actions
//! registered with `signal-hook` for them, and the self-pipe that carries "a signal
//! arrived" into every runtime's poller.
//!
//! # What it owns
//! - One self-pipe (a Unix socket pair). The signal handler's only work is two
//!   async-signal-safe actions from `signal-hook`: set the signal's `pending` flag,
//!   then send a byte on the pipe. Each runtime that has a listener registers a
//!   duplicate of the receiving end in its own `mio::Poll` (see
//!   `Driver::enable_signals`), so a signal wakes the poller like any socket.
//! - A [`SignalEntry`] per signal number that ever had a listener: its pending flag, its
//!   delivery `generation`, the wakers of its listeners, and the actions.
//!
//! # The delivery protocol
//! 1. Handler: `pending = true`, then a byte on the pipe (registration order: the flag
//!    action is registered first, and signal-hook runs actions in that order).
//! 2. Poller (any runtime, on the pipe's readable event): [`dispatch`] drains the
//!    pipe first, then swaps every `pending` flag to `false`; each flag found set
//!    bumps its entry's `generation` and wakes all its listeners. Draining before
//!    swapping means a signal that lands in between leaves its flag set for this
//!    pass or its byte for the next: none is lost.
//! 3. Listener: remembers the generation it has seen; `recv` is ready when the entry's
//!    generation moved past it. Signals arriving between two `recv`s coalesce into
//!    one, as with tokio and the kernel itself.
//!
//! # Leaving the process as it was
//! The first listener of a signal registers the flag and pipe actions; the last one
//! to drop unregisters them. A handler installed by `signal-hook` cannot be removed,
//! and with no actions left it would swallow the signal, so when the signal's
//! disposition was the default one before ticktock touched it (read from
//! `/proc/self/status` on Linux; assumed elsewhere), a third action, registered
//! once, runs the default action (terminate, stop, ignore, ...) whenever no
//! listener exists. A signal that was ignored or caught before keeps being chained
//! to that earlier disposition by `signal-hook` itself.
//!
//! # Ground rules
//! `REGISTRY.entries` is one mutex, held to add or remove a listener, to store a
//! waker and to dispatch; wakers are woken after it is released. The handler never
//! takes it (it only touches atomics and the pipe).

use std::collections::HashMap;
use std::io::{self, Read};
use std::os::raw::c_int;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};

use signal_hook::SigId;
use slab::Slab;

/// The process-wide registry (created by the first listener).
static REGISTRY: OnceLock<Registry> = OnceLock::new();

/// Bytes drained from the pipe per `read`: any size works (the bytes carry no
/// data), this one empties a burst of signals in one call.
const DRAIN_CHUNK: usize = 64;

/// The highest signal number Linux has (`SIGRTMAX`); the disposition masks of
/// `/proc/self/status` are 64 bits wide for that reason.
const MAX_SIGNAL: c_int = 64;

struct Registry {
    /// The pipe's receiving end (non-blocking); runtimes register duplicates.
    receiver: UnixStream,
    /// The pipe's sending end; each pipe action gets a duplicate.
    sender: UnixStream,
    entries: Mutex<HashMap<c_int, SignalEntry>>,
}

/// One signal number's state. See the module docs.
struct SignalEntry {
    /// Set by the handler, swapped back by [`dispatch`].
    pending: Arc<AtomicBool>,
    /// Deliveries so far; a listener is ready when this moved past what it saw.
    generation: u64,
    /// One entry per live listener: the waker of its pending `recv`, if any.
    listeners: Slab<Option<Waker>>,
    /// The flag and pipe actions, registered while `listeners` is not empty.
    actions: Option<[SigId; 2]>,
    /// `Some` when the disposition was the default before ticktock: `true` makes
    /// the once-registered action run the default (no listener exists).
    run_default: Option<Arc<AtomicBool>>,
}

impl Registry {
    fn get() -> io::Result<&'static Registry> {
        if let Some(registry) = REGISTRY.get() {
            return Ok(registry);
        }
        let (sender, receiver) = UnixStream::pair()?;
        receiver.set_nonblocking(true)?;
        sender.set_nonblocking(true)?;
        let fresh = Registry {
            receiver,
            sender,
            entries: Mutex::new(HashMap::new()),
        };
        // A racing thread may have won: its registry is kept, this one is dropped.
        Ok(REGISTRY.get_or_init(|| fresh))
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<c_int, SignalEntry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A duplicate of the pipe's receiving end, for a runtime's poll to register.
pub(crate) fn receiver() -> io::Result<UnixStream> {
    Registry::get()?.receiver.try_clone()
}

/// One listener's registration: its listener key and the generation it has seen.
#[derive(Debug)]
pub(crate) struct Listener {
    signo: c_int,
    key: usize,
    seen: u64,
}

impl Listener {
    /// Adds a listener for `signo`, registering the handler's actions if it is the
    /// first.
    pub(crate) fn new(signo: c_int) -> io::Result<Listener> {
        if !(1..=MAX_SIGNAL).contains(&signo) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{signo} is not a signal number"),
            ));
        }
        if signal_hook::consts::FORBIDDEN.contains(&signo) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("signal {signo} cannot be listened for (it must keep its default)"),
            ));
        }
        let registry = Registry::get()?;
        let mut entries = registry.entries();
        let entry = match entries.entry(signo) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(vacant) => {
                let run_default = if had_default_disposition(signo) {
                    let flag = Arc::new(AtomicBool::new(false));
                    signal_hook::flag::register_conditional_default(signo, flag.clone())?;
                    Some(flag)
                } else {
                    None
                };
                vacant.insert(SignalEntry {
                    pending: Arc::new(AtomicBool::new(false)),
                    generation: 0,
                    listeners: Slab::new(),
                    actions: None,
                    run_default,
                })
            }
        };
        if entry.actions.is_none() {
            let flag = signal_hook::flag::register(signo, entry.pending.clone())?;
            let pipe = registry
                .sender
                .try_clone()
                .and_then(|sender| signal_hook::low_level::pipe::register(signo, sender));
            let pipe = match pipe {
                Ok(pipe) => pipe,
                Err(error) => {
                    signal_hook::low_level::unregister(flag);
                    return Err(error);
                }
            };
            entry.actions = Some([flag, pipe]);
            if let Some(run_default) = &entry.run_default {
                run_default.store(false, Ordering::SeqCst);
            }
        }
        let key = entry.listeners.insert(None);
        Ok(Listener {
            signo,
            key,
            seen: entry.generation,
        })
    }

    /// Ready once a signal arrived since the last ready poll (or since creation).
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(registry) = REGISTRY.get() else {
            unreachable!("ticktock: a signal listener exists without the registry")
        };
        let mut entries = registry.entries();
        let entry = entries
            .get_mut(&self.signo)
            .expect("ticktock: a signal listener's entry is kept while it lives");
        if entry.generation != self.seen {
            self.seen = entry.generation;
            return Poll::Ready(());
        }
        let waker = &mut entry.listeners[self.key];
        match waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => *waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let Some(registry) = REGISTRY.get() else {
            return;
        };
        let mut entries = registry.entries();
        let Some(entry) = entries.get_mut(&self.signo) else {
            return;
        };
        entry.listeners.remove(self.key);
        if !entry.listeners.is_empty() {
            return;
        }
        // The last listener: hand the signal back (see "Leaving the process as it was").
        if let Some(run_default) = &entry.run_default {
            run_default.store(true, Ordering::SeqCst);
        }
        if let Some(actions) = entry.actions.take() {
            for action in actions {
                signal_hook::low_level::unregister(action);
            }
        }
        entry.pending.store(false, Ordering::SeqCst);
    }
}

/// Delivers the signals that arrived: called by a runtime's poller when the pipe is
/// readable (step 2 of the delivery protocol).
pub(crate) fn dispatch() {
    let Some(registry) = REGISTRY.get() else {
        return;
    };
    let mut chunk = [0u8; DRAIN_CHUNK];
    loop {
        match (&registry.receiver).read(&mut chunk) {
            Ok(0) => break,
            Ok(_) => continue,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            // WouldBlock: drained (other errors cannot happen on a live pair).
            Err(_) => break,
        }
    }
    let mut wakers = Vec::new();
    {
        let mut entries = registry.entries();
        for entry in entries.values_mut() {
            if entry.pending.swap(false, Ordering::SeqCst) {
                entry.generation = entry.generation.wrapping_add(1);
                wakers.extend(entry.listeners.iter_mut().filter_map(|(_, w)| w.take()));
            }
        }
    }
    for waker in wakers {
        waker.wake();
    }
}

/// Whether `signo` had its default disposition before ticktock registered anything
/// for it: neither ignored nor caught, per the `SigIgn`/`SigCgt` masks of
/// `/proc/self/status`. Where that file cannot be read, the default is assumed.
fn had_default_disposition(signo: c_int) -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return true;
    };
    let bit = 1u64 << (signo - 1);
    let in_mask = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .is_some_and(|mask| mask & bit != 0)
    };
    !in_mask("SigIgn:") && !in_mask("SigCgt:")
}
