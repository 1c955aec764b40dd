//! Making the connection: the name looked up and its addresses raced
//! (`eyeballs.rs`), each wait bounded by SMTP_TIMEOUT_CONNECT and the
//! call's deadline and ended by a cancel; or a Unix-domain socket.

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket as RawSocket, Type};

use crate::cancel::{wait, Canceller, Woke};
use crate::deadline::{Earliest, Limit, Timeouts};
use crate::error::{Error, Result};
use crate::eyeballs;
use crate::sys;
use crate::transport::Socket;

/// Where to connect from: smtplib's `source_address` (host, port).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceAddr {
    pub host: String,
    pub port: u16,
}

impl SourceAddr {
    /// A source address; the host must be a non-empty name or address.
    pub fn new(host: &str, port: u16) -> Result<SourceAddr> {
        if host.is_empty() {
            return Err(Error::InvalidArgument("source host is empty".into()));
        }
        crate::command::check_line_text("source host", host)?;
        Ok(SourceAddr { host: host.to_string(), port })
    }
}

/// Split `host:port` as smtplib's `connect` does when no port is given: only
/// when the host has exactly one colon. Returns the host and the port (0
/// when there was none).
pub fn split_host_port(host: &str, port: u16) -> Result<(String, u16)> {
    if port == 0 && host.matches(':').count() == 1 {
        let (h, p) = host.rsplit_once(':').expect("one colon");
        // smtplib raises OSError("nonnumeric port") here, a connection
        // failure rather than a bad argument: the same code as a host name
        // that does not resolve.
        let digits = p.trim();
        let port = digits.parse::<u16>().map_err(|_| {
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                Error::Connect(format!("port {digits} out of range in {host:?} (0-65535)"))
            } else {
                Error::Connect(format!("nonnumeric port {p:?} in {host:?}"))
            }
        })?;
        return Ok((h.to_string(), port));
    }
    Ok((host.to_string(), port))
}

/// A Unix-domain socket path: a host starting with `/` (smtplib's LMTP rule,
/// allowed for every kind here).
pub fn is_unix_path(host: &str) -> bool {
    host.starts_with('/')
}

/// What bounds a connect, and what may stop it.
pub struct ConnectLimits<'a> {
    /// `connect` bounds the name lookup and each address.
    pub timeouts: &'a Timeouts,
    /// The end of the call, if it has one.
    pub call_deadline: Option<Instant>,
    pub canceller: &'a Arc<Canceller>,
}

impl ConnectLimits<'_> {
    /// The end of a lookup or an attempt starting now.
    pub(crate) fn attempt_end(&self) -> Earliest {
        let mut e = Earliest::default();
        e.add(self.call_deadline, Limit::Call);
        e.add_after(Instant::now(), self.timeouts.connect, Limit::Connect);
        e
    }

    /// Wait for `fd` (or only the doorbell) until `until`; a cancel is an
    /// error, the rest is for the caller to judge.
    pub(crate) fn wait(&self, fd: Option<RawFd>, events: i16, until: Option<(Instant, Limit)>) -> Result<Waited> {
        let woke = wait(fd, events, until.map(|u| u.0), self.canceller)
            .map_err(|e| Error::Io(format!("waiting to connect: {e}")))?;
        Ok(match woke {
            Woke::Ready(_) => Waited::Ready,
            Woke::Rung => Waited::Rung,
            Woke::Cancelled => return Err(cancelled()),
            Woke::TimedOut => Waited::Expired(until.map_or(Limit::Connect, |u| u.1)),
        })
    }

    /// The timeout of `limit`, saying what was being done.
    pub(crate) fn expired(&self, limit: Limit, doing: &str) -> Error {
        match limit.error(self.timeouts) {
            Error::Timeout(m) => Error::Timeout(format!("{doing}: {m}")),
            other => other,
        }
    }
}

/// How a wait of a connect ended, a cancel aside.
pub(crate) enum Waited {
    /// The socket is ready.
    Ready,
    /// The doorbell rang (an abandoned lookup finishing): look again.
    Rung,
    /// This limit came.
    Expired(Limit),
}

/// The error of a cancelled call.
pub fn cancelled() -> Error {
    Error::Cancelled("the call was cancelled (smtp_session_cancel); the connection is closed".into())
}

