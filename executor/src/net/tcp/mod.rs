//! TCP: a listener that accepts connections and the stream of one connection.

mod listener;
mod stream;

pub use listener::TcpListener;
pub use stream::TcpStream;
