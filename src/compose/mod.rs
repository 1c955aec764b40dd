//! The message builder: addresses, subject and other header fields, a text
//! part, an HTML part, attachments and inline parts, written as an RFC 5322
//! message with MIME (RFC 2045-2049) and streamed to the transaction engine
//! or to the caller, optionally DKIM-signed (`crate::dkim`).
//!
//! What it writes: CRLF line ends throughout; header fields folded to 78
//! characters, text beyond ASCII in RFC 2047 encoded words (display names,
//! Subject, other fields) and RFC 2231 parameters (file names); each part in
//! the shortest fitting transfer encoding (7bit, quoted-printable, or base64
//! in 76-character lines); Bcc never written. Date and Message-ID are made
//! when not given, once, so that every later write (DKIM's two passes, a
//! pool's retry) gives the same bytes.

pub mod address;
pub mod date;
pub mod encode;
pub mod header;
pub mod param;
pub mod source;
mod tree;
pub mod writer;

use std::sync::Arc;

use address::Mailbox;
use header::{check_name, check_text, fold, unstructured};
use source::Source;
use tree::Seg;
use writer::Stream;

use crate::dkim::Signer;
use crate::error::{Error, Result};

/// How a part is shown: as an attachment, or inline with a Content-ID the
/// HTML refers to (`cid:`, RFC 2392).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    Attachment,
    Inline(String),
}

/// An attachment or inline part.
#[derive(Debug)]
pub struct Part {
    pub disposition: Disposition,
    pub content_type: String,
    pub filename: Option<String>,
    pub source: Source,
}

/// A message being built.
#[derive(Debug, Default)]
pub struct Message {
    from: Vec<Mailbox>,
    sender: Option<Mailbox>,
    reply_to: Vec<Mailbox>,
    to: Vec<Mailbox>,
    cc: Vec<Mailbox>,
    bcc: Vec<Mailbox>,
    subject: Option<String>,
    date: Option<String>,
    message_id: Option<String>,
    extra: Vec<(String, String)>,
    text: Option<String>,
    html: Option<String>,
    parts: Vec<Part>,
    /// Makes the boundaries unique: `=_<seed>_<n>`.
    seed: String,
    dkim: Option<Arc<Signer>>,
}

/// Fields with a setter of their own (or written by the builder).
const RESERVED: &[&str] = &[
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-disposition",
    "content-id",
    "dkim-signature",
];

/// A written message: its header fields (lower-case name, field with its
/// CRLF), its body, and its size when every part's is known.
pub struct Written<'m> {
    pub stream: Stream<'m>,
    pub size: Option<u64>,
}

impl Message {
    pub fn new() -> Message {
        Message { seed: date::token(), ..Message::default() }
    }

    /// From: one or more mailboxes (RFC 5322 3.6.2), replacing any before.
    pub fn set_from(&mut self, list: &str) -> Result<()> {
        self.from = address::parse(list, "from")?;
        Ok(())
    }

    /// Sender: one mailbox; `None` removes it.
    pub fn set_sender(&mut self, mailbox: Option<&str>) -> Result<()> {
        self.sender = match mailbox {
            None => None,
            Some(m) => {
                let mut l = address::parse(m, "sender")?;
                if l.len() != 1 {
                    return Err(Error::InvalidArgument("sender: exactly one mailbox (RFC 5322 3.6.2)".into()));
                }
                l.pop()
            }
        };
        Ok(())
    }

    pub fn add_reply_to(&mut self, list: &str) -> Result<()> {
        self.reply_to.extend(address::parse(list, "reply-to")?);
        Ok(())
    }

    pub fn add_to(&mut self, list: &str) -> Result<()> {
        self.to.extend(address::parse(list, "to")?);
        Ok(())
    }

    pub fn add_cc(&mut self, list: &str) -> Result<()> {
        self.cc.extend(address::parse(list, "cc")?);
        Ok(())
    }

    /// Bcc: recipients in the envelope only; the field is never written.
    pub fn add_bcc(&mut self, list: &str) -> Result<()> {
        self.bcc.extend(address::parse(list, "bcc")?);
        Ok(())
    }

    pub fn set_subject(&mut self, subject: &str) -> Result<()> {
        check_text("subject", subject)?;
        self.subject = Some(subject.to_string());
        Ok(())
    }

