//! Unit tests of the fabric (`fabric.rs`): ports, the handshake's answers, UDP
//! delivery; without a runtime.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::task::Waker;
use std::time::Duration;

use super::*;

const MS: Nanos = 1_000_000;

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

fn with_latency(network: &Network, ms: u64) {
    network.set_default_link(
        Link {
            latency: Duration::from_millis(ms),
            loss: 0.0,
        },
        0,
    );
}

#[test]
fn ephemeral_ports_count_up_per_address_and_skip_taken_ones() {
    let network = Network::new(0);
    assert_eq!(network.listen(addr("10.0.0.1:0")).unwrap().1.port(), 32768);
    network.listen(addr("10.0.0.1:32769")).unwrap();
    assert_eq!(network.listen(addr("10.0.0.1:0")).unwrap().1.port(), 32770);
    assert_eq!(network.listen(addr("10.0.0.2:0")).unwrap().1.port(), 32768);
    let clash = network.listen(addr("0.0.0.0:32768")).unwrap_err();
    assert_eq!(clash.kind(), io::ErrorKind::AddrInUse);
    // UDP ports are a namespace of their own.
    assert_eq!(
        network.udp_bind(addr("10.0.0.1:0")).unwrap().1.port(),
        32768
    );
}

#[test]
fn a_syn_to_nothing_is_refused_one_latency_after_it_arrives() {
    let network = Network::new(0);
    with_latency(&network, 4);
    let from = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let to = addr("10.0.0.1:80");
    assert_eq!(network.syn(0, 0, from, to, 0), Transmit::Arrives(4 * MS));
    assert_eq!(network.syn_arrived(from, to, 4 * MS).unwrap_err(), 8 * MS);
}

#[test]
fn a_syn_to_a_listener_connects_and_the_accept_waits_for_the_ack() {
    let network = Network::new(0);
    with_latency(&network, 4);
    let (listener, _) = network.listen(addr("0.0.0.0:80")).unwrap();
    let from = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let established = network
        .syn_arrived(from, addr("10.0.0.1:80"), 4 * MS)
        .unwrap()
        .unwrap();
    assert_eq!(established.ready_at, 8 * MS);
    assert_eq!(established.local, addr("127.0.0.1:32768"));
    let waker = Waker::noop();
    assert!(
        matches!(network.accept(listener, 11 * MS, waker), Step::Wait(Some(t)) if t == 12 * MS)
    );
    let Step::Ready(Ok((_, local, peer))) = network.accept(listener, 12 * MS, waker) else {
        panic!("the handshake is done");
    };
    assert_eq!((local, peer), (addr("10.0.0.1:80"), established.local));
}

#[test]
fn a_cut_in_either_direction_drops_the_handshake() {
    let network = Network::new(0);
    let (a, b) = (IpAddr::V4(Ipv4Addr::LOCALHOST), addr("10.0.0.1:80"));
    network.set_cut(b.ip(), a, true, 0);
    assert_eq!(network.syn(0, 0, a, b, 0), Transmit::Dropped);
    network.set_cut(b.ip(), a, false, 0);
    assert_eq!(network.syn(0, 1, a, b, 0), Transmit::Arrives(0));
}

#[test]
fn udp_reaches_bound_sockets_only_and_an_oversized_datagram_is_refused() {
    let network = Network::new(0);
    with_latency(&network, 2);
    let (sender, _) = network.udp_bind(addr("0.0.0.0:0")).unwrap();
    let (receiver, at) = network.udp_bind(addr("10.0.0.1:53")).unwrap();
    network
        .udp_send(sender, addr("10.0.0.9:53"), b"nobody", 0)
        .unwrap();
    network.udp_send(sender, at, b"query", 0).unwrap();
    let mut buf = [0; 8];
    let waker = Some(Waker::noop());
    let step = network.udp_receive(receiver, 2 * MS, &mut buf, false, None, waker);
    let Step::Ready(Ok((5, from))) = step else {
        panic!("the query arrived: {step:?}");
    };
    assert_eq!(from, addr("127.0.0.1:32768"));
    assert!(matches!(
        network.udp_receive(receiver, 2 * MS, &mut buf, false, None, waker),
        Step::Wait(None)
    ));
    let huge = vec![0; MAX_DATAGRAM + 1];
    let error = network.udp_send(sender, at, &huge, 0).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
}

#[test]
fn a_heal_does_not_rewrite_retransmissions_due_before_it() {
    // A segment written into a partition at 0 is retried at 200 ms (zero latency).
    // The heal comes at 300 ms, and nobody looks at the connection in between: the
    // retry at 200 ms must still be decided under the cut (dropped), so the segment
    // arrives at the next retry, 600 ms, not at 200 ms.
    let network = Network::new(0);
    let (_listener, server) = network.listen(addr("10.0.0.1:80")).unwrap();
    let client_host = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let conn = network
        .syn_arrived(client_host, server, 0)
        .unwrap()
        .unwrap()
        .conn;
    network.set_cut(client_host, server.ip(), true, 0);
    let waker = Some(Waker::noop());
    assert!(matches!(
        network.write(conn, Side::Client, 0, b"x", waker),
        Step::Ready(Ok(1))
    ));
    network.set_cut(client_host, server.ip(), false, 300 * MS);
    let mut buf = [0; 1];
    let step = network.read(conn, Side::Server, 300 * MS, &mut buf, false, waker);
    assert!(
        matches!(step, Step::Wait(Some(t)) if t == 600 * MS),
        "{step:?}"
    );
    let step = network.read(conn, Side::Server, 600 * MS, &mut buf, false, waker);
    assert!(matches!(step, Step::Ready(Ok(1))), "{step:?}");
}
