//! Task bookkeeping under the public `task` API: the wrapper every spawned future runs
//! in, the registry of live tasks that shutdown cancels, and the blocking pool.
//!
//! Files (docs/design.md, section 0): `task_wrapper.rs`, `registry.rs`,
//! `blocking_pool.rs`.

pub(crate) mod blocking_pool;
pub(crate) mod registry;
pub(crate) mod task_wrapper;
