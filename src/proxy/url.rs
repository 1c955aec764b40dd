//! A proxy URL, checked once when it is set: `socks5://`, `socks5h://` or
//! `http://`, optional `user:password@` (percent-encoded, RFC 3986 3.2.1),
//! a host and a port. The password never appears in an error or in Debug.

use std::fmt;

use crate::auth::secret::Secret;
use crate::error::{Error, Result};

/// How the proxy is asked for the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// SOCKS5 (RFC 1928), the mail host's name resolved here.
    Socks5,
    /// SOCKS5 with the name sent to the proxy, which resolves it.
    Socks5h,
    /// HTTP CONNECT (RFC 9110 9.3.6).
    Http,
}

impl Scheme {
    /// The port when the URL has none: SOCKS's own (RFC 1928 3), and the
    /// usual HTTP proxy port.
    fn default_port(self) -> u16 {
        match self {
            Scheme::Socks5 | Scheme::Socks5h => 1080,
            Scheme::Http => 8080,
        }
    }

    /// The protocol's name, for messages.
    pub fn protocol(self) -> &'static str {
        match self {
            Scheme::Socks5 | Scheme::Socks5h => "SOCKS5",
            Scheme::Http => "HTTP",
        }
    }
}

/// The user name and password from the URL: RFC 1929 for SOCKS5, Basic
/// (RFC 7617) for HTTP.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: Vec<u8>,
    pub password: Secret,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials(<redacted>)")
    }
}

/// A parsed proxy URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxy {
    pub scheme: Scheme,
    /// A name or an IP address (an IPv6 address without brackets).
    pub host: String,
    pub port: u16,
    pub credentials: Option<Credentials>,
}

impl fmt::Display for Proxy {
    /// "SOCKS5 proxy 127.0.0.1:1080": no credentials, ever.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} proxy {}", self.scheme.protocol(), authority(&self.host, self.port))
    }
}

/// `host:port`, an IPv6 address in brackets (RFC 3986 3.2.2).
pub fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn invalid(what: impl fmt::Display) -> Error {
    Error::InvalidArgument(format!("proxy URL: {what}"))
}

impl Proxy {
    /// Parse `url`. Errors name what is wrong without repeating the URL
    /// (it may hold a password).
    pub fn parse(url: &str) -> Result<Proxy> {
        if url.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(invalid("contains a space or a control character (CR, LF, ...)"));
        }
        let (scheme, rest) = url.split_once("://").ok_or_else(|| invalid("no scheme (write socks5://host:port)"))?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "socks5" => Scheme::Socks5,
            "socks5h" => Scheme::Socks5h,
            "http" => Scheme::Http,
            other => {
                return Err(invalid(format!("unsupported scheme {other:?} (use socks5://, socks5h:// or http://)")))
            }
        };
        // The last '@' ends the userinfo: a password with an unencoded '@'
        // still parses (as curl allows).
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let hostport = hostport.strip_suffix('/').unwrap_or(hostport);
        if hostport.contains(['/', '?', '#']) {
            return Err(invalid("a proxy URL has no path, query or fragment"));
        }
        let (host, port) = split_host(hostport)?;
        let port = match port {
            None => scheme.default_port(),
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return Err(invalid(format!("bad port {p:?} (1 to 65535)"))),
            },
        };
        let credentials = userinfo.map(credentials).transpose()?;
        Ok(Proxy { scheme, host, port, credentials })
    }
}

/// `host[:port]` or `[v6][:port]`.
fn split_host(hostport: &str) -> Result<(String, Option<&str>)> {
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (addr, after) = v6.split_once(']').ok_or_else(|| invalid("an IPv6 address without its ']'"))?;
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(invalid(format!("{addr:?} is not an IPv6 address")));
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(|| invalid("junk after the IPv6 address"))?),
        };
        (addr, port)
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(invalid("no host"));
    }
    if !hostport.starts_with('[') && !host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)) {
        return Err(invalid(format!("{host:?} is not a host name or address")));
    }
    Ok((host.to_string(), port))
}

