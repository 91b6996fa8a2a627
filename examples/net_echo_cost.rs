//! Instruction-count probe (run under callgrind) of ticktock's TCP path: 10
//! connections x 2,000 round trips of 64 bytes on a current-thread runtime, over
//! loopback sockets (`real`) or the simulated network (`sim`, paused clock):
//! `valgrind --tool=callgrind target/release/examples/net_echo_cost real`.
//! Measures what the simulation hooks cost the real path (one `match` per socket
//! operation) against a build without them, and what a simulated round trip costs.
use futures::io::{AsyncReadExt, AsyncWriteExt};
use ticktock::net::{TcpListener, TcpStream};

const CONNECTIONS: usize = 10;
const ROUNDS: usize = 2_000;
const MESSAGE: usize = 64;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "real".into());
    let mut builder = ticktock::Builder::new_current_thread();
    if mode == "sim" {
        builder.start_paused(true).simulated_network(1);
    } else {
        assert_eq!(mode, "real", "usage: net_echo_cost [real|sim]");
    }
    let rt = builder.build().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = ticktock::spawn(async move {
            for _ in 0..CONNECTIONS {
                let (mut stream, _) = listener.accept().await.unwrap();
                ticktock::spawn(async move {
                    let mut buf = [0; MESSAGE];
                    while stream.read_exact(&mut buf).await.is_ok() {
                        stream.write_all(&buf).await.unwrap();
                    }
                });
            }
        });
        let mut clients = Vec::new();
        for _ in 0..CONNECTIONS {
            clients.push(ticktock::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                let mut buf = [7; MESSAGE];
                for _ in 0..ROUNDS {
                    stream.write_all(&buf).await.unwrap();
                    stream.read_exact(&mut buf).await.unwrap();
                }
            }));
        }
        for client in clients {
            client.await.unwrap();
        }
        server.await.unwrap();
    });
    println!("{mode}: {} round trips", CONNECTIONS * ROUNDS);
}
