//! The mail transaction: smtplib's `mail`, `rcpt`, `data` and `sendmail`,
//! with libsmtp's additions: the message in pieces (send_message sends a
//! message minus its Bcc fields without copying it), a local SIZE check,
//! the line-ending policy, structured envelope options, LMTP's reply per
//! recipient, and RFC 3463 status codes per recipient.

use super::body::Body;
use super::{Kind, RcptResult, Session};
use crate::conn::Phase;
use crate::address::quote_addr;
use crate::command::{self, check_line_text};
use crate::data::{first_bare_eol, normalized_len, LineEndings};
use crate::error::{Error, Refusal, Result};
use crate::message::envelope::EnvelopeOptions;
use crate::reply::Reply;

/// The RFC 3463 status code at the start of a reply text ("5.1.1").
pub fn enhanced_status(text: &[u8]) -> Option<String> {
    let word = text.split(|&b| b == b' ').next()?;
    let s = std::str::from_utf8(word).ok()?;
    let mut parts = s.split('.');
    let (class, subject, detail) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |p: &str, max: usize| !p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit());
    (parts.next().is_none() && matches!(class, "2" | "4" | "5") && digits(subject, 3) && digits(detail, 3))
        .then(|| s.to_string())
}

/// The keyword of an option (`SIZE` of `SIZE=10`), upper-cased.
fn keyword(opt: &str) -> String {
    opt.split('=').next().unwrap_or(opt).to_ascii_uppercase()
}

/// Options in order, a keyword's first occurrence kept.
fn dedup(opts: Vec<String>) -> Vec<String> {
    let mut seen = Vec::new();
    opts.into_iter()
        .filter(|o| {
            let k = keyword(o);
            let new = !seen.contains(&k);
            seen.push(k);
            new
        })
        .collect()
}

impl Session {
    /// Structured options for every following sendmail and send_message.
    pub fn set_envelope(&mut self, envelope: EnvelopeOptions) -> Result<()> {
        envelope.validate()?;
        self.envelope = envelope;
        Ok(())
    }

    fn status_of(&self, reply: &Reply) -> Option<String> {
        if self.has_extn("enhancedstatuscodes") {
            enhanced_status(&reply.text)
        } else {
            None
        }
    }

    /// MAIL's arguments, checked: options only once EHLO succeeded (smtplib),
    /// SMTPUTF8 among them only when the server offers it. Also says whether
    /// the MAIL switches to UTF-8 commands.
    fn mail_args(&self, sender: &str, options: &[&str]) -> Result<(String, bool)> {
        // Checked as given: the address parser would drop CR and LF as
        // white space and send another address than the caller's.
        check_line_text("sender", sender)?;
        let mut opts: &[&str] = &[];
        let mut utf8 = false;
        if !options.is_empty() && self.does_esmtp {
            if options.iter().any(|o| o.eq_ignore_ascii_case("smtputf8")) {
                if !self.has_extn("smtputf8") {
                    return Err(Error::NotSupported("SMTPUTF8 not supported by server".into()));
                }
                utf8 = true;
            }
            opts = options;
        }
        Ok((command::path_args("from:", &quote_addr(sender), opts)?, utf8))
    }

    /// RCPT's arguments, checked (options only once EHLO succeeded).
    pub(super) fn rcpt_args(&self, recipient: &str, options: &[&str]) -> Result<String> {
        check_line_text("recipient", recipient)?;
        let opts: &[&str] = if self.does_esmtp { options } else { &[] };
        command::path_args("to:", &quote_addr(recipient), opts)
    }

    /// A MAIL that is going out: UTF-8 commands if it asked, a new transaction.
    pub(super) fn begin_transaction(&mut self, utf8: bool) {
        self.utf8_commands |= utf8;
        self.rcpts.clear();
        self.accepted.clear();
    }

    /// Keep a RCPT reply as that recipient's result.
    pub(super) fn record_rcpt(&mut self, recipient: &str, reply: &Reply) {
        let status = self.status_of(reply);
        let result = RcptResult { addr: recipient.to_string(), reply: reply.clone(), data_reply: None, status, data_status: None };
        if result.accepted_at_rcpt() {
            self.accepted.push(self.rcpts.len());
        }
        self.rcpts.push(result);
    }

