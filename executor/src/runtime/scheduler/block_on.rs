//! Blocking a thread on a future.
//!
//! # What it owns
//! - The thread parker of a `block_on` caller that does not drive a core (any caller
//!   on a multi-thread runtime; a second concurrent caller on a current-thread one):
//!   the future's waker unparks the thread.
//! - Paused time: such a caller is counted in the runtime's outside activity
//!   while its main future is woken or being polled (`timers/outside_activity.rs`), so
//!   the clock does not jump under it.
//! - The current-thread flavor's loop: the caller takes the runtime's only core and
//!   runs the worker loop with the main future as an extra, always-first task; the
//!   main future's waker unparks worker 0 wherever it parks (poller or condvar).
//!
//! # Invariants
//! The core is put back into `Shared::idle_cores` when `block_on` returns or unwinds,
//! so the next `block_on` (or shutdown) finds it.

use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
// `Wake` needs the standard `Arc` (see the loom facade's exceptions).
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use crate::context::{self, WorkerContext};
use crate::loom::lock;
use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::runtime::scheduler::core::Core;
use crate::runtime::scheduler::worker_loop::{self, Exit, MainFuture};
use crate::runtime::shared::Flavor;
use crate::runtime::shared::Handle;
use crate::runtime::timers::auto_advance::outside_went_quiet;
use crate::runtime::timers::outside_activity::{CountedMain, Left, Sleep};

/// Runs `future` to completion on this thread. See `Runtime::block_on`.
pub(crate) fn block_on<F: Future>(handle: &Handle, future: F) -> F::Output {
    #[cfg(feature = "tokio-compat")]
    let _tokio = crate::compat::enter(handle.shared.config.tokio_compat);
    assert!(
        !handle.shared.simulated,
        "ticktock: `Handle::block_on` on a simulated runtime: no thread runs its \
         workers; call `sim::Runtime::block_on` instead"
    );
    let _block_on = context::enter_block_on();
    if handle.shared.flavor == Flavor::CurrentThread {
        let core = lock(&handle.shared.idle_cores).pop();
        if let Some(core) = core {
            return drive_core(handle, core, future);
        }
    }
    let _enter = context::enter(handle.clone(), None);
    park_on_counted(handle, future)
}

/// The waker of a `block_on` main future: a "woken" flag, and whom to wake when it
/// goes up.
struct MainWaker {
    woken: AtomicBool,
    sleeper: Sleeper,
}

/// Where the thread of a `block_on` sleeps.
enum Sleeper {
    /// In [`park_on`]: a plain thread park.
    Thread(Thread),
    /// In [`park_on_counted`]: a thread park, counted in `handle`'s outside
    /// activity while woken or polling (`main`'s state word replaces `woken`).
    Counted {
        thread: Thread,
        handle: Handle,
        main: CountedMain,
    },
    /// Driving a current-thread core: worker `worker`'s parker, wherever it parks
    /// (poller or condvar).
    Worker { handle: Handle, worker: usize },
}

impl MainWaker {
    fn new(sleeper: Sleeper) -> StdArc<MainWaker> {
        // Woken at first: the future is polled once before anything waits.
        StdArc::new(MainWaker {
            woken: AtomicBool::new(true),
            sleeper,
        })
    }

    /// Takes the "woken" flag down. Returns `true` if it was up.
    fn take_woken(&self) -> bool {
        match &self.sleeper {
            Sleeper::Counted { main, .. } => main.take_woken(),
            _ => self.woken.swap(false, Ordering::SeqCst),
        }
    }
}

impl Wake for MainWaker {
    fn wake(self: StdArc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &StdArc<Self>) {
        if let Sleeper::Counted {
            thread,
            handle,
            main,
        } = &self.sleeper
        {
            if main.wake(&handle.shared.outside) {
                thread.unpark();
            }
            return;
        }
        if !self.woken.swap(true, Ordering::SeqCst) {
            match &self.sleeper {
                Sleeper::Thread(thread) => thread.unpark(),
                Sleeper::Counted { .. } => unreachable!("handled above"),
                Sleeper::Worker { handle, worker } => handle.shared.parking.unpark(*worker),
            }
        }
    }
}

