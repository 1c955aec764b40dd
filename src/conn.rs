//! One connection: the stream, a write buffer, the reply parser, and a
//! queue of commands awaiting replies. Lockstep is a queue of one; PIPELINING
//! (RFC 2920) is a longer queue over the same code.
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
    /// The whole of one reply, from when the client starts waiting for it.
    pub reply: Option<Duration>,
}

impl Default for Timeouts {
    /// RFC 5321 4.5.3.2 asks clients to wait 5 minutes for most replies and
    /// 10 for the one after the final dot; the connect bound is ours.
    fn default() -> Timeouts {
        Timeouts {
            connect: Some(Duration::from_secs(30)),
            io: Some(Duration::from_secs(300)),
            reply: Some(Duration::from_secs(600)),
        }
    }
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
    /// Commands written (or buffered) whose replies have not been read.
    awaiting: usize,
    /// The write buffer has held a secret since it was last wiped.
    holds_secret: bool,
    timeouts: Timeouts,
}

impl Conn {
    pub fn new(stream: Stream, timeouts: Timeouts) -> Conn {
        Conn { stream, parser: ReplyParser::new(), wbuf: Vec::new(), awaiting: 0, holds_secret: false, timeouts }
    }

    pub fn set_timeouts(&mut self, t: Timeouts) {
        self.timeouts = t;
    }

    /// See [`Stream::protects_secrets`].
    pub fn protects_secrets(&self, trust_loopback: bool) -> bool {
        self.stream.protects_secrets(trust_loopback)
    }

    /// Replies expected and not yet read.
    pub fn awaiting(&self) -> usize {
        self.awaiting
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
        self.awaiting += 1;
    }

    /// Expect one more reply without sending a command (the greeting, the
    /// reply after the final dot).
    pub fn expect_reply(&mut self) {
        self.awaiting += 1;
    }

    /// Buffer raw bytes (message data); flushed when the buffer is large.
    pub fn write_data(&mut self, data: &[u8]) -> Result<()> {
        self.wbuf.extend_from_slice(data);
        if self.wbuf.len() >= WRITE_CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    /// The data buffer, for encoders that write into it directly.
    pub fn data_buffer(&mut self) -> &mut Vec<u8> {
        &mut self.wbuf
    }

    /// Write everything buffered.
    pub fn flush(&mut self) -> Result<()> {
        if self.wbuf.is_empty() {
            return Ok(());
        }
        self.stream.set_write_timeout(self.timeouts.io).map_err(|e| io_error(e, "setting a timeout"))?;
        let result = self.stream.write_all(&self.wbuf).and_then(|()| self.stream.flush());
        // AUTH lines are short and flushed alone, so no grown-away copy of
        // them is left behind: wiping this buffer wipes them.
        if self.holds_secret {
            crate::auth::secret::wipe(&mut self.wbuf);
            self.holds_secret = false;
        }
        self.wbuf.clear();
        result.map_err(|e| io_error(e, "sending"))
    }

    /// Flush, then read the reply to the oldest awaited command.
    pub fn read_reply(&mut self, trace: &mut Trace) -> Result<Reply> {
        self.flush()?;
        let deadline = self.timeouts.reply.map(|d| Instant::now() + d);
        let mut buf = [0u8; 16 * 1024];
        loop {
            match self.parser.next_reply() {
                Ok(Some(reply)) => return Ok(self.got(reply, trace)),
                Ok(None) => {}
                Err(e) => return Err(reply_error(e)),
            }
            let wait = match deadline {
                None => self.timeouts.io,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(Error::Timeout("no complete reply within the reply deadline".into()));
                    }
                    Some(self.timeouts.io.map_or(left, |io| io.min(left)))
                }
            };
            self.stream.set_read_timeout(wait).map_err(|e| io_error(e, "setting a timeout"))?;
            let n = match self.stream.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The last read is bounded by what is left of the deadline:
                // say which limit fired.
                Err(e) if deadline.is_some_and(|d| Instant::now() >= d) && is_timeout(&e) => {
                    return Err(Error::Timeout("no complete reply within the reply deadline".into()));
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
                for line in buf[..n].split_inclusive(|&b| b == b'\n') {
                    trace.bytes(Direction::Recv, "reply", line);
                }
            }
            self.parser.feed(&buf[..n]);
        }
    }

    fn got(&mut self, reply: Reply, trace: &mut Trace) -> Reply {
        self.awaiting = self.awaiting.saturating_sub(1);
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
