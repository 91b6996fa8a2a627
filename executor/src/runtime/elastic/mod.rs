//! Elasticity: a running runtime's worker count changes without stopping the world
//! (Go's `procresize`).
//!
//! Files (docs/design.md, section 0): which workers have a thread, and the states a
//! resize moves them through (`states.rs`), resizing and following the cgroup limit
//! (`resize.rs`), a worker retiring and migrating its tasks and timers to the
//! survivors (`retire.rs`), reading the container's CPU limit (`cgroup.rs`).

pub(crate) mod cgroup;
pub(crate) mod resize;
pub(crate) mod retire;
pub(crate) mod states;
