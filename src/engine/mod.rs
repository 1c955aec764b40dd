//! The transaction engine: pure (no sockets, no clocks), it decides what
//! to send next and matches replies to commands in the order they went out.
//!
//! One engine serves every mode, which differ only in how far it may run
//! ahead of the replies:
//! - lockstep (no PIPELINING): one command, then its reply (smtplib);
//! - PIPELINING (RFC 2920): a transaction's MAIL, RCPTs and DATA in one
//!   group, the body after DATA's 354 (DATA ends a group), and in a batch
//!   the next message's group right behind the final dot: one round trip per
//!   message, the floor without CHUNKING;
//! - PIPELINING and CHUNKING (RFC 3030 4.2): MAIL, RCPTs and BDAT with
//!   the data need no intermediate reply, so messages follow each other
//!   without waiting, up to [`WINDOW`] in flight. A message whose
//!   predecessor's outcome is unknown when it starts begins with RSET (a
//!   failed envelope may have left a transaction open at the server).
//!
//! The verdicts are [`txn::Txn`]'s; the driver (`conn.rs`) runs the engine
//! as a [`Dialogue`].

pub mod body;
#[cfg(any(test, feature = "sim"))]
pub mod sim;
#[cfg(test)]
mod tests;
pub mod txn;

use std::collections::VecDeque;

pub use body::{Body, Source};
pub use txn::{Envelope, RcptResult, Sent, Step, Txn};

use crate::command;
use crate::conn::{Dialogue, Flow, Outbox, Sensitivity};
use crate::data::{DataEncoder, LineEndings};
use crate::deadline::Phase;
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::trace::Direction;
use txn::Next;

/// BDAT chunk size: a refusal stops the message at the next chunk boundary.
pub(crate) const CHUNK: usize = 1024 * 1024;
/// Messages in flight at most with PIPELINING and CHUNKING. Their unread
/// replies (about a hundred bytes each) stay far below any socket buffer,
/// and the driver reads them as they come anyway.
pub(crate) const WINDOW: usize = 32;
/// The engine stops filling once this much waits to be written.
const HIGH_WATER: usize = 256 * 1024;

/// What the server offers and the caller allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    pub lmtp: bool,
    pub pipelining: bool,
    pub chunking: bool,
    /// Read RFC 3463 status codes (ENHANCEDSTATUSCODES).
    pub enhanced: bool,
    /// Messages in flight at most (PIPELINING and CHUNKING only).
    pub window: usize,
    /// BDAT chunk size ([`CHUNK`]; smaller in the simulations).
    pub chunk: usize,
}

/// Where a transaction's sending stands.
#[derive(Debug)]
enum Emit {
    /// Not begun.
    Fresh,
    /// MAIL went; the next RCPT to send.
    Envelope(usize),
    /// DATA went: its reply decides.
    AwaitGo,
    /// The body after 354, dot-stuffed.
    Body(Option<DataEncoder>),
    /// BDAT chunks: the encoder and the chunk being filled.
    Chunks(Option<DataEncoder>, Vec<u8>),
    /// Nothing more to send for it.
    Finished,
}

/// One message: its transaction, its source, how far its sending got.
#[derive(Debug)]
pub struct Work<'a> {
    pub txn: Txn,
    source: Source<'a>,
    mode: LineEndings,
    emit: Emit,
    /// It sent its own RSET after failing.
    reset_sent: bool,
    /// The end of its data (final dot, or BDAT LAST) went out.
    data_sent: bool,
    /// The connection ended after the end of its data went out and before
    /// the reply that decides it came: the server may have taken it.
    unanswered: bool,
}

impl<'a> Work<'a> {
    pub fn new(txn: Txn, body: Body<'a>, mode: LineEndings) -> Work<'a> {
        Work {
            txn,
            source: Source::new(body, mode),
            mode,
            emit: Emit::Fresh,
            reset_sent: false,
            data_sent: false,
            unanswered: false,
        }
    }

    /// It sent RSET after failing (smtplib's command encoding ends there).
    pub fn reset_sent(&self) -> bool {
        self.reset_sent
    }

    /// Its data went out in full and no reply decided it before the
    /// connection ended: whether the server took it is unknown.
    pub fn unanswered(&self) -> bool {
        self.unanswered
    }
}

/// What sending one transaction did.
enum Progress {
    /// Something went out (or its state moved): try again.
    More,
    /// It must wait for replies.
    Blocked,
    /// It has nothing more to send.
    Finished,
}

#[derive(Debug)]
pub struct Engine<'a> {
    settings: Settings,
    work: Vec<Work<'a>>,
    /// The next transaction to start.
    next: usize,
    /// The transaction being sent.
    cur: Option<usize>,
    /// Replies awaited, oldest first: (transaction, step).
    expect: VecDeque<(usize, Step)>,
    /// DATA replies awaited: nothing may follow DATA before its 354.
    data_awaited: usize,
    /// Transactions with replies still awaited (the window counts them):
    /// kept as a count, not found by a scan, so a batch of any length costs
    /// the same per message.
    in_flight: usize,
    /// A 421 came: the server is closing.
    closing: bool,
}

