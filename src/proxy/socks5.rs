//! The SOCKS5 handshake as a pure state machine (no socket): method
//! selection and CONNECT (RFC 1928 3, 4, 6), user name and password
//! (RFC 1929 2). It asks for exactly the bytes of each reply, never more:
//! what follows the last one is the mail server's.

use super::url::Credentials;
use super::{Fault, Handshake, Target};
use crate::auth::secret::Secret;
use crate::error::{Error, Result};

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0;
const USER_PASSWORD: u8 = 2;
const NO_ACCEPTABLE: u8 = 0xff;
const CONNECT: u8 = 1;
const ATYP_V4: u8 = 1;
const ATYP_NAME: u8 = 3;
const ATYP_V6: u8 = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Awaiting the method the proxy chose (2 bytes).
    Method,
    /// Awaiting the RFC 1929 status (2 bytes).
    Auth,
    /// Awaiting the reply to CONNECT (its length depends on its 4th and 5th bytes).
    Reply,
    Done,
}

pub struct Socks5 {
    stage: Stage,
    /// The reply read so far.
    buf: Vec<u8>,
    request: Vec<u8>,
    credentials: Option<Credentials>,
}

impl Socks5 {
    /// The machine and the greeting to send: the methods we can do (user
    /// and password only when the URL has them).
    pub fn start(target: &Target, credentials: Option<Credentials>) -> Result<(Socks5, Secret)> {
        let request = connect_request(target)?;
        let greeting =
            if credentials.is_some() { vec![VERSION, 2, NO_AUTH, USER_PASSWORD] } else { vec![VERSION, 1, NO_AUTH] };
        Ok((Socks5 { stage: Stage::Method, buf: Vec::new(), request, credentials }, Secret::new(greeting)))
    }

    /// The whole length of the reply being read, as far as it is known.
    fn reply_len(&self) -> usize {
        match self.stage {
            Stage::Method | Stage::Auth => 2,
            Stage::Done => 0,
            // VER REP RSV ATYP, the address, the port (RFC 1928 6); the
            // first address byte tells a name's length.
            Stage::Reply if self.buf.len() < 5 => 5,
            Stage::Reply => {
                4 + match self.buf[3] {
                    ATYP_V4 => 4,
                    ATYP_V6 => 16,
                    _ => 1 + usize::from(self.buf[4]),
                } + 2
            }
        }
    }

    fn method(&mut self) -> std::result::Result<Vec<u8>, Fault> {
        let (ver, method) = (self.buf[0], self.buf[1]);
        if ver != VERSION {
            return Err(Fault::NotProtocol(format!("version byte {ver:#04x}, not 0x05")));
        }
        match (method, &self.credentials) {
            (NO_AUTH, _) => {
                self.stage = Stage::Reply;
                Ok(self.request.clone())
            }
            (USER_PASSWORD, Some(c)) => {
                self.stage = Stage::Auth;
                // RFC 1929 2: VER=1 ULEN UNAME PLEN PASSWD.
                // Room for all of it at once (no freed copies of the password).
                let mut m = Vec::with_capacity(3 + 2 * 255);
                m.extend_from_slice(&[1, c.user.len() as u8]);
                m.extend_from_slice(&c.user);
                m.push(c.password.bytes().len() as u8);
                m.extend_from_slice(c.password.bytes());
                Ok(m)
            }
            (USER_PASSWORD, None) | (NO_ACCEPTABLE, None) => {
                Err(Fault::Refused("it requires a user name and password (none in the proxy URL)".into()))
            }
            (NO_ACCEPTABLE, Some(_)) => {
                Err(Fault::Refused("it accepts neither no authentication nor user and password".into()))
            }
            (m, _) => Err(Fault::NotProtocol(format!("it chose authentication method {m}, which we did not offer"))),
        }
    }

    fn auth(&mut self) -> std::result::Result<Vec<u8>, Fault> {
        let (ver, status) = (self.buf[0], self.buf[1]);
        if ver != 1 {
            return Err(Fault::NotProtocol(format!("user/password status version {ver:#04x}, not 0x01")));
        }
        if status != 0 {
            return Err(Fault::Refused(format!("user name or password rejected (status {status})")));
        }
        self.stage = Stage::Reply;
        Ok(self.request.clone())
    }

