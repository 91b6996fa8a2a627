//! I/O plumbing: the reactor that turns mio events into task wake-ups, and the
//! registered-source wrapper that socket types are built on.

pub(crate) mod poll_evented;
pub(crate) mod reactor;

#[allow(unused_imports)]
pub(crate) use poll_evented::PollEvented;
#[allow(unused_imports)]
pub(crate) use reactor::{Direction, ReadyEvent};
