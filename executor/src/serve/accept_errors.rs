//! What `serve`'s accept loop does after an accept error: skip it, or pause.
//!
//! # What it owns
//! [`AcceptErrors`]: the loop's run of consecutive errors, the pause after each,
//! and the `tracing` events (target `ticktock::serve`, feature `tracing`). Every
//! error from the operating system is also counted in
//! `RuntimeMetrics::accept_errors` (by the listener, for every accept loop).
//!
//! # The policy
//! | error | what the loop does | event |
//! |---|---|---|
//! | about one connection (`ECONNABORTED`, `ECONNRESET`, `ECONNREFUSED`, `EINTR`) | accepts the next one at once | none |
//! | any other (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`, ...) | pauses for the pause (default [`ACCEPT_ERROR_PAUSE`]), then retries | `ERROR` for the 1st, 2nd, 4th, 8th, ... error in a row |
//! | an accept succeeds after errors | serves it | `INFO` "recovered", with the run's length |
//!
//! Events at powers of two keep the log readable during a long exhaustion (an
//! hour at the limit with the 50 ms pause: 72,000 errors, 17 events) without a
//! clock; the metric has the exact count.
//!
//! # Why 50 ms, when axum sleeps 1 s
//! axum's `serve` (after hyper 0.14's `AddrIncoming`) logs every such error and
//! sleeps a fixed second. The pause does not make descriptors free faster; it
//! only bounds how often a failing `accept` runs and how long the server stays
//! deaf once descriptors are free again. At 50 ms a server at the descriptor
//! limit makes 20 failing `accept` calls a second and serves its queued clients
//! at most 50 ms after descriptors free up, where axum may leave them waiting for
//! a whole second. The fault suite (`tests/faults/fd_limit.rs`, RLIMIT_NOFILE 256,
//! 400 clients; `FAULTS_TUNING=1` adds the 1 s run) measured on a 2-core VM, 3
//! runs each: CPU at the limit 0-20 ms per second with 50 ms (at `/proc`'s 10 ms
//! resolution), 0 ms with 1 s; the queued clients served 55-82 ms after
//! descriptors freed with 50 ms, 679-728 ms with 1 s. `Serve::accept_error_pause`
//! changes it.

use std::io;
use std::time::Duration;

/// How long the accept loop pauses after an accept error that is not about one
/// connection (say, `EMFILE`), unless `Serve::accept_error_pause` says otherwise:
/// see the module docs of `accept_errors` for why 50 ms and not axum's 1 s.
pub const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// The accept loop's run of consecutive errors. See the module docs.
#[derive(Debug)]
pub(super) struct AcceptErrors {
    pause: Duration,
    in_a_row: u64,
}

impl AcceptErrors {
    pub(super) fn new(pause: Duration) -> AcceptErrors {
        AcceptErrors { pause, in_a_row: 0 }
    }

    /// After an error: returns at once for an error about one connection, after
    /// the pause for any other.
    pub(super) async fn after_error(&mut self, error: &io::Error) {
        if is_connection_error(error) {
            return;
        }
        self.in_a_row += 1;
        if self.in_a_row.is_power_of_two() {
            report_error(error, self.in_a_row, self.pause);
        }
        crate::time::sleep(self.pause).await;
    }

    /// After a successful accept: ends the run of errors.
    pub(super) fn after_success(&mut self) {
        if self.in_a_row != 0 {
            report_recovered(self.in_a_row);
            self.in_a_row = 0;
        }
    }
}

/// Accept errors that concern one connection only: skip it and go on.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

#[cfg(feature = "tracing")]
fn report_error(error: &io::Error, in_a_row: u64, pause: Duration) {
    tracing::error!(
        target: "ticktock::serve",
        %error,
        in_a_row,
        pause_ms = pause.as_millis() as u64,
        "accept error; pausing the accept loop"
    );
}

#[cfg(feature = "tracing")]
fn report_recovered(errors: u64) {
    tracing::info!(target: "ticktock::serve", errors, "accept recovered");
}

#[cfg(not(feature = "tracing"))]
fn report_error(_error: &io::Error, _in_a_row: u64, _pause: Duration) {}

#[cfg(not(feature = "tracing"))]
fn report_recovered(_errors: u64) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_errors_are_skipped_and_others_pause() {
        let rt = crate::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            crate::time::pause();
            let mut errors = AcceptErrors::new(Duration::from_millis(50));
            let start = crate::time::Instant::now();
            errors
                .after_error(&io::ErrorKind::ConnectionAborted.into())
                .await;
            assert_eq!(errors.in_a_row, 0);
            assert_eq!(start.elapsed(), Duration::ZERO);
            let emfile = io::Error::from_raw_os_error(24);
            errors.after_error(&emfile).await;
            errors.after_error(&emfile).await;
            assert_eq!(errors.in_a_row, 2);
            assert_eq!(start.elapsed(), Duration::from_millis(100));
            errors.after_success();
            assert_eq!(errors.in_a_row, 0);
        });
    }
}
