//! A tour of ticktock: `cargo run --release --example tour`.
//!
//! One two-worker runtime, eight short scenes, well under a second in all:
//!
//! 1. tasks sleeping: several tasks with different sleeps, when each woke and how late;
//! 2. an interval ticking five times, on schedule;
//! 3. a timeout that fires (`Elapsed`) and one that does not;
//! 4. Go's `time.After`-in-a-loop pitfall, replayed: ten thousand timeouts that each
//!    register a timer and are dropped, and the heap that stays small;
//! 5. `Sleep::reset` moving an armed one-second sleep earlier;
//! 6. `spawn_blocking` running blocking code while a timer keeps ticking;
//! 7. `block_in_place`: a worker's queue and timer heap handed to a new thread, its
//!    timers firing while the old thread blocks;
//! 8. a panicking task, caught as a `JoinError`;
//!
//! a per-worker timer report from `Runtime::metrics`, and finally a resize from 2
//! workers to 1 with timers armed, the report before and after.
//!
//! Lateness is "woke at" minus "deadline": ticktock never fires a timer early, so it
//! is never negative; how large it is depends on the machine (see docs/benchmarks.md
//! for measured figures).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use ticktock::task::{spawn_blocking, yield_now, JoinError};
use ticktock::time::error::Elapsed;
use ticktock::time::{interval, sleep, timeout, Instant, Sleep};
use ticktock::{Builder, Handle, RuntimeMetrics, TimerMetrics};

/// Sleeps of scene 1, in spawn order: deliberately not sorted, so that a later spawn
/// often brings an earlier deadline (and wakes the worker parked in the poller).
const SLEEPS_MS: [u64; 6] = [60, 25, 5, 40, 15, 10];

/// Period of the interval in scene 2, and how many ticks it shows.
const TICK_PERIOD: Duration = Duration::from_millis(20);
const TICKS: usize = 5;

/// The deadline of both timeouts in scene 3.
const TIMEOUT: Duration = Duration::from_millis(50);

/// Iterations of the `time.After`-in-a-loop replay in scene 4, the long-lived sleeps
/// that share the heap with them, and how often the heap size is sampled.
const LOOP_TIMEOUTS: usize = 10_000;
const BACKGROUND_SLEEPS: usize = 100;
const SAMPLE_EVERY: usize = 10;

/// Where scene 5's one-second sleep is moved to.
const RESET_TO: Duration = Duration::from_millis(30);

/// How long the blocking closures of scenes 6 and 7 block their thread.
const BLOCKING_FOR: Duration = Duration::from_millis(40);

/// The sleep armed in scene 7 just before its thread blocks.
const NAP_DURING_BLOCK: Duration = Duration::from_millis(10);

fn main() {
    let started = Instant::now();
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("the OS refused a poller or a thread");

    println!("ticktock tour: a multi-thread runtime with 2 workers, one timer heap each");
    rt.block_on(async {
        tasks_sleeping().await;
        interval_ticking().await;
        timeouts().await;
        timeouts_in_a_loop().await;
        reset_earlier().await;
        blocking().await;
        block_in_place().await;
        panicking_task().await;
    });

    report(&rt.metrics());
    resize(&rt);
    drop(rt);
    println!("\nruntime dropped: every task cancelled, every timer freed");
    println!("tour finished in {}", ms(started.elapsed()));
}

/// Scene 1: several tasks, different sleeps.
async fn tasks_sleeping() {
    heading(1, "tasks sleeping");
    let start = Instant::now();
    let tasks: Vec<_> = SLEEPS_MS
        .iter()
        .enumerate()
        .map(|(id, &millis)| {
            ticktock::spawn(async move {
                let deadline = Instant::now() + Duration::from_millis(millis);
                ticktock::time::sleep_until(deadline).await;
                let woke = Instant::now();
                (id, millis, woke, woke - deadline, thread_name())
            })
        })
        .collect();
    let mut woken = Vec::new();
    for task in tasks {
        woken.push(task.await.expect("a sleeping task failed"));
    }
    woken.sort_by_key(|&(_, _, woke, _, _)| woke);
    for (id, millis, woke, late, thread) in woken {
        println!(
            "  task {id}  sleep({millis:>2} ms)  woke at +{:>9}  late {:>9}  on {thread}",
            ms(woke - start),
            ms(late),
        );
    }
}

