#[ticktock::main(flavor = "current_thread")]
async fn main() {
    let main_thread = std::thread::current().id();
    let task_thread = ticktock::spawn(async { std::thread::current().id() })
        .await
        .unwrap();
    assert_eq!(task_thread, main_thread);
}
