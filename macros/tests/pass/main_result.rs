// `?` and early returns inside the body need no type annotations.
use std::time::Duration;

#[ticktock::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    ticktock::time::sleep(Duration::from_millis(1)).await;
    let n: u32 = "3".parse()?;
    if n == 3 {
        return Ok(());
    }
    Err("unexpected".into())
}