/// Scene 2: an interval ticks five times.
async fn interval_ticking() {
    heading(2, "an interval ticking");
    let mut ticks = interval(TICK_PERIOD);
    let first = ticks.tick().await;
    println!(
        "  interval({}): the first tick is immediate",
        whole_ms(TICK_PERIOD)
    );
    for n in 1..=TICKS {
        let scheduled = ticks.tick().await;
        let observed = Instant::now();
        println!(
            "  tick {n}  scheduled +{:>9}  observed +{:>9}  late {:>9}",
            ms(scheduled - first),
            ms(observed - first),
            ms(observed - scheduled),
        );
    }
}

/// Scene 3: a timeout that fires and one that does not.
async fn timeouts() {
    heading(3, "timeouts");
    let start = Instant::now();
    let result = timeout(TIMEOUT, sleep(Duration::from_secs(1))).await;
    println!(
        "  timeout({}, sleep(1 s))   -> {:<18} after {}",
        whole_ms(TIMEOUT),
        outcome(&result),
        ms(start.elapsed()),
    );
    let start = Instant::now();
    let result = timeout(TIMEOUT, async {
        sleep(Duration::from_millis(10)).await;
        "done"
    })
    .await;
    println!(
        "  timeout({}, sleep(10 ms)) -> {:<18} after {}",
        whole_ms(TIMEOUT),
        outcome(&result),
        ms(start.elapsed()),
    );
    println!("  (the second one's 50 ms timer was freed when the timeout returned)");
}

/// Scene 4: Go's `for { select { case <-time.After(d): ... } }` leak, replayed.
///
/// Each iteration arms a 30-second timer (the inner future is pending on its first
/// poll, so the timeout registers its deadline) and then drops it. In Go each of those
/// timers would stay in the heap for 30 seconds; here a deadline that far goes to the
/// store's wheel, and dropping the timeout takes its key out of its bucket in O(1): the
/// heap (deadlines in the next millisecond) never sees it. A hundred long-lived sleeps
/// sit in the wheel beside them.
async fn timeouts_in_a_loop() {
    heading(4, "Go's time.After in a loop, replayed");
    let looping = ticktock::spawn(async {
        let mut background: Vec<Sleep> = (0..BACKGROUND_SLEEPS)
            .map(|_| sleep(Duration::from_secs(60)))
            .collect();
        for nap in &mut background {
            let _ = PollOnce(nap).await;
        }
        let start = Instant::now();
        let mut largest_heap = 0;
        for i in 0..LOOP_TIMEOUTS {
            let _ = timeout(Duration::from_secs(30), yield_now()).await;
            if i % SAMPLE_EVERY == 0 {
                largest_heap = largest_heap.max(worker_heap_elements());
            }
        }
        (start.elapsed(), largest_heap)
    });
    let (took, largest_heap) = looping.await.expect("the loop task failed");
    let metrics = Handle::current().metrics();
    let cancelled: u64 = metrics
        .per_worker
        .iter()
        .map(|w| w.timers.events.cancelled)
        .sum();
    let compactions: u64 = metrics
        .per_worker
        .iter()
        .map(|w| w.timers.events.compactions)
        .sum();
    println!(
        "  {LOOP_TIMEOUTS} x timeout(30 s, yield_now()) \
         next to {BACKGROUND_SLEEPS} live 60 s sleeps, in {}",
        ms(took),
    );
    println!(
        "  heap elements on the workers, sampled: at most {largest_heap} \
         (Go before 1.23 keeps all {} until they fire)",
        LOOP_TIMEOUTS + BACKGROUND_SLEEPS,
    );
    println!(
        "  {cancelled} timers cancelled, {compactions} heap rebuilds; now {} elements",
        worker_heap_elements(),
    );
}

