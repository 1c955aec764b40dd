//! One mail transaction: the replies to its commands, in order, and the
//! verdict they give. Every rule of smtplib's `sendmail` (and LMTP's reply
//! per recipient, RFC 2033 4.2) is here, once, whether the commands went
//! out one at a time or pipelined:
//!
//! - MAIL other than 250 is SenderRefused (421: the server is closing);
//! - RCPT 250 or 251 accepts a recipient, anything else refuses it; a 421
//!   is RecipientsRefused and the server is closing; all refused is
//!   RecipientsRefused;
//! - DATA other than 354 is a data error, and (as smtplib's `data()`) no
//!   RSET follows;
//! - a refused BDAT chunk is a data error: no more chunks go;
//! - after the data: SMTP, 250 or a data error; LMTP, one reply per
//!   accepted recipient, refused ones join the refused, all refused is a
//!   data error;
//! - a failure is followed by RSET (smtplib's `_rset`) except where noted;
//!   a verdict, once known, is final: losing the connection later changes
//!   only what was not yet decided;
//! - an accepted LMTP recipient whose reply after the data never came is
//!   refused with code 0: it was not delivered as far as anyone knows.

use crate::error::{Error, Refusal, Result};
use crate::reply::{enhanced_status, Reply};

/// What happened to one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RcptResult {
    /// The address as the caller gave it.
    pub addr: String,
    /// The reply to RCPT.
    pub reply: Reply,
    /// LMTP only: this recipient's reply after the data (code 0 when none
    /// came: the connection ended, or the data never went).
    pub data_reply: Option<Reply>,
    /// The RFC 3463 status code of `reply` ("2.1.5"), when the server
    /// advertises ENHANCEDSTATUSCODES.
    pub status: Option<String>,
    /// The same for `data_reply`.
    pub data_status: Option<String>,
}

impl RcptResult {
    /// smtplib counts 250 and 251 as accepted.
    pub fn accepted_at_rcpt(&self) -> bool {
        matches!(self.reply.code, 250 | 251)
    }

    /// Refused at RCPT, or (LMTP) refused after the data or never answered.
    pub fn refused(&self) -> bool {
        !self.accepted_at_rcpt() || self.data_reply.as_ref().is_some_and(|r| r.code != 250)
    }

    /// The reply that decided this recipient's fate.
    pub fn final_reply(&self) -> &Reply {
        match &self.data_reply {
            Some(r) if self.accepted_at_rcpt() => r,
            _ => &self.reply,
        }
    }
}

/// The text of an LMTP recipient's missing reply.
/// How many of `rcpts` were refused, at RCPT or (LMTP) after the data.
pub fn refused_count(rcpts: &[RcptResult]) -> usize {
    rcpts.iter().filter(|r| r.refused()).count()
}

pub const NO_REPLY: &str = "no reply after the data for this recipient";

/// A transaction's envelope, checked and ready to send.
#[derive(Clone, Debug)]
pub struct Envelope {
    pub from: String,
    pub to: Vec<String>,
    pub mail_args: String,
    pub rcpt_args: Vec<String>,
    /// MAIL carries SMTPUTF8.
    pub utf8: bool,
}

/// A message that went: the recipients refused (smtplib's dict), and the
/// reply that ended it (LMTP: the first failure, else the last).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    pub refused: Vec<Refusal>,
    pub reply: Reply,
}

/// A command whose reply is awaited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Rset,
    Mail,
    Rcpt(usize),
    Data,
    /// The empty body that answers a 354 the transaction cannot use.
    EmptyDot,
    /// A BDAT chunk that is not the last.
    Chunk,
    /// The final dot, or the last BDAT chunk: the reply after the data.
    Last,
}

/// What a reply means for the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Continue,
    /// 421: the server is closing the connection.
    Close,
}

fn next_for(reply: &Reply) -> Next {
    if reply.code == 421 {
        Next::Close
    } else {
        Next::Continue
    }
}