    /// Date: `unix` seconds at `offset_min` minutes east of UTC (-1439 to
    /// 1439); the time of the first write, in UTC, when never set.
    pub fn set_date(&mut self, unix: i64, offset_min: i32) -> Result<()> {
        if offset_min.abs() >= 24 * 60 || !(-62_135_596_800..253_402_300_800).contains(&unix) {
            return Err(Error::InvalidArgument(format!("date {unix} at offset {offset_min} is out of range")));
        }
        self.date = Some(date::rfc5322(unix, offset_min));
        Ok(())
    }

    /// Message-ID: `id@domain`, angle brackets optional; made from random
    /// bytes and the From domain when never set.
    pub fn set_message_id(&mut self, id: &str) -> Result<()> {
        let inner = id.strip_prefix('<').and_then(|i| i.strip_suffix('>')).unwrap_or(id);
        let ok = inner.is_ascii()
            && inner.bytes().all(|b| b.is_ascii_graphic() && !b"<>\"\\()[],;:".contains(&b) || b == b'@')
            && matches!(inner.split_once('@'), Some((l, r)) if !l.is_empty() && !r.is_empty() && !r.contains('@'));
        if !ok {
            return Err(Error::InvalidArgument(format!("message-id {id:?} is not of the form id@domain")));
        }
        self.message_id = Some(format!("<{inner}>"));
        Ok(())
    }