/// Heap elements (live and stale) over every worker's store.
fn worker_heap_elements() -> usize {
    let metrics = Handle::current().metrics();
    metrics.per_worker.iter().map(|w| w.timers.heap_len).sum()
}

/// Scene 5: an armed one-second sleep is moved earlier.
async fn reset_earlier() {
    heading(5, "Sleep::reset, earlier");
    let task = ticktock::spawn(async {
        let start = Instant::now();
        let mut nap = sleep(Duration::from_secs(1));
        // Poll once so the sleep registers its one-second deadline in this worker's heap.
        let armed = PollOnce(&mut nap).await.is_pending();
        // `Sleep` is `Unpin`: no pinning needed to reset it.
        Pin::new(&mut nap).reset(Instant::now() + RESET_TO);
        nap.await;
        (armed, start.elapsed())
    });
    let (armed, took) = task.await.expect("the reset task failed");
    println!(
        "  sleep(1 s) armed: {armed}; reset to {} from now; completed after {}",
        whole_ms(RESET_TO),
        ms(took),
    );
}

/// Scene 6: blocking code runs on the blocking pool while timers keep firing.
async fn blocking() {
    heading(6, "spawn_blocking");
    let start = Instant::now();
    let job = spawn_blocking(|| {
        std::thread::sleep(BLOCKING_FOR);
        let primes =
            (2u32..20_000).filter(|&n| (2..n).take_while(|d| d * d <= n).all(|d| n % d != 0));
        (primes.count(), thread_name())
    });
    let mut ticks = interval(Duration::from_millis(5));
    let mut ticked = 0;
    while !job.is_finished() {
        ticks.tick().await;
        ticked += 1;
    }
    let (primes, thread) = job.await.expect("the blocking job failed");
    println!(
        "  blocked {} on {thread}, found {primes} primes below 20000",
        whole_ms(BLOCKING_FOR),
    );
    println!(
        "  meanwhile a 5 ms interval ticked {ticked} times; done after {}",
        ms(start.elapsed()),
    );
}

/// Scene 7: `block_in_place` hands the worker's queue and timer heap to a new thread.
async fn block_in_place() {
    heading(7, "block_in_place");
    let task = ticktock::spawn(async {
        let before = std::thread::current().id();
        let start = Instant::now();
        let mut nap = sleep(NAP_DURING_BLOCK);
        // Registers the nap in this worker's heap.
        let _ = PollOnce(&mut nap).await;
        ticktock::task::block_in_place(|| std::thread::sleep(BLOCKING_FOR));
        let blocked = start.elapsed();
        // Fired during the block by the thread that took over the heap (or a thief):
        // ready on the first poll after it.
        let fired_meanwhile = PollOnce(&mut nap).await.is_ready();
        sleep(Duration::from_millis(1)).await;
        let after = std::thread::current().id();
        (blocked, fired_meanwhile, before != after, thread_name())
    });
    let (blocked, fired, moved, thread) = task.await.expect("the block_in_place task failed");
    println!(
        "  blocked the worker's thread for {}; a {} sleep armed just before had fired by then: {fired}",
        ms(blocked),
        whole_ms(NAP_DURING_BLOCK),
    );
    println!("  afterwards the task runs on another thread: {moved} (named {thread})");
}

/// Scene 8: a panic inside a task becomes a `JoinError`; the worker lives on.
async fn panicking_task() {
    heading(8, "a panicking task");
    // Keep the demo's output clean: silence the default "thread panicked" message
    // while the task runs, then put the previous hook back.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = ticktock::spawn(async {
        sleep(Duration::from_millis(1)).await;
        panic!("the disk is full");
    })
    .await;
    std::panic::set_hook(previous);
    let error: JoinError = result.expect_err("the task should have panicked");
    println!("  is_panic: {}; error: {error}", error.is_panic());
    let after = ticktock::spawn(async { thread_name() }).await;
    println!(
        "  the next task ran fine on {}",
        after.expect("the workers should survive a panic")
    );
}