/// Run a name-service lookup (`what`, for errors) within the limits: it
/// runs on a thread of its own and the call stops waiting for it at the
/// deadline or a cancel (the thread then finishes in the background and its
/// answer is dropped): getaddrinfo cannot be interrupted.
pub fn lookup<T: Send + 'static>(
    what: &str,
    limits: &ConnectLimits<'_>,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    let end = limits.attempt_end();
    // The doorbell the thread rings when done must exist before it starts.
    limits.canceller.wake_fd().map_err(|e| Error::Io(format!("{what}: {e}")))?;
    let (tx, rx) = mpsc::channel();
    let bell = limits.canceller.clone();
    let run = move || {
        let _ = tx.send(f());
        bell.wake();
    };
    if std::thread::Builder::new().name("libsmtp-lookup".into()).spawn(run).is_err() {
        return Err(Error::Connect(format!("{what}: no thread for the lookup")));
    }
    loop {
        // The call's end and a cancel come first, even over an answer
        // already there: a lookup must not outlast either.
        if limits.canceller.is_cancelled() {
            return Err(cancelled());
        }
        if let Some((_, limit)) = end.get().filter(|e| Instant::now() >= e.0) {
            return Err(limits.expired(limit, what));
        }
        match rx.try_recv() {
            Ok(found) => return Ok(found),
            Err(mpsc::TryRecvError::Disconnected) => return Err(Error::Connect(format!("{what}: the lookup failed"))),
            Err(mpsc::TryRecvError::Empty) => {}
        }
        if let Waited::Expired(limit) = limits.wait(None, 0, end.get())? {
            return Err(limits.expired(limit, what));
        }
    }
}

/// Look `host` up within the limits (see [`lookup`]). An IP address needs
/// no lookup.
pub fn resolve(host: &str, port: u16, limits: &ConnectLimits<'_>) -> Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let name = host.to_string();
    let found = lookup(&format!("resolving {host:?}"), limits, move || {
        (name.as_str(), port).to_socket_addrs().map(|it| it.collect::<Vec<_>>())
    })?;
    found.map_err(|e| Error::Connect(format!("cannot resolve {host:?}: {e}")))
}

/// A close-on-exec (socket2 sees to it), non-blocking socket.
pub(crate) fn nonblocking_socket(domain: Domain, ty: Type, protocol: Option<Protocol>) -> io::Result<RawSocket> {
    let sock = RawSocket::new(domain, ty, protocol)?;
    sock.set_nonblocking(true)?;
    Ok(sock)
}

/// Connect to a Unix-domain socket.
pub fn connect_unix(path: &str, limits: &ConnectLimits<'_>) -> Result<Socket> {
    let fail = |e: io::Error| Error::Connect(format!("{path}: {e}"));
    let unusable = || Error::Connect(format!("{path}: not a usable Unix socket path (too long, or a NUL)"));
    if path.contains('\0') {
        return Err(unusable());
    }
    let addr = SockAddr::unix(path).map_err(|_| unusable())?;
    let sock = nonblocking_socket(Domain::UNIX, Type::STREAM, None).map_err(fail)?;
    let end = limits.attempt_end();
    loop {
        match sock.connect(&addr) {
            Ok(()) => break,
            // A system may finish the connect in the background, as for TCP.
            Err(e) if sys::in_progress(&e) => {
                loop {
                    match limits.wait(Some(sock.as_raw_fd()), sys::POLLOUT, end.get())? {
                        Waited::Ready => break,
                        Waited::Rung => {}
                        Waited::Expired(limit) => return Err(limits.expired(limit, path)),
                    }
                }
                if let Some(e) = sock.take_error().map_err(fail)? {
                    return Err(fail(e));
                }
                break;
            }
            // A full backlog (Linux's EAGAIN) cannot be polled for on a
            // Unix socket: try again shortly.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let retry = (Instant::now() + Duration::from_millis(10), Limit::Connect);
                let until = end.get().filter(|e| e.0 <= retry.0).unwrap_or(retry);
                if let Waited::Expired(limit) = limits.wait(None, 0, Some(until))? {
                    if end.instant().is_some_and(|t| Instant::now() >= t) {
                        return Err(limits.expired(limit, path));
                    }
                }
            }
            Err(e) => return Err(fail(e)),
        }
    }
    Socket::unix(UnixStream::from(sock)).map_err(fail)
}

/// Look `host` up (within SMTP_TIMEOUT_CONNECT and the call) and race its
/// addresses (`eyeballs::race`), bound to `source` when given.
pub fn connect_tcp(host: &str, port: u16, source: Option<&SourceAddr>, limits: &ConnectLimits<'_>) -> Result<Socket> {
    // Accept a bracketed IPv6 literal as well as a bare one.
    let name = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let addrs = resolve(name, port, limits)?;
    let sources: Vec<SocketAddr> = match source {
        Some(s) => resolve(&s.host, s.port, limits).map_err(|e| match e {
            Error::Connect(m) => Error::Connect(format!("source address: {m}")),
            other => other,
        })?,
        None => Vec::new(),
    };
    eyeballs::race(name, &addrs, &sources, limits)
}

