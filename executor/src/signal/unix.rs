//! Unix signals by kind: [`signal`] creates a [`Signal`] listener whose
//! [`recv`](Signal::recv) completes each time the signal arrives.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::raw::c_int;
use std::task::{Context, Poll};

use super::registry::Listener;
use crate::runtime::Handle;

/// A kind of Unix signal, by number. The constructors name the common ones;
/// [`SignalKind::from_raw`] takes any other.
///
/// # Examples
/// ```
/// use ticktock_executor::signal::unix::SignalKind;
///
/// assert_eq!(SignalKind::terminate().as_raw_value(), 15);
/// assert_eq!(SignalKind::from_raw(10), SignalKind::user_defined1());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignalKind(c_int);

impl SignalKind {
    /// The signal with number `signum` (as `libc::SIGUSR1` and friends).
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::from_raw(2), SignalKind::interrupt());
    /// ```
    pub const fn from_raw(signum: c_int) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal's number.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::hangup().as_raw_value(), 1);
    /// ```
    pub const fn as_raw_value(&self) -> c_int {
        self.0
    }

    /// SIGALRM: a timer set with `alarm` expired.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::alarm().as_raw_value(), 14);
    /// ```
    pub const fn alarm() -> SignalKind {
        SignalKind(signal_hook::consts::SIGALRM)
    }

    /// SIGCHLD: a child process stopped or exited.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::child().as_raw_value(), 17);
    /// ```
    pub const fn child() -> SignalKind {
        SignalKind(signal_hook::consts::SIGCHLD)
    }

    /// SIGHUP: the terminal hung up; daemons take it as "reload your configuration".
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::hangup().as_raw_value(), 1);
    /// ```
    pub const fn hangup() -> SignalKind {
        SignalKind(signal_hook::consts::SIGHUP)
    }

    /// SIGINT: ctrl-c in the terminal (see also [`ctrl_c`](super::ctrl_c)).
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::interrupt().as_raw_value(), 2);
    /// ```
    pub const fn interrupt() -> SignalKind {
        SignalKind(signal_hook::consts::SIGINT)
    }

    /// SIGIO: I/O is possible on a descriptor set up for it.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::io().as_raw_value(), 29);
    /// ```
    pub const fn io() -> SignalKind {
        SignalKind(signal_hook::consts::SIGIO)
    }

    /// SIGPIPE: a write to a pipe or socket whose reader is gone.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::pipe().as_raw_value(), 13);
    /// ```
    pub const fn pipe() -> SignalKind {
        SignalKind(signal_hook::consts::SIGPIPE)
    }

    /// SIGQUIT: ctrl-\ in the terminal.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::quit().as_raw_value(), 3);
    /// ```
    pub const fn quit() -> SignalKind {
        SignalKind(signal_hook::consts::SIGQUIT)
    }

    /// SIGTERM: the polite request to terminate (what `kill` and service managers send).
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::terminate().as_raw_value(), 15);
    /// ```
    pub const fn terminate() -> SignalKind {
        SignalKind(signal_hook::consts::SIGTERM)
    }

    /// SIGUSR1: meaning is up to the application.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::user_defined1().as_raw_value(), 10);
    /// ```
    pub const fn user_defined1() -> SignalKind {
        SignalKind(signal_hook::consts::SIGUSR1)
    }

    /// SIGUSR2: meaning is up to the application.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::user_defined2().as_raw_value(), 12);
    /// ```
    pub const fn user_defined2() -> SignalKind {
        SignalKind(signal_hook::consts::SIGUSR2)
    }

    /// SIGWINCH: the terminal's window changed size.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::window_change().as_raw_value(), 28);
    /// ```
    pub const fn window_change() -> SignalKind {
        SignalKind(signal_hook::consts::SIGWINCH)
    }
}

impl From<c_int> for SignalKind {
    fn from(signum: c_int) -> SignalKind {
        SignalKind(signum)
    }
}

impl From<SignalKind> for c_int {
    fn from(kind: SignalKind) -> c_int {
        kind.0
    }
}

/// A listener for one kind of signal, made by [`signal`]. Each arrival of the
/// signal after the listener was created completes one [`recv`](Signal::recv);
/// arrivals between two `recv`s coalesce into one. Dropping the last listener of
/// a signal gives the process its earlier behaviour for it back.
///
/// # Examples
/// ```
/// use ticktock_executor::signal::unix::{signal, SignalKind};
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let mut first = signal(SignalKind::user_defined2()).unwrap();
///     let mut second = signal(SignalKind::user_defined2()).unwrap();
///     signal_hook::low_level::raise(signal_hook::consts::SIGUSR2).unwrap();
///     assert_eq!(first.recv().await, Some(()));
///     assert_eq!(second.recv().await, Some(()));
/// });
/// ```
pub struct Signal {
    kind: SignalKind,
    listener: Listener,
}

/// Creates a listener for `kind`, in the current runtime (whose poller then
/// watches the signal pipe).
///
/// # Errors
/// [`io::ErrorKind::InvalidInput`] for a signal that cannot be caught (SIGKILL,
/// SIGSTOP) or must keep its default (SIGSEGV, SIGILL, SIGFPE), or an error from
/// registering the handler.
///
/// # Panics
/// Panics outside a ticktock runtime.
///
/// # Examples
/// ```
/// use ticktock_executor::signal::unix::{signal, SignalKind};
///
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     assert!(signal(SignalKind::terminate()).is_ok());
///     assert!(signal(SignalKind::from_raw(9)).is_err()); // SIGKILL
/// });
/// ```
#[track_caller]
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let Ok(handle) = Handle::try_current() else {
        panic!(
            "ticktock: a signal listener was created outside a ticktock runtime; create \
             it from a task, from inside `Runtime::block_on`, or after `Runtime::enter`"
        );
    };
    let listener = Listener::new(kind.0)?;
    handle.shared.parking.driver.enable_signals()?;
    Ok(Signal { kind, listener })
}

impl Signal {
    /// Waits for the next arrival of the signal. Always `Some(())` (the `Option`
    /// keeps tokio's signature).
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::signal::unix::{signal, SignalKind};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
    ///     signal_hook::low_level::raise(signal_hook::consts::SIGUSR1).unwrap();
    ///     usr1.recv().await.unwrap();
    /// });
    /// ```
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next arrival: the building block of [`Signal::recv`].
    ///
    /// # Examples
    /// ```
    /// use std::future::poll_fn;
    /// use ticktock_executor::signal::unix::{signal, SignalKind};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
    ///     signal_hook::low_level::raise(signal_hook::consts::SIGUSR1).unwrap();
    ///     poll_fn(|cx| usr1.poll_recv(cx)).await.unwrap();
    /// });
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.listener.poll_recv(cx).map(Some)
    }

    /// The kind of signal this listener waits for.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::signal::unix::{signal, SignalKind};
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let hangups = signal(SignalKind::hangup()).unwrap();
    ///     assert_eq!(hangups.kind(), SignalKind::hangup());
    /// });
    /// ```
    pub fn kind(&self) -> SignalKind {
        self.kind
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal").field("kind", &self.kind).finish()
    }
}