    /// Check the head of the CONNECT reply as soon as it is there: a
    /// refusal need not wait for the address.
    fn reply_head(&self) -> std::result::Result<(), Fault> {
        let b = &self.buf;
        if b[0] != VERSION {
            return Err(Fault::NotProtocol(format!("version byte {:#04x} in the reply, not 0x05", b[0])));
        }
        if b.len() >= 2 && b[1] != 0 {
            return Err(Fault::Refused(reply_reason(b[1])));
        }
        if b.len() >= 4 && ![ATYP_V4, ATYP_NAME, ATYP_V6].contains(&b[3]) {
            return Err(Fault::NotProtocol(format!("address type {} in the reply", b[3])));
        }
        Ok(())
    }
}

impl Handshake for Socks5 {
    fn want(&self) -> usize {
        self.reply_len() - self.buf.len()
    }

    fn input(&mut self, bytes: &[u8]) -> std::result::Result<Secret, Fault> {
        self.buf.extend_from_slice(bytes);
        if self.stage == Stage::Reply {
            self.reply_head()?;
        }
        if self.want() > 0 {
            return Ok(Secret::default());
        }
        let next = match self.stage {
            Stage::Method => self.method()?,
            Stage::Auth => self.auth()?,
            Stage::Reply | Stage::Done => {
                self.stage = Stage::Done;
                Vec::new()
            }
        };
        self.buf.clear();
        Ok(Secret::new(next))
    }

    fn closed(&self) -> Fault {
        match self.stage {
            Stage::Auth => Fault::Refused(
                "it closed the connection after our user name and password (rejected, most likely)".into(),
            ),
            _ if self.buf.is_empty() => Fault::Closed("it closed the connection without answering".into()),
            _ => Fault::Closed("it closed the connection in the middle of its reply".into()),
        }
    }
}

/// RFC 1928 6's reply field in plain words, with its number.
fn reply_reason(rep: u8) -> String {
    let words = match rep {
        1 => "general SOCKS server failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused by destination",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unassigned reply code",
    };
    format!("{words} ({rep})")
}

