// The default `main` runtime is multi-thread with one worker per core.
#[ticktock::main]
async fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(ticktock::Handle::current().metrics().workers, cores);
}
