//! PIPELINING (RFC 2920): MAIL, every RCPT and DATA in one write, the
//! replies read in order, with exactly the results the lockstep exchange
//! gives for the same replies (smtplib's sendmail semantics): a refused MAIL
//! is SenderRefused, a 421 closes, every recipient refused is
//! RecipientsRefused, a refused DATA is a data error. Commands the server
//! answers although the transaction already failed are read and dropped; a
//! 354 that comes anyway gets an empty body so the server is back in step.

use super::body::Body;
use super::transaction::Prepared;
use super::Session;
use crate::conn::{Phase, Sensitivity};
use crate::data::LineEndings;
use crate::error::{Error, Refusal, Result};
use crate::reply::Reply;

impl Session {
    /// Pipeline when the server offers it and the caller did not turn it off.
    pub(super) fn pipelining(&self) -> bool {
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

    pub(super) fn transact_pipelined(&mut self, p: &Prepared, body: &mut Body<'_>, mode: LineEndings) -> Result<Vec<Refusal>> {
        let chunking = self.chunking();
        self.start_pipelined(p, !chunking)?;
        let refused = self.envelope_replies(p, !chunking)?;
        let reply = if chunking {
            self.send_chunks(body, mode, true)?
        } else {
            self.send_body(body, mode, true)?;
            self.final_replies()?
        };
        self.after_data(reply, refused)
    }

    /// Start the transaction and queue its envelope.
    pub(super) fn start_pipelined(&mut self, p: &Prepared, with_data: bool) -> Result<()> {
        self.begin_transaction(p.utf8);
        self.queue_envelope(p, with_data)
    }

    /// Queue MAIL, the RCPTs and (unless BDAT follows) DATA, written
    /// together at the next read.
    pub(super) fn queue_envelope(&mut self, p: &Prepared, with_data: bool) -> Result<()> {
        self.utf8_commands |= p.utf8;
        self.put_command("mail", &p.mail_args, Sensitivity::Plain)?;
        for args in &p.rcpt_args {
            self.put_command("rcpt", args, Sensitivity::Plain)?;
        }
        if with_data {
            self.put_command("data", "", Sensitivity::Plain)?;
        }
        Ok(())
    }

    /// The replies to a pipelined envelope, judged as lockstep would; Ok
    /// with the refused recipients when the message is due (DATA got 354,
    /// or BDAT follows).
    pub(super) fn envelope_replies(&mut self, p: &Prepared, with_data: bool) -> Result<Vec<Refusal>> {
        let mail = self.get_reply_in(Phase::Mail)?;
        let sender_refused = |reply| Error::SenderRefused { reply, sender: p.from.clone() };
        if mail.code == 421 {
            self.close();
            return Err(sender_refused(mail));
        }
        let mut refused = Vec::new();
        for each in &p.to {
            let r = self.get_reply_in(Phase::Rcpt)?;
            if mail.code != 250 {
                // Lockstep would not have sent this RCPT: nothing to record.
                if r.code == 421 {
                    self.close();
                    return Err(sender_refused(mail));
                }
                continue;
            }
            self.record_rcpt(each, &r);
            if r.code != 250 && r.code != 251 {
                refused.push(Refusal { recipient: each.clone(), reply: r.clone() });
            }
            if r.code == 421 {
                self.close();
                return Err(Error::RecipientsRefused(refused));
            }
        }
        let data = if with_data { self.get_reply_in(Phase::Data)? } else { Reply::new(354, "") };
        if mail.code != 250 || refused.len() == p.to.len() {
            if with_data && data.code == 354 {
                self.end_empty_body()?;
            }
            if mail.code != 250 {
                self.fail_transaction(mail.code);
                return Err(sender_refused(mail));
            }
            self.rset_quietly();
            return Err(Error::RecipientsRefused(refused));
        }
        if data.code != 354 {
            return Err(Error::Data(data));
        }
        Ok(refused)
    }

    /// A 354 the transaction cannot use: an empty body and its reply, so the
    /// next command is read in step.
    fn end_empty_body(&mut self) -> Result<()> {
        let conn = self.conn.as_mut().ok_or_else(super::not_connected)?;
        conn.data_buffer().extend_from_slice(b".\r\n");
        self.get_reply_in(Phase::FinalDot).map(|_| ())
    }
}
