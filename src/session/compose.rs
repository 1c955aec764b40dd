//! Sending a built message (`crate::compose`): the envelope from its
//! fields (Sender or From; To, Cc and Bcc), SMTPUTF8 when an address needs
//! it, the message streamed to the engine as it is written (attachments
//! read a chunk at a time), its SIZE announced when every part's is known.

use super::Session;
use crate::compose::Message;
use crate::data::LineEndings;
use crate::error::{Error, Refusal, Result};

impl Session {
    /// Send `msg` as `send_message` would send what it writes: results and
    /// per-recipient accessors alike. A part that fails to read mid-message
    /// (a file gone, a callback's error) closes the connection so that no
    /// partial message is delivered.
    pub fn send_composed(
        &mut self,
        msg: &mut Message,
        mail_options: &[&str],
        rcpt_options: &[&str],
    ) -> Result<Vec<Refusal>> {
        self.forget_results();
        let (from, to) = msg.envelope()?;
        self.ehlo_or_helo_if_needed()?;
        let mut opts: Vec<&str> = mail_options.to_vec();
        if msg.international() {
            if !self.has_extn("smtputf8") {
                return Err(Error::NotSupported(
                    "an address of the message is not ASCII, and the server does not offer SMTPUTF8".into(),
                ));
            }
            opts.extend(["SMTPUTF8", "BODY=8BITMIME"]);
        }
        let mut written = msg.write()?;
        let size = written.size;
        let to: Vec<&str> = to.iter().map(String::as_str).collect();
        let mut read = |buf: &mut [u8]| written.stream.read(buf);
        // The writer's line ends are CRLF already: sent as they are.
        self.sendmail_stream(&from, &to, &mut read, size, LineEndings::Pass, &opts, rcpt_options)
    }
}
