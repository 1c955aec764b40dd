//! The mail transaction: smtplib's `mail`, `rcpt`, `data` and `sendmail`,
//! and libsmtp's streaming and batch forms, all run by the one transaction
//! engine (`crate::engine`): lockstep, pipelined or by BDAT chunks, the
//! results are the same.

use super::prepare::{check_line_endings, is_binary};
use super::{not_connected, Kind, Session};
use crate::conn::Flow;
use crate::data::{normalized_len, LineEndings};
use crate::deadline::Phase;
use crate::engine::{Body, Engine, Envelope, RcptResult, Settings, Txn, Work, CHUNK, WINDOW};
use crate::error::{Error, Refusal, Result};
use crate::reply::{enhanced_status, Reply};

/// A batch's result as one: its first failure, else success (what
/// `smtp_session_sendmail_batch()` returns beside each message's own).
pub fn first_failure(outcomes: &[BatchOutcome]) -> Result<()> {
    match outcomes.iter().find_map(|o| o.result.as_ref().err()) {
        Some(e) => Err(e.clone()),
        None => Ok(()),
    }
}

/// One message of a batch.
#[derive(Clone, Copy)]
pub struct BatchMessage<'a> {
    pub from: &'a str,
    pub to: &'a [&'a str],
    pub parts: &'a [&'a [u8]],
    pub mode: LineEndings,
}

/// What happened to one message: sendmail's result and its recipients'.
pub struct BatchOutcome {
    pub result: Result<Vec<Refusal>>,
    pub rcpts: Vec<RcptResult>,
    /// Its data went out in full but the connection ended before the reply
    /// that decides it: the server may have taken it.
    pub unanswered: bool,
}

impl Session {
    /// Pipeline when the server offers it and the caller did not turn it off.
    fn pipelining(&self) -> bool {
        self.pipelining_enabled && self.has_extn("pipelining")
    }

    /// Turn pipelining off (or back on); on by default.
    pub fn set_pipelining(&mut self, on: bool) {
        self.pipelining_enabled = on;
    }

    /// Send messages by BDAT when the server offers CHUNKING.
    pub(super) fn chunking(&self) -> bool {
        self.chunking_enabled && self.has_extn("chunking")
    }

    /// Turn CHUNKING off (or back on); on by default.
    pub fn set_chunking(&mut self, on: bool) {
        self.chunking_enabled = on;
    }

    /// A new call's results: no recipients yet, no message unanswered.
    pub(super) fn forget_results(&mut self) {
        self.rcpts.clear();
        self.unanswered = false;
        self.sender = None;
    }

    /// A transaction from `sender` is being tried (see [`Session::sender`]).
    pub(super) fn note_sender(&mut self, sender: &str) {
        self.sender = Some(sender.to_string());
    }

    fn enhanced(&self) -> bool {
        self.has_extn("enhancedstatuscodes")
    }

    /// A MAIL that is going out: UTF-8 commands if it asked, a new transaction.
    fn begin_transaction(&mut self, utf8: bool) {
        self.utf8_commands |= utf8;
        self.forget_results();
    }

    /// smtplib's `mail`: options are sent only once EHLO succeeded; SMTPUTF8
    /// among them needs the server's SMTPUTF8. Starts a new transaction.
    pub fn mail(&mut self, sender: &str, options: &[&str]) -> Result<Reply> {
        let (args, utf8) = self.mail_args(sender, options)?;
        self.begin_transaction(utf8);
        self.note_sender(sender);
        self.command_in("mail", &args, Phase::Mail)
    }

    /// smtplib's `rcpt`; the reply is kept as this recipient's result.
    pub fn rcpt(&mut self, recipient: &str, options: &[&str]) -> Result<Reply> {
        let args = self.rcpt_args(recipient, options)?;
        let reply = self.command_in("rcpt", &args, Phase::Rcpt)?;
        let status = if self.enhanced() { enhanced_status(&reply.text) } else { None };
        self.rcpts.push(RcptResult {
            addr: recipient.to_string(),
            reply: reply.clone(),
            data_reply: None,
            status,
            data_status: None,
        });
        Ok(reply)
    }

