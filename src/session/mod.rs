//! smtplib's `SMTP` / `LMTP` object in plain Rust: its state and methods on
//! top of the command builder, the connection and the data encoder.
//!
//! Each method follows the smtplib method of the same name; where libsmtp
//! differs on purpose the comment says so. The shared conformance vectors
//! pin the wire bytes, the results and the state after every call.

use crate::address::addr_only;
use crate::command::{self, check_line_text};
use std::sync::Arc;

use crate::cancel::Canceller;
use crate::conn::{Conn, Sensitivity};
use crate::connect::{self, ConnectLimits, SourceAddr};
use crate::deadline::{Phase, Timeouts};
use crate::error::{Error, Result};
use crate::features::Features;
use crate::message::envelope::EnvelopeOptions;
use crate::reply::Reply;
use crate::tls::TlsConfig;
use crate::trace::{Direction, Trace};
use crate::transport::Socket;

mod auth;
mod compose;
mod link;
mod message;
mod prepare;
mod raw;
mod route;
mod tls;
mod transaction;

pub use crate::engine::RcptResult;
pub use auth::AuthOptions;
pub use link::{Link, Profile};
pub use transaction::{first_failure, BatchMessage, BatchOutcome};

/// The kind of session, fixed when it is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// smtplib's `SMTP`: plain TCP, port 25.
    Smtp,
    /// smtplib's `SMTP_SSL`: TLS from the first byte, port 465.
    SmtpSsl,
    /// smtplib's `LMTP` (RFC 2033): LHLO, port 2003, one DATA reply per recipient.
    Lmtp,
}

impl Kind {
    pub fn default_port(self) -> u16 {
        match self {
            Kind::Smtp => 25,
            Kind::SmtpSsl => 465,
            Kind::Lmtp => 2003,
        }
    }

    fn hello_verb(self) -> &'static str {
        match self {
            Kind::Lmtp => "lhlo",
            _ => "ehlo",
        }
    }
}

#[derive(Debug)]
pub struct Session {
    kind: Kind,
    local_hostname: Option<String>,
    timeouts: Timeouts,
    source: Option<SourceAddr>,
    pub trace: Trace,
    conn: Option<Conn>,
    helo_resp: Option<Vec<u8>>,
    ehlo_resp: Option<Vec<u8>>,
    does_esmtp: bool,
    features: Features,
    /// smtplib's `command_encoding == 'utf-8'`: set by MAIL with SMTPUTF8,
    /// cleared by RSET. Otherwise command lines must be ASCII.
    utf8_commands: bool,
    last_reply: Option<Reply>,
    rcpts: Vec<RcptResult>,
    /// The mechanisms `login` tries, in order; `None`: smtplib's.
    auth_preference: Option<Vec<String>>,
    /// Count a loopback peer as protecting secrets (the default).
    trust_loopback: bool,
    /// The TLS configuration for SMTP_SSL and STARTTLS; `None`: the default
    /// (webpki-roots), built on first use.
    tls_config: Option<TlsConfig>,
    /// Refuse sendmail, login and auth on a connection without TLS.
    require_tls: bool,
    /// The host name of the current connection, checked against the
    /// server's certificate.
    tls_host: String,
    /// Structured MAIL and RCPT options for sendmail and send_message.
    envelope: EnvelopeOptions,
    /// The end of the current library call (see `begin_call`).
    call_deadline: Option<std::time::Instant>,
    /// Pipeline sendmail when the server offers PIPELINING.
    pipelining_enabled: bool,
    /// Send messages by BDAT when the server offers CHUNKING.
    chunking_enabled: bool,
    /// Ends the running call from another thread (`smtp_session_cancel`).
    canceller: Arc<Canceller>,
    /// The last message's data went out but no reply decided it.
    unanswered: bool,
    /// Connect through this proxy (`set_proxy`).
    proxy: Option<crate::proxy::Proxy>,
    /// The reverse-path of the last transaction begun (see `sender`).
    sender: Option<String>,
}

impl Session {
    pub fn new(kind: Kind) -> Session {
        Session {
            kind,
            local_hostname: None,
            timeouts: Timeouts::default(),
            source: None,
            trace: Trace::default(),
            conn: None,
            helo_resp: None,
            ehlo_resp: None,
            does_esmtp: false,
            features: Features::default(),
            utf8_commands: false,
            last_reply: None,
            rcpts: Vec::new(),
            auth_preference: None,
            trust_loopback: true,
            tls_config: None,
            require_tls: false,
            tls_host: String::new(),
            envelope: EnvelopeOptions::default(),
            call_deadline: None,
            pipelining_enabled: true,
            chunking_enabled: true,
            canceller: Arc::new(Canceller::default()),
            unanswered: false,
            proxy: None,
            sender: None,
        }
    }