/// Polls `future` whenever it is woken, parking the thread in between.
fn park_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker_state = MainWaker::new(Sleeper::Thread(std::thread::current()));
    let waker = Waker::from(waker_state.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if waker_state.take_woken() {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
        } else {
            std::thread::park();
        }
    }
}

/// [`park_on`] for a caller in `handle`'s runtime, counted in its outside activity
/// while the future is woken or being polled (see `timers/outside_activity.rs`).
fn park_on_counted<F: Future>(handle: &Handle, future: F) -> F::Output {
    let mut future = pin!(future);
    let waker_state = StdArc::new(MainWaker {
        woken: AtomicBool::new(false),
        sleeper: Sleeper::Counted {
            thread: std::thread::current(),
            handle: handle.clone(),
            main: CountedMain::new(&handle.shared.outside),
        },
    });
    let Sleeper::Counted { main, .. } = &waker_state.sleeper else {
        unreachable!("built as counted above")
    };
    // Counted out when the future completes or its poll unwinds.
    let _finish = FinishCounted { handle, main };
    let waker = Waker::from(waker_state.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if waker_state.take_woken() {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            continue;
        }
        match main.try_sleep(&handle.shared.outside) {
            Sleep::PollAgain => {}
            Sleep::Park(left) => {
                if left == Some(Left::NoneActive) {
                    outside_went_quiet(&handle.shared);
                }
                std::thread::park();
            }
        }
    }
}

/// Counts a [`park_on_counted`] caller out when dropped (also on unwind).
struct FinishCounted<'a> {
    handle: &'a Handle,
    main: &'a CountedMain,
}

impl Drop for FinishCounted<'_> {
    fn drop(&mut self) {
        if self.main.finish(&self.handle.shared.outside) == Some(Left::NoneActive) {
            outside_went_quiet(&self.handle.shared);
        }
    }
}

/// The main future of a current-thread `block_on`, as the worker loop sees it.
struct Main<'a, F: Future> {
    future: std::pin::Pin<&'a mut F>,
    state: StdArc<MainWaker>,
    waker: Waker,
    output: Option<F::Output>,
}

impl<F: Future> MainFuture for Main<'_, F> {
    fn is_woken(&self) -> bool {
        self.state.woken.load(Ordering::SeqCst)
    }

    fn poll_if_woken(&mut self) -> bool {
        if !self.state.take_woken() {
            return false;
        }
        let mut cx = Context::from_waker(&self.waker);
        match self.future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => {
                self.output = Some(output);
                true
            }
            Poll::Pending => false,
        }
    }
}

/// Puts the core back for the next `block_on` when dropped (also on unwind).
struct ReturnCore<'a> {
    handle: &'a Handle,
    worker: Rc<WorkerContext>,
}

impl Drop for ReturnCore<'_> {
    fn drop(&mut self) {
        if let Some(core) = self.worker.core.borrow_mut().take() {
            lock(&self.handle.shared.idle_cores).push(core);
        }
    }
}

/// The current-thread flavor: drive `core` and the main future on this thread.
fn drive_core<F: Future>(handle: &Handle, core: Box<Core>, future: F) -> F::Output {
    let index = core.index;
    let worker = Rc::new(WorkerContext::new(core));
    let _return_core = ReturnCore {
        handle,
        worker: worker.clone(),
    };
    let _enter = context::enter(handle.clone(), Some(worker.clone()));
    let state = MainWaker::new(Sleeper::Worker {
        handle: handle.clone(),
        worker: index,
    });
    let mut main = Main {
        future: pin!(future),
        waker: Waker::from(state.clone()),
        state,
        output: None,
    };
    match worker_loop::run(handle, &worker, Some(&mut main)) {
        Exit::MainDone => main.output.take().expect("main future completed"),
        Exit::Shutdown => {
            // Shut down from another thread while we were blocked: the main future
            // can still finish, without the runtime's tasks.
            drop(_enter);
            let _enter = context::enter(handle.clone(), None);
            park_on(main.future)
        }
        Exit::CoreGone => unreachable!("ticktock: current-thread cores are never handed off"),
        Exit::Retire => unreachable!("ticktock: current-thread runtimes are never resized"),
    }
}
