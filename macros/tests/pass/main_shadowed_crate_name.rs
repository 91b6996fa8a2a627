// The generated code names `::ticktock`, so a local item called `ticktock` does not
// capture it; `crate = "..."` reaches ticktock through a re-export.
mod ticktock {}

mod reexport {
    pub use ::ticktock as runtime;
}

#[::ticktock::test(crate = "crate::reexport::runtime")]
async fn through_the_reexport() {}

#[::ticktock::main]
async fn main() {
    ::ticktock::spawn(async {}).await.unwrap();
}
