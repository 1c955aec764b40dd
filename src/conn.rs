//! The driver: the only code that touches the socket, TLS and the clock.
//!
//! The socket is non-blocking. One loop writes what the socket takes,
//! reads and parses whatever replies have arrived, hands each reply to the
//! [`Dialogue`] it runs (one command, or the transaction engine), and waits
//! in poll(2) for whichever it needs, never longer than the earliest
//! deadline ([`crate::deadline`]) and never past a cancel. Reading while
//! writing is what lets a server answer as it pleases: however large its
//! replies, it can never stall a client that is still writing (the BDAT
//! deadlock of a lockstep writer).
//!
//! TLS runs on the same loop through rustls's non-blocking interface
//! (`read_tls`/`process_new_packets`/`write_tls`), handshake included.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::Instant;

use rustls::ClientConnection;

use crate::cancel::{wait, Canceller, Woke};
use crate::connect::cancelled;
use crate::deadline::{Clocks, Phase, Timeouts};
use crate::error::{Error, Result};
use crate::reply::{Reply, ReplyError, ReplyParser};
use crate::sys;
use crate::trace::{Direction, Trace};
use crate::transport::{Socket, SocketIo};

/// The dialogue is asked for more to send while less than this waits.
pub(crate) const LOW_WATER: usize = 64 * 1024;
/// Replies nobody waits for yet are read only up to this much.
const READ_AHEAD: usize = 1 << 20;
/// While writing, look for replies after this much went out.
const LOOK_EVERY: usize = 256 * 1024;

/// What the driver runs: it asks for bytes to send, hands over replies in
/// order, and asks what is awaited (for the deadline) and whether all is done.
pub trait Dialogue {
    /// Put what may go now into `out`; called while little waits to be written.
    fn fill(&mut self, out: &mut Outbox<'_>) -> Result<()>;
    /// The reply to the oldest command that awaits one.
    fn reply(&mut self, reply: Reply) -> Flow;
    /// The phase of the reply awaited next, `None` when none is.
    fn awaiting(&self) -> Option<Phase>;
    /// Nothing more to send or read.
    fn done(&self) -> bool;
}

/// What the dialogue wants after a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// The server is going away (421): stop, and close the connection.
    Close,
}

/// What a command is, for the trace and for redaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sensitivity {
    Plain,
    /// An AUTH line: its payload is not traced.
    Secret,
}

/// Bytes waiting to be written, with a read position (partial writes do
/// not move the rest).
#[derive(Debug, Default)]
struct OutBuf {
    buf: Vec<u8>,
    pos: usize,
    /// Holds message data (the data-block limit applies), not only commands.
    data: bool,
    /// Has held a secret since it was last wiped.
    secret: bool,
}

impl OutBuf {
    fn pending(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    fn len(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
        if self.pos == self.buf.len() {
            // AUTH lines are short and written alone, so no grown-away copy
            // of them is left behind: wiping this buffer wipes them.
            if self.secret {
                crate::auth::secret::wipe(&mut self.buf);
                self.secret = false;
            }
            self.buf.clear();
            self.pos = 0;
            self.data = false;
        } else if self.pos > 256 * 1024 && self.pos * 2 > self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
    }
}

/// Where a dialogue puts what it sends.
pub struct Outbox<'a> {
    out: &'a mut OutBuf,
    trace: &'a mut Trace,
}

impl Outbox<'_> {
    /// A command line, traced (an AUTH payload redacted).
    pub fn command(&mut self, line: &[u8], sensitivity: Sensitivity) {
        queue_command(self.out, self.trace, line, sensitivity);
    }

    /// The buffer message data is encoded into.
    pub fn data(&mut self) -> &mut Vec<u8> {
        self.out.data = true;
        &mut self.out.buf
    }

    /// Bytes waiting to be written.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    pub fn is_empty(&self) -> bool {
        self.out.len() == 0
    }

    pub fn trace(&mut self) -> &mut Trace {
        self.trace
    }
}

/// A dialogue's sending without a socket: what it would send now, for
/// tests and fuzzing (`engine::sim`).
#[derive(Debug, Default)]
pub struct Loopback {
    out: OutBuf,
    pub trace: Trace,
}

impl Loopback {
    /// Everything `d` sends before it must wait for a reply.
    pub fn sent(&mut self, d: &mut dyn Dialogue) -> Result<Vec<u8>> {
        self.sent_upto(d, usize::MAX)
    }

