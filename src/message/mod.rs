//! `send_message` on a raw RFC 5322 message: the header fields, the
//! envelope smtplib takes from them, and the byte ranges to send (the
//! message without its Bcc and Resent-Bcc fields, every other byte as given).

pub mod address_list;
pub mod envelope;

use std::ops::Range;

use crate::error::{Error, Result};

/// One header field: its name and where it stands (continuation lines and
/// the line end included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field<'a> {
    pub name: &'a [u8],
    /// After the colon, up to the end of the last continuation line.
    pub value: &'a [u8],
    pub range: Range<usize>,
}

impl Field<'_> {
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name.as_bytes())
    }
}

/// The end of the line starting at `start` (after its CRLF, LF or lone CR).
fn line_end(msg: &[u8], start: usize) -> usize {
    match memchr::memchr2(b'\r', b'\n', &msg[start..]) {
        None => msg.len(),
        Some(off) => {
            let i = start + off;
            if msg[i] == b'\r' && msg.get(i + 1) == Some(&b'\n') {
                i + 2
            } else {
                i + 1
            }
        }
    }
}

/// The header fields, up to the empty line (or the first line that is
/// neither a field nor a continuation, where Python's parser also starts
/// the body).
pub fn header_fields(msg: &[u8]) -> Vec<Field<'_>> {
    // (name, where the value starts, the field's range)
    let mut found: Vec<(&[u8], usize, Range<usize>)> = Vec::new();
    let mut pos = 0;
    while pos < msg.len() {
        let end = line_end(msg, pos);
        let line = &msg[pos..end];
        let content = line.strip_suffix(b"\n").unwrap_or(line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.is_empty() {
            break;
        }
        if matches!(line[0], b' ' | b'\t') {
            match found.last_mut() {
                Some((_, _, range)) => range.end = end,
                None => break,
            }
        } else {
            let Some(colon) = content.iter().position(|&b| b == b':') else { break };
            let name = &content[..colon];
            if name.is_empty() || !name.iter().all(|&b| (33..=126).contains(&b)) {
                break;
            }
            found.push((name, pos + colon + 1, pos..end));
        }
        pos = end;
    }
    found.into_iter().map(|(name, start, range)| Field { name, value: &msg[start..range.end], range }).collect()
}

/// What `send_message` sends: envelope and the ranges of the message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub from: String,
    pub to: Vec<String>,
    /// The message minus its Bcc and Resent-Bcc fields.
    pub keep: Vec<Range<usize>>,
}

fn addresses(fields: &[&Field<'_>]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for f in fields {
        let value = String::from_utf8_lossy(f.value);
        let name = String::from_utf8_lossy(f.name);
        let list = address_list::parse_address_list(&value)
            .map_err(|e| Error::InvalidArgument(format!("cannot parse the {name} field: {e}")))?;
        for m in list {
            if m.addr.contains('\u{fffd}') {
                return Err(Error::InvalidArgument(format!("an address in the {name} field is not valid UTF-8")));
            }
            if !m.addr.is_empty() {
                out.push(m.addr);
            }
        }
    }
    Ok(out)
}