/// The closing report: per-worker timer stores.
fn report(metrics: &RuntimeMetrics) {
    heading(9, "timer report (rt.metrics())");
    println!(
        "  {:<10} {:>5} {:>9} {:>6} {:>7} {:>10} {:>6} {:>12}",
        "store", "live", "heap_len", "fired", "stolen", "cancelled", "reset", "compactions"
    );
    let row = |name: &str, t: &TimerMetrics| {
        println!(
            "  {:<10} {:>5} {:>9} {:>6} {:>7} {:>10} {:>6} {:>12}",
            name,
            t.live,
            t.heap_len,
            t.events.fired,
            t.stolen,
            t.events.cancelled,
            t.events.reset,
            t.events.compactions
        );
    };
    for (index, worker) in metrics.per_worker.iter().enumerate() {
        row(&format!("worker {index}"), &worker.timers);
    }
    row("external", &metrics.external_timers);
    println!("  (\"external\" is the store of threads that are not workers: here, block_on's)");
    println!(
        "  earlier-deadline wake-ups of the poller: {}",
        metrics.earlier_deadline_wakeups
    );
    for (index, worker) in metrics.per_worker.iter().enumerate() {
        println!(
            "  worker {index}: {} polls, {} task steals, {} parks, {} timers fired",
            worker.polls, worker.steals, worker.parks, worker.timers_fired
        );
    }
}

/// Scene 10: shrink the running runtime from 2 workers to 1 while sleeps are
/// armed in both stores; the retiring worker's timers move to the survivor.
fn resize(rt: &ticktock::Runtime) {
    heading(10, "resize: set_worker_threads(1) with timers armed");
    let sleepers: Vec<_> = (0..200u64)
        .map(|i| {
            rt.spawn(async move {
                let deadline = Instant::now() + Duration::from_millis(150 + i);
                ticktock::time::sleep_until(deadline).await;
                Instant::now() >= deadline
            })
        })
        .collect();
    let handle = rt.handle();
    let live =
        |m: &RuntimeMetrics| -> Vec<usize> { m.per_worker.iter().map(|w| w.timers.live).collect() };
    while live(&handle.metrics()).iter().sum::<usize>() < 200 {
        std::thread::sleep(Duration::from_millis(1));
    }
    println!(
        "  before: live timers per worker store {:?}",
        live(&handle.metrics())
    );
    handle.set_worker_threads(1);
    while handle.metrics().active_workers != 1 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let after = handle.metrics();
    println!("  after:  live timers per worker store {:?}", live(&after));
    for (index, worker) in after.per_worker.iter().enumerate() {
        println!(
            "  worker {index}: migrated_out {}, migrated_in {}",
            worker.timers.events.migrated_out, worker.timers.events.migrated_in
        );
    }
    println!(
        "  active workers {}, retired {}",
        after.active_workers, after.workers_retired
    );
    let on_time = sleepers
        .into_iter()
        .map(|task| rt.block_on(task).unwrap())
        .filter(|&never_early| never_early)
        .count();
    println!("  {on_time}/200 sleeps completed, none early");
}

/// Polls a future once and reports what it said, without consuming it.
struct PollOnce<'a, F>(&'a mut F);

impl<F: Future + Unpin> Future for PollOnce<'_, F> {
    type Output = Poll<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(Pin::new(&mut *self.0).poll(cx))
    }
}

/// Compile-time check that `Sleep` is `Unpin` (scenes 5 and 7 rely on it).
const _: fn() = || {
    fn unpin<T: Unpin>() {}
    unpin::<Sleep>();
};

fn heading(number: usize, title: &str) {
    println!("\n{number}. {title}");
}

fn thread_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("<unnamed>")
        .to_string()
}

/// A configured duration in whole milliseconds, e.g. "50 ms".
fn whole_ms(duration: Duration) -> String {
    format!("{} ms", duration.as_millis())
}

/// A `timeout` result, as a person would write it.
fn outcome<T: std::fmt::Debug>(result: &Result<T, Elapsed>) -> String {
    match result {
        Ok(value) => format!("Ok({value:?})"),
        Err(_) => "Err(Elapsed)".to_string(),
    }
}

/// A measured duration in milliseconds with two decimals, e.g. "12.34 ms".
fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1e3)
}
