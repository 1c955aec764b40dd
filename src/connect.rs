//! Making the connection: the name looked up and every address tried,
//! each wait bounded by SMTP_TIMEOUT_CONNECT and the call's deadline and
//! ended by a cancel; or a Unix-domain socket.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use crate::cancel::{wait, Canceller, Woke};
use crate::deadline::{Earliest, Limit, Timeouts};
use crate::error::{Error, Result};
use crate::transport::Socket;

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

/// Connect to a Unix-domain socket.
pub fn connect_unix(path: &str, limits: &ConnectLimits<'_>) -> Result<Socket> {
    let fail = |e: io::Error| Error::Connect(format!("{path}: {e}"));
    // SAFETY: all-zero is a valid sockaddr_un.
    let mut sun: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let bytes = path.as_bytes();
    if bytes.len() >= sun.sun_path.len() || bytes.contains(&0) {
        return Err(Error::Connect(format!("{path}: not a usable Unix socket path (too long, or a NUL)")));
    }
    for (d, s) in sun.sun_path.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    let len = (std::mem::size_of::<libc::sa_family_t>() + bytes.len() + 1) as libc::socklen_t;
    // SAFETY: plain socket(2); the result is checked and owned at once.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK, 0) };
    if fd < 0 {
        return Err(fail(io::Error::last_os_error()));
    }
    // SAFETY: fd was just created and nothing else owns it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let end = limits.attempt_end();
    // SAFETY (each connect): sun is a valid sockaddr_un of at least len bytes.
    while unsafe { libc::connect(fd, (&raw const sun).cast(), len) } < 0 {
        let e = io::Error::last_os_error();
        // A full backlog cannot be polled for on a Unix socket: try again shortly.
        if e.raw_os_error() != Some(libc::EAGAIN) {
            return Err(fail(e));
        }
        let retry = (Instant::now() + Duration::from_millis(10), Limit::Connect);
        let until = end.get().filter(|e| e.0 <= retry.0).unwrap_or(retry);
        if let Waited::Expired(limit) = limits.wait(None, 0, Some(until))? {
            if end.instant().is_some_and(|t| Instant::now() >= t) {
                return Err(limits.expired(limit, path));
            }
        }
    }
    Socket::unix(UnixStream::from(owned)).map_err(fail)
}

/// Look `host` up and try every address in turn, the lookup and each
/// address within SMTP_TIMEOUT_CONNECT, all within the call.
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
    let mut last = None;
    let mut all_timed_out = !addrs.is_empty();
    for addr in &addrs {
        let bind = match source {
            None => None,
            Some(_) => match sources.iter().find(|s| s.is_ipv4() == addr.is_ipv4()) {
                Some(s) => Some(*s),
                None => {
                    all_timed_out = false;
                    last = Some(Error::Connect(format!("{addr}: no source address of the same family")));
                    continue;
                }
            },
        };
        match connect_one(addr, bind, limits) {
            Ok(s) => return Ok(s),
            // The per-address limit: the next address may answer.
            Err(Attempt::TimedOut(e)) => last = Some(e),
            Err(Attempt::Failed(e)) => {
                all_timed_out = false;
                last = Some(e);
            }
            Err(Attempt::Stop(e)) => return Err(e),
        }
    }
    match last {
        // Every address timed out: the limit fired, not a refusal.
        Some(e @ Error::Timeout(_)) if all_timed_out => Err(e),
        Some(Error::Timeout(m) | Error::Connect(m)) => Err(Error::Connect(m)),
        Some(e) => Err(Error::Connect(e.to_string())),
        None => Err(Error::Connect(format!("{host:?} resolved to no address"))),
    }
}

/// How one address went.
enum Attempt {
    /// Its own limit came: the next address may answer.
    TimedOut(Error),
    /// Refused, unreachable...: the next address may answer.
    Failed(Error),
    /// Cancelled, or the call's deadline: no address is tried after it.
    Stop(Error),
}

/// One socket: optional bind, then a non-blocking connect awaited in poll.
fn connect_one(
    addr: &SocketAddr,
    bind: Option<SocketAddr>,
    limits: &ConnectLimits<'_>,
) -> std::result::Result<Socket, Attempt> {
    let fail = |e: io::Error| Attempt::Failed(Error::Connect(format!("{addr}: {e}")));
    let family = if addr.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    // SAFETY: plain socket(2); the result is checked and owned at once.
    let fd = unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK, 0) };
    if fd < 0 {
        return Err(fail(io::Error::last_os_error()));
    }
    // SAFETY: fd was just created and nothing else owns it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    if let Some(src) = bind {
        let (sa, len) = sockaddr(&src);
        // SAFETY: sa is a valid sockaddr of len bytes.
        if unsafe { libc::bind(fd, (&raw const sa).cast(), len) } < 0 {
            return Err(fail(io::Error::last_os_error()));
        }
    }
    let (sa, len) = sockaddr(addr);
    // SAFETY: as above.
    if unsafe { libc::connect(fd, (&raw const sa).cast(), len) } < 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(fail(err));
        }
        let end = limits.attempt_end();
        loop {
            match limits.wait(Some(fd), libc::POLLOUT, end.get()).map_err(Attempt::Stop)? {
                Waited::Ready => break,
                // The doorbell of an abandoned lookup: wait on.
                Waited::Rung => {}
                Waited::Expired(limit) => {
                    let e = limits.expired(limit, &format!("connecting to {addr}"));
                    return Err(if limit == Limit::Connect { Attempt::TimedOut(e) } else { Attempt::Stop(e) });
                }
            }
        }
        check_so_error(fd).map_err(fail)?;
    }
    Socket::tcp(TcpStream::from(owned)).map_err(fail)
}

/// The outcome of a non-blocking connect that poll says is over.
fn check_so_error(fd: RawFd) -> io::Result<()> {
    let mut so_error: libc::c_int = 0;
    let mut optlen = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: so_error and optlen are valid for writing.
    if unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_ERROR, (&raw mut so_error).cast(), &mut optlen) } < 0 {
        return Err(io::Error::last_os_error());
    }
    if so_error != 0 {
        return Err(io::Error::from_raw_os_error(so_error));
    }
    Ok(())
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
    use std::io::Read;
    use std::os::fd::AsRawFd;

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
            match tcp("127.0.0.1", port, None, 300) {
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
        let s = tcp("127.0.0.1", port, Some(&src), 2000).unwrap();
        let (_, peer) = l.accept().unwrap();
        assert_eq!(peer.ip(), IpAddr::from([127, 0, 0, 2]));
        drop(s);
    }
}
