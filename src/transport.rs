//! The byte stream under a session: TCP (every resolved address in turn,
//! optionally bound to a source address), a Unix-domain socket, or TLS over
//! either of them.
//!
//! Writes use `send(MSG_NOSIGNAL)`: a C program that links the library must
//! not be killed by SIGPIPE when a server closes mid-write.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use crate::error::{Error, Result};

/// TLS over a plain stream.
pub type TlsStream = rustls::StreamOwned<rustls::ClientConnection, Stream>;

/// A connected byte stream.
#[derive(Debug)]
pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
    Tls(Box<TlsStream>),
}

impl Stream {
    fn fd(&self) -> RawFd {
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
            Stream::Tls(t) => t.sock.fd(),
        }
    }

    /// Bound each blocking read (`None`: wait forever).
    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(t),
            Stream::Unix(s) => s.set_read_timeout(t),
            Stream::Tls(s) => s.sock.set_read_timeout(t),
        }
    }

    /// Bound each blocking write (`None`: wait forever).
    pub fn set_write_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_write_timeout(t),
            Stream::Unix(s) => s.set_write_timeout(t),
            Stream::Tls(s) => s.sock.set_write_timeout(t),
        }
    }

    /// Close both directions now (the peer sees end of stream); TLS says
    /// close_notify first, as far as the socket takes it without waiting.
    pub fn shutdown(&mut self) {
        let _ = match self {
            Stream::Tcp(s) => s.shutdown(std::net::Shutdown::Both),
            Stream::Unix(s) => s.shutdown(std::net::Shutdown::Both),
            Stream::Tls(t) => {
                t.conn.send_close_notify();
                let _ = t.sock.set_write_timeout(Some(Duration::from_millis(100)));
                let _ = t.conn.write_tls(&mut t.sock);
                t.sock.shutdown();
                Ok(())
            }
        };
    }

    /// Whether TLS protects the stream.
    pub fn is_encrypted(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }

    /// The negotiated TLS version and cipher suite.
    pub fn tls_info(&self) -> Option<(String, String)> {
        let Stream::Tls(t) = self else { return None };
        let version = t.conn.protocol_version().map(|v| format!("{v:?}").replace("TLSv1_", "TLSv1."))?;
        let suite = t.conn.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite()))?;
        Some((version, suite))
    }

    /// Whether a secret sent on this stream stays on this machine or is
    /// encrypted: a Unix socket, a loopback peer (TLS joins in the TLS issue).
    pub fn protects_secrets(&self, trust_loopback: bool) -> bool {
        match self {
            Stream::Unix(_) | Stream::Tls(_) => true,
            Stream::Tcp(s) => trust_loopback && s.peer_addr().is_ok_and(|a| match a.ip() {
                IpAddr::V4(v4) => v4.is_loopback(),
                IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
            }),
        }
    }

    /// Where the stream goes, for the trace.
    pub fn peer(&self) -> String {
        match self {
            Stream::Tcp(s) => s.peer_addr().map(|a| a.to_string()).unwrap_or_default(),
            Stream::Unix(s) => s
                .peer_addr()
                .ok()
                .and_then(|a| a.as_pathname().map(|p| p.display().to_string()))
                .unwrap_or_else(|| "unix socket".into()),
            Stream::Tls(t) => t.sock.peer(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Stream::Tls(t) = self {
            return t.write(buf);
        }
        // SAFETY: fd is an open socket owned by self; buf is valid for len bytes.
        let n = unsafe { libc::send(self.fd(), buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tls(t) => t.flush(),
            _ => Ok(()),
        }
    }
}

/// Where to connect from: smtplib's `source_address` (host, port).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceAddr {
    pub host: String,
    pub port: u16,
}

/// Split `host:port` as smtplib's `connect` does when no port is given: only
/// when the host has exactly one colon. Returns the host and the port (0
/// when there was none).
pub fn split_host_port(host: &str, port: u16) -> Result<(String, u16)> {
    if port == 0 && host.matches(':').count() == 1 {
        let (h, p) = host.rsplit_once(':').expect("one colon");
        let port = p
            .trim()
            .parse::<u16>()
            .map_err(|_| Error::InvalidArgument(format!("nonnumeric port {p:?} in {host:?}")))?;
        return Ok((h.to_string(), port));
    }
    Ok((host.to_string(), port))
}

/// A Unix-domain socket path: a host starting with `/` (smtplib's LMTP rule,
/// allowed for every kind here).
pub fn is_unix_path(host: &str) -> bool {
    host.starts_with('/')
}

/// Connect to a Unix-domain socket.
pub fn connect_unix(path: &str) -> Result<Stream> {
    UnixStream::connect(path)
        .map(Stream::Unix)
        .map_err(|e| Error::Connect(format!("{path}: {e}")))
}

/// Resolve `host` and try every address in turn, each within `timeout`.
pub fn connect_tcp(host: &str, port: u16, source: Option<&SourceAddr>, timeout: Option<Duration>) -> Result<Stream> {
    // Accept a bracketed IPv6 literal as well as a bare one.
    let name = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let addrs: Vec<SocketAddr> = (name, port)
        .to_socket_addrs()
        .map_err(|e| Error::Connect(format!("cannot resolve {host:?}: {e}")))?
        .collect();
    let sources: Vec<SocketAddr> = match source {
        Some(s) => (s.host.as_str(), s.port)
            .to_socket_addrs()
            .map_err(|e| Error::Connect(format!("cannot resolve source address {:?}: {e}", s.host)))?
            .collect(),
        None => Vec::new(),
    };
    let mut last = None;
    let mut all_timed_out = !addrs.is_empty();
    for addr in &addrs {
        let bind = match source {
            None => None,
            Some(_) => match sources.iter().find(|s| s.is_ipv4() == addr.is_ipv4()) {
                Some(s) => Some(*s),
                None => {
                    all_timed_out = false;
                    last = Some(format!("{addr}: no source address of the same family"));
                    continue;
                }
            },
        };
        match connect_one(addr, bind, timeout) {
            Ok(s) => return Ok(Stream::Tcp(s)),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => last = Some(format!("{addr}: connect timed out")),
            Err(e) => {
                all_timed_out = false;
                last = Some(format!("{addr}: {e}"));
            }
        }
    }
    let what = last.unwrap_or_else(|| format!("{host:?} resolved to no address"));
    // Every address timed out: the limit fired, not a refusal.
    if all_timed_out {
        return Err(Error::Timeout(what));
    }
    Err(Error::Connect(what))
}

/// One socket: optional bind, then a non-blocking connect awaited with poll.
fn connect_one(addr: &SocketAddr, bind: Option<SocketAddr>, timeout: Option<Duration>) -> io::Result<TcpStream> {
    let family = if addr.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    // SAFETY: plain socket(2); the result is checked and owned at once.
    let fd = unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd was just created and nothing else owns it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    if let Some(src) = bind {
        let (sa, len) = sockaddr(&src);
        // SAFETY: sa is a valid sockaddr of len bytes.
        if unsafe { libc::bind(fd, (&raw const sa).cast(), len) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    let (sa, len) = sockaddr(addr);
    // SAFETY: as above.
    if unsafe { libc::connect(fd, (&raw const sa).cast(), len) } < 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(err);
        }
        let ms = timeout.map_or(-1, |t| t.as_millis().clamp(1, i32::MAX as u128) as i32);
        let mut pfd = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
        loop {
            // SAFETY: one valid pollfd.
            let r = unsafe { libc::poll(&mut pfd, 1, ms) };
            if r == 0 {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out"));
            }
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            break;
        }
        let mut so_error: libc::c_int = 0;
        let mut optlen = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: so_error and optlen are valid for writing.
        if unsafe {
            libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_ERROR, (&raw mut so_error).cast(), &mut optlen)
        } < 0
        {
            return Err(io::Error::last_os_error());
        }
        if so_error != 0 {
            return Err(io::Error::from_raw_os_error(so_error));
        }
    }
    let stream = TcpStream::from(owned);
    stream.set_nonblocking(false)?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// A `sockaddr_storage` holding `addr`, and its length.
fn sockaddr(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(a.ip().octets()) },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { std::ptr::write((&raw mut storage).cast(), sin) };
            (storage, std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t)
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr { s6_addr: a.ip().octets() },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: as above, for sockaddr_in6.
            unsafe { std::ptr::write((&raw mut storage).cast(), sin6) };
            (storage, std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t)
        }
    }
}

