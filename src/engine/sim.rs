//! The transaction engine against a simulated server, with no socket and
//! no clock: the engine's bytes go to a small SMTP/LMTP server model whose
//! every answer is drawn from a table (a fuzzer's input), and its replies
//! come back in fragments of any size. Used by the engine's tests and by
//! the `engine_replies` fuzz target to check the engine's invariants:
//!
//! - a message is reported sent only when the server accepted it (its
//!   final 2xx), and one the server accepted is reported sent;
//! - every recipient has exactly one verdict (LMTP: each accepted one gets
//!   a reply after the data, or code 0);
//! - lockstep and a window of N messages give the same results.

use super::{Body, Engine, Envelope, Settings, Txn, Work};
use crate::conn::{Dialogue, Flow, Loopback};
use crate::data::LineEndings;
use crate::error::Error;
use crate::reply::ReplyParser;

/// The server's answers, drawn from bytes: each is a function of what is
/// asked (which message, which command, which recipient or chunk), never
/// of when, so that lockstep and pipelining meet the same server.
#[derive(Clone, Debug, Default)]
pub struct Decisions(pub Vec<u8>);

impl Decisions {
    fn pick(&self, msg: u32, what: u8, index: u32, choices: &[i32]) -> i32 {
        if self.0.is_empty() {
            return choices[0];
        }
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in msg.to_le_bytes().into_iter().chain([what]).chain(index.to_le_bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        let byte = self.0[(h % self.0.len() as u64) as usize];
        choices[usize::from(byte) % choices.len()]
    }
}

/// One message: `m{index}@x` to `r0@x`…, with this body.
#[derive(Clone, Debug)]
pub struct SimMessage {
    pub rcpts: usize,
    pub body: Vec<u8>,
}

#[derive(Debug)]
enum Mode {
    Command,
    /// After 354 until the dot; `good`: a transaction with recipients.
    Data {
        good: bool,
    },
    Bdat {
        left: usize,
        last: bool,
    },
}

#[derive(Debug)]
struct ServerTxn {
    msg: u32,
    rcpts: Vec<usize>,
    chunks: u32,
    failed: bool,
}

/// A server that answers as [`Decisions`] say and remembers what it
/// delivered. It reads everything it is sent, as RFC 3030 requires of BDAT
/// data after a failure, and it never resets a transaction that a failed
/// BDAT left open: only RSET does (the worst a real server may do).
#[derive(Debug)]
pub struct FakeServer<'d> {
    d: &'d Decisions,
    lmtp: bool,
    input: Vec<u8>,
    mode: Mode,
    txn: Option<ServerTxn>,
    out: Vec<u8>,
    /// It closed the connection (after a 421, or after `close_after` replies).
    pub closed: bool,
    replies: usize,
    close_after: Option<usize>,
    /// (message, recipient) pairs delivered.
    pub delivered: Vec<(u32, usize)>,
}

