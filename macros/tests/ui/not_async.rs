#[ticktock::main]
fn main() {}

#[ticktock::test]
fn not_async_test() {}