/// The replies of one transaction and its verdict.
#[derive(Debug)]
pub struct Txn {
    /// `None`: the caller sent MAIL and RCPT itself (smtplib's `data()`).
    pub env: Option<Envelope>,
    lmtp: bool,
    /// Read RFC 3463 codes (the server offers ENHANCEDSTATUSCODES).
    enhanced: bool,
    mail: Option<Reply>,
    pub rcpts: Vec<RcptResult>,
    /// Indexes into `rcpts` accepted at RCPT.
    accepted: Vec<usize>,
    refused: Vec<Refusal>,
    /// The answer to DATA: 354 means the body may go.
    pub go: Option<bool>,
    /// A 354 came although the envelope failed: an empty body is owed.
    pub empty_dot_due: bool,
    /// LMTP replies read after the data.
    finals: usize,
    pub verdict: Option<Result<Sent>>,
    /// The verdict asks for RSET after it (smtplib's `_rset`).
    pub reset_wanted: bool,
    /// Replies still expected for this transaction.
    pub outstanding: usize,
}

impl Txn {
    pub fn new(env: Envelope, lmtp: bool, enhanced: bool) -> Txn {
        let n = env.to.len();
        Txn {
            env: Some(env),
            lmtp,
            enhanced,
            mail: None,
            rcpts: Vec::with_capacity(n),
            accepted: Vec::new(),
            refused: Vec::new(),
            go: None,
            empty_dot_due: false,
            finals: 0,
            verdict: None,
            reset_wanted: false,
            outstanding: 0,
        }
    }

    /// The data of a transaction whose MAIL and RCPTs the caller sent:
    /// `rcpts` are their results so far.
    pub fn data_only(rcpts: Vec<RcptResult>, lmtp: bool, enhanced: bool) -> Txn {
        let accepted = (0..rcpts.len()).filter(|&i| rcpts[i].accepted_at_rcpt()).collect();
        Txn {
            env: None,
            mail: Some(Reply::new(250, "")),
            rcpts,
            accepted,
            ..Txn::new(empty_envelope(), lmtp, enhanced)
        }
    }

    fn mail_ok(&self) -> bool {
        self.mail.as_ref().is_some_and(|r| r.code == 250)
    }

    pub fn failed(&self) -> bool {
        matches!(self.verdict, Some(Err(_)))
    }

    fn fail(&mut self, e: Error, reset: bool) {
        if self.verdict.is_none() {
            self.verdict = Some(Err(e));
            self.reset_wanted = reset;
        }
    }

    fn sender_refused(&self, reply: Reply) -> Error {
        Error::SenderRefused { reply, sender: self.env.as_ref().map(|e| e.from.clone()).unwrap_or_default() }
    }

    fn status(&self, reply: &Reply) -> Option<String> {
        if self.enhanced {
            enhanced_status(&reply.text)
        } else {
            None
        }
    }

    /// LMTP: how many replies the data gets: one per accepted recipient,
    /// or one (an error) when the transaction had already failed.
    fn finals_expected(&self) -> usize {
        if self.lmtp && self.verdict.is_none() {
            self.accepted.len().max(1)
        } else {
            1
        }
    }

    /// The reply to `step`. Returns what it means for the connection and
    /// whether `step` is answered (LMTP's data gets several replies).
    pub fn on_reply(&mut self, step: Step, reply: Reply) -> (Next, bool) {
        let next = next_for(&reply);
        match step {
            // smtplib's `_rset` ignores the answer.
            Step::Rset | Step::EmptyDot => {}
            Step::Mail => {
                if reply.code != 250 {
                    let e = self.sender_refused(reply.clone());
                    self.fail(e, next == Next::Continue);
                }
                self.mail = Some(reply);
            }
            Step::Rcpt(i) => {
                // After a refused MAIL lockstep would not have sent this RCPT:
                // nothing to record (pipelining sent it anyway).
                if !self.mail_ok() || self.verdict.is_some() {
                    return (next, true);
                }
                let addr = self.env.as_ref().map(|e| e.to[i].clone()).unwrap_or_default();
                let result = RcptResult {
                    addr: addr.clone(),
                    status: self.status(&reply),
                    reply: reply.clone(),
                    data_reply: None,
                    data_status: None,
                };
                if result.accepted_at_rcpt() {
                    self.accepted.push(self.rcpts.len());
                } else {
                    self.refused.push(Refusal { recipient: addr, reply });
                }
                self.rcpts.push(result);
                let all = self.env.as_ref().map_or(0, |e| e.to.len());
                if next == Next::Close {
                    self.fail(Error::RecipientsRefused(self.refused.clone()), false);
                } else if self.rcpts.len() == all && self.accepted.is_empty() {
                    self.fail(Error::RecipientsRefused(self.refused.clone()), true);
                }
            }
            Step::Data => {
                if self.verdict.is_some() {
                    self.empty_dot_due = reply.code == 354;
                    self.go = Some(false);
                } else if reply.code == 354 {
                    self.go = Some(true);
                } else {
                    self.go = Some(false);
                    // smtplib's `data()` raises before `sendmail` can reset.
                    self.fail(Error::Data(reply), false);
                    return (Next::Continue, true);
                }
            }
            Step::Chunk => {
                if self.verdict.is_none() && reply.code != 250 {
                    self.fail(Error::Data(reply), next == Next::Continue);
                }
            }
            Step::Last => return self.after_data(reply),
        }
        (next, true)
    }

