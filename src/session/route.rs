//! The ways to the server other than a direct connect: through a proxy
//! (`set_proxy`, used by `connect`), or over a socket the caller connected.

use super::Session;
use crate::command::check_line_text;
use crate::error::{Error, Result};
use crate::proxy::Proxy;
use crate::reply::Reply;
use crate::trace::Direction;
use crate::transport::Socket;

impl Session {
    /// Connect through the proxy of `url` from the next `connect` on
    /// (`socks5://`, `socks5h://` or `http://`, see [`Proxy::parse`]);
    /// `None` or `""`: connect directly. A bad URL changes nothing.
    pub fn set_proxy(&mut self, url: Option<&str>) -> Result<()> {
        self.proxy = match url {
            None | Some("") => None,
            Some(u) => Some(Proxy::parse(u)?),
        };
        Ok(())
    }

    pub fn proxy(&self) -> Option<&Proxy> {
        self.proxy.as_ref()
    }

    /// Run the session over `sock`, which the caller connected: SMTP_SSL's
    /// handshake, then the greeting, as `connect` does. `host` is the name
    /// TLS checks the certificate against (SMTP_SSL, later STARTTLS); a
    /// plain session may go without. The socket is the session's from now
    /// on, whatever the result (dropped, so closed, on failure).
    pub fn connect_socket_for(&mut self, sock: Socket, host: Option<&str>) -> Result<Reply> {
        if let Some(h) = host {
            check_line_text("host", h)?;
            if h.is_empty() {
                return Err(Error::InvalidArgument("host is empty (pass NULL for none)".into()));
            }
        }
        // IDNA: the certificate is checked against the A-labels, as connect's.
        let host = match host {
            Some(h) => crate::idna_host::to_ascii(h)?.into_owned(),
            None => String::new(),
        };
        self.close();
        self.trace.line(Direction::Info, "connect", &format!("using the caller's socket to {}", sock.peer()));
        self.start(sock, host)
    }
}