/// `user[:password]`, each percent-decoded; RFC 1929 allows 1 to 255
/// bytes for each.
fn credentials(userinfo: &str) -> Result<Credentials> {
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let user = percent_decode(user).ok_or_else(|| invalid("bad %-escape in the user name"))?;
    let password = Secret::new(percent_decode(password).ok_or_else(|| invalid("bad %-escape in the password"))?);
    if user.is_empty() || user.len() > 255 {
        return Err(invalid("the user name must be 1 to 255 bytes"));
    }
    if password.bytes().len() > 255 {
        return Err(invalid("the password must be at most 255 bytes"));
    }
    Ok(Credentials { user, password })
}

/// RFC 3986 2.1 percent-decoding; `None` for a malformed escape.
fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(url: &str) -> String {
        match Proxy::parse(url) {
            Err(Error::InvalidArgument(m)) => m,
            other => panic!("{url}: {other:?}"),
        }
    }

    #[test]
    fn schemes_hosts_and_ports() {
        let p = Proxy::parse("socks5://127.0.0.1:1081").unwrap();
        assert_eq!(
            (p.scheme, p.host.as_str(), p.port, p.credentials.is_none()),
            (Scheme::Socks5, "127.0.0.1", 1081, true)
        );
        let p = Proxy::parse("SOCKS5H://proxy.example/").unwrap();
        assert_eq!((p.scheme, p.host.as_str(), p.port), (Scheme::Socks5h, "proxy.example", 1080));
        let p = Proxy::parse("http://[::1]:3128").unwrap();
        assert_eq!((p.scheme, p.host.as_str(), p.port), (Scheme::Http, "::1", 3128));
        assert_eq!(p.to_string(), "HTTP proxy [::1]:3128");
        assert_eq!(Proxy::parse("http://proxy").unwrap().port, 8080);
    }

    #[test]
    fn credentials_are_decoded_and_never_shown() {
        let p = Proxy::parse("socks5://us%40er:p%3Ass@w@ord@127.0.0.1:1080").unwrap();
        let c = p.credentials.as_ref().unwrap();
        assert_eq!(c.user, b"us@er");
        assert_eq!(c.password.bytes(), b"p:ss@w@ord");
        let shown = format!("{p:?} {p}");
        assert!(!shown.contains("ss@w") && !shown.contains("p:ss"), "{shown}");
        assert_eq!(Proxy::parse("http://u@h:1").unwrap().credentials.unwrap().password.bytes(), b"");
    }

    #[test]
    fn bad_urls_are_refused_without_echoing_the_password() {
        assert!(err("ftp://h:1").contains("unsupported scheme"));
        assert!(err("https://h:1").contains("unsupported scheme"));
        assert!(err("h:1080").contains("no scheme"));
        assert!(err("socks5://").contains("no host"));
        assert!(err("socks5://:1080").contains("no host"));
        assert!(err("socks5://u:pw@:1080").contains("no host"));
        assert!(err("socks5://h:0").contains("bad port"));
        assert!(err("socks5://h:65536").contains("bad port"));
        assert!(err("socks5://h:+80").contains("bad port"));
        assert!(err("socks5://h:").contains("bad port"));
        assert!(err("http://h:80\r\nX: y").contains("control character"));
        assert!(err("http://h:80/path").contains("no path"));
        assert!(err("http://[::1:80").contains("']'"));
        assert!(err("http://h%zz:80").contains("not a host"));
        let m = err("socks5://user:sekr%zzet@h:1");
        assert!(m.contains("%-escape") && !m.contains("sekr"), "{m}");
        assert!(err(&format!("socks5://{}:p@h", "u".repeat(256))).contains("1 to 255"));
    }

    #[test]
    fn authority_brackets_ipv6() {
        assert_eq!(authority("::1", 25), "[::1]:25");
        assert_eq!(authority("mx.example", 25), "mx.example:25");
    }
}
