//! Asynchronous signal handling (Unix), delivered through the runtime's poller.
//!
//! # What it owns
//! | file | owns |
//! |---|---|
//! | `registry.rs` | the process-wide registry: the self-pipe, per-signal entries, the `signal-hook` actions, and `dispatch` |
//! | `unix.rs` | the public [`unix::signal`], [`unix::Signal`] and [`unix::SignalKind`] |
//! | this file | [`ctrl_c`] |
//!
//! # How a signal reaches a task
//! The handler (installed by the `signal-hook` crate, not written here) sets a
//! flag and writes a byte to a self-pipe. The first listener created in a runtime
//! registers that pipe in the runtime's own `mio::Poll`, so no thread is added: the
//! worker sleeping in `epoll_wait` wakes, drains the pipe and wakes every listener of
//! every signal that arrived. Several listeners of one signal all wake.
//!
//! # Invariants
//! - While a signal has at least one listener, its arrival does nothing else
//!   (the default action, such as terminating, does not run).
//! - When its last listener is dropped, the process behaves as before the first
//!   one: a signal with the default disposition gets it back (SIGINT terminates
//!   again), an ignored or previously caught one stays so.
//!
//! # Examples
//! ```
//! use ticktock_executor::signal::unix::{signal, SignalKind};
//!
//! let rt = ticktock_executor::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let mut hangups = signal(SignalKind::hangup()).unwrap();
//!     // A real program would await `hangups.recv()` in a loop and reload its
//!     // configuration each time; here the listener is only created and dropped,
//!     // which leaves SIGHUP's default (terminate) in place again.
//!     drop(hangups);
//! });
//! ```

pub(crate) mod registry;
pub mod unix;

use std::io;

/// Waits for the next ctrl-c (SIGINT). While the returned future exists, ctrl-c
/// no longer terminates the process; once it completes or is dropped (and no
/// other SIGINT listener exists), ctrl-c terminates it again.
///
/// The listener is created on the first poll, so a ctrl-c before that is not seen.
///
/// # Errors
/// Fails if the handler cannot be registered.
///
/// # Panics
/// Panics when polled outside a ticktock runtime.
///
/// # Examples
/// ```no_run
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let server = ticktock_executor::spawn(async { /* serve */ });
///     ticktock_executor::signal::ctrl_c().await.expect("listen for ctrl-c");
///     println!("shutting down");
///     drop(server);
/// });
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    let mut interrupts = unix::signal(unix::SignalKind::interrupt())?;
    interrupts.recv().await;
    Ok(())
}
