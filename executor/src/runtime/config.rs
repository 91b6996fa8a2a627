//! The runtime's settings that the scheduler reads after `build`: its name, the
//! scheduling intervals and the thread hooks of [`Builder`](crate::Builder).
//!
//! # What it owns
//! [`Config`], built once by `Builder::build` and kept in `Shared`; read-only
//! afterwards. A hook runs on the thread it concerns (the one starting, stopping,
//! parking or unparking), outside every scheduler lock; a panicking hook unwinds
//! that thread as a panicking task body would not, so hooks must not panic (tokio's
//! rule too).

use std::fmt;
use std::sync::Arc;

/// A user hook (`on_thread_start` and friends).
pub(crate) type Hook = Arc<dyn Fn() + Send + Sync + 'static>;

/// Ticks between two maintenance passes by default (own timers, others' due
/// timers, a non-blocking I/O poll) while a worker has tasks to run. A prime, so it
/// does not beat with [`DEFAULT_GLOBAL_QUEUE_INTERVAL`]; small enough that a busy
/// worker checks timers every few microseconds of work (tokio's default too).
pub(crate) const DEFAULT_EVENT_INTERVAL: u32 = 61;

/// Ticks between two looks at the global queue before the local one by default,
/// so tasks spawned from outside cannot starve behind a worker that keeps itself
/// busy (tokio's default too).
pub(crate) const DEFAULT_GLOBAL_QUEUE_INTERVAL: u32 = 31;

/// See the module docs.
#[derive(Clone)]
pub(crate) struct Config {
    /// `Builder::name`, shown by `Handle::name`.
    pub(crate) name: Option<String>,
    /// `Builder::event_interval`.
    pub(crate) event_interval: u32,
    /// `Builder::global_queue_interval`.
    pub(crate) global_queue_interval: u32,
    pub(crate) on_thread_start: Option<Hook>,
    pub(crate) on_thread_stop: Option<Hook>,
    pub(crate) on_thread_park: Option<Hook>,
    pub(crate) on_thread_unpark: Option<Hook>,
    /// `Builder::tokio_compat`: enter the tokio bridge on this runtime's threads.
    #[cfg(feature = "tokio-compat")]
    pub(crate) tokio_compat: bool,
    /// `Builder::simulated_network`: the seed of the in-memory network that
    /// `net`'s sockets use instead of the OS's (`sim/net/`); `None`: real sockets.
    pub(crate) simulated_network: Option<u64>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            name: None,
            event_interval: DEFAULT_EVENT_INTERVAL,
            global_queue_interval: DEFAULT_GLOBAL_QUEUE_INTERVAL,
            on_thread_start: None,
            on_thread_stop: None,
            on_thread_park: None,
            on_thread_unpark: None,
            #[cfg(feature = "tokio-compat")]
            tokio_compat: true,
            simulated_network: None,
        }
    }
}

/// Runs a hook if it is set.
pub(crate) fn run_hook(hook: &Option<Hook>) {
    if let Some(hook) = hook {
        hook();
    }
}

/// Calls `on_thread_start` now and `on_thread_stop` when dropped: held by every
/// thread the runtime starts (workers, `block_in_place` replacements, blocking
/// threads) for its whole life. With the feature `tokio-compat` it also holds the
/// tokio bridge's context, entered before the start hook and left after the stop
/// hook.
pub(crate) struct ThreadHooks<'a> {
    config: &'a Config,
    #[cfg(feature = "tokio-compat")]
    _tokio: crate::compat::TokioContext,
}

impl<'a> ThreadHooks<'a> {
    pub(crate) fn start(config: &'a Config) -> ThreadHooks<'a> {
        #[cfg(feature = "tokio-compat")]
        let tokio = crate::compat::enter(config.tokio_compat);
        run_hook(&config.on_thread_start);
        ThreadHooks {
            config,
            #[cfg(feature = "tokio-compat")]
            _tokio: tokio,
        }
    }
}

impl Drop for ThreadHooks<'_> {
    fn drop(&mut self) {
        // Fields drop after this body: the tokio context outlives the stop hook.
        run_hook(&self.config.on_thread_stop);
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("name", &self.name)
            .field("event_interval", &self.event_interval)
            .field("global_queue_interval", &self.global_queue_interval)
            .field("simulated_network", &self.simulated_network)
            .finish_non_exhaustive()
    }
}