    /// What `d` sends until it must wait or `max` bytes went (a socket
    /// that takes no more).
    pub fn sent_upto(&mut self, d: &mut dyn Dialogue, max: usize) -> Result<Vec<u8>> {
        let mut sent = Vec::new();
        loop {
            d.fill(&mut Outbox { out: &mut self.out, trace: &mut self.trace })?;
            if self.out.len() == 0 || sent.len() >= max {
                return Ok(sent);
            }
            sent.extend_from_slice(self.out.pending());
            let n = self.out.len();
            self.out.consume(n);
        }
    }
}

fn queue_command(out: &mut OutBuf, trace: &mut Trace, line: &[u8], sensitivity: Sensitivity) {
    if trace.enabled() {
        if sensitivity == Sensitivity::Secret && !trace.show_secrets {
            trace.line(Direction::Send, "send", &redacted(line));
        } else {
            trace.bytes(Direction::Send, "send", line);
        }
    }
    out.secret |= sensitivity == Sensitivity::Secret;
    out.buf.extend_from_slice(line);
}

#[derive(Debug)]
pub struct Conn {
    sock: Socket,
    tls: Option<Box<ClientConnection>>,
    /// The name the certificate is checked against, for TLS errors.
    tls_host: String,
    parser: ReplyParser,
    out: OutBuf,
    timeouts: Timeouts,
    /// The end of the current library call (`Timeouts::call`).
    call_deadline: Option<Instant>,
    canceller: Arc<Canceller>,
    /// Where received bytes are read into, kept across reads.
    rbuf: Box<[u8]>,
    /// The peer closed its side.
    eof: bool,
    /// The last reply read, for the session's `last_reply`.
    last_reply: Option<Reply>,
    /// Waits for a reply that still ask for immediate ACKs (after a TLS
    /// handshake, see `start_tls`).
    quick_acks: u8,
}

impl Conn {
    pub fn new(sock: Socket, timeouts: Timeouts, canceller: Arc<Canceller>) -> Conn {
        Conn {
            sock,
            tls: None,
            tls_host: String::new(),
            parser: ReplyParser::new(),
            out: OutBuf::default(),
            timeouts,
            call_deadline: None,
            canceller,
            rbuf: vec![0u8; 16 * 1024].into_boxed_slice(),
            eof: false,
            last_reply: None,
            quick_acks: 0,
        }
    }

    pub fn set_timeouts(&mut self, t: Timeouts) {
        self.timeouts = t;
    }

    /// Run under another session's limits, deadline and cancel (a pooled
    /// connection lent to the caller's session).
    pub fn adopt(&mut self, timeouts: Timeouts, canceller: Arc<Canceller>, deadline: Option<Instant>) {
        self.timeouts = timeouts;
        self.canceller = canceller;
        self.call_deadline = deadline;
    }

    /// Bound everything until the next call to this instant.
    pub fn set_call_deadline(&mut self, deadline: Option<Instant>) {
        self.call_deadline = deadline;
    }

    /// Whether a secret sent now stays protected: TLS, a Unix socket, or
    /// (when trusted) a loopback peer.
    pub fn protects_secrets(&self, trust_loopback: bool) -> bool {
        self.tls.is_some() || self.sock.is_local(trust_loopback)
    }

    /// Queue a command line; its reply is read by a later [`Conn::read_reply`].
    pub fn queue(&mut self, line: &[u8], trace: &mut Trace, sensitivity: Sensitivity) {
        queue_command(&mut self.out, trace, line, sensitivity);
    }

    /// The last reply read since the last call of this.
    pub fn take_last_reply(&mut self) -> Option<Reply> {
        self.last_reply.take()
    }

    /// How many bytes the server sent that no reply has consumed (after a
    /// 220 to STARTTLS there must be none).
    pub fn buffered(&self) -> usize {
        self.parser.buffered()
    }

    /// Write what is queued and read the reply to the oldest command
    /// awaiting one, within the limits of `phase`.
    pub fn read_reply(&mut self, trace: &mut Trace, phase: Phase) -> Result<Reply> {
        let mut one = OneReply { phase, got: None };
        self.run(&mut one, trace)?;
        Ok(one.got.expect("a finished OneReply has its reply"))
    }

    /// Write `bytes` as they are (after anything queued), within the I/O
    /// limit and the call, and read no reply: a reply that arrives
    /// meanwhile stays buffered for a later [`Conn::read_reply`].
    pub fn send_raw(&mut self, bytes: &[u8], trace: &mut Trace) -> Result<()> {
        // An AUTH line keeps its payload out of the trace, as the
        // session's own AUTH does (what follows it cannot be told apart).
        let auth = bytes.len() >= 5 && bytes[..5].eq_ignore_ascii_case(b"auth ");
        queue_command(&mut self.out, trace, bytes, if auth { Sensitivity::Secret } else { Sensitivity::Plain });
        self.run(&mut Nothing, trace)?;
        Ok(())
    }

