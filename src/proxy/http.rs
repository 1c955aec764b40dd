//! HTTP CONNECT (RFC 9110 9.3.6) as a pure state machine: the request,
//! Basic proxy credentials (RFC 7617, RFC 9110 11.7.2), and the response
//! head read up to its blank line and never a byte further (what follows
//! is the mail server's), at most [`MAX_HEAD`] bytes of it.

use base64::Engine;

use super::url::{authority, Credentials};
use super::{Fault, Handshake, Target};
use crate::auth::secret::Secret;
use crate::trace::repr;

/// The most of a response head read: status line and headers.
const MAX_HEAD: usize = 16 * 1024;

pub struct HttpConnect {
    head: Vec<u8>,
    done: bool,
    sent_credentials: bool,
}

impl HttpConnect {
    /// The machine and the request to send.
    pub fn start(target: &Target, credentials: Option<&Credentials>) -> (HttpConnect, Secret) {
        let to = match target {
            Target::Addr(a) => a.to_string(),
            Target::Name(host, port) => authority(host, *port),
        };
        // Room for everything at once: a growing buffer would leave copies
        // of the credentials behind in memory it freed.
        let mut req = Vec::with_capacity(2 * to.len() + 1200);
        req.extend_from_slice(format!("CONNECT {to} HTTP/1.1\r\nHost: {to}\r\n").as_bytes());
        if let Some(c) = credentials {
            let pair = Secret::new([&c.user[..], b":", c.password.bytes()].concat());
            let encoded = Secret::new(base64::engine::general_purpose::STANDARD.encode(pair.bytes()));
            req.extend_from_slice(b"Proxy-Authorization: Basic ");
            req.extend_from_slice(encoded.bytes());
            req.extend_from_slice(b"\r\n");
        }
        req.extend_from_slice(b"\r\n");
        (HttpConnect { head: Vec::new(), done: false, sent_credentials: credentials.is_some() }, Secret::new(req))
    }

    /// Judge the status line of a complete head.
    fn status(&self) -> Result<(), Fault> {
        let line = self.head.split(|&b| b == b'\n').next().unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = String::from_utf8_lossy(line);
        let mut words = text.splitn(3, ' ');
        let (version, code, reason) = (words.next().unwrap_or(""), words.next().unwrap_or(""), words.next());
        let code = match code.parse::<u16>() {
            Ok(c) if version.starts_with("HTTP/1.") && code.len() == 3 && (100..600).contains(&c) => c,
            _ => return Err(Fault::NotProtocol(format!("status line {}", shown(line)))),
        };
        let status = format!("{code} {}", reason.unwrap_or("").trim());
        let status = status.trim_end();
        match code {
            200..=299 => Ok(()),
            407 if self.sent_credentials => {
                Err(Fault::Refused(format!("it rejected the user name and password ({status})")))
            }
            407 => Err(Fault::Refused(format!("it requires a user name and password ({status})"))),
            _ => Err(Fault::Refused(shown(status.as_bytes()))),
        }
    }
}

/// Bytes from the proxy fit for a message: escaped, at most 200 of them.
fn shown(b: &[u8]) -> String {
    let r = repr(&b[..b.len().min(200)]);
    r[1..r.len() - 1].to_string()
}

impl Handshake for HttpConnect {
    /// As many bytes as cannot pass the blank line that ends the head
    /// (CR LF CR LF, or LF LF from a proxy that ends lines with a bare LF,
    /// which RFC 9112 2.2 lets a recipient accept): one after a CR or LF,
    /// else two.
    fn want(&self) -> usize {
        if self.done {
            return 0;
        }
        let n = if self.head.ends_with(b"\n") || self.head.ends_with(b"\r") { 1 } else { 2 };
        n.min(MAX_HEAD - self.head.len())
    }

    fn input(&mut self, bytes: &[u8]) -> Result<Secret, Fault> {
        self.head.extend_from_slice(bytes);
        // Garbage shows in the first bytes: no need to wait for a blank line
        // that may never come.
        let n = self.head.len().min(5);
        if self.head[..n] != b"HTTP/"[..n] {
            return Err(Fault::NotProtocol(format!("it began with {}", repr(&self.head))));
        }
        if self.head.ends_with(b"\n\r\n") || self.head.ends_with(b"\n\n") {
            self.status()?;
            self.done = true;
        } else if self.head.len() >= MAX_HEAD {
            return Err(Fault::NotProtocol(format!("its response head is longer than {MAX_HEAD} bytes")));
        }
        Ok(Secret::default())
    }

