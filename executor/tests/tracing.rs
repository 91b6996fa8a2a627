//! With the `tracing` feature, task polls open spans and timers emit events; with
//! `http` too, `serve`'s accept errors and its recovery emit events.
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
    accept_errors: AtomicUsize,
    accept_recovered: AtomicUsize,
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
        if event.metadata().target() == "ticktock::serve" {
            let counter = if fields.field("in_a_row").is_some() {
                &self.0.accept_errors
            } else {
                &self.0.accept_recovered
            };
            counter.fetch_add(1, Ordering::SeqCst);
            return;
        }
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
    // A runtime of its own: the one above is gone (its drop is what the
    // cancellation check waits for).
    #[cfg(feature = "http")]
    serve_accept_errors_are_traced(
        &ticktock_executor::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
        &counts,
    );
}

/// `serve` on a socket that is bound but not listening: every accept fails with
/// `EINVAL` (not about one connection), so the loop pauses and reports the 1st,
/// 2nd, 4th, ... error; once the socket listens, an accept succeeds and the loop
/// reports its recovery. The metric counts every error.
#[cfg(feature = "http")]
fn serve_accept_errors_are_traced(rt: &ticktock_executor::Runtime, counts: &Counts) {
    use std::convert::Infallible;
    use std::future::IntoFuture;

    use http_body_util::Full;
    use hyper::body::{Bytes, Incoming};
    use hyper::{Request, Response};

    #[derive(Clone)]
    struct Hello;

    impl tower_service::Service<Request<Incoming>> for Hello {
        type Response = Response<Full<Bytes>>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Response<Full<Bytes>>, Infallible>>;

        fn poll_ready(
            &mut self,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), Infallible>> {
            std::task::Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: Request<Incoming>) -> Self::Future {
            std::future::ready(Ok(Response::new(Full::new(Bytes::from("hi")))))
        }
    }

    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let same_socket = socket.try_clone().unwrap();
    let before = rt.handle().metrics().accept_errors;
    let listener = {
        let _enter = rt.enter();
        ticktock_executor::net::TcpListener::from_std(socket.into()).unwrap()
    };
    let server = rt.spawn(
        ticktock_executor::serve(listener, Hello)
            .accept_error_pause(Duration::from_millis(1))
            .into_future(),
    );
    let limit = std::time::Instant::now() + Duration::from_secs(30);
    while counts.accept_errors.load(Ordering::SeqCst) < 3 && std::time::Instant::now() < limit {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(
        counts.accept_errors.load(Ordering::SeqCst) >= 3,
        "accept errors not traced (1st, 2nd and 4th of a run)"
    );
    let errors = rt.handle().metrics().accept_errors - before;
    assert!(errors >= 4, "only {errors} accept errors counted");
    assert_eq!(counts.accept_recovered.load(Ordering::SeqCst), 0);
    // Now it listens: the next accept succeeds.
    same_socket.listen(16).unwrap();
    let _client = std::net::TcpStream::connect(addr).unwrap();
    while counts.accept_recovered.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < limit {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(
        counts.accept_recovered.load(Ordering::SeqCst),
        1,
        "recovery not traced"
    );
    server.abort();
}
