#[ticktock::main(threads = 4)]
async fn main() {}

#[ticktock::test(multi_thread)]
async fn bare_flavor() {}

#[ticktock::test(worker_threads)]
async fn option_without_value() {}
