//! The `#[ticktock::main]` and `#[ticktock::test]` attribute macros.
//!
//! Both turn an `async fn` into a plain function that builds a ticktock runtime and
//! blocks on the function's body. Use them through the `ticktock` crate (its default
//! `macros` feature re-exports them); the generated code refers to `::ticktock`.
//!
//! # Options
//! | option | values | default |
//! | --- | --- | --- |
//! | `flavor` | `"multi_thread"`, `"current_thread"` | `main`: `"multi_thread"`; `test`: `"current_thread"` |
//! | `worker_threads` | an integer, at least 1; only with `"multi_thread"` | one worker per core |
//! | `start_paused` | `true`, `false` (either flavor) | `false` |
//! | `crate` | a path in a string, for crates that re-export ticktock | `"::ticktock"` |
//!
//! Misuse (a non-async function, arguments, an unknown option, a value of the wrong
//! type, `worker_threads = 0`, `worker_threads` on a current-thread runtime) is a
//! compile error on the offending token.
//!
//! # Examples
//! ```
//! #[ticktock::main(worker_threads = 2)]
//! async fn main() {
//!     let answer = ticktock::spawn(async { 6 * 7 }).await.unwrap();
//!     assert_eq!(answer, 42);
//! }
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod expand;
mod options;

use proc_macro::TokenStream;

use crate::options::Kind;

/// Runs an `async fn` as the program's entry point on a ticktock runtime.
///
/// The function becomes a synchronous one that builds a runtime, blocks on the
/// body, and returns the body's output, so `async fn main() -> Result<(), E>` works
/// as it does without the attribute. The runtime is multi-thread with one worker
/// per core unless the options say otherwise:
///
/// - `flavor = "multi_thread"` (default) or `flavor = "current_thread"`;
/// - `worker_threads = N` (multi-thread only, `N >= 1`);
/// - `crate = "path::to::ticktock"` when ticktock is reached through a re-export.
///
/// # Examples
/// ```
/// use std::time::Duration;
///
/// #[ticktock::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     ticktock::time::sleep(Duration::from_millis(1)).await;
///     let port: u16 = "8080".parse()?;
///     assert_eq!(port, 8080);
///     Ok(())
/// }
/// ```
///
/// A single-threaded runtime, where every task runs on the main thread:
/// ```
/// #[ticktock::main(flavor = "current_thread")]
/// async fn main() {
///     let main_thread = std::thread::current().id();
///     let task_thread = ticktock::spawn(async { std::thread::current().id() })
///         .await
///         .unwrap();
///     assert_eq!(task_thread, main_thread);
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` as a `#[test]` on its own ticktock runtime.
///
/// Each test gets a fresh runtime, current-thread by default so that a test runs on
/// one thread; the options are those of [`macro@main`]:
///
/// - `flavor = "current_thread"` (default) or `flavor = "multi_thread"`;
/// - `worker_threads = N` (needs `flavor = "multi_thread"`, `N >= 1`);
/// - `start_paused = true` starts the runtime with time paused
///   (`Builder::start_paused`, see `ticktock::time::pause`): sleeps and timeouts
///   complete instantly and deterministically as the clock jumps to each next
///   deadline when the runtime is idle. With either flavor;
/// - `crate = "path::to::ticktock"` when ticktock is reached through a re-export.
///
/// Other attributes, such as `#[should_panic]` or `#[ignore]`, go on as usual.
///
/// # Examples
/// ```
/// # fn main() {}
/// use std::time::Duration;
///
/// #[ticktock::test]
/// async fn sleeps_at_least_the_duration() {
///     let start = ticktock::time::Instant::now();
///     ticktock::time::sleep(Duration::from_millis(2)).await;
///     assert!(start.elapsed() >= Duration::from_millis(2));
/// }
///
/// #[ticktock::test(flavor = "multi_thread", worker_threads = 2)]
/// async fn runs_on_two_workers() -> Result<(), ticktock::task::JoinError> {
///     let handles: Vec<_> = (0..4).map(|i| ticktock::spawn(async move { i })).collect();
///     let mut sum = 0;
///     for handle in handles {
///         sum += handle.await?;
///     }
///     assert_eq!(sum, 6);
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::Test, args.into(), item.into()).into()
}