    /// A reply after the data.
    fn after_data(&mut self, reply: Reply) -> (Next, bool) {
        let next = next_for(&reply);
        if self.verdict.is_some() {
            return (next, true);
        }
        if !self.lmtp {
            if reply.code == 250 {
                self.verdict = Some(Ok(Sent { refused: self.refused.clone(), reply }));
            } else {
                let reset = next == Next::Continue && self.env.is_some();
                self.fail(Error::Data(reply), reset);
            }
            return (next, true);
        }
        if let Some(&i) = self.accepted.get(self.finals) {
            self.rcpts[i].data_status = self.status(&reply);
            self.rcpts[i].data_reply = Some(reply);
        }
        self.finals += 1;
        if self.finals < self.finals_expected() && next == Next::Continue {
            return (next, false);
        }
        self.judge_lmtp();
        (next, true)
    }

    /// Every LMTP reply after the data is in (or the server is closing).
    fn judge_lmtp(&mut self) {
        if self.finals < self.accepted.len() {
            // A 421 before the last reply: the rest never comes.
            self.mark_unanswered();
            self.fail(
                Error::ServerDisconnected(
                    "the server closed the connection (421) before answering every recipient".into(),
                ),
                false,
            );
            return;
        }
        let answers: Vec<&Reply> = self.accepted.iter().filter_map(|&i| self.rcpts[i].data_reply.as_ref()).collect();
        let first_failure = answers.iter().find(|r| r.code != 250).map(|r| (*r).clone());
        let last = answers.last().map(|r| (*r).clone()).unwrap_or_default();
        let failed: Vec<Refusal> = self
            .accepted
            .iter()
            .map(|&i| &self.rcpts[i])
            .filter(|r| r.refused())
            .map(|r| Refusal { recipient: r.addr.clone(), reply: r.final_reply().clone() })
            .collect();
        if self.env.is_none() {
            // smtplib's `data()`: the reply, whatever it says.
            self.verdict = Some(Ok(Sent { refused: failed, reply: first_failure.unwrap_or(last) }));
        } else if failed.len() == self.accepted.len() {
            self.fail(Error::Data(first_failure.unwrap_or(last)), true);
        } else {
            let mut refused = self.refused.clone();
            refused.extend(failed);
            self.verdict = Some(Ok(Sent { refused, reply: first_failure.unwrap_or(last) }));
        }
    }

    /// LMTP: accepted recipients without a reply after the data get code 0.
    pub fn mark_unanswered(&mut self) {
        if !self.lmtp {
            return;
        }
        for &i in &self.accepted {
            let r = &mut self.rcpts[i];
            if r.data_reply.is_none() {
                r.data_reply = Some(Reply::new(0, NO_REPLY));
                r.data_status = None;
            }
        }
    }

    /// The connection ended (closed, timed out, cancelled) before this
    /// transaction was decided: it gets `e`.
    pub fn end(&mut self, e: &Error) {
        self.fail(e.clone(), false);
        self.reset_wanted = false;
        self.mark_unanswered();
    }

    /// The transaction is over at the server (no RSET is needed before
    /// the next MAIL): its MAIL was refused (none was opened), it succeeded,
    /// or its body went after DATA's 354 (the reply after the final dot ends
    /// the transaction, whatever it says: RFC 5321 4.1.1.4). A BDAT
    /// transaction is not known to be over until its last reply: after a
    /// refused chunk its state is the server's guess (RFC 3030 2).
    pub fn closed_at_server(&self, data_sent: bool) -> bool {
        self.mail.as_ref().is_some_and(|r| r.code != 250)
            || matches!(self.verdict, Some(Ok(_)))
            || (data_sent && self.go == Some(true))
    }
}

fn empty_envelope() -> Envelope {
    Envelope { from: String::new(), to: Vec::new(), mail_args: String::new(), rcpt_args: Vec::new(), utf8: false }
}