    fn closed(&self) -> Fault {
        if self.head.is_empty() {
            Fault::Closed("it closed the connection without answering".into())
        } else {
            // A status line without its blank line still says why.
            match self.status() {
                Err(f @ Fault::Refused(_)) => f,
                _ => Fault::Closed("it closed the connection in the middle of its response".into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::url::Proxy;

    fn run(response: &[u8]) -> (HttpConnect, Result<usize, Fault>) {
        let (mut m, _) = HttpConnect::start(&Target::Name("mx.example".into(), 25), None);
        let mut at = 0;
        while m.want() > 0 {
            if at == response.len() {
                return (m, Ok(at));
            }
            let n = m.want().min(response.len() - at);
            if let Err(f) = m.input(&response[at..at + n]) {
                return (m, Err(f));
            }
            at += n;
        }
        (m, Ok(at))
    }

    #[test]
    fn request_with_basic_credentials() {
        let c = Proxy::parse("http://Aladdin:open%20sesame@h").unwrap().credentials;
        let t = Target::Addr("[::1]:465".parse().unwrap());
        let (_, req) = HttpConnect::start(&t, c.as_ref());
        assert_eq!(
            std::str::from_utf8(req.bytes()).unwrap(),
            "CONNECT [::1]:465 HTTP/1.1\r\nHost: [::1]:465\r\n\
             Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"
        );
    }

    #[test]
    fn reads_the_head_and_not_a_byte_more() {
        let resp = b"HTTP/1.1 200 Connection established\r\nVia: x\r\n\r\n220 mx ready\r\n";
        let (m, r) = run(resp);
        assert_eq!(r.unwrap(), resp.len() - b"220 mx ready\r\n".len());
        assert_eq!(m.want(), 0);
        let (_, r) = run(b"HTTP/1.0 200 OK\r\n\r\n");
        assert_eq!(r.unwrap(), 19);
        let (m, r) = run(b"HTTP/1.1 200 OK\nVia: bare-lf\n\n220 mx\r\n");
        assert_eq!((r.unwrap(), m.want()), (30, 0));
    }

    #[test]
    fn refusals_say_the_status() {
        let (_, r) = run(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(r.unwrap_err(), Fault::Refused("403 Forbidden".into()));
        let (_, r) = run(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n");
        assert!(matches!(r, Err(Fault::Refused(m)) if m.contains("requires a user name")));
        let (_, r) = run(b"HTTP/1.1 502\r\n\r\n");
        assert_eq!(r.unwrap_err(), Fault::Refused("502".into()));
        // Closed after the status line: the status still says why.
        let (m, r) = run(b"HTTP/1.1 503 Service Unavailable\r\n");
        assert!(r.is_ok());
        assert_eq!(m.closed(), Fault::Refused("503 Service Unavailable".into()));
        let (m, _) = run(b"");
        assert!(matches!(m.closed(), Fault::Closed(_)));
    }

    #[test]
    fn garbage_and_endless_heads() {
        let (m, r) = run(b"220 mx.example ESMTP\r\n");
        assert!(matches!(r, Err(Fault::NotProtocol(w)) if w.contains("began with '22")), "{:?}", m.head);
        let (_, r) = run(b"HTTP/1.1 abc nope\r\n\r\n");
        assert!(matches!(r, Err(Fault::NotProtocol(w)) if w.contains("status line")));
        let mut endless = b"HTTP/1.1 200 OK\r\n".to_vec();
        endless.extend(std::iter::repeat_n(b"X-Pad: yyyyyyyyyyyyyyyy\r\n".as_slice(), 1000).flatten());
        let (m, r) = run(&endless);
        assert!(matches!(r, Err(Fault::NotProtocol(w)) if w.contains("longer than 16384")));
        assert_eq!(m.head.len(), MAX_HEAD);
    }
}