/// VER CMD RSV ATYP DST.ADDR DST.PORT (RFC 1928 4).
fn connect_request(target: &Target) -> Result<Vec<u8>> {
    let mut m = vec![VERSION, CONNECT, 0];
    let port = match target {
        Target::Addr(a) => {
            match a.ip() {
                std::net::IpAddr::V4(v4) => {
                    m.push(ATYP_V4);
                    m.extend_from_slice(&v4.octets());
                }
                std::net::IpAddr::V6(v6) => {
                    m.push(ATYP_V6);
                    m.extend_from_slice(&v6.octets());
                }
            }
            a.port()
        }
        Target::Name(name, port) => {
            if name.is_empty() || name.len() > 255 {
                return Err(Error::InvalidArgument(format!(
                    "a host name sent to a SOCKS5 proxy is 1 to 255 bytes; {:?} is {}",
                    name,
                    name.len()
                )));
            }
            m.push(ATYP_NAME);
            m.push(name.len() as u8);
            m.extend_from_slice(name.as_bytes());
            *port
        }
    };
    m.extend_from_slice(&port.to_be_bytes());
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::url::Proxy;

    fn creds() -> Option<Credentials> {
        Proxy::parse("socks5://alice:s%3Acret@h").unwrap().credentials
    }

    fn name() -> Target {
        Target::Name("mx.example".into(), 25)
    }

    /// Feed `bytes` one at a time, as a trickling proxy would; the output
    /// of the last.
    fn feed(m: &mut Socks5, bytes: &[u8]) -> std::result::Result<Vec<u8>, Fault> {
        let mut out = Vec::new();
        for b in bytes {
            assert!(m.want() > 0, "asked for no more, but got {bytes:?}");
            out = m.input(&[*b])?.bytes().to_vec();
        }
        Ok(out)
    }

    #[test]
    fn no_auth_then_connect_by_name() {
        let (mut m, hello) = Socks5::start(&name(), None).unwrap();
        assert_eq!(hello.bytes(), [5, 1, 0]);
        assert_eq!(m.want(), 2);
        let req = feed(&mut m, &[5, 0]).unwrap();
        assert_eq!(req, b"\x05\x01\x00\x03\x0amx.example\x00\x19");
        assert_eq!(m.want(), 5);
        // A bound address given as a name: its length byte sets the rest.
        feed(&mut m, &[5, 0, 0, 3, 4]).unwrap();
        assert_eq!(m.want(), 4 + 2);
        feed(&mut m, b"abcd\x00\x19").unwrap();
        assert_eq!(m.want(), 0);
    }

    #[test]
    fn user_and_password_then_connect_by_address() {
        let t = Target::Addr("[::1]:587".parse().unwrap());
        let (mut m, hello) = Socks5::start(&t, creds()).unwrap();
        assert_eq!(hello.bytes(), [5, 2, 0, 2]);
        assert_eq!(feed(&mut m, &[5, 2]).unwrap(), b"\x01\x05alice\x06s:cret");
        let req = feed(&mut m, &[1, 0]).unwrap();
        assert_eq!(req[..4], [5, 1, 0, 4]);
        assert_eq!(req[4..20], std::net::Ipv6Addr::LOCALHOST.octets());
        assert_eq!(req[20..], 587u16.to_be_bytes());
        feed(&mut m, &[5, 0, 0, 1, 127, 0, 0, 1, 0, 25]).unwrap();
        assert_eq!(m.want(), 0);
    }

    #[test]
    fn refusals_in_plain_words() {
        let (mut m, _) = Socks5::start(&name(), None).unwrap();
        feed(&mut m, &[5, 0]).unwrap();
        // The refusal is known from its second byte: the rest is not awaited.
        assert_eq!(feed(&mut m, &[5, 5]).unwrap_err(), Fault::Refused("connection refused by destination (5)".into()));
        let (mut m, _) = Socks5::start(&name(), creds()).unwrap();
        feed(&mut m, &[5, 2]).unwrap();
        assert!(matches!(feed(&mut m, &[1, 1]), Err(Fault::Refused(r)) if r.contains("rejected")));
        let (mut m, _) = Socks5::start(&name(), None).unwrap();
        assert!(matches!(feed(&mut m, &[5, 0xff]), Err(Fault::Refused(r)) if r.contains("requires a user name")));
        let (mut m, _) = Socks5::start(&name(), None).unwrap();
        assert!(matches!(feed(&mut m, &[5, 2]), Err(Fault::Refused(_))));
        let (m, _) = Socks5::start(&name(), creds()).unwrap();
        assert!(matches!(m.closed(), Fault::Closed(_)));
        assert_eq!(reply_reason(1), "general SOCKS server failure (1)");
        assert_eq!(reply_reason(42), "unassigned reply code (42)");
    }

    #[test]
    fn garbage_is_not_socks5() {
        let (mut m, _) = Socks5::start(&name(), None).unwrap();
        assert!(matches!(feed(&mut m, b"HT"), Err(Fault::NotProtocol(w)) if w.contains("0x48")));
        let (mut m, _) = Socks5::start(&name(), None).unwrap();
        assert!(matches!(feed(&mut m, &[5, 9]), Err(Fault::NotProtocol(w)) if w.contains("method 9")));
        let (mut m, _) = Socks5::start(&name(), None).unwrap();
        feed(&mut m, &[5, 0]).unwrap();
        assert!(matches!(feed(&mut m, &[5, 0, 0, 7]), Err(Fault::NotProtocol(w)) if w.contains("address type 7")));
    }

    #[test]
    fn names_longer_than_255_bytes_are_refused() {
        let long = Target::Name("a".repeat(256), 25);
        assert!(matches!(Socks5::start(&long, None), Err(Error::InvalidArgument(_))));
    }
}
