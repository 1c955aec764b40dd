//! One connection: the stream, a write buffer and the reply parser.
//! Commands are queued into the buffer and replies read in order, so
//! lockstep is one queued command and PIPELINING (RFC 2920) several, over
//! the same code.
//!
//! Every read is bounded by the I/O timeout and by a deadline for the whole
//! reply, so a server that trickles a byte at a time cannot hold a call past
//! its deadline (smtplib's socket timeout restarts with every byte).

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::reply::{Reply, ReplyError, ReplyParser};
use crate::trace::{Direction, Trace};
use crate::transport::Stream;

/// Flush queued bytes once this much is buffered.
const WRITE_CHUNK: usize = 64 * 1024;

/// How long the connection may wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing the TCP connection (each address tried).
    pub connect: Option<Duration>,
    /// Each blocking read or write.
    pub io: Option<Duration>,
    /// The whole of one reply to a command without a phase of its own.
    pub reply: Option<Duration>,
    /// The greeting (RFC 5321 4.5.3.2.1: 5 minutes).
    pub greeting: Option<Duration>,
    /// The reply to MAIL (4.5.3.2.2: 5 minutes).
    pub mail: Option<Duration>,
    /// The reply to each RCPT (4.5.3.2.3: 5 minutes).
    pub rcpt: Option<Duration>,
    /// The reply to DATA (4.5.3.2.4: 2 minutes).
    pub data: Option<Duration>,
    /// Each write of message data (4.5.3.2.5: 3 minutes per block).
    pub data_block: Option<Duration>,
    /// The reply after the final dot (4.5.3.2.6: 10 minutes).
    pub final_dot: Option<Duration>,
    /// The whole of one library call, however many replies it reads.
    pub call: Option<Duration>,
}

impl Default for Timeouts {
    /// RFC 5321 4.5.3.2's client timeouts; connect, I/O and other replies
    /// are ours; no limit on a whole call unless the caller sets one.
    fn default() -> Timeouts {
        let secs = |s| Some(Duration::from_secs(s));
        Timeouts {
            connect: secs(30),
            io: secs(300),
            reply: secs(600),
            greeting: secs(300),
            mail: secs(300),
            rcpt: secs(300),
            data: secs(120),
            data_block: secs(180),
            final_dot: secs(600),
            call: None,
        }
    }
}

/// Which reply is awaited: its phase chooses the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Command,
    Greeting,
    Mail,
    Rcpt,
    Data,
    FinalDot,
}

impl Timeouts {
    fn reply_limit(&self, phase: Phase) -> (Option<Duration>, &'static str) {
        match phase {
            Phase::Command => (self.reply, "reply"),
            Phase::Greeting => (self.greeting, "greeting"),
            Phase::Mail => (self.mail, "MAIL reply"),
            Phase::Rcpt => (self.rcpt, "RCPT reply"),
            Phase::Data => (self.data, "DATA reply"),
            Phase::FinalDot => (self.final_dot, "reply after the final dot"),
        }
    }
}

/// The earlier of two optional deadlines, and which one it is.
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<(Instant, bool)> {
    match (a, b) {
        (Some(a), Some(b)) if b < a => Some((b, true)),
        (Some(a), _) => Some((a, false)),
        (None, Some(b)) => Some((b, true)),
        (None, None) => None,
    }
}

/// A blocking wait bounded by `limit` and what is left before `deadline`;
/// `None` inside means no bound. Err when the deadline has passed.
fn bounded(limit: Option<Duration>, deadline: Option<Instant>) -> std::result::Result<Option<Duration>, ()> {
    match deadline {
        None => Ok(limit),
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(());
            }
            Ok(Some(limit.map_or(left, |l| l.min(left))))
        }
    }
}

fn call_deadline_passed() -> Error {
    Error::Timeout("the call did not finish within its deadline (SMTP_TIMEOUT_CALL)".into())
}

/// What a queued command is, for the trace and for redaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sensitivity {
    Plain,
    /// An AUTH line: its payload is not traced.
    Secret,
}

