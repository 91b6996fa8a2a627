//! Placeholder until the net bench lands.
fn main() {}