    /// Any other field, as unstructured text (encoded words when not
    /// ASCII), after the builder's own fields, in the order added.
    pub fn add_header(&mut self, name: &str, value: &str) -> Result<()> {
        check_name(name)?;
        check_text(name, value)?;
        if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
            return Err(Error::InvalidArgument(format!(
                "the {name} field is written by the builder; use its own call"
            )));
        }
        self.extra.push((name.to_string(), value.to_string()));
        Ok(())
    }

    pub fn set_text(&mut self, text: Option<&str>) {
        self.text = text.map(str::to_string);
    }

    pub fn set_html(&mut self, html: Option<&str>) {
        self.html = html.map(str::to_string);
    }

    /// Add an attachment (or inline part). `content_type` `None` is guessed
    /// from the file name.
    pub fn attach(
        &mut self,
        source: Source,
        filename: Option<&str>,
        content_type: Option<&str>,
        disposition: Disposition,
    ) -> Result<()> {
        if let Some(f) = filename {
            check_text("filename", f)?;
            if f.is_empty() {
                return Err(Error::InvalidArgument("filename is empty".into()));
            }
        }
        if let Disposition::Inline(cid) = &disposition {
            let inner = cid.strip_prefix('<').and_then(|c| c.strip_suffix('>')).unwrap_or(cid);
            if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_graphic() && !b"<>\"\\".contains(&b)) {
                return Err(Error::InvalidArgument(format!("content id {cid:?} must be printable ASCII")));
            }
        }
        let content_type = match content_type {
            Some(t) if param::valid_type(t) => t.to_ascii_lowercase(),
            Some(t) => return Err(Error::InvalidArgument(format!("content type {t:?} is not type/subtype"))),
            None => param::guess_type(filename.unwrap_or("")).to_string(),
        };
        let disposition = match disposition {
            Disposition::Inline(cid) => {
                Disposition::Inline(cid.strip_prefix('<').and_then(|c| c.strip_suffix('>')).unwrap_or(&cid).to_string())
            }
            d => d,
        };
        self.parts.push(Part { disposition, content_type, filename: filename.map(str::to_string), source });
        Ok(())
    }

    /// Sign every write with `signer`; `None` stops signing.
    pub fn set_dkim(&mut self, signer: Option<Arc<Signer>>) {
        self.dkim = signer;
    }

    /// Whether any address needs SMTPUTF8 (and so the headers carry UTF-8,
    /// RFC 6532).
    pub fn international(&self) -> bool {
        self.all_mailboxes().any(Mailbox::international)
    }

    fn all_mailboxes(&self) -> impl Iterator<Item = &Mailbox> {
        self.from.iter().chain(&self.sender).chain(&self.reply_to).chain(&self.to).chain(&self.cc).chain(&self.bcc)
    }

    /// The envelope `send_message` would take from the fields: the Sender,
    /// else the first From; every To, Cc and Bcc.
    pub fn envelope(&self) -> Result<(String, Vec<String>)> {
        let from = self
            .sender
            .as_ref()
            .or(self.from.first())
            .ok_or_else(|| Error::InvalidArgument("the message has no From (smtp_message_set_from)".into()))?;
        let to: Vec<String> = self.to.iter().chain(&self.cc).chain(&self.bcc).map(|m| m.addr.clone()).collect();
        if to.is_empty() {
            return Err(Error::InvalidArgument("the message has no To, Cc or Bcc recipient".into()));
        }
        Ok((from.addr.clone(), to))
    }

    /// The header fields the builder writes, in order, Date and Message-ID
    /// made now if never set.
    fn fields(&mut self) -> Result<Vec<(String, String)>> {
        if self.from.is_empty() {
            return Err(Error::InvalidArgument("the message has no From (smtp_message_set_from)".into()));
        }
        let date = self.date.get_or_insert_with(|| date::rfc5322(date::now(), 0)).clone();
        let domain = self.from[0].domain().to_string();
        let id = self.message_id.get_or_insert_with(|| format!("<{}@{domain}>", date::token())).clone();
        let mut out: Vec<(String, String)> = Vec::new();
        let mut put = |name: &str, field: String| out.push((name.to_ascii_lowercase(), field));
        put("Date", format!("Date: {date}\r\n"));
        put("From", fold("From", &address::atoms(&self.from)));
        if let Some(s) = &self.sender {
            put("Sender", fold("Sender", &address::atoms(std::slice::from_ref(s))));
        }
        for (name, list) in [("Reply-To", &self.reply_to), ("To", &self.to), ("Cc", &self.cc)] {
            if !list.is_empty() {
                put(name, fold(name, &address::atoms(list)));
            }
        }
        if let Some(s) = &self.subject {
            put("Subject", fold("Subject", &unstructured(s)));
        }
        put("Message-ID", format!("Message-ID: {id}\r\n"));
        for (name, value) in &self.extra {
            put(name, fold(name, &unstructured(value)));
        }
        Ok(out)
    }

    /// Write the message: header fields (with DKIM-Signature first when a
    /// signer is set, after a pass over the body to hash it) and a stream
    /// of the rest. Files are opened as the stream reaches them.
    pub fn write(&mut self) -> Result<Written<'_>> {
        // Refused before a byte is written or sent, rather than as a failed
        // read once the message is half out.
        if let Some(p) = self.parts.iter().find(|p| p.source.spent()) {
            return Err(Error::InvalidArgument(format!(
                "the attachment {:?} comes from a read callback with no rewind callback and was read already: \
                 the message can be written or sent once",
                p.filename.as_deref().unwrap_or("(no name)")
            )));
        }
        let mut fields = self.fields()?;
        let (mime, segs) = tree::flatten(self);
        fields.extend(mime.into_iter().map(|(n, f)| (n.to_string(), f)));
        let mut size = Some(0u64);
        for seg in &segs {
            let len = match seg {
                Seg::Bytes(b) => Some(b.len() as u64),
                Seg::Part(i) => self.parts[*i].source.len()?.map(encode::base64_len),
            };
            size = size.zip(len).map(|(a, b)| a + b);
        }
        if let Some(signer) = self.dkim.clone() {
            if let Some(p) = self.parts.iter().find(|p| !p.source.rereadable()) {
                return Err(Error::InvalidArgument(format!(
                    "DKIM signing reads every part twice, and the attachment {:?} comes from a read \
                     callback with no rewind callback",
                    p.filename.as_deref().unwrap_or("(no name)")
                )));
            }
            let mut hasher = signer.body_hasher();
            let mut body = Stream::new(segs.clone(), self.parts.iter_mut().map(|p| &mut p.source).collect());
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = body.read(&mut buf).map_err(Error::Io)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
            let refs: Vec<(&str, &[u8])> = fields.iter().map(|(n, f)| (n.as_str(), f.as_bytes())).collect();
            let sig = signer.sign(&refs, &hasher.finish())?;
            fields.insert(0, ("dkim-signature".into(), sig));
        }
        let mut head: Vec<u8> = fields.iter().flat_map(|(_, f)| f.bytes()).collect();
        head.extend_from_slice(b"\r\n");
        size = size.map(|s| s + head.len() as u64);
        let mut all = vec![Seg::Bytes(head)];
        all.extend(segs);
        Ok(Written { stream: Stream::new(all, self.parts.iter_mut().map(|p| &mut p.source).collect()), size })
    }

    /// The whole message in memory.
    pub fn to_bytes(&mut self) -> Result<Vec<u8>> {
        self.write()?.stream.read_all().map_err(Error::Io)
    }
}

#[cfg(test)]
mod tests;
