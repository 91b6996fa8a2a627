//! Placeholder until the hyper example lands.
fn main() {}
