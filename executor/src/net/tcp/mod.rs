//! TCP: a listener that accepts connections, the stream of one connection, a
//! socket to configure before either, and the halves of a split stream.
//!
//! # Examples
//! ```
//! use ticktock_executor::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
//! use ticktock_executor::net::{TcpListener, TcpStream};
//!
//! let rt = ticktock_executor::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
//!     let (read, write): (OwnedReadHalf, OwnedWriteHalf) = stream.into_split();
//!     assert_eq!(read.peer_addr().unwrap(), write.peer_addr().unwrap());
//! });
//! ```

mod listener;
mod socket;
mod stream;
mod stream_io;

pub use listener::TcpListener;
pub use socket::TcpSocket;
pub use stream::TcpStream;

use crate::net::split;

/// The reading half of a borrowed [`TcpStream`], from [`TcpStream::split`].
pub type ReadHalf<'a> = split::ReadHalf<'a, TcpStream>;
/// The writing half of a borrowed [`TcpStream`], from [`TcpStream::split`].
pub type WriteHalf<'a> = split::WriteHalf<'a, TcpStream>;
/// The reading half of a [`TcpStream`], from [`TcpStream::into_split`].
pub type OwnedReadHalf = split::OwnedReadHalf<TcpStream>;
/// The writing half of a [`TcpStream`], from [`TcpStream::into_split`]; dropping
/// it shuts the writing direction down.
pub type OwnedWriteHalf = split::OwnedWriteHalf<TcpStream>;
/// Halves of two different streams given to [`split::OwnedReadHalf::reunite`].
pub type ReuniteError = split::ReuniteError<TcpStream>;