    /// What ends this session's running call from another thread.
    pub fn canceller(&self) -> Arc<Canceller> {
        self.canceller.clone()
    }

    // ---- settings -------------------------------------------------------

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The name sent with EHLO/HELO when none is given.
    pub fn set_local_hostname(&mut self, name: &str) -> Result<()> {
        check_line_text("local hostname", name)?;
        if name.is_empty() || name.contains([' ', '\t']) {
            return Err(Error::InvalidArgument("local hostname must be one non-empty word".into()));
        }
        self.local_hostname = Some(name.to_string());
        Ok(())
    }

    /// The local hostname, computed as smtplib does on first use (the
    /// host's own name looked up, within the connect limit and the call).
    pub fn local_hostname(&mut self) -> Result<String> {
        if let Some(name) = &self.local_hostname {
            return Ok(name.clone());
        }
        let limits =
            ConnectLimits { timeouts: &self.timeouts, call_deadline: self.call_deadline, canceller: &self.canceller };
        let name = connect::lookup("looking up the local host name", &limits, connect::default_local_hostname)?;
        self.local_hostname = Some(name.clone());
        Ok(name)
    }

    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    pub fn set_timeouts(&mut self, t: Timeouts) {
        self.timeouts = t;
        if let Some(c) = &mut self.conn {
            c.set_timeouts(t);
        }
    }

    pub fn set_source_address(&mut self, source: Option<SourceAddr>) {
        self.source = source;
    }

    // ---- state ----------------------------------------------------------

    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    pub fn helo_resp(&self) -> Option<&[u8]> {
        self.helo_resp.as_deref()
    }

    pub fn ehlo_resp(&self) -> Option<&[u8]> {
        self.ehlo_resp.as_deref()
    }

    pub fn does_esmtp(&self) -> bool {
        self.does_esmtp
    }

    pub fn features(&self) -> &Features {
        &self.features
    }

    /// smtplib's `has_extn`.
    pub fn has_extn(&self, name: &str) -> bool {
        self.features.has(name)
    }

    /// The reply behind the last result: the last reply read, or after an
    /// error that carries a reply (a refused sender, say, followed by RSET),
    /// that reply.
    pub fn last_reply(&self) -> Option<&Reply> {
        self.last_reply.as_ref()
    }

    /// Make an error's reply the one [`Session::last_reply`] reports.
    pub fn note_error(&mut self, e: &Error) {
        if let Some(r) = e.reply() {
            self.last_reply = Some(r.clone());
        }
    }

    /// Per-recipient results of the last transaction (since the last MAIL).
    pub fn rcpt_results(&self) -> &[RcptResult] {
        &self.rcpts
    }

    /// The reverse-path of the last transaction begun by `mail`, `sendmail`
    /// (and its stream and batch forms: the last message's) or
    /// `send_message` (the one it chose from the headers, kept even when the
    /// call failed after choosing it): what smtplib's SMTPSenderRefused
    /// carries as `sender`. "" is the null reverse-path.
    pub fn sender(&self) -> Option<&str> {
        self.sender.as_deref()
    }

    // ---- connection -----------------------------------------------------

    /// smtplib's `connect`: open the connection and return the greeting. A
    /// greeting other than 220 is returned, not raised (see [`Session::open`]).
    pub fn connect(&mut self, host: &str, port: u16) -> Result<Reply> {
        if host.is_empty() {
            return Err(Error::InvalidArgument("host is empty".into()));
        }
        let (host, port) = connect::split_host_port(host, port)?;
        // IDNA: DNS and SNI see A-labels (a Unix socket path is no host name).
        let host = if connect::is_unix_path(&host) { host } else { crate::idna_host::to_ascii(&host)?.into_owned() };
        let port = if port == 0 { self.kind.default_port() } else { port };
        self.close();
        let limits =
            ConnectLimits { timeouts: &self.timeouts, call_deadline: self.call_deadline, canceller: &self.canceller };
        let sock = if let Some(proxy) = &self.proxy {
            let sock = crate::proxy::connect_through(proxy, &host, port, self.source.as_ref(), &limits)?;
            self.trace.line(Direction::Info, "proxy", &format!("{proxy} connected us to {host}:{port}"));
            sock
        } else if connect::is_unix_path(&host) {
            connect::connect_unix(&host, &limits)?
        } else {
            connect::connect_tcp(&host, port, self.source.as_ref(), &limits)?
        };
        self.trace.line(Direction::Info, "connect", &format!("connected to {}", sock.peer()));
        self.start(sock, host)
    }