    /// The socket's descriptor (owned by the connection).
    pub fn fd(&self) -> std::os::fd::RawFd {
        self.sock.fd()
    }

    /// TLS from here on: the handshake on this connection, within the
    /// greeting limit, each wait within the I/O limit, all within the call.
    pub fn start_tls(&mut self, tls: ClientConnection, host: &str, trace: &mut Trace) -> Result<()> {
        self.tls = Some(Box::new(tls));
        self.tls_host = host.to_string();
        self.run(&mut Nothing, trace)?;
        // A TLS 1.3 server sends its session tickets after the handshake,
        // and our next command overtakes them; a server that then holds its
        // reply behind the unacknowledged tickets (Nagle; Postfix does)
        // would wait for our delayed ACK, 40 ms, in about half the
        // sessions. So the next few waits for a reply ask for immediate
        // ACKs (the kernel goes back to delaying them once we send).
        self.quick_acks = 3;
        Ok(())
    }

    pub fn is_encrypted(&self) -> bool {
        self.tls.is_some()
    }

    /// The negotiated TLS version and cipher suite.
    pub fn tls_info(&self) -> Option<(String, String)> {
        let t = self.tls.as_ref()?;
        let version = t.protocol_version().map(|v| format!("{v:?}").replace("TLSv1_", "TLSv1."))?;
        let suite = t.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite()))?;
        Some((version, suite))
    }

    /// Close now (the peer sees end of stream); TLS says close_notify first,
    /// as far as the socket takes it without waiting.
    pub fn close(mut self) {
        if let Some(t) = &mut self.tls {
            t.send_close_notify();
            let _ = t.write_tls(&mut SocketIo(&self.sock));
        }
        self.sock.shutdown();
    }

    fn handshaking(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| t.is_handshaking())
    }

    fn output_pending(&self) -> bool {
        self.out.len() > 0 || self.tls.as_ref().is_some_and(|t| t.wants_write())
    }

    /// Run `d` until it is done (`Ok(Flow::Continue)`) or asks to close
    /// (`Ok(Flow::Close)`). An error means the connection is unusable: the
    /// caller closes it.
    pub fn run(&mut self, d: &mut dyn Dialogue, trace: &mut Trace) -> Result<Flow> {
        let mut clocks = Clocks::new(Instant::now());
        let mut was_sending = self.output_pending();
        // Read when poll said something came, or when much went out since
        // the last read: a read tried after every write mostly finds nothing
        // (a system call for nought per message of a batch).
        let mut readable = false;
        let mut unread_writes = 0usize;
        loop {
            // A cancel ends the call even when it never has to wait (a
            // server as fast as the client keeps the loop out of poll).
            if self.canceller.is_cancelled() {
                return Err(cancelled());
            }
            let handshaking = self.handshaking();
            if !handshaking {
                if self.deliver(d, trace, &mut clocks)? == Flow::Close {
                    return Ok(Flow::Close);
                }
                if self.out.len() < LOW_WATER {
                    d.fill(&mut Outbox { out: &mut self.out, trace })?;
                }
                if d.done() && !self.output_pending() {
                    return Ok(Flow::Continue);
                }
            }
            let awaiting = if handshaking { Some(Phase::Handshake) } else { d.awaiting() };
            let wrote = match self.write_some() {
                Ok(n) => n,
                Err(e) => return self.after_write_error(e, d, trace, &mut clocks),
            };
            let want_read = awaiting.is_some() || self.parser.buffered() < READ_AHEAD;
            // While a long message goes out, look for replies every so often
            // too (a refusal stops a BDAT message at the next chunk).
            unread_writes += wrote;
            let read = if want_read && (readable || unread_writes >= LOOK_EVERY) && !self.eof {
                unread_writes = 0;
                self.read_some(trace)?
            } else {
                0
            };
            readable = false;
            let now = Instant::now();
            if wrote + read > 0 {
                clocks.last_io = now;
            }
            if wrote > 0 {
                clocks.last_write = now;
            }
            let sending = self.output_pending();
            if sending != was_sending {
                // The reply clock starts once nothing is left to send; the
                // data-block clock when something is.
                if sending {
                    clocks.last_write = now;
                } else {
                    clocks.reply_since = now;
                }
                was_sending = sending;
            }
            if read > 0 || (wrote > 0 && sending) {
                continue;
            }
            if self.eof {
                return self.at_eof(d, trace, &mut clocks);
            }
            if wrote > 0 {
                continue;
            }
            if awaiting.is_none() && !sending {
                // Neither sending nor waiting for a reply, yet not done: a
                // wait now would have nothing to end it but a deadline.
                return Err(Error::Smtp("internal error: the dialogue stalled with nothing to send or await".into()));
            }
            let deadline =
                clocks.deadline(&self.timeouts, self.call_deadline, sending.then_some(self.out.data), awaiting);
            if !sending && self.quick_acks > 0 {
                self.quick_acks -= 1;
                self.sock.quick_ack();
            }
            let events = if want_read { sys::POLLIN } else { 0 } | if sending { sys::POLLOUT } else { 0 };
            match wait(Some(self.sock.fd()), events, deadline.instant(), &self.canceller)
                .map_err(|e| Error::Io(format!("waiting for the server: {e}")))?
            {
                Woke::Ready(revents) => readable = revents & (sys::POLLIN | sys::POLLHUP | sys::POLLERR) != 0,
                Woke::Rung => {}
                Woke::Cancelled => return Err(cancelled()),
                Woke::TimedOut => {
                    let (_, limit) = deadline.get().expect("a wait that timed out had a deadline");
                    return Err(limit.error(&self.timeouts));
                }
            }
        }
    }

    /// Hand every complete reply to `d` while it awaits one.
    fn deliver(&mut self, d: &mut dyn Dialogue, trace: &mut Trace, clocks: &mut Clocks) -> Result<Flow> {
        while d.awaiting().is_some() {
            match self.parser.next_reply().map_err(reply_error)? {
                None => break,
                Some(reply) => {
                    clocks.reply_since = Instant::now();
                    if self.got(reply, d, trace) == Flow::Close {
                        return Ok(Flow::Close);
                    }
                }
            }
        }
        Ok(Flow::Continue)
    }

    fn got(&mut self, reply: Reply, d: &mut dyn Dialogue, trace: &mut Trace) -> Flow {
        if trace.enabled() {
            trace.line(
                Direction::Recv,
                "reply",
                &format!("retcode ({}); Msg: {}", reply.code, crate::trace::repr(&reply.text)),
            );
        }
        self.last_reply = Some(reply.clone());
        d.reply(reply)
    }

    /// The server closed its side: the replies it sent first, a last line
    /// cut short (Python's `readline` returns it), then "disconnected" if
    /// anything is still awaited.
    fn at_eof(&mut self, d: &mut dyn Dialogue, trace: &mut Trace, clocks: &mut Clocks) -> Result<Flow> {
        if self.handshaking() {
            return Err(Error::Tls("the server closed the connection during the TLS handshake".into()));
        }
        if self.deliver(d, trace, clocks)? == Flow::Close {
            return Ok(Flow::Close);
        }
        if d.awaiting().is_some() {
            if let Some(reply) = self.parser.finish().map_err(reply_error)? {
                if self.got(reply, d, trace) == Flow::Close {
                    return Ok(Flow::Close);
                }
            }
        }
        if d.done() && !self.output_pending() {
            return Ok(Flow::Continue);
        }
        Err(Error::ServerDisconnected("Connection unexpectedly closed".into()))
    }

    /// Move queued bytes to the socket (through TLS when on) until it takes
    /// no more; the number of bytes the socket took.
    fn write_some(&mut self) -> Result<usize> {
        let mut total = 0;
        loop {
            let n = match &mut self.tls {
                None => {
                    if self.out.len() == 0 {
                        break;
                    }
                    match self.sock.send(self.out.pending()) {
                        Ok(n) => {
                            self.out.consume(n);
                            n
                        }
                        Err(e) => match self.write_failed(e)? {
                            Some(n) => n,
                            None => break,
                        },
                    }
                }
                Some(tls) => {
                    if self.out.len() > 0 && !tls.is_handshaking() {
                        let taken =
                            tls.writer().write(self.out.pending()).map_err(|e| Error::Io(format!("TLS: {e}")))?;
                        self.out.consume(taken);
                    }
                    if !tls.wants_write() {
                        break;
                    }
                    match tls.write_tls(&mut SocketIo(&self.sock)) {
                        Ok(n) => n,
                        Err(e) => match self.write_failed(e)? {
                            Some(n) => n,
                            None => break,
                        },
                    }
                }
            };
            if n == 0 {
                break;
            }
            total += n;
        }
        Ok(total)
    }

    /// Writing failed (the server went away): read what it said before it
    /// went, whose reply may decide the dialogue (a refusal, a 421), then
    /// the error.
    fn after_write_error(
        &mut self,
        e: Error,
        d: &mut dyn Dialogue,
        trace: &mut Trace,
        clocks: &mut Clocks,
    ) -> Result<Flow> {
        if !self.eof && !self.handshaking() {
            let _ = self.read_some(trace);
            if self.deliver(d, trace, clocks)? == Flow::Close {
                return Ok(Flow::Close);
            }
        }
        Err(e)
    }

    /// A write error: `Ok(None)` when the socket is only full, `Ok(Some(0))`
    /// to try again, else the error.
    fn write_failed(&mut self, e: io::Error) -> Result<Option<usize>> {
        match e.kind() {
            io::ErrorKind::WouldBlock => Ok(None),
            io::ErrorKind::Interrupted => Ok(Some(0)),
            _ => Err(io_error(e, "sending")),
        }
    }

    /// Read what has arrived into the parser; the number of bytes read
    /// from the socket. Sets `eof` when the peer closed.
    fn read_some(&mut self, trace: &mut Trace) -> Result<usize> {
        let mut total = 0;
        // A bounded number of reads per turn, so a flood cannot starve writing.
        for _ in 0..16 {
            let got = match &mut self.tls {
                None => match self.sock.recv(&mut self.rbuf) {
                    Ok(0) => {
                        self.eof = true;
                        return Ok(total);
                    }
                    Ok(n) => {
                        feed(&mut self.parser, trace, &self.rbuf[..n]);
                        // A short read took all there was: the next poll
                        // says when more comes (no recv for nought).
                        if n < self.rbuf.len() {
                            return Ok(total + n);
                        }
                        n
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(total),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(io_error(e, "reading a reply")),
                },
                Some(tls) => {
                    let n = match tls.read_tls(&mut SocketIo(&self.sock)) {
                        Ok(0) => {
                            self.eof = true;
                            0
                        }
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(total),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(io_error(e, "reading a reply")),
                    };
                    if let Err(e) = tls.process_new_packets() {
                        // The alert that says why, as far as the socket takes it.
                        let _ = tls.write_tls(&mut SocketIo(&self.sock));
                        return Err(crate::tls::describe(&e, &self.tls_host));
                    }
                    loop {
                        match tls.reader().read(&mut self.rbuf) {
                            Ok(0) => {
                                self.eof = true; // close_notify
                                break;
                            }
                            Ok(m) => feed(&mut self.parser, trace, &self.rbuf[..m]),
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                            // End of stream without close_notify: a close all the same.
                            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                                self.eof = true;
                                break;
                            }
                            Err(e) => return Err(io_error(e, "reading a reply")),
                        }
                    }
                    if self.eof {
                        return Ok(total + n);
                    }
                    n
                }
            };
            total += got;
        }
        Ok(total)
    }
}

