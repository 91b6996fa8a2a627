//! `#[ticktock::test]` and `#[ticktock::main]` expansions that really run: flavors,
//! worker counts, return types, and the other attributes kept alongside.

use std::time::Duration;

use ticktock::Handle;

/// The name of the thread running the current code.
fn thread_name() -> Option<String> {
    std::thread::current().name().map(String::from)
}

#[ticktock::test]
async fn default_test_flavor_runs_tasks_on_the_test_thread() {
    let test_thread = std::thread::current().id();
    let task_thread = ticktock::spawn(async { std::thread::current().id() })
        .await
        .unwrap();
    assert_eq!(task_thread, test_thread);
}

#[ticktock::test(flavor = "current_thread")]
async fn explicit_current_thread() {
    ticktock::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(ticktock::spawn(async { 7 }).await.unwrap(), 7);
}

#[ticktock::test(flavor = "multi_thread", worker_threads = 3)]
async fn multi_thread_with_worker_count() {
    assert_eq!(Handle::current().metrics().workers, 3);
    let name = ticktock::spawn(async { thread_name() }).await.unwrap();
    assert!(name.is_some_and(|name| name != thread_name().unwrap_or_default()));
}

#[ticktock::test(worker_threads = 2, flavor = "multi_thread")]
async fn option_order_does_not_matter() {
    assert_eq!(Handle::current().metrics().workers, 2);
}

#[ticktock::test(flavor = "multi_thread")]
async fn multi_thread_default_workers() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(Handle::current().metrics().workers, cores);
}

#[ticktock::test(start_paused = false)]
async fn start_paused_false_is_accepted() {}

#[ticktock::test(crate = "::ticktock")]
async fn explicit_crate_path() {}

#[ticktock::test]
async fn result_return_type_with_question_mark() -> Result<(), std::num::ParseIntError> {
    let n: u32 = "12".parse()?;
    assert_eq!(n, 12);
    Ok(())
}

#[ticktock::test]
async fn early_return_keeps_the_declared_type() -> Result<(), String> {
    if thread_name().is_some() {
        return Ok(());
    }
    Err("unreachable".into())
}

#[ticktock::test]
#[should_panic(expected = "boom")]
async fn should_panic_is_kept() {
    ticktock::time::sleep(Duration::from_millis(1)).await;
    panic!("boom");
}

#[ticktock::test]
#[ignore = "checks that `#[ignore]` is kept; never run"]
async fn ignore_is_kept() {
    panic!("an ignored test ran");
}

mod nested {
    /// A function of the enclosing module, reachable from the moved body.
    async fn helper() -> u32 {
        5
    }

    #[ticktock::test]
    async fn body_sees_the_enclosing_module() {
        assert_eq!(helper().await, 5);
    }
}

/// A `main` is an ordinary function after expansion: it can be called.
#[ticktock::main(flavor = "current_thread")]
async fn entry_point() -> u32 {
    ticktock::spawn(async { 41 }).await.unwrap() + 1
}

#[test]
fn main_attribute_makes_a_callable_sync_fn() {
    assert_eq!(entry_point(), 42);
}

/// A `main` with the default options uses the multi-thread runtime.
#[ticktock::main]
async fn default_main() -> usize {
    Handle::current().metrics().workers
}

#[test]
fn default_main_flavor_is_multi_thread() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(default_main(), cores);
}

#[ticktock::test(start_paused = true)]
async fn start_paused_true_runs_on_virtual_time() {
    let real = std::time::Instant::now();
    let start = ticktock::time::Instant::now();
    let sleep = ticktock::time::sleep(std::time::Duration::from_secs(3600));
    let deadline = sleep.deadline();
    sleep.await;
    // An hour of virtual time, no real waiting.
    assert!(real.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(deadline - start, std::time::Duration::from_secs(3600));
    assert_eq!(start.elapsed(), std::time::Duration::from_secs(3600));
}

#[ticktock::test(flavor = "multi_thread", worker_threads = 2, start_paused = true)]
async fn start_paused_true_on_multi_thread_runs_on_virtual_time() {
    use std::time::Duration;
    let real = std::time::Instant::now();
    let start = ticktock::time::Instant::now();
    // Tasks on both workers, each sleeping a different virtual hour count.
    let tasks: Vec<_> = (1..=4u64)
        .map(|hours| {
            ticktock::spawn(async move {
                ticktock::time::sleep(Duration::from_secs(3600 * hours)).await;
                start.elapsed()
            })
        })
        .collect();
    for (hours, task) in (1..=4u64).zip(tasks) {
        assert_eq!(task.await.unwrap(), Duration::from_secs(3600 * hours));
    }
    assert_eq!(start.elapsed(), Duration::from_secs(4 * 3600));
    assert!(real.elapsed() < Duration::from_secs(5));
}
