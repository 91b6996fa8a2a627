#[ticktock::test]
async fn generic<T: Default>() {}

#[ticktock::test]
#[test]
async fn marked_twice() {}

#[ticktock::main]
struct NotAFunction;

fn main() {}
