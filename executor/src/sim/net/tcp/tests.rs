//! Unit tests of the connection state machine (`tcp.rs`), without a runtime:
//! "now" is a number and wakers are no-ops.

use std::net::{IpAddr, SocketAddr};
use std::task::Waker;
use std::time::Duration;

use super::*;
use crate::sim::net::links::Link;

const MS: Nanos = 1_000_000;

fn client() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 40000))
}

fn server() -> SocketAddr {
    SocketAddr::from(([10, 0, 0, 1], 80))
}

/// Links with `latency_ms` both ways between the two hosts.
fn links(latency_ms: u64) -> Links {
    let mut links = Links::default();
    links.set_default(Link {
        latency: Duration::from_millis(latency_ms),
        loss: 0.0,
    });
    links
}

fn cut(links: &mut Links, cut: bool) {
    let (a, b): (IpAddr, IpAddr) = (client().ip(), server().ip());
    links.set_cut(a, b, cut);
    links.set_cut(b, a, cut);
}

/// Writes `data` from `side` at `now`; panics unless it was taken whole.
fn write(conn: &mut Connection, links: &Links, side: Side, now: Nanos, data: &[u8]) {
    let mut wakers = Vec::new();
    conn.settle(links, 0, now, &mut wakers);
    match conn.write(side, now, data, links, 0, Some(Waker::noop()), &mut wakers) {
        Step::Ready(Ok(n)) => assert_eq!(n, data.len()),
        other => panic!("write: {other:?}"),
    }
}

/// Reads at `now` into a 64-byte buffer at `side`.
fn read(conn: &mut Connection, links: &Links, side: Side, now: Nanos) -> Step<Vec<u8>> {
    let mut wakers = Vec::new();
    conn.settle(links, 0, now, &mut wakers);
    let mut buf = [0; 64];
    match conn.read(side, now, &mut buf, false, Some(Waker::noop()), &mut wakers) {
        Step::Ready(Ok(n)) => Step::Ready(Ok(buf[..n].to_vec())),
        Step::Ready(Err(error)) => Step::Ready(Err(error)),
        Step::Wait(next) => Step::Wait(next),
    }
}

#[test]
fn a_segment_is_readable_at_its_arrival_and_not_before() {
    let links = links(10);
    let mut conn = Connection::new(0, client(), server());
    write(&mut conn, &links, Side::Client, 0, b"abc");
    assert!(
        matches!(read(&mut conn, &links, Side::Server, 10 * MS - 1), Step::Wait(Some(t)) if t == 10 * MS)
    );
    assert!(
        matches!(read(&mut conn, &links, Side::Server, 10 * MS), Step::Ready(Ok(b)) if b == b"abc")
    );
    assert!(matches!(
        read(&mut conn, &links, Side::Server, 10 * MS),
        Step::Wait(None)
    ));
}

#[test]
fn writes_at_one_instant_join_and_a_retransmitted_segment_holds_later_ones_back() {
    let mut links = links(1);
    let mut conn = Connection::new(0, client(), server());
    cut(&mut links, true);
    write(&mut conn, &links, Side::Client, 0, b"first ");
    write(&mut conn, &links, Side::Client, 0, b"joined");
    assert_eq!(conn.pipes[0].segments.len(), 1, "same instant: one segment");
    cut(&mut links, false);
    write(&mut conn, &links, Side::Client, 100 * MS, b" second");
    // The second arrived at 101 ms, but the first waits for its retransmission at
    // 202 ms (200 ms + the 2 ms round trip), arriving at 203 ms.
    assert!(
        matches!(read(&mut conn, &links, Side::Server, 150 * MS), Step::Wait(Some(t)) if t == 202 * MS)
    );
    assert!(
        matches!(read(&mut conn, &links, Side::Server, 202 * MS), Step::Wait(Some(t)) if t == 203 * MS)
    );
    let Step::Ready(Ok(bytes)) = read(&mut conn, &links, Side::Server, 203 * MS) else {
        panic!("both segments have arrived");
    };
    assert_eq!(bytes, b"first joined second");
}

#[test]
fn a_full_pipe_takes_what_fits_then_waits_for_the_reader() {
    let links = links(0);
    let mut conn = Connection::new(0, client(), server());
    let mut wakers = Vec::new();
    let big = vec![7; PIPE_CAPACITY + 10];
    let waker = Some(Waker::noop());
    let Step::Ready(Ok(n)) = conn.write(Side::Client, 0, &big, &links, 0, waker, &mut wakers)
    else {
        panic!("room for a part");
    };
    assert_eq!(n, PIPE_CAPACITY);
    assert!(matches!(
        conn.write(Side::Client, 0, &big, &links, 0, waker, &mut wakers),
        Step::Wait(_)
    ));
    assert!(
        matches!(read(&mut conn, &links, Side::Server, 0), Step::Ready(Ok(b)) if b.len() == 64)
    );
    assert!(matches!(
        conn.writable(Side::Client, 0, waker),
        Step::Ready(Ok(()))
    ));
}

