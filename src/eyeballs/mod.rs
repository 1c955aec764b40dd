//! Happy Eyeballs (RFC 8305): the addresses of a name raced, not tried one
//! after another, so that an address that never answers (a broken IPv6
//! route, a firewall that drops SYNs) costs 250 ms, not SMTP_TIMEOUT_CONNECT.
//!
//! The addresses are ordered with the families interleaved, IPv6 first
//! (section 4); an attempt starts 250 ms after the one before it began, or
//! at once when one fails (section 5); every attempt stays in flight and
//! all are polled together; the first to connect wins and the others are
//! closed. Each attempt is bounded by SMTP_TIMEOUT_CONNECT from its own
//! start, the whole by the call's deadline and its cancel.

use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket as RawSocket, Type};

use crate::cancel::{wait_set, Woke};
use crate::connect::{cancelled, nonblocking_socket, ConnectLimits};
use crate::deadline::Limit;
use crate::error::{Error, Result};
use crate::sys::{self, PollFd, POLLOUT};
use crate::transport::Socket;

/// RFC 8305 section 5's recommended Connection Attempt Delay.
pub const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// RFC 8305 section 4: alternate the families, IPv6 first (the First
/// Address Family Count is 1), each family kept in the resolver's order
/// (getaddrinfo has sorted it per RFC 6724).
pub fn interleave(addrs: &[SocketAddr]) -> Vec<SocketAddr> {
    let (mut v6, mut v4): (VecDeque<SocketAddr>, VecDeque<SocketAddr>) = addrs.iter().partition(|a| a.is_ipv6());
    let mut out = Vec::with_capacity(addrs.len());
    while !v6.is_empty() || !v4.is_empty() {
        out.extend(v6.pop_front());
        out.extend(v4.pop_front());
    }
    out
}

/// One connection attempt in flight.
struct Attempt {
    addr: SocketAddr,
    sock: RawSocket,
    /// Its own SMTP_TIMEOUT_CONNECT, from when it began.
    end: Option<Instant>,
}

/// Why an address did not answer.
enum Failure {
    TimedOut,
    Failed(io::Error),
}

/// Race `addrs` (the addresses of `host`, which names them in errors) as
/// the module says. With `sources` (the source address resolved), only the
/// addresses of a family that has a source address are tried, each bound
/// to the first source address of its family.
pub fn race(host: &str, addrs: &[SocketAddr], sources: &[SocketAddr], limits: &ConnectLimits<'_>) -> Result<Socket> {
    let usable: Vec<SocketAddr> =
        addrs.iter().filter(|a| sources.is_empty() || bind_for(sources, a).is_some()).copied().collect();
    if usable.is_empty() {
        return Err(Error::Connect(if addrs.is_empty() {
            format!("{host:?} resolved to no address")
        } else {
            format!("no address of {host:?} is of the source address's family ({})", list(addrs))
        }));
    }
    let mut race = Race {
        queue: interleave(&usable).into(),
        flight: Vec::new(),
        failed: Vec::new(),
        next_start: Instant::now(),
        sources,
        limits,
    };
    loop {
        let now = Instant::now();
        if limits.call_deadline.is_some_and(|t| now >= t) {
            return Err(limits.expired(Limit::Call, &format!("connecting to {}", list(&usable))));
        }
        race.expire(now);
        if !race.queue.is_empty() && (race.flight.is_empty() || now >= race.next_start) {
            if let Some(won) = race.start_next(now) {
                return won;
            }
        } else if race.flight.is_empty() {
            return Err(all_failed(&race.failed, limits));
        } else if let Some(won) = race.wait()? {
            return won;
        }
    }
}

/// The first source address of `addr`'s family.
fn bind_for(sources: &[SocketAddr], addr: &SocketAddr) -> Option<SocketAddr> {
    sources.iter().find(|s| s.is_ipv4() == addr.is_ipv4()).copied()
}

/// The state of a race: what is still to start, in flight, and failed.
struct Race<'a> {
    queue: VecDeque<SocketAddr>,
    flight: Vec<Attempt>,
    failed: Vec<(SocketAddr, Failure)>,
    /// When the next address starts (sooner when an attempt fails).
    next_start: Instant,
    sources: &'a [SocketAddr],
    limits: &'a ConnectLimits<'a>,
}

