//! The socket under a session: TCP or a Unix-domain socket, always
//! non-blocking (the connection waits in poll(2), see `conn.rs`).
//!
//! Writes never raise SIGPIPE: a C program that links the library must not
//! be killed when a server closes mid-write (how, per platform: `sys.rs`).

use std::io::{self, Read, Write};
use std::net::{IpAddr, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;

use socket2::SockRef;

use crate::sys;

/// A connected, non-blocking socket.
#[derive(Debug)]
pub enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Socket {
    /// Make `stream` non-blocking and take it (a TCP stream also gets
    /// TCP_NODELAY: commands are small and each one is awaited).
    pub fn tcp(stream: TcpStream) -> io::Result<Socket> {
        stream.set_nonblocking(true)?;
        sys::no_sigpipe(SockRef::from(&stream))?;
        let _ = stream.set_nodelay(true);
        Ok(Socket::Tcp(stream))
    }

    pub fn unix(stream: UnixStream) -> io::Result<Socket> {
        stream.set_nonblocking(true)?;
        sys::no_sigpipe(SockRef::from(&stream))?;
        Ok(Socket::Unix(stream))
    }

    fn sock_ref(&self) -> SockRef<'_> {
        match self {
            Socket::Tcp(s) => SockRef::from(s),
            Socket::Unix(s) => SockRef::from(s),
        }
    }

    pub fn fd(&self) -> RawFd {
        match self {
            Socket::Tcp(s) => s.as_raw_fd(),
            Socket::Unix(s) => s.as_raw_fd(),
        }
    }

    /// Send what the socket takes now (`WouldBlock` when it takes nothing).
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.sock_ref().send_with_flags(buf, sys::SEND_FLAGS)
    }

    /// Send from several buffers in one system call (TLS records queued by
    /// rustls go out together, not one per call).
    pub fn send_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        // sendmsg takes at most IOV_MAX (1024 on Linux, the BSDs and macOS) buffers.
        self.sock_ref().send_vectored_with_flags(&bufs[..bufs.len().min(1024)], sys::SEND_FLAGS)
    }

    /// Receive what has arrived (`Ok(0)` at end of stream, `WouldBlock`
    /// when nothing has).
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => (&*s).read(buf),
            Socket::Unix(s) => (&*s).read(buf),
        }
    }

    /// Close both directions now (the peer sees end of stream).
    pub fn shutdown(&self) {
        let _ = match self {
            Socket::Tcp(s) => s.shutdown(std::net::Shutdown::Both),
            Socket::Unix(s) => s.shutdown(std::net::Shutdown::Both),
        };
    }

    /// Ask the kernel to acknowledge what arrives at once rather than
    /// delaying the ACK (Linux's TCP_QUICKACK; it lapses by itself after a
    /// while). A server whose small reply waits behind Nagle's algorithm for
    /// our ACK is answered without the 40 ms delayed-ACK pause.
    pub fn quick_ack(&self) {
        if let Socket::Tcp(s) = self {
            sys::quick_ack(SockRef::from(s));
        }
    }

    /// Whether a secret sent in clear on this socket stays on this machine:
    /// a Unix socket, or (when trusted) a loopback peer.
    pub fn is_local(&self, trust_loopback: bool) -> bool {
        match self {
            Socket::Unix(_) => true,
            Socket::Tcp(s) => {
                trust_loopback
                    && s.peer_addr().is_ok_and(|a| match a.ip() {
                        IpAddr::V4(v4) => v4.is_loopback(),
                        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
                    })
            }
        }
    }

    /// Where the socket goes, for the trace.
    pub fn peer(&self) -> String {
        match self {
            Socket::Tcp(s) => s.peer_addr().map(|a| a.to_string()).unwrap_or_default(),
            Socket::Unix(s) => s
                .peer_addr()
                .ok()
                .and_then(|a| a.as_pathname().map(|p| p.display().to_string()))
                .unwrap_or_else(|| "unix socket".into()),
        }
    }
}

/// `Read` and `Write` over the socket, for rustls's `read_tls` and
/// `write_tls` (non-blocking like the socket).
pub struct SocketIo<'a>(pub &'a Socket);

impl Read for SocketIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.recv(buf)
    }
}

impl Write for SocketIo<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.send(buf)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.0.send_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