/// smtplib's `send_message` envelope: exactly one Resent-Date switches to
/// the Resent- fields (more than one is refused); the sender is the first
/// address of Sender, else From; the recipients are every address of To,
/// Bcc and Cc, in that order. `from` and `to` given by the caller win.
///
/// Unlike smtplib, which reads only the first field of each name, every To,
/// Bcc and Cc field counts: smtplib deletes every Bcc field, so a second Bcc
/// field's recipients would be silently lost.
pub fn prepare(msg: &[u8], from: Option<&str>, to: Option<&[&str]>) -> Result<Prepared> {
    let fields = header_fields(msg);
    let resent = fields.iter().filter(|f| f.is("Resent-Date")).count();
    let prefix = match resent {
        0 => "",
        1 => "Resent-",
        _ => return Err(Error::InvalidArgument("message has more than one 'Resent-' header block".into())),
    };
    let named = |n: &str| -> Vec<&Field<'_>> {
        let full = format!("{prefix}{n}");
        fields.iter().filter(|f| f.is(&full)).collect()
    };
    let from = match from {
        Some(f) => f.to_string(),
        None => {
            let sender = named("Sender");
            let source = if sender.is_empty() { named("From") } else { sender };
            let first = source.first().ok_or_else(|| {
                Error::InvalidArgument(format!("the message has no {prefix}Sender or {prefix}From field"))
            })?;
            addresses(&[first])?.into_iter().next().unwrap_or_default()
        }
    };
    let to = match to {
        Some(t) => t.iter().map(|s| s.to_string()).collect(),
        None => {
            let mut all = named("To");
            all.extend(named("Bcc"));
            all.extend(named("Cc"));
            addresses(&all)?
        }
    };
    let mut keep = Vec::new();
    let mut pos = 0;
    for f in fields.iter().filter(|f| f.is("Bcc") || f.is("Resent-Bcc")) {
        if f.range.start > pos {
            keep.push(pos..f.range.start);
        }
        pos = f.range.end;
    }
    if pos < msg.len() {
        keep.push(pos..msg.len());
    }
    Ok(Prepared { from, to, keep })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(msg: &[u8], p: &Prepared) -> Vec<u8> {
        p.keep.iter().flat_map(|r| msg[r.clone()].to_vec()).collect()
    }

    #[test]
    fn smtplib_vector() {
        let msg = b"From: Alice <alice@example.com>\r\nTo: bob@example.com, Carol <carol@example.com>\r\n\
Cc: dan@example.com\r\nBcc: eve@example.com\r\nSubject: meeting\r\n\r\nSee you.\r\n";
        let p = prepare(msg, None, None).unwrap();
        assert_eq!(p.from, "alice@example.com");
        assert_eq!(p.to, ["bob@example.com", "carol@example.com", "eve@example.com", "dan@example.com"]);
        assert_eq!(
            sent(msg, &p),
            b"From: Alice <alice@example.com>\r\nTo: bob@example.com, Carol <carol@example.com>\r\n\
Cc: dan@example.com\r\nSubject: meeting\r\n\r\nSee you.\r\n"
        );
    }

    /// (message, sender, recipients, bytes sent)
    type Case<'a> = (&'a [u8], &'a str, &'a [&'a str], &'a [u8]);

    #[test]
    fn table() {
        let cases: &[Case] = &[
            (
                b"Sender: s@x.org\r\nFrom: a@x.org, b@x.org\r\nTo: c@x.org\r\n\r\nbody\r\nBcc: not@a.header\r\n",
                "s@x.org",
                &["c@x.org"],
                b"Sender: s@x.org\r\nFrom: a@x.org, b@x.org\r\nTo: c@x.org\r\n\r\nbody\r\nBcc: not@a.header\r\n",
            ),
            (
                b"From: a@x.org\r\nBcc: one@x.org,\r\n two@x.org\r\nTo: (comment) t@x.org\r\nbcc: three@x.org\r\n\r\nb\r\n",
                "a@x.org",
                &["t@x.org", "one@x.org", "two@x.org", "three@x.org"],
                b"From: a@x.org\r\nTo: (comment) t@x.org\r\n\r\nb\r\n",
            ),
            (
                b"From: a@x.org\r\nTo: t@x.org\r\nResent-Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nResent-From: r@x.org\r\n\
Resent-To: \"Doe, J\" <rt@x.org>, Team: m1@x.org, m2@x.org;\r\nResent-Bcc: rb@x.org\r\nBcc: b@x.org\r\n\r\nb",
                "r@x.org",
                &["rt@x.org", "m1@x.org", "m2@x.org", "rb@x.org"],
                b"From: a@x.org\r\nTo: t@x.org\r\nResent-Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nResent-From: r@x.org\r\n\
Resent-To: \"Doe, J\" <rt@x.org>, Team: m1@x.org, m2@x.org;\r\n\r\nb",
            ),
            (
                b"From: a@x.org\nTo: t@x.org\nBcc: b@x.org,\n\tc@x.org\n\nLF only\n",
                "a@x.org",
                &["t@x.org", "b@x.org", "c@x.org"],
                b"From: a@x.org\nTo: t@x.org\n\nLF only\n",
            ),
            (b"From: a@x.org\r\nBcc: b@x.org", "a@x.org", &["b@x.org"], b"From: a@x.org\r\n"),
        ];
        for (msg, from, to, bytes) in cases {
            let p = prepare(msg, None, None).unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(msg)));
            assert_eq!(p.from, *from, "{:?}", String::from_utf8_lossy(msg));
            assert_eq!(p.to, *to, "{:?}", String::from_utf8_lossy(msg));
            assert_eq!(sent(msg, &p), *bytes, "{:?}", String::from_utf8_lossy(msg));
        }
    }

    #[test]
    fn refusals() {
        let two_resent = b"From: a@x\r\nResent-Date: x\r\nResent-Date: y\r\n\r\n";
        assert!(matches!(prepare(two_resent, None, None), Err(Error::InvalidArgument(m)) if m.contains("Resent")));
        assert!(
            matches!(prepare(b"To: a@x\r\n\r\n", None, None), Err(Error::InvalidArgument(m)) if m.contains("From"))
        );
        assert!(
            matches!(prepare(b"From: a@x\r\nTo: <broken\r\n\r\n", None, None), Err(Error::InvalidArgument(m)) if m.contains("To field"))
        );
        // Given from and to replace the headers (smtplib).
        let p = prepare(b"To: <broken\r\n\r\n", Some("me@x"), Some(&["you@x"])).unwrap();
        assert_eq!((p.from.as_str(), p.to.as_slice()), ("me@x", &["you@x".to_string()][..]));
    }

    #[test]
    fn header_scan_stops_at_body_and_bad_lines() {
        let f = header_fields(b"A: 1\r\n\tmore\r\nB:2\r\nnot a header\r\nC: 3\r\n");
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].value, b" 1\r\n\tmore\r\n");
        assert!(header_fields(b"\r\nA: 1\r\n").is_empty());
        assert!(header_fields(b" lead\r\nA: 1\r\n").is_empty());
    }
}