#[derive(Debug)]
pub struct Conn {
    stream: Stream,
    parser: ReplyParser,
    wbuf: Vec<u8>,
    /// The write buffer has held a secret since it was last wiped.
    holds_secret: bool,
    timeouts: Timeouts,
    /// The end of the current library call (`Timeouts::call`).
    call_deadline: Option<Instant>,
    /// The socket's read and write timeouts as last set: setsockopt only
    /// when they change (they rarely do).
    read_timeout: Option<Option<Duration>>,
    write_timeout: Option<Option<Duration>>,
    /// Where replies are read into, kept across reads.
    rbuf: Box<[u8]>,
}

impl Conn {
    pub fn new(stream: Stream, timeouts: Timeouts) -> Conn {
        Conn { stream, parser: ReplyParser::new(), wbuf: Vec::new(), 
            holds_secret: false,
            timeouts,
            call_deadline: None,
            read_timeout: None,
            write_timeout: None,
            rbuf: vec![0u8; 16 * 1024].into_boxed_slice(),
        }
    }

    pub fn set_timeouts(&mut self, t: Timeouts) {
        self.timeouts = t;
    }

    /// Bound everything until the next call to this instant.
    pub fn set_call_deadline(&mut self, deadline: Option<Instant>) {
        self.call_deadline = deadline;
    }

    /// See [`Stream::protects_secrets`].
    pub fn protects_secrets(&self, trust_loopback: bool) -> bool {
        self.stream.protects_secrets(trust_loopback)
    }


    /// Queue a command line; its reply is read by a later [`Conn::read_reply`].
    pub fn queue(&mut self, line: &[u8], trace: &mut Trace, sensitivity: Sensitivity) {
        if trace.enabled() {
            if sensitivity == Sensitivity::Secret && !trace.show_secrets {
                trace.line(Direction::Send, "send", &redacted(line));
            } else {
                trace.bytes(Direction::Send, "send", line);
            }
        }
        self.holds_secret |= sensitivity == Sensitivity::Secret;
        self.wbuf.extend_from_slice(line);
    }


    /// Message data has been put in the buffer: write it once it is large.
    pub fn write_data(&mut self) -> Result<()> {
        if self.wbuf.len() >= WRITE_CHUNK {
            self.flush_data()?;
        }
        Ok(())
    }

    /// The data buffer, for encoders that write into it directly.
    pub fn data_buffer(&mut self) -> &mut Vec<u8> {
        &mut self.wbuf
    }

    /// Write everything buffered (commands: each write within the I/O timeout).
    pub fn flush(&mut self) -> Result<()> {
        self.flush_within(self.timeouts.io)
    }

    /// Write buffered message data: each write within the data-block timeout.
    pub fn flush_data(&mut self) -> Result<()> {
        self.flush_within(self.timeouts.data_block)
    }

    fn flush_within(&mut self, limit: Option<Duration>) -> Result<()> {
        if self.wbuf.is_empty() {
            return Ok(());
        }
        let wait = bounded(limit, self.call_deadline).map_err(|()| call_deadline_passed())?;
        if self.write_timeout != Some(wait) {
            self.stream.set_write_timeout(wait).map_err(|e| io_error(e, "setting a timeout"))?;
            self.write_timeout = Some(wait);
        }
        let result = self.stream.write_all(&self.wbuf).and_then(|()| self.stream.flush());
        // AUTH lines are short and flushed alone, so no grown-away copy of
        // them is left behind: wiping this buffer wipes them.
        if self.holds_secret {
            crate::auth::secret::wipe(&mut self.wbuf);
            self.holds_secret = false;
        }
        self.wbuf.clear();
        match result {
            Err(e) if is_timeout(&e) && self.call_deadline.is_some_and(|d| Instant::now() >= d) => Err(call_deadline_passed()),
            other => other.map_err(|e| io_error(e, "sending")),
        }
    }

