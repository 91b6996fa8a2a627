#[ticktock::main]
async fn main(port: u16) {
    let _ = port;
}

#[ticktock::test]
async fn test_with_arguments(a: u8, b: u8) {
    let _ = (a, b);
}
