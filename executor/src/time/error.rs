//! Time errors.

use std::fmt;

/// The error of [`timeout`](crate::time::timeout): the deadline passed before the
/// inner future completed.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let rt = ticktock_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let result = ticktock_executor::time::timeout(
///         Duration::from_millis(1),
///         std::future::pending::<()>(),
///     )
///     .await;
///     let error: ticktock_executor::time::error::Elapsed = result.unwrap_err();
///     assert_eq!(error.to_string(), "deadline has elapsed");
/// });
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct Elapsed(());

impl Elapsed {
    pub(crate) fn new() -> Elapsed {
        Elapsed(())
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(_: Elapsed) -> std::io::Error {
        std::io::ErrorKind::TimedOut.into()
    }
}
