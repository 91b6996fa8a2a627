//! The thread-local runtime context: which runtime the current thread is inside,
//! whether it is one of that runtime's workers, and that worker's core.
//!
//! # What it owns
//! - `handle`: the runtime entered by this thread (by a worker thread, `block_on`, or
//!   [`Handle::enter`](crate::Handle::enter)). `spawn`, `sleep` and friends find
//!   their runtime here.
//! - `worker`: the worker state of a worker thread: its index and its [`Core`] (run
//!   queue, tick counter, timer buffer; its LIFO cell lives in the shared state so
//!   a worker stuck in one poll can have it taken). The core is borrowed only for a few
//!   instructions at a time and never while a task runs, so a task that wakes
//!   another task can push it onto this worker's queue.
//! - `in_block_on`: set while this thread is inside `block_on`, to refuse nesting.
//! - Every "current runtime" look-up: the handle, the worker state, the home timer
//!   store ([`home_store`]) and the current runtime's clock ([`current_runtime_nanos`],
//!   [`current_runtime_instant`]). The mechanisms below this layer (clock, timer stores, driver,
//!   queues) never read the thread-local: they are handed what they need.
//!
//! # Ground rules
//! Only this thread touches its context. The core is moved out (by `block_in_place`)
//! only between two task polls of the worker loop or from inside a task's poll, never
//! while borrowed.

use std::cell::{Cell, RefCell};
use std::time::Instant;

use ticktock_timer::Nanos;

use crate::loom::sync::Arc;
use crate::runtime::scheduler::core::Core;
use crate::runtime::shared::Handle;
use crate::runtime::timers::clock::{any_clock_altered, instant_at, monotonic_nanos};
use crate::runtime::timers::stores::StoreCell;

/// The current thread's worker state, when it is a worker.
pub(crate) struct WorkerContext {
    /// The worker's index (also the id of its timer store).
    pub(crate) index: usize,
    /// The worker's core; `None` after `block_in_place` handed it to another thread.
    pub(crate) core: RefCell<Option<Box<Core>>>,
    /// Set while this worker wakes the tasks of timers it just fired, so they queue
    /// in deadline order. Only a [`FiredTimerWakes`] guard sets it.
    waking_fired_timers: Cell<bool>,
}

impl WorkerContext {
    /// The worker state of a thread that drives `core`.
    pub(crate) fn new(core: Box<Core>) -> WorkerContext {
        WorkerContext {
            index: core.index,
            core: RefCell::new(Some(core)),
            waking_fired_timers: Cell::new(false),
        }
    }

    /// Marks this worker as waking fired timers until the guard drops (also on
    /// unwind, so a panicking waker cannot leave the mark set).
    pub(crate) fn waking_fired_timers(&self) -> FiredTimerWakes<'_> {
        FiredTimerWakes {
            previous: self.waking_fired_timers.replace(true),
            worker: self,
        }
    }

    /// Whether a [`FiredTimerWakes`] guard of this worker is alive.
    pub(crate) fn is_waking_fired_timers(&self) -> bool {
        self.waking_fired_timers.get()
    }
}

/// Restores the worker's "waking fired timers" mark when dropped. Returned by
/// [`WorkerContext::waking_fired_timers`].
pub(crate) struct FiredTimerWakes<'a> {
    worker: &'a WorkerContext,
    previous: bool,
}

impl Drop for FiredTimerWakes<'_> {
    fn drop(&mut self) {
        self.worker.waking_fired_timers.set(self.previous);
    }
}

struct Context {
    handle: RefCell<Option<Handle>>,
    worker: RefCell<Option<std::rc::Rc<WorkerContext>>>,
    in_block_on: Cell<bool>,
}

thread_local! {
    static CONTEXT: Context = const {
        Context {
            handle: RefCell::new(None),
            worker: RefCell::new(None),
            in_block_on: Cell::new(false),
        }
    };
}

/// Restores the previous context when dropped. Returned by [`enter`].
pub(crate) struct EnterGuard {
    previous_handle: Option<Handle>,
    previous_worker: Option<std::rc::Rc<WorkerContext>>,
}

/// Makes `handle` the current runtime of this thread, and `worker` its worker state
/// (`None` for threads that are not workers), until the guard drops.
pub(crate) fn enter(handle: Handle, worker: Option<std::rc::Rc<WorkerContext>>) -> EnterGuard {
    CONTEXT.with(|ctx| EnterGuard {
        previous_handle: ctx.handle.replace(Some(handle)),
        previous_worker: ctx.worker.replace(worker),
    })
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        // `try_with`: the guard may drop during thread teardown.
        let _ = CONTEXT.try_with(|ctx| {
            ctx.handle.replace(self.previous_handle.take());
            ctx.worker.replace(self.previous_worker.take());
        });
    }
}

/// The current runtime's handle (`None` outside a runtime), or an error while the
/// thread is being torn down (its context is gone).
pub(crate) fn try_current_handle() -> Result<Option<Handle>, std::thread::AccessError> {
    CONTEXT.try_with(|ctx| ctx.handle.borrow().clone())
}

/// Runs `f` with this thread's context, or with `None` while the thread is being
/// torn down (its thread-locals are gone). The one place that handles that case.
#[inline]
fn with_context<R>(f: impl FnOnce(Option<&Context>) -> R) -> R {
    let mut f = Some(f);
    match CONTEXT.try_with(|ctx| (f.take().expect("called once"))(Some(ctx))) {
        Ok(result) => result,
        Err(_) => (f.take().expect("called once"))(None),
    }
}