    /// smtplib's `data`: DATA, and on 354 the message (in pieces, sent as
    /// one), dot-stuffed, then the reply after it, whatever it says. A reply
    /// to DATA other than 354 is SMTPDataError. With [`LineEndings::Reject`]
    /// a lone CR or LF is an invalid argument before DATA is sent.
    ///
    /// On LMTP one reply is read per recipient accepted since MAIL (RFC 2033
    /// 4.2; smtplib reads one, cpython#76984); each is kept on that
    /// recipient's result, and the first failure (else the last reply) is
    /// returned.
    pub fn data(&mut self, parts: &[&[u8]], mode: LineEndings) -> Result<Reply> {
        check_line_endings(parts, mode)?;
        let txn = Txn::data_only(std::mem::take(&mut self.rcpts), self.kind == Kind::Lmtp, self.enhanced());
        let (rcpts, verdict) = self.run_one(txn, Body::Parts(parts), mode, false);
        self.rcpts = rcpts;
        verdict.map(|sent| sent.reply)
    }

    /// smtplib's `sendmail`: EHLO/HELO if needed, MAIL (with SIZE when
    /// advertised, the structured options, then the caller's), RCPT for each
    /// recipient, DATA. Returns the refused recipients when at least one was
    /// accepted. The message may come in pieces, sent as one. When the
    /// server offers PIPELINING (and it is not turned off) MAIL, the RCPTs
    /// and DATA go out in one write, with the same results; with CHUNKING
    /// too, the message follows by BDAT without waiting.
    ///
    /// Differences from smtplib, on purpose: every argument is checked before
    /// anything is sent (smtplib can fail half-way through the envelope), an
    /// empty recipient list is an invalid argument, a message over the
    /// server's SIZE is refused before MAIL, and on LMTP a recipient refused
    /// after the data (or never answered) is refused like one refused at RCPT.
    pub fn sendmail(
        &mut self,
        from: &str,
        to: &[&str],
        parts: &[&[u8]],
        mode: LineEndings,
        mail_options: &[&str],
        rcpt_options: &[&str],
    ) -> Result<Vec<Refusal>> {
        // The per-recipient results describe this call, however it ends.
        self.forget_results();
        self.note_sender(from);
        check_line_endings(parts, mode)?;
        let size = || Some(normalized_len(parts, mode));
        let binary = || is_binary(parts, mode);
        let env = self.prepare(from, to, &size, &binary, mail_options, rcpt_options)?;
        self.transact(env, Body::Parts(parts), mode)
    }

    /// sendmail with the message from a read callback: `size_hint` (when
    /// known) is announced as SIZE; a lone line end under the reject policy
    /// or a failing callback closes the connection mid-message, so that no
    /// partial message is delivered.
    #[allow(clippy::too_many_arguments)]
    pub fn sendmail_stream(
        &mut self,
        from: &str,
        to: &[&str],
        read: &mut dyn FnMut(&mut [u8]) -> std::result::Result<usize, String>,
        size_hint: Option<u64>,
        mode: LineEndings,
        mail_options: &[&str],
        rcpt_options: &[&str],
    ) -> Result<Vec<Refusal>> {
        self.forget_results();
        self.note_sender(from);
        let env = self.prepare(from, to, &|| size_hint, &|| false, mail_options, rcpt_options)?;
        self.transact(env, Body::Reader(read), mode)
    }

    fn transact(&mut self, env: Envelope, body: Body<'_>, mode: LineEndings) -> Result<Vec<Refusal>> {
        let txn = Txn::new(env, self.kind == Kind::Lmtp, self.enhanced());
        let chunking = self.chunking();
        let (rcpts, verdict) = self.run_one(txn, body, mode, chunking);
        self.rcpts = rcpts;
        verdict.map(|sent| sent.refused)
    }