fn feed(parser: &mut ReplyParser, trace: &mut Trace, bytes: &[u8]) {
    if trace.enabled() {
        for line in bytes.split_inclusive(|&b| b == b'\n') {
            trace.bytes(Direction::Recv, "reply", line);
        }
    }
    parser.feed(bytes);
}

/// One command's reply.
struct OneReply {
    phase: Phase,
    got: Option<Reply>,
}

impl Dialogue for OneReply {
    fn fill(&mut self, _: &mut Outbox<'_>) -> Result<()> {
        Ok(())
    }

    fn reply(&mut self, reply: Reply) -> Flow {
        self.got = Some(reply);
        Flow::Continue
    }

    fn awaiting(&self) -> Option<Phase> {
        self.got.is_none().then_some(self.phase)
    }

    fn done(&self) -> bool {
        self.got.is_some()
    }
}

/// Nothing but what is queued (and the TLS handshake).
struct Nothing;

impl Dialogue for Nothing {
    fn fill(&mut self, _: &mut Outbox<'_>) -> Result<()> {
        Ok(())
    }

    fn reply(&mut self, _: Reply) -> Flow {
        Flow::Continue
    }

    fn awaiting(&self) -> Option<Phase> {
        None
    }

    fn done(&self) -> bool {
        true
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

fn io_error(e: io::Error, doing: &str) -> Error {
    match e.kind() {
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

    #[test]
    fn outbuf_keeps_order_across_partial_writes() {
        let mut o = OutBuf::default();
        o.buf.extend_from_slice(b"hello world");
        o.consume(6);
        assert_eq!(o.pending(), b"world");
        o.buf.extend_from_slice(b"!");
        o.consume(5);
        assert_eq!(o.pending(), b"!");
        o.consume(1);
        assert_eq!(o.len(), 0);
        assert!(o.buf.is_empty());
    }
}