    /// smtplib's `mail`: options are sent only once EHLO succeeded; SMTPUTF8
    /// among them needs the server's SMTPUTF8. Starts a new transaction.
    pub fn mail(&mut self, sender: &str, options: &[&str]) -> Result<Reply> {
        let (args, utf8) = self.mail_args(sender, options)?;
        self.begin_transaction(utf8);
        self.command_in("mail", &args, Phase::Mail)
    }

    /// smtplib's `rcpt`; the reply is kept as this recipient's result.
    pub fn rcpt(&mut self, recipient: &str, options: &[&str]) -> Result<Reply> {
        let args = self.rcpt_args(recipient, options)?;
        let reply = self.command_in("rcpt", &args, Phase::Rcpt)?;
        self.record_rcpt(recipient, &reply);
        Ok(reply)
    }

    /// smtplib's `data`: DATA, and on 354 the message (in pieces, sent as
    /// one), dot-stuffed, then the final reply. A reply other than 354 is
    /// SMTPDataError. With [`LineEndings::Reject`] a lone CR or LF is an
    /// invalid argument before DATA is sent.
    ///
    /// On LMTP one reply is read per recipient accepted since MAIL (RFC 2033
    /// 4.2; smtplib reads one, cpython#76984); each is kept on that
    /// recipient's result, and the first failure (else the last reply) is
    /// returned.
    pub fn data(&mut self, parts: &[&[u8]], mode: LineEndings) -> Result<Reply> {
        check_line_endings(parts, mode)?;
        let reply = self.command_in("data", "", Phase::Data)?;
        if reply.code != 354 {
            return Err(Error::Data(reply));
        }
        self.send_body(&mut Body::Parts(parts), mode, true)?;
        self.final_replies()
    }

    /// After the body: the reply after the final dot, or on LMTP one per
    /// recipient accepted since MAIL.
    pub(super) fn final_replies(&mut self) -> Result<Reply> {
        if self.kind != Kind::Lmtp || self.accepted.is_empty() {
            return self.get_reply_in(Phase::FinalDot);
        }
        let mut first_failure = None;
        let mut last = Reply::default();
        for i in 0..self.accepted.len() {
            let r = self.get_reply_in(Phase::FinalDot)?;
            let idx = self.accepted[i];
            self.rcpts[idx].data_status = self.status_of(&r);
            self.rcpts[idx].data_reply = Some(r.clone());
            if r.code != 250 && first_failure.is_none() {
                first_failure = Some(r.clone());
            }
            last = r;
        }
        Ok(first_failure.unwrap_or(last))
    }