    /// Flush, then read the reply to the oldest awaited command, within the
    /// phase's limit, each read within the I/O timeout, all within the call.
    pub fn read_reply(&mut self, trace: &mut Trace, phase: Phase) -> Result<Reply> {
        self.flush()?;
        let (limit, what) = self.timeouts.reply_limit(phase);
        let reply_deadline = limit.map(|d| Instant::now() + d);
        let deadline = earliest(reply_deadline, self.call_deadline);
        let expired = |by_call: bool| {
            if by_call {
                call_deadline_passed()
            } else {
                Error::Timeout(format!("no complete {what} within its deadline"))
            }
        };
        loop {
            match self.parser.next_reply() {
                Ok(Some(reply)) => return Ok(self.got(reply, trace)),
                Ok(None) => {}
                Err(e) => return Err(reply_error(e)),
            }
            let wait = bounded(self.timeouts.io, deadline.map(|d| d.0)).map_err(|()| expired(deadline.is_some_and(|d| d.1)))?;
            if self.read_timeout != Some(wait) {
                self.stream.set_read_timeout(wait).map_err(|e| io_error(e, "setting a timeout"))?;
                self.read_timeout = Some(wait);
            }
            let n = match self.stream.read(&mut self.rbuf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The last read is bounded by what is left of the deadline:
                // say which limit fired.
                Err(e) if is_timeout(&e) && deadline.is_some_and(|d| Instant::now() >= d.0) => {
                    return Err(expired(deadline.is_some_and(|d| d.1)));
                }
                Err(e) => return Err(io_error(e, "reading a reply")),
            };
            if n == 0 {
                return match self.parser.finish() {
                    Ok(Some(reply)) => Ok(self.got(reply, trace)),
                    Ok(None) => Err(Error::ServerDisconnected("Connection unexpectedly closed".into())),
                    Err(e) => Err(reply_error(e)),
                };
            }
            if trace.enabled() {
                for line in self.rbuf[..n].split_inclusive(|&b| b == b'\n') {
                    trace.bytes(Direction::Recv, "reply", line);
                }
            }
            self.parser.feed(&self.rbuf[..n]);
        }
    }

    fn got(&mut self, reply: Reply, trace: &mut Trace) -> Reply {
        if trace.enabled() {
            trace.line(
                Direction::Recv,
                "reply",
                &format!("retcode ({}); Msg: {}", reply.code, crate::trace::repr(&reply.text)),
            );
        }
        reply
    }

    /// Close the stream; the peer sees end of stream.
    pub fn close(mut self) {
        self.stream.shutdown();
    }

    /// The stream, for STARTTLS, and how many bytes the server sent that no
    /// reply has consumed (after a 220 to STARTTLS there must be none).
    pub fn into_stream(self) -> (Stream, usize) {
        (self.stream, self.parser.buffered())
    }

    pub fn is_encrypted(&self) -> bool {
        self.stream.is_encrypted()
    }

    pub fn tls_info(&self) -> Option<(String, String)> {
        self.stream.tls_info()
    }
}

/// An AUTH line with its payload hidden: `AUTH PLAIN <redacted>`.
fn redacted(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let mut words = text.split_whitespace();
    match (words.next(), words.next()) {
        (Some(verb), Some(mech)) if verb.eq_ignore_ascii_case("auth") => {
            if words.next().is_some() {
                format!("'{verb} {mech} <redacted>'")
            } else {
                format!("'{verb} {mech}'")
            }
        }
        _ => "'<redacted>'".into(),
    }
}

fn reply_error(e: ReplyError) -> Error {
    match e {
        ReplyError::LineTooLong => Error::Response(Reply::new(500, "Line too long.")),
        ReplyError::ReplyTooLong => Error::Response(Reply::new(500, "Reply too long.")),
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

fn io_error(e: io::Error, doing: &str) -> Error {
    // A TLS alert or a broken record after the handshake (a server that
    // wants a client certificate says so at the first read in TLS 1.3).
    if e.get_ref().is_some_and(|i| i.is::<rustls::Error>()) {
        return crate::tls::describe(&e, "");
    }
    match e.kind() {
        _ if is_timeout(&e) => Error::Timeout(format!("{doing}: I/O timeout")),
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::UnexpectedEof => Error::ServerDisconnected(format!("Connection unexpectedly closed: {e}")),
        _ => Error::Io(format!("{doing}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction() {
        assert_eq!(redacted(b"AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n"), "'AUTH PLAIN <redacted>'");
        assert_eq!(redacted(b"AUTH LOGIN\r\n"), "'AUTH LOGIN'");
        assert_eq!(redacted(b"YWxpY2U=\r\n"), "'<redacted>'");
    }
}
