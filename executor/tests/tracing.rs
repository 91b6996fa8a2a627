//! With the `tracing` feature, task polls open spans and timers emit events.
#![cfg(feature = "tracing")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Counts spans and events by name.
#[derive(Default)]
struct Counts {
    task_spans: AtomicUsize,
    registered: AtomicUsize,
    fired: AtomicUsize,
    cancelled: AtomicUsize,
    next_id: AtomicUsize,
}

struct Counter(Arc<Counts>);

impl Subscriber for Counter {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        if span.metadata().target() == "ticktock::task" {
            self.0.task_spans.fetch_add(1, Ordering::SeqCst);
        }
        Id::from_u64(self.0.next_id.fetch_add(1, Ordering::SeqCst) as u64 + 1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        // Told apart by their fields: `when` (registered), `count` (fired),
        // `site` alone (cancelled).
        let fields = event.metadata().fields();
        let counter = if fields.field("when").is_some() {
            &self.0.registered
        } else if fields.field("count").is_some() {
            &self.0.fired
        } else if fields.field("site").is_some() {
            &self.0.cancelled
        } else {
            return;
        };
        if event.metadata().target() == "ticktock::timer" {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn task_polls_and_timer_events_are_traced() {
    let counts = Arc::new(Counts::default());
    tracing::subscriber::set_global_default(Counter(counts.clone())).unwrap();
    let rt = ticktock_executor::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        ticktock_executor::spawn(async {
            ticktock_executor::time::sleep(Duration::from_millis(2)).await;
            let cancelled = ticktock_executor::time::timeout(
                Duration::from_millis(1),
                ticktock_executor::time::sleep(Duration::from_secs(60)),
            )
            .await;
            assert!(cancelled.is_err());
        })
        .await
        .unwrap();
    });
    assert!(
        counts.task_spans.load(Ordering::SeqCst) >= 1,
        "no task poll span"
    );
    assert!(
        counts.registered.load(Ordering::SeqCst) >= 3,
        "timer registrations not traced"
    );
    assert!(
        counts.fired.load(Ordering::SeqCst) >= 1,
        "timer firing not traced"
    );
    // A sleep dropped on a thread that does not own its store (the task may have
    // been woken onto the other worker) is cancelled, and traced, when its owner
    // applies the queued cancel: at the latest at shutdown.
    drop(rt);
    assert!(
        counts.cancelled.load(Ordering::SeqCst) >= 1,
        "timer cancellation not traced"
    );
}