    /// Everything sendmail checks and decides before a byte is sent: the
    /// addresses and options, EHLO/HELO if needed, the SIZE limit, the
    /// structured options; the MAIL and RCPT arguments.
    pub(super) fn prepare(
        &mut self,
        from: &str,
        to: &[&str],
        size: Option<u64>,
        binary: bool,
        mail_options: &[&str],
        rcpt_options: &[&str],
    ) -> Result<Prepared> {
        self.check_tls_required("sendmail")?;
        if to.is_empty() {
            return Err(Error::InvalidArgument("no recipients".into()));
        }
        for addr in std::iter::once(&from).chain(to) {
            check_line_text("address", addr)?;
        }
        for opt in mail_options.iter().chain(rcpt_options) {
            command::path_args("", "", &[opt])?;
        }
        self.ehlo_or_helo_if_needed()?;
        if let (Some(size), Some(limit)) = (size, self.features.size_limit()) {
            if size > limit {
                return Err(Error::TooLarge(format!(
                    "the message is {size} bytes and the server accepts at most {limit} (SIZE); nothing was sent"
                )));
            }
        }
        let mut opts: Vec<String> = Vec::new();
        if let (true, Some(size)) = (self.does_esmtp && self.has_extn("size"), size) {
            opts.push(format!("size={size}"));
        }
        let encrypted = self.is_encrypted();
        opts.extend(self.envelope.mail_params(&self.features, encrypted)?);
        // RFC 3030 3: a body that is not text goes as BINARYMIME by BDAT.
        if binary && self.chunking() && self.has_extn("binarymime") {
            opts.push("BODY=BINARYMIME".into());
        }
        let mut rcpt_args = Vec::with_capacity(to.len());
        for &each in to {
            let mut o = self.envelope.rcpt_params(each, &self.features)?;
            o.extend(rcpt_options.iter().map(|s| s.to_string()));
            let o = dedup(o);
            let o: Vec<&str> = o.iter().map(String::as_str).collect();
            rcpt_args.push(self.rcpt_args(each, &o)?);
        }
        if self.does_esmtp {
            opts.extend(mail_options.iter().map(|s| s.to_string()));
        }
        let opts = dedup(opts);
        let opt_refs: Vec<&str> = opts.iter().map(String::as_str).collect();
        let (mail_args, utf8) = self.mail_args(from, &opt_refs)?;
        // Without SMTPUTF8 every command must be ASCII: check them all now,
        // not when the RCPT is due and MAIL has gone out.
        if !(utf8 || self.utf8_commands) {
            command::check_ascii("sender", &mail_args)?;
            for args in &rcpt_args {
                command::check_ascii("recipient", args)?;
            }
        }
        Ok(Prepared { from: from.to_string(), to: to.iter().map(|s| s.to_string()).collect(), mail_args, rcpt_args, utf8 })
    }

    /// smtplib's `sendmail`: EHLO/HELO if needed, MAIL (with SIZE when
    /// advertised, the structured options, then the caller's), RCPT for each
    /// recipient, DATA. Returns the refused recipients when at least one was
    /// accepted. The message may come in pieces, sent as one. When the
    /// server offers PIPELINING (and it is not turned off) MAIL, the RCPTs
    /// and DATA go out in one write, with the same results.
    ///
    /// Differences from smtplib, on purpose: every argument is checked before
    /// anything is sent (smtplib can fail half-way through the envelope), an
    /// empty recipient list is an invalid argument, a message over the
    /// server's SIZE is refused before MAIL, and on LMTP a recipient refused
    /// after the data is refused like one refused at RCPT.
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
        self.rcpts.clear();
        self.accepted.clear();
        check_line_endings(parts, mode)?;
        let binary = is_binary(parts, mode);
        let prepared = self.prepare(from, to, Some(normalized_len(parts, mode)), binary, mail_options, rcpt_options)?;
        self.transact(&prepared, &mut Body::Parts(parts), mode)
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
        self.rcpts.clear();
        self.accepted.clear();
        let prepared = self.prepare(from, to, size_hint, false, mail_options, rcpt_options)?;
        self.transact(&prepared, &mut Body::Reader(read), mode)
    }

    /// The transaction, pipelined when the server allows it, the message
    /// by BDAT when it offers CHUNKING.
    fn transact(&mut self, p: &Prepared, body: &mut Body<'_>, mode: LineEndings) -> Result<Vec<Refusal>> {
        if self.pipelining() {
            self.transact_pipelined(p, body, mode)
        } else {
            self.transact_lockstep(p, body, mode)
        }
    }

    /// smtplib's order: each command waits for its reply.
    fn transact_lockstep(&mut self, p: &Prepared, body: &mut Body<'_>, mode: LineEndings) -> Result<Vec<Refusal>> {
        self.begin_transaction(p.utf8);
        let reply = self.command_in("mail", &p.mail_args, Phase::Mail)?;
        if reply.code != 250 {
            self.fail_transaction(reply.code);
            return Err(Error::SenderRefused { reply, sender: p.from.clone() });
        }
        let mut refused = Vec::new();
        for (each, args) in p.to.iter().zip(&p.rcpt_args) {
            let reply = self.command_in("rcpt", args, Phase::Rcpt)?;
            self.record_rcpt(each, &reply);
            if reply.code != 250 && reply.code != 251 {
                refused.push(Refusal { recipient: each.clone(), reply: reply.clone() });
            }
            if reply.code == 421 {
                self.close();
                return Err(Error::RecipientsRefused(refused));
            }
        }
        if refused.len() == p.to.len() {
            self.rset_quietly();
            return Err(Error::RecipientsRefused(refused));
        }
        let reply = if self.chunking() {
            self.send_chunks(body, mode, false)?
        } else {
            let reply = self.command_in("data", "", Phase::Data)?;
            if reply.code != 354 {
                return Err(Error::Data(reply));
            }
            self.send_body(body, mode, true)?;
            self.final_replies()?
        };
        self.after_data(reply, refused)
    }

    /// The outcome once the final reply (or replies) came: on LMTP the
    /// recipients refused after the data join the refused, and only when all
    /// of them failed is it a data error; else a reply other than 250 is.
    pub(super) fn after_data(&mut self, reply: Reply, refused: Vec<Refusal>) -> Result<Vec<Refusal>> {
        self.judge_data(reply, refused, true)
    }

    /// [`Session::after_data`], resetting after a failure only when `reset`.
    pub(super) fn judge_data(&mut self, reply: Reply, mut refused: Vec<Refusal>, reset: bool) -> Result<Vec<Refusal>> {
        let fail = |s: &mut Session, reply: Reply| {
            if reset || reply.code == 421 {
                s.fail_transaction(reply.code);
            }
            Err(Error::Data(reply))
        };
        if self.kind == Kind::Lmtp {
            let failed: Vec<Refusal> = self
                .rcpts
                .iter()
                .filter(|r| r.accepted_at_rcpt() && r.refused())
                .map(|r| Refusal { recipient: r.addr.clone(), reply: r.final_reply().clone() })
                .collect();
            if failed.len() == self.accepted.len() {
                return fail(self, reply);
            }
            refused.extend(failed);
        } else if reply.code != 250 {
            return fail(self, reply);
        }
        Ok(refused)
    }

    /// After a refusal: 421 closes (the server is going away), anything else
    /// resets the transaction.
    pub(super) fn fail_transaction(&mut self, code: i32) {
        if code == 421 {
            self.close();
        } else {
            self.rset_quietly();
        }
    }
}