    /// Send `msgs` in order on this connection, each as `sendmail` would
    /// (same results, BINARYMIME for a binary body aside). With PIPELINING a
    /// message costs one round trip; with CHUNKING too, none: up to
    /// [`WINDOW`] messages are in flight. Messages after the connection is
    /// lost fail with "server disconnected". The per-recipient results are
    /// the last message's.
    pub fn sendmail_batch(&mut self, msgs: &[BatchMessage<'_>]) -> Vec<BatchOutcome> {
        self.forget_results();
        if let Some(last) = msgs.last() {
            self.note_sender(last.from);
        }
        if let Err(e) = self.ehlo_or_helo_if_needed() {
            return msgs
                .iter()
                .map(|_| BatchOutcome { result: Err(e.clone()), rcpts: Vec::new(), unanswered: false })
                .collect();
        }
        let mut out: Vec<Option<BatchOutcome>> = msgs.iter().map(|_| None).collect();
        let mut work = Vec::new();
        let mut index = Vec::new();
        for (i, m) in msgs.iter().enumerate() {
            let env = check_line_endings(m.parts, m.mode).and_then(|()| {
                let size = || Some(normalized_len(m.parts, m.mode));
                let binary = || is_binary(m.parts, m.mode);
                self.prepare(m.from, m.to, &size, &binary, &[], &[])
            });
            match env {
                Ok(env) => {
                    work.push(Work::new(
                        Txn::new(env, self.kind == Kind::Lmtp, self.enhanced()),
                        Body::Parts(m.parts),
                        m.mode,
                    ));
                    index.push(i);
                }
                Err(e) => out[i] = Some(BatchOutcome { result: Err(e), rcpts: Vec::new(), unanswered: false }),
            }
        }
        let chunking = self.chunking();
        for (i, w) in index.into_iter().zip(self.run_engine(work, chunking)) {
            let unanswered = w.unanswered();
            let (rcpts, verdict) = decided(w);
            out[i] = Some(BatchOutcome { result: verdict.map(|s| s.refused), rcpts, unanswered });
        }
        if let Some(Some(last)) = out.last() {
            self.rcpts = last.rcpts.clone();
        }
        self.unanswered = out.iter().flatten().any(|o| o.unanswered);
        out.into_iter().map(|o| o.expect("every message has an outcome")).collect()
    }

    /// One transaction through the engine: its recipients and verdict.
    fn run_one(
        &mut self,
        txn: Txn,
        body: Body<'_>,
        mode: LineEndings,
        chunking: bool,
    ) -> (Vec<RcptResult>, Result<crate::engine::Sent>) {
        if self.conn.is_none() {
            return (txn.rcpts, Err(not_connected()));
        }
        let work = self.run_engine(vec![Work::new(txn, body, mode)], chunking);
        let w = work.into_iter().next().expect("one transaction in, one out");
        self.unanswered = w.unanswered();
        decided(w)
    }

    /// The last message's data went out in full, but the connection ended
    /// before the reply that decides it: whether the server took it is
    /// unknown (for a batch: any message's). Reset by every call.
    pub fn unanswered(&self) -> bool {
        self.unanswered
    }

    /// Run transactions on the connection until every one is decided. A
    /// failure of the connection closes it and decides what was left.
    fn run_engine<'a>(&mut self, work: Vec<Work<'a>>, chunking: bool) -> Vec<Work<'a>> {
        let settings = Settings {
            lmtp: self.kind == Kind::Lmtp,
            pipelining: self.pipelining(),
            chunking,
            enhanced: self.enhanced(),
            window: WINDOW,
            chunk: CHUNK,
        };
        let mut engine = Engine::new(settings, work);
        let ended = match self.conn.as_mut() {
            Some(conn) => {
                let r = conn.run(&mut engine, &mut self.trace);
                if let Some(reply) = conn.take_last_reply() {
                    self.last_reply = Some(reply);
                }
                match r {
                    Ok(Flow::Continue) => None,
                    Ok(Flow::Close) => Some(Error::ServerDisconnected("the server closed the connection (421)".into())),
                    Err(e) => Some(e),
                }
            }
            None => Some(not_connected()),
        };
        if let Some(e) = ended {
            self.close();
            engine.end(&e);
        }
        let work = engine.into_work();
        // smtplib's command encoding: UTF-8 from a MAIL with SMTPUTF8 until RSET.
        for w in &work {
            if w.txn.env.as_ref().is_some_and(|e| e.utf8) {
                self.utf8_commands = true;
            }
            if w.reset_sent() {
                self.utf8_commands = false;
            }
        }
        work
    }
}

/// A decided transaction: its recipients and verdict.
fn decided(w: Work<'_>) -> (Vec<RcptResult>, Result<crate::engine::Sent>) {
    let verdict =
        w.txn.verdict.unwrap_or_else(|| Err(Error::Smtp("internal error: a transaction ended undecided".into())));
    (w.txn.rcpts, verdict)
}
