// Every option at once.
#[ticktock::main(
    flavor = "multi_thread",
    worker_threads = 2,
    start_paused = false,
    crate = "::ticktock"
)]
async fn main() {
    assert_eq!(ticktock::Handle::current().metrics().workers, 2);
}
