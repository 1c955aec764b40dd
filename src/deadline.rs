//! The session's time limits, and the rule that turns them into the end of
//! each wait: a wait ends at the earliest of the limits that apply to it,
//! and the error names the limit that fired.
//!
//! RFC 5321 4.5.3.2 gives a limit per reply (greeting, MAIL, RCPT, DATA,
//! the final dot) and per block of message data; libsmtp adds one for the
//! connection, one for any wait without progress (`io`), and one for a
//! whole library call. Unlike a socket timeout (smtplib's), a reply limit
//! does not restart with each byte, so a server that trickles cannot
//! stretch a wait.

use std::time::{Duration, Instant};

use crate::error::Error;

/// How long the connection may wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Resolving the name, and connecting to each address tried.
    pub connect: Option<Duration>,
    /// Any wait in which nothing is sent or received (but for message data,
    /// which has `data_block`).
    pub io: Option<Duration>,
    /// The whole of one reply to a command without a phase of its own.
    pub reply: Option<Duration>,
    /// The greeting (RFC 5321 4.5.3.2.1: 5 minutes); also a TLS handshake.
    pub greeting: Option<Duration>,
    /// The reply to MAIL (4.5.3.2.2: 5 minutes).
    pub mail: Option<Duration>,
    /// The reply to each RCPT (4.5.3.2.3: 5 minutes).
    pub rcpt: Option<Duration>,
    /// The reply to DATA, and to each BDAT chunk but the last (4.5.3.2.4: 2 minutes).
    pub data: Option<Duration>,
    /// Progress while message data waits to be sent, in place of `io`
    /// (4.5.3.2.5: 3 minutes per block).
    pub data_block: Option<Duration>,
    /// The reply after the final dot or the last BDAT chunk (4.5.3.2.6: 10 minutes).
    pub final_dot: Option<Duration>,
    /// The whole of one library call, however many waits it takes.
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

impl Timeouts {
    /// Every limit on a single wait (all but `call`): what smtplib's
    /// `timeout=` means to its users, no wait longer than this.
    pub fn per_wait_mut(&mut self) -> [&mut Option<Duration>; 9] {
        [
            &mut self.connect,
            &mut self.io,
            &mut self.reply,
            &mut self.greeting,
            &mut self.mail,
            &mut self.rcpt,
            &mut self.data,
            &mut self.data_block,
            &mut self.final_dot,
        ]
    }

    /// Set every limit on a single wait at once.
    pub fn set_per_wait(&mut self, d: Option<Duration>) {
        for slot in self.per_wait_mut() {
            *slot = d;
        }
    }

    /// The longest any single wait may last (`None`: some wait is unbounded).
    pub fn longest_wait(&self) -> Option<Duration> {
        let mut t = *self;
        let longest = t.per_wait_mut().into_iter().try_fold(Duration::ZERO, |acc, d| d.map(|d| acc.max(d)));
        longest
    }

    fn reply_limit(&self, phase: Phase) -> Option<Duration> {
        match phase {
            Phase::Command => self.reply,
            Phase::Greeting | Phase::Handshake => self.greeting,
            Phase::Mail => self.mail,
            Phase::Rcpt => self.rcpt,
            Phase::Data => self.data,
            Phase::FinalDot => self.final_dot,
        }
    }
}

/// What a wait is for: it chooses the reply limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// A reply to a command without a phase of its own.
    Command,
    Greeting,
    /// The TLS handshake (bounded by the greeting limit).
    Handshake,
    Mail,
    Rcpt,
    /// The reply to DATA, or to a BDAT chunk that is not the last.
    Data,
    /// The reply after the final dot, or to the last BDAT chunk.
    FinalDot,
}

impl Phase {
    fn what(self) -> &'static str {
        match self {
            Phase::Command => "reply",
            Phase::Greeting => "greeting",
            Phase::Handshake => "TLS handshake",
            Phase::Mail => "MAIL reply",
            Phase::Rcpt => "RCPT reply",
            Phase::Data => "DATA reply",
            Phase::FinalDot => "reply after the final dot",
        }
    }

    fn constant(self) -> &'static str {
        match self {
            Phase::Command => "SMTP_TIMEOUT_REPLY",
            Phase::Greeting | Phase::Handshake => "SMTP_TIMEOUT_GREETING",
            Phase::Mail => "SMTP_TIMEOUT_MAIL",
            Phase::Rcpt => "SMTP_TIMEOUT_RCPT",
            Phase::Data => "SMTP_TIMEOUT_DATA",
            Phase::FinalDot => "SMTP_TIMEOUT_FINAL_DOT",
        }
    }
}

/// A limit that can end a wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// `Timeouts::call`.
    Call,
    /// `Timeouts::connect`: resolving or connecting.
    Connect,
    /// `Timeouts::io`: nothing sent or received.
    Io,
    /// `Timeouts::data_block`: message data not taken by the server.
    DataBlock,
    /// The reply limit of a phase.
    Reply(Phase),
}

impl Limit {
    /// The error for this limit having fired, with the limit's length.
    pub fn error(self, t: &Timeouts) -> Error {
        let ms = |d: Option<Duration>| d.map_or(0, |d| d.as_millis());
        Error::Timeout(match self {
            Limit::Call => "the call did not finish within its deadline (SMTP_TIMEOUT_CALL)".into(),
            Limit::Connect => format!("no connection within {} ms (SMTP_TIMEOUT_CONNECT)", ms(t.connect)),
            Limit::Io => format!("I/O timeout: nothing sent or received for {} ms (SMTP_TIMEOUT_IO)", ms(t.io)),
            Limit::DataBlock => format!(
                "sending message data: the server took none for {} ms (SMTP_TIMEOUT_DATA_BLOCK)",
                ms(t.data_block)
            ),
            Limit::Reply(p) => {
                format!("no complete {} within its deadline ({} ms, {})", p.what(), ms(t.reply_limit(p)), p.constant())
            }
        })
    }
}