impl Race<'_> {
    /// Attempts past their own limit give way to the next address.
    fn expire(&mut self, now: Instant) {
        let (failed, next_start) = (&mut self.failed, &mut self.next_start);
        self.flight.retain(|a| {
            let over = a.end.is_some_and(|t| now >= t);
            if over {
                failed.push((a.addr, Failure::TimedOut));
                *next_start = now;
            }
            !over
        });
    }

    /// Start the next address: the result when it connected at once.
    fn start_next(&mut self, now: Instant) -> Option<Result<Socket>> {
        let addr = self.queue.pop_front()?;
        match start(&addr, bind_for(self.sources, &addr)) {
            Ok((sock, true)) => return Some(won(&addr, sock)),
            Ok((sock, false)) => {
                let end = self.limits.timeouts.connect.map(|d| now + d);
                self.flight.push(Attempt { addr, sock, end });
                self.next_start = now + ATTEMPT_DELAY;
            }
            Err(e) => {
                self.failed.push((addr, Failure::Failed(e)));
                self.next_start = now;
            }
        }
        None
    }

    /// Wait for the first of: a socket, the next start, an attempt's limit,
    /// the call's deadline, a cancel. Then settle every socket poll has news
    /// of: the first connected wins (returning drops, and so closes, the
    /// rest); the failed give way.
    fn wait(&mut self) -> Result<Option<Result<Socket>>> {
        let until = self
            .flight
            .iter()
            .filter_map(|a| a.end)
            .chain(self.limits.call_deadline)
            .chain((!self.queue.is_empty()).then_some(self.next_start))
            .min();
        let mut set: Vec<PollFd> = std::iter::once(PollFd::new(-1, 0))
            .chain(self.flight.iter().map(|a| PollFd::new(a.sock.as_raw_fd(), POLLOUT)))
            .collect();
        match wait_set(&mut set, until, self.limits.canceller)
            .map_err(|e| Error::Io(format!("waiting to connect: {e}")))?
        {
            Woke::Cancelled => return Err(cancelled()),
            Woke::Rung | Woke::TimedOut => return Ok(None),
            Woke::Ready(_) => {}
        }
        let mut gone = Vec::new();
        for (i, _) in set[1..].iter().enumerate().filter(|(_, p)| p.revents() != 0) {
            match connected(&self.flight[i].sock) {
                Ok(()) => {
                    let a = self.flight.swap_remove(i);
                    return Ok(Some(won(&a.addr, a.sock)));
                }
                Err(e) => gone.push((i, e)),
            }
        }
        for (i, e) in gone.into_iter().rev() {
            self.failed.push((self.flight.remove(i).addr, Failure::Failed(e)));
            self.next_start = Instant::now();
        }
        Ok(None)
    }
}

/// A non-blocking socket for `addr`, bound to `bind`, its connect begun:
/// `true` when it connected at once.
fn start(addr: &SocketAddr, bind: Option<SocketAddr>) -> io::Result<(RawSocket, bool)> {
    let sock = nonblocking_socket(Domain::for_address(*addr), Type::STREAM, Some(Protocol::TCP))?;
    if let Some(src) = bind {
        sock.bind(&src.into())?;
    }
    match sock.connect(&(*addr).into()) {
        Ok(()) => Ok((sock, true)),
        Err(e) if sys::in_progress(&e) => Ok((sock, false)),
        Err(e) => Err(e),
    }
}

/// Whether a connect that poll reported on succeeded: SO_ERROR, and a
/// peer (some systems report a failed connect as writable with no error).
fn connected(sock: &RawSocket) -> io::Result<()> {
    if let Some(e) = sock.take_error()? {
        return Err(e);
    }
    sock.peer_addr().map(|_| ())
}

fn won(addr: &SocketAddr, sock: RawSocket) -> Result<Socket> {
    Socket::tcp(TcpStream::from(sock)).map_err(|e| Error::Connect(format!("{addr}: {e}")))
}

/// The error once every address failed: a timeout when every one timed
/// out (the limit fired, nothing refused), else a connect error naming
/// each address's failure.
fn all_failed(failed: &[(SocketAddr, Failure)], limits: &ConnectLimits<'_>) -> Error {
    let addrs: Vec<SocketAddr> = failed.iter().map(|f| f.0).collect();
    if failed.iter().all(|f| matches!(f.1, Failure::TimedOut)) {
        return limits.expired(Limit::Connect, &format!("connecting to {}", list(&addrs)));
    }
    let ms = limits.timeouts.connect.map_or(0, |d| d.as_millis());
    let each: Vec<String> = failed
        .iter()
        .map(|(a, f)| match f {
            Failure::TimedOut => format!("{a}: no connection within {ms} ms (SMTP_TIMEOUT_CONNECT)"),
            Failure::Failed(e) => format!("{a}: {e}"),
        })
        .collect();
    Error::Connect(each.join("; "))
}

/// `a, b, c`, for errors.
fn list(addrs: &[SocketAddr]) -> String {
    addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
pub(crate) mod tests;