#[test]
fn a_fin_ends_the_stream_after_the_data_and_writes_after_it_fail() {
    let links = links(1);
    let mut conn = Connection::new(0, client(), server());
    let mut wakers = Vec::new();
    write(&mut conn, &links, Side::Client, 0, b"last");
    conn.shutdown_write(Side::Client, 0, &links, 0, &mut wakers);
    assert!(
        matches!(read(&mut conn, &links, Side::Server, MS), Step::Ready(Ok(b)) if b == b"last")
    );
    for _ in 0..2 {
        assert!(
            matches!(read(&mut conn, &links, Side::Server, MS), Step::Ready(Ok(b)) if b.is_empty())
        );
    }
    let step = conn.write(Side::Client, MS, b"x", &links, 0, None, &mut wakers);
    assert!(matches!(step, Step::Ready(Err(e)) if e.kind() == io::ErrorKind::BrokenPipe));
    // The other direction still works.
    write(&mut conn, &links, Side::Server, MS, b"reply");
    assert!(
        matches!(read(&mut conn, &links, Side::Client, 2 * MS), Step::Ready(Ok(b)) if b == b"reply")
    );
}

#[test]
fn closing_with_unread_data_resets_the_peer_one_latency_later() {
    let links = links(5);
    let mut conn = Connection::new(0, client(), server());
    let mut wakers = Vec::new();
    write(&mut conn, &links, Side::Client, 0, b"unread");
    conn.close(Side::Server, Closing::Drop, 5 * MS, &links, 0, &mut wakers);
    assert!(
        matches!(read(&mut conn, &links, Side::Client, 9 * MS), Step::Wait(Some(t)) if t == 10 * MS)
    );
    assert!(
        matches!(read(&mut conn, &links, Side::Client, 10 * MS), Step::Ready(Err(e)) if e.kind() == io::ErrorKind::ConnectionReset)
    );
    assert!(!conn.is_finished());
    conn.close(Side::Client, Closing::Drop, 10 * MS, &links, 0, &mut wakers);
    assert!(conn.is_finished());
}

#[test]
fn closing_with_nothing_unread_sends_a_fin() {
    let links = links(5);
    let mut conn = Connection::new(0, client(), server());
    let mut wakers = Vec::new();
    conn.close(Side::Server, Closing::Drop, 0, &links, 0, &mut wakers);
    assert!(
        matches!(read(&mut conn, &links, Side::Client, 5 * MS), Step::Ready(Ok(b)) if b.is_empty())
    );
}

#[test]
fn an_abort_resets_the_peer_even_with_nothing_unread() {
    let links = links(5);
    let mut conn = Connection::new(0, client(), server());
    conn.close(Side::Server, Closing::Abort, 0, &links, 0, &mut Vec::new());
    assert!(
        matches!(read(&mut conn, &links, Side::Client, 5 * MS), Step::Ready(Err(e)) if e.kind() == io::ErrorKind::ConnectionReset)
    );
}

#[test]
#[should_panic(expected = "read from a closed end")]
fn reading_a_closed_end_is_a_bug_report() {
    let links = links(0);
    let mut conn = Connection::new(0, client(), server());
    conn.close(Side::Client, Closing::Drop, 0, &links, 0, &mut Vec::new());
    let _ = read(&mut conn, &links, Side::Client, 0);
}

#[test]
fn the_sender_times_out_when_the_timeout_after_the_last_retransmission_expires() {
    let mut links = links(0);
    let mut conn = Connection::new(0, client(), server());
    cut(&mut links, true);
    write(&mut conn, &links, Side::Client, 0, b"x");
    let give_up = 924_600 * MS;
    let mut wakers = Vec::new();
    conn.settle(&links, 0, give_up - 1, &mut wakers);
    assert_eq!(conn.next_event(give_up - 1), Some(give_up));
    assert!(matches!(
        conn.writable(Side::Client, give_up - 1, None),
        Step::Ready(Ok(()))
    ));
    conn.settle(&links, 0, give_up, &mut wakers);
    assert!(
        matches!(conn.writable(Side::Client, give_up, None), Step::Ready(Err(e)) if e.kind() == io::ErrorKind::TimedOut)
    );
}