/// The earliest of the deadlines added, and which limit it belongs to. A
/// tie goes to the limit added first.
#[derive(Clone, Copy, Debug, Default)]
pub struct Earliest(Option<(Instant, Limit)>);

impl Earliest {
    pub fn add(&mut self, at: Option<Instant>, limit: Limit) {
        if let Some(at) = at {
            if self.0.is_none_or(|(t, _)| at < t) {
                self.0 = Some((at, limit));
            }
        }
    }

    /// `since + limit`, when the limit is set.
    pub fn add_after(&mut self, since: Instant, d: Option<Duration>, limit: Limit) {
        self.add(d.map(|d| since + d), limit);
    }

    pub fn get(&self) -> Option<(Instant, Limit)> {
        self.0
    }

    pub fn instant(&self) -> Option<Instant> {
        self.0.map(|(t, _)| t)
    }
}

/// The clocks of one wait for replies, as the driver keeps them: the reply
/// limit counts from `reply_since` (the last reply, or the moment nothing
/// was left to send), `io` from the last byte either way, the data-block
/// limit from the last write (or the moment data was left to send).
#[derive(Clone, Copy, Debug)]
pub struct Clocks {
    pub reply_since: Instant,
    pub last_io: Instant,
    pub last_write: Instant,
}

impl Clocks {
    pub fn new(now: Instant) -> Clocks {
        Clocks { reply_since: now, last_io: now, last_write: now }
    }

    /// When the current wait must end. `sending` is `Some(true)` while
    /// message data waits to be written, `Some(false)` for commands, `None`
    /// when nothing is; `awaiting` is the phase of the reply waited for.
    pub fn deadline(
        &self,
        t: &Timeouts,
        call: Option<Instant>,
        sending: Option<bool>,
        awaiting: Option<Phase>,
    ) -> Earliest {
        // Message data waiting to be written has its own limit in place of
        // the I/O limit (RFC 5321 4.5.3.2.5); on a tie the limit added first
        // names the error: the call's, then the one for what is waited for.
        let mut e = Earliest::default();
        e.add(call, Limit::Call);
        match (sending, awaiting) {
            (Some(true), _) => e.add_after(self.last_write, t.data_block, Limit::DataBlock),
            (Some(false), _) | (None, None) => e.add_after(self.last_io, t.io, Limit::Io),
            (None, Some(phase)) => {
                e.add_after(self.reply_since, t.reply_limit(phase), Limit::Reply(phase));
                e.add_after(self.last_io, t.io, Limit::Io);
            }
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_wins_and_ties_go_to_the_first() {
        let now = Instant::now();
        let mut e = Earliest::default();
        e.add(Some(now + Duration::from_secs(5)), Limit::Call);
        e.add(Some(now + Duration::from_secs(3)), Limit::Io);
        e.add(Some(now + Duration::from_secs(3)), Limit::DataBlock);
        e.add(None, Limit::Connect);
        assert_eq!(e.get(), Some((now + Duration::from_secs(3), Limit::Io)));
    }

    #[test]
    fn the_reply_limit_applies_only_when_nothing_waits_to_be_sent() {
        let now = Instant::now();
        let t = Timeouts { io: None, ..Timeouts::default() };
        let c = Clocks::new(now);
        let d = c.deadline(&t, None, None, Some(Phase::Mail)).get().unwrap();
        assert_eq!(d, (now + Duration::from_secs(300), Limit::Reply(Phase::Mail)));
        let d = c.deadline(&t, None, Some(true), Some(Phase::Mail)).get().unwrap();
        assert_eq!(d, (now + Duration::from_secs(180), Limit::DataBlock));
        assert_eq!(c.deadline(&t, None, Some(false), Some(Phase::Mail)).get(), None);
        let io = Timeouts { io: Some(Duration::from_secs(1)), ..t };
        let d = c.deadline(&io, None, Some(true), None).get().unwrap();
        assert_eq!(d.1, Limit::DataBlock, "data waiting to be written has its own limit, not io's");
        let call = now + Duration::from_secs(1);
        assert_eq!(c.deadline(&t, Some(call), None, Some(Phase::Mail)).get(), Some((call, Limit::Call)));
    }

    #[test]
    fn one_value_for_every_wait() {
        let mut t = Timeouts::default();
        assert_eq!(t.longest_wait(), Some(Duration::from_secs(600)));
        t.set_per_wait(Some(Duration::from_secs(5)));
        assert_eq!(t.longest_wait(), Some(Duration::from_secs(5)));
        assert_eq!(t.call, None, "the call limit is not a wait");
        t.rcpt = None;
        assert_eq!(t.longest_wait(), None);
    }

    #[test]
    fn errors_name_the_limit() {
        let t = Timeouts::default();
        let msg = |l: Limit| l.error(&t).to_string();
        assert!(msg(Limit::Call).contains("SMTP_TIMEOUT_CALL"));
        assert!(msg(Limit::Io).contains("I/O timeout"));
        assert!(msg(Limit::DataBlock).contains("SMTP_TIMEOUT_DATA_BLOCK"));
        assert!(msg(Limit::Reply(Phase::Greeting)).contains("greeting"));
        assert!(msg(Limit::Reply(Phase::Mail)).contains("MAIL reply"));
        assert!(msg(Limit::Reply(Phase::Mail)).contains("300000 ms"));
    }
}