impl<'d> FakeServer<'d> {
    pub fn new(d: &'d Decisions, lmtp: bool, close_after: Option<usize>) -> FakeServer<'d> {
        FakeServer {
            d,
            lmtp,
            input: Vec::new(),
            mode: Mode::Command,
            txn: None,
            out: Vec::new(),
            closed: false,
            replies: 0,
            close_after,
            delivered: Vec::new(),
        }
    }

    fn reply(&mut self, code: i32) {
        if self.closed {
            return;
        }
        self.out.extend_from_slice(format!("{code} sim\r\n").as_bytes());
        self.replies += 1;
        if code == 421 || self.close_after.is_some_and(|n| self.replies >= n) {
            self.closed = true;
        }
    }

    /// Reply bytes not yet taken.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// Bytes from the client.
    pub fn consume(&mut self, bytes: &[u8]) {
        self.input.extend_from_slice(bytes);
        while !self.closed && self.step() {}
    }

    /// Handle one complete unit of input; false when more is needed.
    fn step(&mut self) -> bool {
        match self.mode {
            Mode::Command | Mode::Data { .. } => {
                let Some(nl) = self.input.windows(2).position(|w| w == b"\r\n") else { return false };
                let line: Vec<u8> = self.input.drain(..nl + 2).collect();
                let line = &line[..nl];
                match self.mode {
                    Mode::Data { good } => {
                        if line == b"." {
                            self.mode = Mode::Command;
                            if good {
                                self.finals();
                            } else {
                                self.reply(554);
                            }
                        }
                    }
                    _ => self.command(&String::from_utf8_lossy(line).to_ascii_lowercase()),
                }
            }
            Mode::Bdat { left, last } => {
                let n = left.min(self.input.len());
                self.input.drain(..n);
                if n < left {
                    self.mode = Mode::Bdat { left: left - n, last };
                    return false;
                }
                self.mode = Mode::Command;
                self.chunk_done(last);
            }
        }
        true
    }

    fn command(&mut self, line: &str) {
        let number = |after: &str| {
            line.split(after).nth(1).and_then(|r| r.split('@').next()).and_then(|n| n.parse::<u32>().ok())
        };
        if line.starts_with("mail from:") {
            let id = number("<m").unwrap_or(u32::MAX);
            if self.txn.is_some() {
                return self.reply(503); // nested MAIL
            }
            let code = self.d.pick(id, b'M', 0, &[250, 250, 250, 250, 550, 451, 421]);
            if code == 250 {
                self.txn = Some(ServerTxn { msg: id, rcpts: Vec::new(), chunks: 0, failed: false });
            }
            self.reply(code);
        } else if line.starts_with("rcpt to:") {
            let k = number("<r").unwrap_or(u32::MAX);
            let Some(t) = &self.txn else { return self.reply(503) };
            let code = self.d.pick(t.msg, b'R', k, &[250, 250, 250, 251, 550, 452, 421]);
            if matches!(code, 250 | 251) {
                self.txn.as_mut().expect("checked").rcpts.push(k as usize);
            }
            self.reply(code);
        } else if line == "data" {
            match &self.txn {
                Some(t) if !t.rcpts.is_empty() => {
                    let code = self.d.pick(t.msg, b'D', 0, &[354, 354, 354, 354, 451, 554, 421]);
                    if code == 354 {
                        self.mode = Mode::Data { good: true };
                    }
                    self.reply(code);
                }
                // Some servers say 354 even then (the engine owes an empty body).
                t => {
                    let code = self.d.pick(t.as_ref().map_or(0, |t| t.msg), b'Q', 0, &[503, 554, 354]);
                    if code == 354 {
                        self.mode = Mode::Data { good: false };
                    }
                    self.reply(code);
                }
            }
        } else if let Some(args) = line.strip_prefix("bdat ") {
            let mut words = args.split_whitespace();
            let left = words.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            let last = words.next() == Some("last");
            self.mode = Mode::Bdat { left, last };
        } else if line == "rset" {
            self.txn = None;
            self.reply(250);
        } else {
            self.reply(500);
        }
    }

    fn chunk_done(&mut self, last: bool) {
        let Some(t) = &mut self.txn else { return self.reply(503) };
        if t.rcpts.is_empty() {
            return self.reply(554);
        }
        if t.failed {
            return self.reply(503);
        }
        if last {
            return self.finals();
        }
        let code = self.d.pick(t.msg, b'C', t.chunks, &[250, 250, 250, 250, 552, 451, 421]);
        t.chunks += 1;
        t.failed = code != 250;
        self.reply(code);
    }

    /// The replies after the data; the transaction ends.
    fn finals(&mut self) {
        let Some(t) = self.txn.take() else { return self.reply(503) };
        if !self.lmtp {
            let code = self.d.pick(t.msg, b'F', 0, &[250, 250, 250, 554, 452, 421]);
            if code == 250 {
                self.delivered.extend(t.rcpts.iter().map(|&k| (t.msg, k)));
            }
            return self.reply(code);
        }
        for &k in &t.rcpts {
            let code = self.d.pick(t.msg, b'F', k as u32, &[250, 250, 250, 452, 550, 421]);
            if code == 250 && !self.closed {
                self.delivered.push((t.msg, k));
            }
            self.reply(code);
        }
    }
}

/// Message `i`'s envelope: from `m{i}@x` to `r0@x`, `r1@x`...
pub fn envelope(i: usize, rcpts: usize) -> Envelope {
    let to: Vec<String> = (0..rcpts).map(|k| format!("r{k}@x")).collect();
    Envelope {
        from: format!("m{i}@x"),
        mail_args: format!("from:<m{i}@x>"),
        rcpt_args: to.iter().map(|t| format!("to:<{t}>")).collect(),
        to,
        utf8: false,
    }
}

/// One message's result, without texts: comparable across modes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Ok: the refused (recipient, code); Err: the error's kind and reply code.
    pub result: Result<Vec<(String, i32)>, (String, i32)>,
    /// Each recipient's (address, RCPT code, code after the data).
    pub rcpts: Vec<(String, i32, Option<i32>)>,
}

fn kind(e: &Error) -> (String, i32) {
    let name = format!("{e:?}");
    (name.split(['(', ' ', '{']).next().unwrap_or("").to_string(), e.reply().map_or(0, |r| r.code))
}