impl<'a> Engine<'a> {
    pub fn new(settings: Settings, work: Vec<Work<'a>>) -> Engine<'a> {
        Engine {
            settings,
            work,
            next: 0,
            cur: None,
            expect: VecDeque::new(),
            data_awaited: 0,
            in_flight: 0,
            closing: false,
        }
    }

    /// The connection ended before everything was decided (closed, timed
    /// out, cancelled, or the message source failed): whatever is undecided
    /// gets `e`; messages never begun were not sent.
    pub fn end(&mut self, e: &Error) {
        for (i, w) in self.work.iter_mut().enumerate() {
            if i < self.next {
                w.unanswered |= w.data_sent && w.txn.verdict.is_none();
                w.txn.end(e);
            } else if w.txn.verdict.is_none() {
                w.txn.verdict = Some(Err(match e {
                    Error::Cancelled(_) => Error::Cancelled("the call was cancelled before this message".into()),
                    _ => Error::ServerDisconnected("the connection closed before this message".into()),
                }));
            }
        }
    }

    /// The transactions, decided.
    pub fn into_work(self) -> Vec<Work<'a>> {
        self.work
    }

    fn push(&mut self, i: usize, step: Step) {
        self.expect.push_back((i, step));
        let txn = &mut self.work[i].txn;
        txn.outstanding += 1;
        if txn.outstanding == 1 {
            self.in_flight += 1;
        }
        if step == Step::Data {
            self.data_awaited += 1;
        }
    }

    fn command(&mut self, i: usize, step: Step, out: &mut Outbox<'_>, verb: &str, args: &str) -> Result<()> {
        out.command(&command::line(verb, args)?, Sensitivity::Plain);
        self.push(i, step);
        Ok(())
    }

    /// Lockstep sends a command only when every reply is in.
    fn may_send(&self) -> bool {
        self.settings.pipelining || self.expect.is_empty()
    }

    fn may_start(&self) -> bool {
        if self.cur.is_some() || self.next >= self.work.len() {
            return false;
        }
        match (self.settings.pipelining, self.settings.chunking) {
            (false, _) => self.expect.is_empty(),
            (true, false) => true,
            (true, true) => self.in_flight < self.settings.window.max(1),
        }
    }

    /// The last transaction begun owes an RSET (smtplib's `_rset` after a
    /// failure), unless a later one has begun since.
    fn owed_reset(&self) -> Option<usize> {
        let i = self.next.checked_sub(1)?;
        let w = &self.work[i];
        let owed = w.txn.failed() && w.txn.reset_wanted && !w.reset_sent && matches!(w.emit, Emit::Finished);
        (owed && self.may_send()).then_some(i)
    }

    /// Send what may go now.
    fn fill_now(&mut self, out: &mut Outbox<'_>) -> Result<()> {
        loop {
            // Nothing may follow DATA until its 354 (RFC 2920 3.1).
            if out.len() >= HIGH_WATER || self.closing || self.data_awaited > 0 {
                return Ok(());
            }
            if let Some(i) = self.owed_reset() {
                self.command(i, Step::Rset, out, "rset", "")?;
                self.work[i].reset_sent = true;
                continue;
            }
            if let Some(i) = self.cur {
                match self.emit(i, out)? {
                    Progress::More => continue,
                    Progress::Blocked => return Ok(()),
                    Progress::Finished => {
                        self.work[i].emit = Emit::Finished;
                        self.cur = None;
                        continue;
                    }
                }
            }
            if !self.may_start() {
                return Ok(());
            }
            let i = self.next;
            self.next += 1;
            self.cur = Some(i);
            if let Some(p) = i.checked_sub(1).map(|p| &self.work[p]) {
                if !(p.reset_sent || p.txn.closed_at_server(p.data_sent)) {
                    self.command(i, Step::Rset, out, "rset", "")?;
                }
            }
        }
    }