    /// Start a session on a socket the caller connected (a socketpair in the
    /// unit tests) and read the greeting; no TLS (see `connect_socket_for`).
    pub fn connect_socket(&mut self, sock: Socket) -> Result<Reply> {
        self.connect_socket_for(sock, None)
    }

    /// Run the session over a connected `sock`: SMTP_SSL's handshake
    /// (checked against `tls_host`), then the greeting.
    fn start(&mut self, sock: Socket, tls_host: String) -> Result<Reply> {
        self.tls_host = tls_host;
        // A new connection starts with no EHLO state: what the last server
        // said describes that server. smtplib keeps it across connect(), so
        // after a dropped connection its sendmail() skips EHLO and the new
        // server answers MAIL with 503; close() keeps it, as smtplib's does.
        self.forget_ehlo();
        self.attach(sock);
        if self.kind == Kind::SmtpSsl {
            if let Err(e) = self.tls_handshake(None) {
                self.close();
                return Err(e);
            }
        }
        self.get_reply_in(Phase::Greeting)
    }

    fn attach(&mut self, sock: Socket) {
        let mut conn = Conn::new(sock, self.timeouts, self.canceller.clone());
        conn.set_call_deadline(self.call_deadline);
        self.conn = Some(conn);
    }

    /// smtplib's constructor with a host: connect, and a greeting other than
    /// 220 is SMTPConnectError (the connection is closed).
    pub fn open(&mut self, host: &str, port: u16) -> Result<Reply> {
        let reply = self.connect(host, port)?;
        if reply.code != 220 {
            self.close();
            return Err(Error::ConnectReply(reply));
        }
        Ok(reply)
    }