/// A transaction checked and ready to send.
pub(super) struct Prepared {
    pub from: String,
    pub to: Vec<String>,
    pub mail_args: String,
    pub rcpt_args: Vec<String>,
    /// MAIL carries SMTPUTF8.
    pub utf8: bool,
}

/// A body that is not text (RFC 3030): NUL bytes, or bare line ends sent
/// as they are.
fn is_binary(parts: &[&[u8]], mode: LineEndings) -> bool {
    parts.iter().any(|p| memchr::memchr(0, p).is_some()) || (mode == LineEndings::Pass && first_bare_eol(parts).is_some())
}

/// [`LineEndings::Reject`]: a lone CR or LF is refused before anything is sent.
pub(super) fn check_line_endings(parts: &[&[u8]], mode: LineEndings) -> Result<()> {
    if mode == LineEndings::Reject {
        if let Some(at) = first_bare_eol(parts) {
            return Err(Error::InvalidArgument(format!(
                "the message has a lone CR or LF at byte {at} (line endings must be CRLF)"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes() {
        assert_eq!(enhanced_status(b"2.1.5 Ok").as_deref(), Some("2.1.5"));
        assert_eq!(enhanced_status(b"5.7.1").as_deref(), Some("5.7.1"));
        assert_eq!(enhanced_status(b"4.2.22 x").as_deref(), Some("4.2.22"));
        for bad in [&b"Ok"[..], b"3.1.1 x", b"2.1 x", b"2.1.5.6 x", b"2.1234.5 x", b"", b"2..5 x"] {
            assert_eq!(enhanced_status(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn options_deduplicated_by_keyword() {
        let o = dedup(vec!["size=10".into(), "SMTPUTF8".into(), "BODY=8BITMIME".into(), "smtputf8".into(), "body=7BIT".into()]);
        assert_eq!(o, ["size=10", "SMTPUTF8", "BODY=8BITMIME"]);
    }
}