    /// Send the next part of transaction `i`.
    fn emit(&mut self, i: usize, out: &mut Outbox<'_>) -> Result<Progress> {
        let may_send = self.may_send();
        let chunking = self.settings.chunking;
        let chunk_size = self.settings.chunk.max(1);
        let w = &mut self.work[i];
        match &mut w.emit {
            Emit::Fresh => {
                if !may_send {
                    return Ok(Progress::Blocked);
                }
                match w.txn.env.as_ref().map(|e| e.mail_args.clone()) {
                    Some(args) => {
                        w.emit = Emit::Envelope(0);
                        self.command(i, Step::Mail, out, "mail", &args)?;
                    }
                    // smtplib's `data()`: MAIL and RCPT were the caller's.
                    None => {
                        w.emit = Emit::AwaitGo;
                        self.command(i, Step::Data, out, "data", "")?;
                    }
                }
            }
            Emit::Envelope(k) => {
                if w.txn.failed() {
                    return Ok(Progress::Finished);
                }
                if !may_send {
                    return Ok(Progress::Blocked);
                }
                let k = *k;
                let env = w.txn.env.as_ref().expect("an envelope is being sent");
                if k < env.rcpt_args.len() {
                    let args = env.rcpt_args[k].clone();
                    w.emit = Emit::Envelope(k + 1);
                    self.command(i, Step::Rcpt(k), out, "rcpt", &args)?;
                } else if chunking {
                    out.trace().line(Direction::Send, "data", "message follows (BDAT)");
                    w.emit = Emit::Chunks(Some(DataEncoder::for_chunks(w.mode)), Vec::new());
                } else {
                    w.emit = Emit::AwaitGo;
                    self.command(i, Step::Data, out, "data", "")?;
                }
            }
            Emit::AwaitGo => {
                if w.txn.empty_dot_due {
                    // A 354 the failed transaction cannot use: an empty body
                    // puts the server back in step.
                    w.txn.empty_dot_due = false;
                    out.data().extend_from_slice(b".\r\n");
                    self.push(i, Step::EmptyDot);
                    return Ok(Progress::Finished);
                }
                match w.txn.go {
                    Some(true) => {
                        out.trace().line(Direction::Send, "data", "message follows");
                        w.emit = Emit::Body(Some(DataEncoder::new(w.mode)));
                    }
                    Some(false) => return Ok(Progress::Finished),
                    None => return Ok(Progress::Blocked),
                }
            }
            Emit::Body(enc) => {
                while out.len() < HIGH_WATER {
                    let e = enc.as_mut().expect("the encoder lives until the end");
                    match w.source.next_piece()? {
                        Some(piece) => e.encode(piece, out.data()),
                        None => {
                            enc.take().expect("once").finish(out.data());
                            w.data_sent = true;
                            let n = w.source.read;
                            out.trace().line(Direction::Send, "data", &format!("{n} message bytes sent"));
                            self.push(i, Step::Last);
                            return Ok(Progress::Finished);
                        }
                    }
                }
            }
            Emit::Chunks(enc, chunk) => {
                // A refusal stops the message at a chunk boundary (RFC 3030 2).
                if w.txn.failed() {
                    return Ok(Progress::Finished);
                }
                if !may_send {
                    return Ok(Progress::Blocked);
                }
                let mut last = false;
                while chunk.len() < chunk_size {
                    let e = enc.as_mut().expect("the encoder lives until the end");
                    match w.source.next_piece()? {
                        Some(piece) => e.encode(piece, chunk),
                        None => {
                            enc.take().expect("once").finish(chunk);
                            last = true;
                            break;
                        }
                    }
                }
                let args = format!("{}{}", chunk.len(), if last { " LAST" } else { "" });
                let data = std::mem::take(chunk);
                if last {
                    w.data_sent = true;
                    let n = w.source.read;
                    out.trace().line(Direction::Send, "data", &format!("{n} message bytes sent in BDAT chunks"));
                }
                self.command(i, if last { Step::Last } else { Step::Chunk }, out, "BDAT", &args)?;
                out.data().extend_from_slice(&data);
                if last {
                    return Ok(Progress::Finished);
                }
            }
            Emit::Finished => return Ok(Progress::Finished),
        }
        Ok(Progress::More)
    }
}

impl Dialogue for Engine<'_> {
    fn fill(&mut self, out: &mut Outbox<'_>) -> Result<()> {
        self.fill_now(out)
    }

    fn reply(&mut self, reply: Reply) -> Flow {
        let Some(&(i, step)) = self.expect.front() else {
            return Flow::Continue;
        };
        let txn = &mut self.work[i].txn;
        let (next, answered) = txn.on_reply(step, reply);
        if answered {
            self.expect.pop_front();
            txn.outstanding -= 1;
            if txn.outstanding == 0 {
                self.in_flight -= 1;
            }
            if step == Step::Data {
                self.data_awaited -= 1;
            }
            if txn.outstanding == 0 && txn.verdict.is_some() {
                txn.mark_unanswered();
            }
        }
        if next == Next::Close {
            self.closing = true;
            return Flow::Close;
        }
        Flow::Continue
    }

    fn awaiting(&self) -> Option<Phase> {
        self.expect.front().map(|&(_, step)| match step {
            Step::Rset => Phase::Command,
            Step::Mail => Phase::Mail,
            Step::Rcpt(_) => Phase::Rcpt,
            Step::Data | Step::Chunk => Phase::Data,
            Step::EmptyDot | Step::Last => Phase::FinalDot,
        })
    }

    fn done(&self) -> bool {
        self.closing
            || (self.expect.is_empty()
                && self.cur.is_none()
                && self.next == self.work.len()
                && self.owed_reset().is_none())
    }
}
