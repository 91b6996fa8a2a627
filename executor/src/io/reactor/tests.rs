//! Unit tests of the reactor's token generations: a slot reused by a new source
//! gets a new token, and an event still in flight for the old source is dropped.

use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use proptest::prelude::*;

use super::{Direction, Reactor, Token, GENERATION_MASK, INDEX_MASK};

/// Counts its wakes.
struct CountingWaker(std::sync::atomic::AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

fn udp() -> mio::net::UdpSocket {
    mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap()
}

#[test]
fn a_reused_slot_gets_a_new_token_and_drops_the_old_sources_events() {
    let mut poll = mio::Poll::new().unwrap();
    let reactor = Reactor::new(poll.registry().try_clone().unwrap());
    let mut old = udp();
    let old_io = reactor.register(&mut old, mio::Interest::READABLE).unwrap();
    // Make the old socket readable and collect its event, but do not dispatch it yet.
    let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sender.send_to(b"x", old.local_addr().unwrap()).unwrap();
    let mut events = mio::Events::with_capacity(8);
    let mut stale = Vec::new();
    for _ in 0..100 {
        poll.poll(&mut events, Some(Duration::from_millis(10)))
            .unwrap();
        stale.extend(events.iter().map(|event| event.token()));
        if !stale.is_empty() {
            break;
        }
    }
    assert_eq!(stale, vec![mio::Token(old_io.token.0)]);

    // The old socket goes away and a new one takes its slot.
    reactor.deregister(&mut old, &old_io);
    let mut new = udp();
    let new_io = reactor.register(&mut new, mio::Interest::READABLE).unwrap();
    assert_eq!(new_io.token.index(), old_io.token.index(), "slot reused");
    assert_ne!(new_io.token, old_io.token, "same token for a new source");

    // The new socket's task waits to read.
    let counter = std::sync::Arc::new(CountingWaker(Default::default()));
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    assert!(new_io.poll_ready(&mut cx, Direction::Read).is_pending());

    // The old source's event arrives late: it must neither wake nor mark the new one.
    reactor.dispatch(events.iter());
    assert_eq!(counter.0.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert!(new_io.poll_ready(&mut cx, Direction::Read).is_pending());

    // An event for the new source itself still gets through.
    sender.send_to(b"z", new.local_addr().unwrap()).unwrap();
    let mut delivered = false;
    for _ in 0..100 {
        poll.poll(&mut events, Some(Duration::from_millis(10)))
            .unwrap();
        if !events.is_empty() {
            reactor.dispatch(events.iter());
            delivered = true;
            break;
        }
    }
    assert!(delivered);
    assert_eq!(counter.0.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(matches!(
        new_io.poll_ready(&mut cx, Direction::Read),
        Poll::Ready(_)
    ));
    reactor.deregister(&mut new, &new_io);
}

proptest! {
    /// A token keeps its index, and never reaches the driver's own tokens
    /// (`usize::MAX` down to `usize::MAX - 2`) whatever the generation.
    #[test]
    fn tokens_keep_their_index_and_stay_below_the_driver_tokens(
        index in 0..=INDEX_MASK,
        generation in any::<usize>(),
    ) {
        let token = Token::new(index, generation);
        prop_assert_eq!(token.index(), index);
        prop_assert!(token.0 < usize::MAX - 2);
        // Generations wrap: one full turn later the token repeats.
        prop_assert_eq!(Token::new(index, generation.wrapping_add(GENERATION_MASK + 1)), token);
    }
}
