#[ticktock::main(flavor = 1)]
async fn main() {}

#[ticktock::test(flavor = "multi_thread", worker_threads = "4")]
async fn threads_as_string() {}

#[ticktock::test(start_paused = "yes")]
async fn paused_as_string() {}

#[ticktock::test(crate = ticktock)]
async fn crate_not_a_string() {}

#[ticktock::test(flavor = "local")]
async fn unknown_flavor() {}
