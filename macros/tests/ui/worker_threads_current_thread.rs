#[ticktock::main(flavor = "current_thread", worker_threads = 2)]
async fn main() {}

// Tests are current-thread unless told otherwise.
#[ticktock::test(worker_threads = 2)]
async fn default_test_flavor() {}
