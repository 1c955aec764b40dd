//! Everything decided before a transaction's first byte: the addresses,
//! options and message checked, EHLO or HELO if needed, the local SIZE
//! check, the MAIL and RCPT arguments (smtplib's, with the structured
//! envelope options).

use super::Session;
use crate::address::quote_addr;
use crate::command::{self, check_line_text};
use crate::data::{first_bare_eol, LineEndings};
use crate::engine::Envelope;
use crate::error::{Error, Result};
use crate::message::envelope::EnvelopeOptions;

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

    /// MAIL's arguments, checked: options only once EHLO succeeded (smtplib),
    /// SMTPUTF8 among them only when the server offers it. Also says whether
    /// the MAIL switches to UTF-8 commands.
    pub(super) fn mail_args(&self, sender: &str, options: &[&str]) -> Result<(String, bool)> {
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
        Ok((command::path_args("mail", "from:", &quote_addr(sender), opts)?, utf8))
    }

    /// RCPT's arguments, checked (options only once EHLO succeeded).
    pub(super) fn rcpt_args(&self, recipient: &str, options: &[&str]) -> Result<String> {
        check_line_text("recipient", recipient)?;
        let opts: &[&str] = if self.does_esmtp { options } else { &[] };
        command::path_args("rcpt", "to:", &quote_addr(recipient), opts)
    }

    /// Everything sendmail checks and decides before a byte is sent: the
    /// addresses and options, EHLO/HELO if needed, the SIZE limit, the
    /// structured options; the MAIL and RCPT arguments.
    pub(super) fn prepare(
        &mut self,
        from: &str,
        to: &[&str],
        size: &dyn Fn() -> Option<u64>,
        binary: &dyn Fn() -> bool,
        mail_options: &[&str],
        rcpt_options: &[&str],
    ) -> Result<Envelope> {
        self.check_tls_required("sendmail")?;
        if to.is_empty() {
            return Err(Error::InvalidArgument("no recipients".into()));
        }
        for addr in std::iter::once(&from).chain(to) {
            check_line_text("address", addr)?;
        }
        // The options as the first MAIL and RCPT would carry them.
        command::path_args("mail", "from:", &quote_addr(from), mail_options)?;
        command::path_args("rcpt", "to:", &quote_addr(to[0]), rcpt_options)?;
        self.ehlo_or_helo_if_needed()?;
        // The message's size and whether it is binary take a pass over it:
        // only when the server's extensions make them matter.
        let announce_size = self.does_esmtp && self.has_extn("size");
        let size = if announce_size || self.features.size_limit().is_some() { size() } else { None };
        if let (Some(size), Some(limit)) = (size, self.features.size_limit()) {
            if size > limit {
                return Err(Error::TooLarge(format!(
                    "the message is {size} bytes and the server accepts at most {limit} (SIZE); nothing was sent"
                )));
            }
        }
        let mut opts: Vec<String> = Vec::new();
        if let (true, Some(size)) = (announce_size, size) {
            opts.push(format!("size={size}"));
        }
        let encrypted = self.is_encrypted();
        opts.extend(self.envelope.mail_params(&self.features, encrypted)?);
        // RFC 3030 3: a body that is not text goes as BINARYMIME by BDAT.
        if self.chunking() && self.has_extn("binarymime") && binary() {
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
        Ok(Envelope {
            from: from.to_string(),
            to: to.iter().map(|s| s.to_string()).collect(),
            mail_args,
            rcpt_args,
            utf8,
        })
    }
}

/// A body that is not text (RFC 3030): NUL bytes, or bare line ends sent
/// as they are.
pub(super) fn is_binary(parts: &[&[u8]], mode: LineEndings) -> bool {
    parts.iter().any(|p| memchr::memchr(0, p).is_some())
        || (mode == LineEndings::Pass && first_bare_eol(parts).is_some())
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
    fn options_deduplicated_by_keyword() {
        let o = dedup(vec![
            "size=10".into(),
            "SMTPUTF8".into(),
            "BODY=8BITMIME".into(),
            "smtputf8".into(),
            "body=7BIT".into(),
        ]);
        assert_eq!(o, ["size=10", "SMTPUTF8", "BODY=8BITMIME"]);
    }
}