    /// smtplib's `close`: drop the connection; the EHLO state stays.
    pub fn close(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.trace.line(Direction::Info, "close", "connection closed");
            conn.close();
        }
    }

    /// A checked command line: no CR, LF or NUL; ASCII unless SMTPUTF8
    /// is in force (smtplib's `putcmd` and command encoding).
    fn command_line(&self, verb: &str, args: &str) -> Result<Vec<u8>> {
        let line = command::line(verb, args)?;
        if !self.utf8_commands {
            command::check_ascii("command", std::str::from_utf8(&line).unwrap_or_default())?;
        }
        Ok(line)
    }

    /// Check and queue one command line (smtplib's `putcmd`).
    fn put_command(&mut self, verb: &str, args: &str, sensitivity: Sensitivity) -> Result<()> {
        let line = self.command_line(verb, args)?;
        let conn = self.conn.as_mut().ok_or_else(not_connected)?;
        conn.queue(&line, &mut self.trace, sensitivity);
        Ok(())
    }

    /// Read the next reply (smtplib's `getreply`). Any failure closes the
    /// connection: after it the stream's position in the dialogue is unknown.
    fn get_reply(&mut self) -> Result<Reply> {
        self.get_reply_in(Phase::Command)
    }

    /// The same, within the limit of `phase`.
    fn get_reply_in(&mut self, phase: Phase) -> Result<Reply> {
        let conn = self.conn.as_mut().ok_or_else(not_connected)?;
        let result = conn.read_reply(&mut self.trace, phase);
        if let Some(reply) = conn.take_last_reply() {
            self.last_reply = Some(reply);
        }
        match result {
            Ok(reply) => Ok(reply),
            Err(e) => {
                self.note_error(&e);
                self.close();
                Err(e)
            }
        }
    }

    /// Start one library call: the call deadline (`Timeouts::call`) runs
    /// from here until the next `begin_call`, and a cancel ends it.
    pub fn begin_call(&mut self) {
        self.unanswered = false;
        self.canceller.begin();
        self.call_deadline = self.timeouts.call.map(|d| std::time::Instant::now() + d);
        if let Some(c) = &mut self.conn {
            c.set_call_deadline(self.call_deadline);
        }
    }

    /// The call is over: a cancel now does nothing.
    pub fn end_call(&mut self) {
        self.canceller.end();
    }

    /// A command whose reply has a phase of its own.
    fn command_in(&mut self, verb: &str, args: &str, phase: Phase) -> Result<Reply> {
        self.put_command(verb, args, Sensitivity::Plain)?;
        self.get_reply_in(phase)
    }

    fn command_with(&mut self, verb: &str, args: &str, sensitivity: Sensitivity) -> Result<Reply> {
        self.put_command(verb, args, sensitivity)?;
        self.get_reply()
    }

    /// smtplib's `docmd`: send a command, return the reply.
    pub fn docmd(&mut self, verb: &str, args: &str) -> Result<Reply> {
        #[cfg(feature = "test-panic")]
        if verb == "X-LIBSMTP-TEST-PANIC" {
            panic!("test panic requested");
        }
        if verb.is_empty() {
            return Err(Error::InvalidArgument("command is empty".into()));
        }
        self.command_with(verb, args, Sensitivity::Plain)
    }

    // ---- greeting -------------------------------------------------------

    fn hello_name(&mut self, name: Option<&str>) -> Result<String> {
        match name {
            Some(n) if !n.is_empty() => Ok(n.to_string()),
            _ => self.local_hostname(),
        }
    }

    /// smtplib's `helo`.
    pub fn helo(&mut self, name: Option<&str>) -> Result<Reply> {
        let name = self.hello_name(name)?;
        let reply = self.docmd("helo", &name)?;
        self.helo_resp = Some(reply.text.clone());
        Ok(reply)
    }

    /// smtplib's `ehlo` (LHLO on LMTP): on 250 the session is ESMTP and the
    /// features are parsed.
    pub fn ehlo(&mut self, name: Option<&str>) -> Result<Reply> {
        let name = self.hello_name(name)?;
        let verb = self.kind.hello_verb();
        // A refused name changes nothing (smtplib would clear the features first).
        self.command_line(verb, &name)?;
        self.features = Features::default();
        let reply = self.docmd(verb, &name)?;
        // Some MTAs drop the connection on EHLO (RFC 1869 era).
        if reply.code == -1 && reply.text.is_empty() {
            self.close();
            return Err(Error::ServerDisconnected("Server not connected".into()));
        }
        self.ehlo_resp = Some(reply.text.clone());
        if reply.code == 250 {
            self.does_esmtp = true;
            self.features = Features::parse(&reply.text);
        }
        Ok(reply)
    }

    /// smtplib's `ehlo_or_helo_if_needed`.
    pub fn ehlo_or_helo_if_needed(&mut self) -> Result<()> {
        if self.helo_resp.is_none() && self.ehlo_resp.is_none() && !self.ehlo(None)?.is_positive() {
            let reply = self.helo(None)?;
            if !reply.is_positive() {
                return Err(Error::Helo(reply));
            }
        }
        Ok(())
    }

    // ---- simple commands ------------------------------------------------

    pub fn noop(&mut self) -> Result<Reply> {
        self.docmd("noop", "")
    }

    /// smtplib's `rset`; also ends UTF-8 command encoding.
    pub fn rset(&mut self) -> Result<Reply> {
        self.utf8_commands = false;
        self.docmd("rset", "")
    }

    /// smtplib's `help` (which returns only the text; the code is here too).
    pub fn help(&mut self, args: &str) -> Result<Reply> {
        self.docmd("help", args)
    }

    /// smtplib's `verify`: VRFY with the address part only.
    pub fn verify(&mut self, address: &str) -> Result<Reply> {
        check_line_text("address", address)?;
        self.docmd("vrfy", &addr_only(address))
    }

    /// smtplib's `expn`: EXPN with the address part only.
    pub fn expn(&mut self, address: &str) -> Result<Reply> {
        check_line_text("address", address)?;
        self.docmd("expn", &addr_only(address))
    }

    /// smtplib's `quit`: QUIT, forget the EHLO state, close.
    pub fn quit(&mut self) -> Result<Reply> {
        let reply = self.docmd("quit", "")?;
        self.forget_ehlo();
        self.close();
        Ok(reply)
    }

    /// No HELO or EHLO answered yet (smtplib's state after `quit`).
    pub(super) fn forget_ehlo(&mut self) {
        self.ehlo_resp = None;
        self.helo_resp = None;
        self.features = Features::default();
        self.does_esmtp = false;
    }
}

fn not_connected() -> Error {
    Error::ServerDisconnected("please run connect() first".into())
}

#[cfg(test)]
mod tests;