/// Run `msgs` through the engine against the simulated server. `splits`
/// gives the sizes (1..=256) in which reply bytes reach the client, in
/// turn; empty: all at once. Returns each message's outcome and what the
/// server delivered. Panics when the engine stalls (waits for a reply the
/// server will never send, or neither sends nor waits and is not done).
pub fn run(
    settings: Settings,
    msgs: &[SimMessage],
    d: &Decisions,
    close_after: Option<usize>,
    splits: &[u8],
) -> (Vec<Outcome>, Vec<(u32, usize)>) {
    let parts: Vec<[&[u8]; 1]> = msgs.iter().map(|m| [m.body.as_slice()]).collect();
    let work = msgs
        .iter()
        .zip(&parts)
        .enumerate()
        .map(|(i, (m, p))| {
            Work::new(Txn::new(envelope(i, m.rcpts), settings.lmtp, false), Body::Parts(p), LineEndings::Pass)
        })
        .collect();
    let mut engine = Engine::new(settings, work);
    let mut server = FakeServer::new(d, settings.lmtp, close_after);
    let mut lb = Loopback::default();
    let mut parser = ReplyParser::new();
    let mut wire: Vec<u8> = Vec::new();
    let mut split = splits.iter().cycle();
    let ended = loop {
        let sent = match lb.sent(&mut engine) {
            Ok(sent) => sent,
            Err(e) => break Some(e),
        };
        server.consume(&sent);
        wire.append(&mut server.take_output());
        let n = split.next().map_or(wire.len(), |&s| wire.len().min(usize::from(s) + 1));
        parser.feed(&wire[..n]);
        wire.drain(..n);
        let mut closing = false;
        while engine.awaiting().is_some() {
            match parser.next_reply() {
                Ok(Some(r)) => {
                    if engine.reply(r) == Flow::Close {
                        closing = true;
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => panic!("the simulated server sent a bad reply: {e:?}"),
            }
        }
        if closing {
            break Some(Error::ServerDisconnected("421".into()));
        }
        if engine.done() {
            break None;
        }
        if wire.is_empty() && parser.buffered() == 0 && server.closed {
            break Some(Error::ServerDisconnected("closed".into()));
        }
        if wire.is_empty() && parser.buffered() == 0 && sent.is_empty() && n == 0 {
            panic!("the engine stalled: awaiting {:?}, server in {:?}", engine.awaiting(), server.mode);
        }
    };
    if let Some(e) = ended {
        engine.end(&e);
    }
    let outcomes = engine
        .into_work()
        .into_iter()
        .map(|w| Outcome {
            result: match w.txn.verdict.expect("every message is decided") {
                Ok(sent) => Ok(sent.refused.iter().map(|r| (r.recipient.clone(), r.reply.code)).collect()),
                Err(e) => Err(kind(&e)),
            },
            rcpts: w
                .txn
                .rcpts
                .iter()
                .map(|r| (r.addr.clone(), r.reply.code, r.data_reply.as_ref().map(|d| d.code)))
                .collect(),
        })
        .collect();
    (outcomes, server.delivered)
}

/// The invariants of one run: sent only when delivered and delivered only
/// when reported sent, recipient by recipient; one verdict per recipient.
pub fn check(settings: &Settings, msgs: &[SimMessage], outcomes: &[Outcome], delivered: &[(u32, usize)]) {
    assert_eq!(outcomes.len(), msgs.len());
    for (i, (m, o)) in msgs.iter().zip(outcomes).enumerate() {
        let mut seen: Vec<&str> = o.rcpts.iter().map(|r| r.0.as_str()).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), o.rcpts.len(), "message {i}: a recipient has two results: {o:?}");
        assert!(o.rcpts.len() <= m.rcpts, "message {i}: more results than recipients");
        let got: Vec<usize> = delivered.iter().filter(|d| d.0 == i as u32).map(|d| d.1).collect();
        let accepted = |r: &&(String, i32, Option<i32>)| matches!(r.1, 250 | 251);
        if settings.lmtp {
            for r in o.rcpts.iter().filter(accepted) {
                assert!(
                    r.2.is_some(),
                    "message {i}: accepted LMTP recipient {} has no verdict after the data: {o:?}",
                    r.0
                );
            }
            let said: Vec<usize> =
                o.rcpts.iter().filter(|r| r.2 == Some(250)).map(|r| r.0[1..r.0.len() - 2].parse().unwrap()).collect();
            assert_eq!(said, got, "message {i}: delivered vs reported per recipient: {o:?}");
        } else if o.result.is_ok() {
            assert_eq!(o.rcpts.len(), m.rcpts, "message {i}: sent, but not every recipient has a result");
            let said: Vec<usize> =
                o.rcpts.iter().filter(accepted).map(|r| r.0[1..r.0.len() - 2].parse().unwrap()).collect();
            assert_eq!(said, got, "message {i}: reported sent to other recipients than delivered");
        } else {
            assert!(got.is_empty(), "message {i}: delivered but reported failed: {o:?}");
        }
        if o.result.is_ok() {
            assert!(!got.is_empty(), "message {i}: reported sent but nothing delivered: {o:?}");
        }
    }
}
