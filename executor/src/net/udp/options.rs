//! [`UdpSocket`]'s IP options: time-to-live and IPv4 multicast (join, leave,
//! loop-back, multicast time-to-live, outgoing interface). Each is one
//! `setsockopt`/`getsockopt` on the registered socket; none waits. A simulated
//! socket (`sim::net`) keeps its time-to-live and has no multicast: those options
//! return [`io::ErrorKind::Unsupported`].

use std::io;
use std::net::Ipv4Addr;

use super::{Inner, UdpSocket};

impl UdpSocket {
    /// Sets the IP time-to-live of outgoing datagrams.
    ///
    /// # Errors
    /// The OS's `setsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.set_ttl(7).unwrap();
    ///     assert_eq!(socket.ttl().unwrap(), 7);
    /// });
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        match &self.inner {
            Inner::Real(io) => io.get_ref().set_ttl(ttl),
            Inner::Sim(socket) => {
                socket.set_ttl(ttl);
                Ok(())
            }
        }
    }

    /// The IP time-to-live of outgoing datagrams.
    ///
    /// # Errors
    /// The OS's `getsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(socket.ttl().unwrap() > 0);
    /// });
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        match &self.inner {
            Inner::Real(io) => io.get_ref().ttl(),
            Inner::Sim(socket) => Ok(socket.ttl()),
        }
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with address
    /// `interface` (`0.0.0.0`: the kernel picks one).
    ///
    /// # Errors
    /// The OS's error, e.g. [`io::ErrorKind::AddrInUse`] when already a member.
    ///
    /// # Examples
    /// ```
    /// use std::net::Ipv4Addr;
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("0.0.0.0:0").await.unwrap();
    ///     let group = Ipv4Addr::new(239, 255, 42, 1);
    ///     socket.join_multicast_v4(group, Ipv4Addr::LOCALHOST).unwrap();
    ///     socket.leave_multicast_v4(group, Ipv4Addr::LOCALHOST).unwrap();
    /// });
    /// ```
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.real("UdpSocket::join_multicast_v4")?
            .get_ref()
            .join_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves a group joined with [`UdpSocket::join_multicast_v4`].
    ///
    /// # Errors
    /// The OS's error, e.g. [`io::ErrorKind::AddrNotAvailable`] when not a member.
    ///
    /// # Examples
    /// ```
    /// use std::net::Ipv4Addr;
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("0.0.0.0:0").await.unwrap();
    ///     let group = Ipv4Addr::new(239, 255, 42, 2);
    ///     assert!(socket.leave_multicast_v4(group, Ipv4Addr::LOCALHOST).is_err());
    /// });
    /// ```
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.real("UdpSocket::leave_multicast_v4")?
            .get_ref()
            .leave_multicast_v4(&multiaddr, &interface)
    }

    /// Whether this host's own multicast datagrams loop back to its members.
    ///
    /// # Errors
    /// The OS's `setsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("0.0.0.0:0").await.unwrap();
    ///     socket.set_multicast_loop_v4(false).unwrap();
    ///     assert!(!socket.multicast_loop_v4().unwrap());
    /// });
    /// ```
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.real("UdpSocket::set_multicast_loop_v4")?
            .get_ref()
            .set_multicast_loop_v4(on)
    }

    /// See [`UdpSocket::set_multicast_loop_v4`].
    ///
    /// # Errors
    /// The OS's `getsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("0.0.0.0:0").await.unwrap();
    ///     assert!(socket.multicast_loop_v4().unwrap());
    /// });
    /// ```
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.real("UdpSocket::multicast_loop_v4")?
            .get_ref()
            .multicast_loop_v4()
    }

    /// Sets the time-to-live of outgoing multicast datagrams (1: this subnet).
    ///
    /// # Errors
    /// The OS's `setsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("0.0.0.0:0").await.unwrap();
    ///     socket.set_multicast_ttl_v4(3).unwrap();
    ///     assert_eq!(socket.multicast_ttl_v4().unwrap(), 3);
    /// });
    /// ```
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.real("UdpSocket::set_multicast_ttl_v4")?
            .get_ref()
            .set_multicast_ttl_v4(ttl)
    }

    /// See [`UdpSocket::set_multicast_ttl_v4`].
    ///
    /// # Errors
    /// The OS's `getsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("0.0.0.0:0").await.unwrap();
    ///     assert_eq!(socket.multicast_ttl_v4().unwrap(), 1);
    /// });
    /// ```
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.real("UdpSocket::multicast_ttl_v4")?
            .get_ref()
            .multicast_ttl_v4()
    }

    /// Sends multicast datagrams out of the interface with address `interface`
    /// (`IP_MULTICAST_IF`), e.g. `127.0.0.1` for loopback-only tests.
    ///
    /// # Errors
    /// The OS's `setsockopt` error.
    ///
    /// # Examples
    /// ```
    /// use std::net::Ipv4Addr;
    /// use ticktock_executor::net::UdpSocket;
    ///
    /// let rt = ticktock_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let socket = UdpSocket::bind("0.0.0.0:0").await.unwrap();
    ///     socket.set_multicast_if_v4(Ipv4Addr::LOCALHOST).unwrap();
    /// });
    /// ```
    pub fn set_multicast_if_v4(&self, interface: Ipv4Addr) -> io::Result<()> {
        socket2::SockRef::from(self.real("UdpSocket::set_multicast_if_v4")?.get_ref())
            .set_multicast_if_v4(&interface)
    }
}