/// smtplib's default `local_hostname`: the FQDN when it has a dot, else an
/// address literal of the host's address, else `[127.0.0.1]`.
pub fn default_local_hostname() -> String {
    let name = sys::hostname().unwrap_or_default();
    if let Some(fqdn) = sys::canonical_name(&name) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Connect with a per-attempt limit of `ms` and no call deadline.
    fn tcp(host: &str, port: u16, source: Option<&SourceAddr>, ms: u64) -> Result<Socket> {
        let t = Timeouts { connect: Some(Duration::from_millis(ms)), ..Timeouts::default() };
        let c = Arc::new(Canceller::default());
        c.begin();
        connect_tcp(host, port, source, &ConnectLimits { timeouts: &t, call_deadline: None, canceller: &c })
    }

    fn unix(path: &str) -> Result<Socket> {
        let t = Timeouts::default();
        let c = Arc::new(Canceller::default());
        connect_unix(path, &ConnectLimits { timeouts: &t, call_deadline: None, canceller: &c })
    }

    #[test]
    fn host_port_split() {
        assert_eq!(split_host_port("mx:2525", 0).unwrap(), ("mx".into(), 2525));
        assert_eq!(split_host_port("mx:2525", 25).unwrap(), ("mx:2525".into(), 25));
        assert_eq!(split_host_port("mx", 0).unwrap(), ("mx".into(), 0));
        assert_eq!(split_host_port("::1", 0).unwrap(), ("::1".into(), 0));
        assert!(matches!(split_host_port("mx:smtp", 0), Err(Error::Connect(m)) if m.starts_with("nonnumeric port")));
        assert!(matches!(split_host_port("mx:", 0), Err(Error::Connect(m)) if m.starts_with("nonnumeric port")));
        assert!(matches!(split_host_port("mx:70000", 0), Err(Error::Connect(m)) if m.contains("out of range")));
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
        let e = tcp("127.0.0.1", port, None, 2000).unwrap_err();
        assert!(matches!(e, Error::Connect(_)), "{e:?}");
    }

    #[test]
    fn ipv6_loopback_bracketed_or_bare() {
        let l = std::net::TcpListener::bind("[::1]:0").expect("IPv6 loopback");
        let port = l.local_addr().unwrap().port();
        for host in ["::1", "[::1]"] {
            let s = tcp(host, port, None, 2000).unwrap();
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
        let s = tcp("localhost", port, None, 2000).unwrap();
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
        let s = unix(p).unwrap();
        let (mut peer, _) = l.accept().unwrap();
        assert_eq!(s.send(b"noop\r\n").unwrap(), 6);
        let mut buf = [0u8; 6];
        peer.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"noop\r\n");
        assert!(matches!(unix("/nonexistent/libsmtp.sock"), Err(Error::Connect(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A lookup that never answers in time is abandoned at the deadline,
    /// and a cancel ends it at once.
    #[test]
    fn lookup_is_bounded_and_cancellable() {
        let t = Timeouts::default();
        let c = Arc::new(Canceller::default());
        c.begin();
        let past = Some(Instant::now());
        let e =
            resolve("localhost", 25, &ConnectLimits { timeouts: &t, call_deadline: past, canceller: &c }).unwrap_err();
        assert!(matches!(&e, Error::Timeout(m) if m.contains("SMTP_TIMEOUT_CALL")), "{e:?}");
        c.cancel();
        let e =
            resolve("localhost", 25, &ConnectLimits { timeouts: &t, call_deadline: None, canceller: &c }).unwrap_err();
        assert!(matches!(e, Error::Cancelled(_)), "{e:?}");
        c.end();
    }

    /// An address that drops SYNs: the connect gives up at its limit.
    #[test]
    fn connect_timeout_fires() {
        let sink = crate::eyeballs::tests::SynSink::new("127.0.0.1");
        let start = Instant::now();
        let e = tcp("127.0.0.1", sink.addr.port(), None, 300).unwrap_err();
        assert!(matches!(e, Error::Timeout(_)), "{e:?}");
        assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    }

    #[test]
    fn source_address_is_bound() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let src = SourceAddr { host: "127.0.0.2".into(), port: 0 };
        let s = tcp("127.0.0.1", port, Some(&src), 2000).unwrap();
        let (_, peer) = l.accept().unwrap();
        assert_eq!(peer.ip(), IpAddr::from([127, 0, 0, 2]));
        drop(s);
    }
}