/// Runs `f` with the current runtime's handle (without cloning it), if any.
pub(crate) fn with_handle<R>(f: impl FnOnce(Option<&Handle>) -> R) -> R {
    with_context(|ctx| match ctx {
        Some(ctx) => f(ctx.handle.borrow().as_ref()),
        None => f(None),
    })
}

/// This thread's worker state, if it is a worker.
pub(crate) fn current_worker() -> Option<std::rc::Rc<WorkerContext>> {
    CONTEXT
        .try_with(|ctx| ctx.worker.borrow().clone())
        .ok()
        .flatten()
}

/// Runs `f` with this thread's worker state, if the thread is a worker of the
/// runtime `handle` belongs to.
#[inline]
pub(crate) fn with_worker<R>(f: impl FnOnce(Option<(&Handle, &WorkerContext)>) -> R) -> R {
    with_context(|ctx| {
        let Some(ctx) = ctx else { return f(None) };
        let handle = ctx.handle.borrow();
        let worker = ctx.worker.borrow();
        match (handle.as_ref(), worker.as_deref()) {
            (Some(handle), Some(worker)) => f(Some((handle, worker))),
            _ => f(None),
        }
    })
}

/// Runs `f` with the current runtime's handle and, if this thread is one of its
/// workers, its worker state.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<(&Handle, Option<&WorkerContext>)>) -> R) -> R {
    with_context(|ctx| {
        let Some(ctx) = ctx else { return f(None) };
        let handle = ctx.handle.borrow();
        let worker = ctx.worker.borrow();
        f(handle.as_ref().map(|handle| (handle, worker.as_deref())))
    })
}

/// Marks this thread as inside `block_on` until the guard drops; panics if it
/// already is (nested `block_on` would deadlock: the outer one can never run again).
pub(crate) fn enter_block_on() -> BlockOnGuard {
    CONTEXT.with(|ctx| {
        // A worker thread that handed its core off (`block_in_place`) may block.
        let drives_core = ctx
            .worker
            .borrow()
            .as_ref()
            .is_some_and(|worker| worker.core.try_borrow().map_or(true, |core| core.is_some()));
        if ctx.in_block_on.replace(true) || drives_core {
            panic!(
                "ticktock: cannot call `block_on` from inside `block_on` (or from inside a \
                 runtime worker): the outer call would block this thread while it must run \
                 the inner future. Use `.await` instead, or `task::spawn_blocking` / \
                 `task::block_in_place` to run blocking code."
            );
        }
    });
    BlockOnGuard(())
}

/// Clears the in-`block_on` mark when dropped.
pub(crate) struct BlockOnGuard(());

impl Drop for BlockOnGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|ctx| ctx.in_block_on.set(false));
    }
}

/// Whether this thread is inside `block_on` or is a runtime worker: places where
/// blocking the thread (dropping a runtime, nesting `block_on`) is refused.
pub(crate) fn is_in_async_context() -> bool {
    CONTEXT
        .try_with(|ctx| ctx.in_block_on.get() || ctx.worker.borrow().is_some())
        .unwrap_or(false)
}

/// The timer store a `Sleep` polled on this thread registers in: its worker's store
/// if the thread drives a core, else the runtime's store for other threads. `None`
/// outside any runtime.
pub(crate) fn home_store() -> Option<Arc<StoreCell>> {
    with_current(|current| {
        let (handle, worker) = current?;
        let timers = &handle.shared.timers;
        let id = match worker {
            Some(worker) if worker.core.try_borrow().is_ok_and(|core| core.is_some()) => {
                worker.index
            }
            _ => timers.external_id(),
        };
        Some(timers.store(id).clone())
    })
}

/// Nanoseconds since the process epoch now, on the clock of the current thread's
/// runtime (real time outside any runtime). One clock read; the runtime is looked
/// up only if some runtime ever paused time.
pub(crate) fn current_runtime_nanos() -> Nanos {
    if any_clock_altered() {
        with_handle(|handle| match handle {
            Some(handle) => handle.shared.timers.clock.runtime_nanos(),
            None => monotonic_nanos(),
        })
    } else {
        monotonic_nanos()
    }
}

/// Now, on the clock of the current thread's runtime; the real clock outside any
/// runtime. Every deadline computed from "now" (sleep, timeout, interval) and the
/// public `time::Instant::now` use it, so paused time applies to them.
pub(crate) fn current_runtime_instant() -> Instant {
    instant_at(current_runtime_nanos())
}

/// Runs `f` outside the asynchronous context, for `block_in_place`: this thread is
/// neither a worker nor inside `block_on` while `f` runs (so it may block on
/// another runtime, or drop one), but stays in its runtime, so `Handle::current`
/// and `spawn` work. Both marks come back when `f` returns or unwinds.
pub(crate) fn outside_async_context<R>(f: impl FnOnce() -> R) -> R {
    /// What `outside_async_context` took away, put back on drop.
    struct Restore {
        in_block_on: bool,
        worker: Option<std::rc::Rc<WorkerContext>>,
    }
    impl Drop for Restore {
        fn drop(&mut self) {
            let worker = self.worker.take();
            let in_block_on = self.in_block_on;
            let _ = CONTEXT.try_with(|ctx| {
                ctx.in_block_on.set(in_block_on);
                ctx.worker.replace(worker);
            });
        }
    }
    let _restore = CONTEXT.with(|ctx| Restore {
        in_block_on: ctx.in_block_on.replace(false),
        worker: ctx.worker.replace(None),
    });
    f()
}
