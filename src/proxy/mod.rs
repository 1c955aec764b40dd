//! Reaching the mail server through a proxy: SOCKS5 (RFC 1928, RFC 1929)
//! or HTTP CONNECT (RFC 9110 9.3.6). The proxy gives back a byte stream to
//! the mail server, on which the session then runs as on a direct
//! connection: TLS (SMTP_SSL, STARTTLS) runs end to end over it, checked
//! against the mail host's name, so the proxy sees only ciphertext.
//!
//! The handshake counts as part of connecting: reaching the proxy is
//! bounded like any connect (SMTP_TIMEOUT_CONNECT per address), the
//! handshake by SMTP_TIMEOUT_CONNECT again (the proxy's own connect to the
//! mail host happens inside it), all of it by the call's deadline, and a
//! cancel ends it at once. The protocols are pure state machines
//! ([`socks5`], [`http`]) that this module drives over the non-blocking
//! socket.

mod http;
mod socks5;
pub mod url;

use std::io;
use std::net::SocketAddr;

use crate::auth::secret::Secret;
use crate::connect::{self, ConnectLimits, SourceAddr, Waited};
use crate::error::{Error, Result};
use crate::transport::Socket;
pub use url::{Proxy, Scheme};

/// Where the proxy is asked to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// An address resolved here (socks5://, or an IP address given).
    Addr(SocketAddr),
    /// A name the proxy resolves (socks5h://, http://).
    Name(String, u16),
}

/// Why a handshake failed, before the proxy's name is added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The proxy said no (a SOCKS reply code, an HTTP status): why, in words.
    Refused(String),
    /// The bytes are not the protocol's.
    NotProtocol(String),
    /// The proxy closed the connection before the handshake ended.
    Closed(String),
}

/// One protocol's handshake, without a socket.
pub trait Handshake {
    /// How many bytes to read next: never more than the proxy's reply has
    /// left (what follows is the mail server's); 0 when the tunnel is up.
    fn want(&self) -> usize;
    /// Bytes read (at most [`Handshake::want`]); what to send next, if anything.
    fn input(&mut self, bytes: &[u8]) -> std::result::Result<Secret, Fault>;
    /// What it means that the proxy closed the connection now.
    fn closed(&self) -> Fault;
}

/// Connect to `host:port` through `proxy`: reach the proxy (from `source`,
/// when set), and have it connect onward. Returns the socket, ready for SMTP.
pub fn connect_through(
    proxy: &Proxy,
    host: &str,
    port: u16,
    source: Option<&SourceAddr>,
    limits: &ConnectLimits<'_>,
) -> Result<Socket> {
    if connect::is_unix_path(host) {
        return Err(Error::InvalidArgument(format!(
            "{host} is a Unix-domain socket, which cannot be reached through a proxy \
             (clear the proxy with smtp_session_set_proxy(s, NULL))"
        )));
    }
    let name = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::InvalidArgument(format!(
            "host {host:?} cannot be sent to a proxy (ASCII without spaces or control characters)"
        )));
    }
    let target = match (proxy.scheme, name.parse()) {
        (_, Ok(ip)) => Target::Addr(SocketAddr::new(ip, port)),
        (Scheme::Socks5, Err(_)) => match connect::resolve(name, port, limits)?.first() {
            Some(addr) => Target::Addr(*addr),
            None => return Err(Error::Connect(format!("{host:?} resolved to no address"))),
        },
        (Scheme::Socks5h | Scheme::Http, Err(_)) => Target::Name(name.to_string(), port),
    };
    let (mut machine, first): (Box<dyn Handshake>, Secret) = match proxy.scheme {
        Scheme::Socks5 | Scheme::Socks5h => {
            let (m, first) = socks5::Socks5::start(&target, proxy.credentials.clone())?;
            (Box::new(m), first)
        }
        Scheme::Http => {
            let (m, first) = http::HttpConnect::start(&target, proxy.credentials.as_ref());
            (Box::new(m), first)
        }
    };
    let sock = connect::connect_tcp(&proxy.host, proxy.port, source, limits).map_err(|e| match e {
        Error::Connect(m) => Error::Connect(format!("{proxy} unreachable: {m}")),
        Error::Timeout(m) => Error::Timeout(format!("{proxy} unreachable: {m}")),
        other => other,
    })?;
    handshake(&sock, machine.as_mut(), first, proxy, limits)?;
    Ok(sock)
}

/// Run `machine` over `sock`, starting by sending `first`, within a
/// connect limit and the call's deadline.
fn handshake(
    sock: &Socket,
    machine: &mut dyn Handshake,
    first: Secret,
    proxy: &Proxy,
    limits: &ConnectLimits<'_>,
) -> Result<()> {
    let end = limits.attempt_end();
    let failed = |e: io::Error| Error::Connect(format!("{proxy}: {e}"));
    let mut out = first;
    let mut sent = 0;
    loop {
        let (result, events) = if sent < out.bytes().len() {
            (sock.send(&out.bytes()[sent..]).map(|n| sent += n), crate::sys::POLLOUT)
        } else {
            let want = machine.want();
            if want == 0 {
                return Ok(());
            }
            let mut buf = [0u8; 512];
            let got = sock.recv(&mut buf[..want.min(512)]);
            let result = match got {
                Ok(0) => return Err(fault(proxy, machine.closed())),
                Ok(n) => {
                    let next = machine.input(&buf[..n]).map_err(|f| fault(proxy, f))?;
                    if !next.bytes().is_empty() {
                        (out, sent) = (next, 0);
                    }
                    Ok(())
                }
                Err(e) => Err(e),
            };
            (result, crate::sys::POLLIN)
        };
        match result {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if let Waited::Expired(limit) = limits.wait(Some(sock.fd()), events, end.get())? {
                    return Err(limits.expired(limit, &format!("{proxy}: the handshake did not finish")));
                }
            }
            Err(e) => return Err(failed(e)),
        }
    }
}

/// The error for a failed handshake, naming the proxy (never its credentials).
fn fault(proxy: &Proxy, f: Fault) -> Error {
    Error::Connect(match f {
        Fault::Refused(why) => format!("{proxy} refused: {why}"),
        Fault::NotProtocol(what) => format!("{proxy}: the proxy's reply is not {}: {what}", proxy.scheme.protocol()),
        Fault::Closed(what) => format!("{proxy}: {what}"),
    })
}