/// smtplib's default `local_hostname`: the FQDN when it has a dot, else an
/// address literal of the host's address, else `[127.0.0.1]`.
pub fn default_local_hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: buf is writable for its length.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let name = if ok {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        String::new()
    };
    if let Some(fqdn) = canonical_name(&name) {
        if fqdn.contains('.') {
            return fqdn;
        }
    }
    if name.contains('.') {
        return name;
    }
    let ip = (name.as_str(), 0)
        .to_socket_addrs()
        .ok()
        .and_then(|mut it| it.find(|a| a.is_ipv4()))
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    format!("[{ip}]")
}

/// getaddrinfo's canonical name for `host` (AI_CANONNAME), as getfqdn finds it.
fn canonical_name(host: &str) -> Option<String> {
    let c_host = std::ffi::CString::new(host).ok()?;
    // SAFETY: zeroed addrinfo is a valid hints value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_flags = libc::AI_CANONNAME;
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: valid C string, hints and result pointer.
    if unsafe { libc::getaddrinfo(c_host.as_ptr(), std::ptr::null(), &hints, &mut res) } != 0 || res.is_null() {
        return None;
    }
    // SAFETY: res is a valid list from getaddrinfo until freeaddrinfo.
    let name = unsafe {
        let c = (*res).ai_canonname;
        let s = if c.is_null() { None } else { Some(std::ffi::CStr::from_ptr(c).to_string_lossy().into_owned()) };
        libc::freeaddrinfo(res);
        s
    };
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_split() {
        assert_eq!(split_host_port("mx:2525", 0).unwrap(), ("mx".into(), 2525));
        assert_eq!(split_host_port("mx:2525", 25).unwrap(), ("mx:2525".into(), 25));
        assert_eq!(split_host_port("mx", 0).unwrap(), ("mx".into(), 0));
        assert_eq!(split_host_port("::1", 0).unwrap(), ("::1".into(), 0));
        assert!(matches!(split_host_port("mx:smtp", 0), Err(Error::InvalidArgument(_))));
    }

    #[test]
    fn local_hostname_has_dot_or_is_literal() {
        let h = default_local_hostname();
        assert!(h.contains('.') || (h.starts_with('[') && h.ends_with(']')), "{h}");
    }

    #[test]
    fn refused_connection() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let e = connect_tcp("127.0.0.1", port, None, Some(Duration::from_secs(2))).unwrap_err();
        assert!(matches!(e, Error::Connect(_)), "{e:?}");
    }

    #[test]
    fn ipv6_loopback_bracketed_or_bare() {
        let l = std::net::TcpListener::bind("[::1]:0").expect("IPv6 loopback");
        let port = l.local_addr().unwrap().port();
        for host in ["::1", "[::1]"] {
            let s = connect_tcp(host, port, None, Some(Duration::from_secs(2))).unwrap();
            let (_, peer) = l.accept().unwrap();
            assert!(peer.is_ipv6(), "{host}");
            assert!(s.peer().starts_with("[::1]:"), "{}", s.peer());
        }
    }

    /// Every resolved address is tried in turn: "localhost" may give ::1
    /// first, where nothing listens, and 127.0.0.1 second.
    #[test]
    fn tries_every_address() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let s = connect_tcp("localhost", port, None, Some(Duration::from_secs(2))).unwrap();
        let (_, peer) = l.accept().unwrap();
        assert!(peer.is_ipv4());
        drop(s);
    }

    #[test]
    fn unix_socket() {
        let dir = std::env::temp_dir().join(format!("libsmtp-unix-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.sock");
        let _ = std::fs::remove_file(&path);
        let l = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let p = path.to_str().unwrap();
        assert!(is_unix_path(p));
        let mut s = connect_unix(p).unwrap();
        let (mut peer, _) = l.accept().unwrap();
        s.write_all(b"noop\r\n").unwrap();
        let mut buf = [0u8; 6];
        peer.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"noop\r\n");
        assert!(matches!(connect_unix("/nonexistent/libsmtp.sock"), Err(Error::Connect(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A listener whose accept queue is full drops further SYNs, so the
    /// connect hangs until the connect timeout: loopback only.
    #[test]
    fn connect_timeout_fires() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        // SAFETY: re-listen on an open socket with a backlog of 0.
        assert_eq!(unsafe { libc::listen(l.as_raw_fd(), 0) }, 0);
        let port = l.local_addr().unwrap().port();
        let mut held = Vec::new();
        let mut timed_out = None;
        for _ in 0..8 {
            let start = std::time::Instant::now();
            match connect_tcp("127.0.0.1", port, None, Some(Duration::from_millis(300))) {
                Ok(s) => held.push(s),
                Err(e) => {
                    timed_out = Some((e, start.elapsed()));
                    break;
                }
            }
        }
        let (e, elapsed) = timed_out.expect("the accept queue never filled");
        assert!(matches!(e, Error::Timeout(_)), "{e:?}");
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    }

    #[test]
    fn source_address_is_bound() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let src = SourceAddr { host: "127.0.0.2".into(), port: 0 };
        let s = connect_tcp("127.0.0.1", port, Some(&src), Some(Duration::from_secs(2))).unwrap();
        let (_, peer) = l.accept().unwrap();
        assert_eq!(peer.ip(), IpAddr::from([127, 0, 0, 2]));
        drop(s);
    }
}
