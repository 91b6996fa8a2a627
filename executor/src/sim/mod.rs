//! Deterministic simulation (issue 21). On this branch only the simulated network,
//! [`net`]; the seeded simulation runtime lives on the `sim-runtime` branch.

pub mod net;
