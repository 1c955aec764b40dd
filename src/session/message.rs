//! smtplib's `send_message` on a raw RFC 5322 message.

use super::Session;
use crate::data::LineEndings;
use crate::error::{Error, Refusal, Result};
use crate::message;

impl Session {
    /// smtplib's `send_message`: the envelope from the headers (or `from`
    /// and `to` when given), the message sent without its Bcc and
    /// Resent-Bcc fields and otherwise as given (per `mode`). An envelope
    /// address that is not ASCII adds SMTPUTF8 and BODY=8BITMIME when the
    /// server offers SMTPUTF8, else it is "not supported" and nothing is sent.
    pub fn send_message(
        &mut self,
        msg: &[u8],
        from: Option<&str>,
        to: Option<&[&str]>,
        mode: LineEndings,
        mail_options: &[&str],
        rcpt_options: &[&str],
    ) -> Result<Vec<Refusal>> {
        // The per-recipient results describe this call, however it ends.
        self.forget_results();
        self.ehlo_or_helo_if_needed()?;
        let prepared = message::prepare(msg, from, to)?;
        self.note_sender(&prepared.from);
        let international = !prepared.from.is_ascii() || prepared.to.iter().any(|a| !a.is_ascii());
        let mut opts: Vec<&str> = mail_options.to_vec();
        if international {
            if !self.has_extn("smtputf8") {
                return Err(Error::NotSupported(
                    "One or more source or delivery addresses require internationalized email support, \
                     but the server does not advertise the required SMTPUTF8 capability"
                        .into(),
                ));
            }
            opts.extend(["SMTPUTF8", "BODY=8BITMIME"]);
        }
        let parts: Vec<&[u8]> = prepared.keep.iter().map(|r| &msg[r.clone()]).collect();
        let to: Vec<&str> = prepared.to.iter().map(String::as_str).collect();
        self.sendmail(&prepared.from, &to, &parts, mode, &opts, rcpt_options)
    }
}
