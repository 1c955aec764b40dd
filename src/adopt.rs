//! The caller's own socket (`smtp_session_connect_fd`): an open file
//! descriptor, checked to be a connected stream socket, TCP or Unix-domain,
//! and taken over (made non-blocking, closed with the session).

use std::io;
use std::net::TcpStream;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;

use crate::error::{Error, Result};
use crate::sys;
use crate::transport::Socket;

/// Own `fd` if it is open: from here on it is closed when dropped. An fd
/// that is not open is refused and left alone (there is nothing to close,
/// and closing a number someone may reuse would be wrong).
pub fn own(fd: RawFd) -> Result<OwnedFd> {
    if !sys::fd_is_open(fd) {
        return Err(Error::InvalidArgument(format!("fd {fd} is not an open file descriptor")));
    }
    // SAFETY: fd is open and the caller hands it over (the C contract).
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A connected stream socket, TCP or Unix-domain, as the session's socket.
/// On error `fd` is dropped (closed).
pub fn socket(fd: OwnedFd) -> Result<Socket> {
    let n = fd.as_raw_fd();
    let refuse = |why: String| Error::InvalidArgument(format!("fd {n} {why}"));
    let probe = socket2::SockRef::from(&fd);
    match probe.r#type() {
        Ok(t) if t == socket2::Type::STREAM => {}
        Ok(_) => return Err(refuse("is not a stream socket (SOCK_STREAM)".into())),
        Err(e) if sys::is_not_a_socket(&e) => return Err(refuse("is not a socket".into())),
        Err(e) => return Err(refuse(format!("is not a usable socket: {e}"))),
    }
    let peer = match probe.peer_addr() {
        Ok(peer) => peer,
        Err(e) if e.kind() == io::ErrorKind::NotConnected => {
            return Err(refuse("is not connected (connect it first)".into()))
        }
        Err(e) => return Err(refuse(format!("has no peer: {e}"))),
    };
    let made = if peer.is_ipv4() || peer.is_ipv6() {
        Socket::tcp(TcpStream::from(fd))
    } else if peer.is_unix() {
        Socket::unix(UnixStream::from(fd))
    } else {
        return Err(refuse(format!("is a socket of address family {}, neither TCP nor Unix-domain", peer.family())));
    };
    made.map_err(|e| refuse(format!("cannot be made non-blocking: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(r: Result<Socket>) -> String {
        match r {
            Err(Error::InvalidArgument(m)) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn connected_stream_sockets_are_taken() {
        let (a, _b) = UnixStream::pair().unwrap();
        let s = socket(own(std::os::fd::IntoRawFd::into_raw_fd(a)).unwrap()).unwrap();
        assert!(matches!(s, Socket::Unix(_)));
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let s = socket(own(std::os::fd::IntoRawFd::into_raw_fd(c)).unwrap()).unwrap();
        assert!(matches!(s, Socket::Tcp(_)));
        // Non-blocking now: a read with nothing there does not wait.
        let mut buf = [0u8; 1];
        assert_eq!(s.recv(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn other_descriptors_are_refused() {
        assert!(matches!(own(-1), Err(Error::InvalidArgument(m)) if m.contains("not an open")));
        let file = std::fs::File::open("/dev/null").unwrap();
        assert!(err(socket(OwnedFd::from(file))).contains("is not a socket"));
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(err(socket(OwnedFd::from(l))).contains("is not connected"));
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert!(err(socket(OwnedFd::from(udp))).contains("not a stream socket"));
    }
}
