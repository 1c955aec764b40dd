//! DKIM signing (RFC 6376) with rsa-sha256 and ed25519-sha256 (RFC 8463):
//! simple or relaxed canonicalization of the header and the body, a chosen
//! list of header fields (RFC 6376 5.4.1's recommendation by default), the
//! body hash computed over a stream ([`BodyHasher`]) so that a large
//! message is never held twice.

pub mod canon;
pub mod key;

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

pub use canon::Canon;
pub use key::Key;

use crate::compose::header::{fold, Atom, LINE};
use crate::data::{DataEncoder, LineEndings};
use crate::error::{Error, Result};

/// The fields signed unless the caller chooses (RFC 6376 5.4.1, with
/// Message-ID and the MIME fields, which a relay has no reason to change).
pub const DEFAULT_HEADERS: &[&str] = &[
    "from",
    "sender",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "to",
    "cc",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-id",
    "content-description",
    "resent-date",
    "resent-from",
    "resent-sender",
    "resent-to",
    "resent-cc",
    "resent-message-id",
    "in-reply-to",
    "references",
    "list-id",
    "list-help",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "list-subscribe",
    "list-post",
    "list-owner",
    "list-archive",
];

/// What and how to sign.
#[derive(Debug, Clone)]
pub struct Signer {
    pub key: Arc<Key>,
    /// d= and s=.
    pub domain: String,
    pub selector: String,
    /// Lower-case names; From is always among them (RFC 6376 5.4).
    pub headers: Vec<String>,
    pub header_canon: Canon,
    pub body_canon: Canon,
    /// t=: `None` is the time of signing.
    pub timestamp: Option<i64>,
    /// x=: seconds after t= when the signature expires; `None` never.
    pub expire_after: Option<u64>,
}

/// SHA-256 of a canonical body, fed as it streams.
pub struct BodyHasher {
    canon: canon::Body,
    sha: Sha256,
    buf: Vec<u8>,
}

impl BodyHasher {
    pub fn update(&mut self, piece: &[u8]) {
        self.buf.clear();
        self.canon.feed(piece, &mut self.buf);
        self.sha.update(&self.buf);
    }

    pub fn finish(mut self) -> [u8; 32] {
        self.buf.clear();
        self.canon.finish(&mut self.buf);
        self.sha.update(&self.buf);
        self.sha.finalize().into()
    }
}

fn check_tag_value(what: &str, v: &str) -> Result<()> {
    let ok = !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
    if !ok {
        return Err(Error::InvalidArgument(format!("DKIM {what} {v:?}: letters, digits, '-', '.' and '_' only")));
    }
    Ok(())
}

/// The d= value for `domain` (an IDN as A-labels), or why it cannot be one.
pub fn checked_domain(domain: &str) -> Result<String> {
    let domain = crate::idna_host::to_ascii(domain)?.into_owned();
    check_tag_value("domain", &domain)?;
    Ok(domain)
}

/// `selector` when it can be an s= value.
pub fn check_selector(selector: &str) -> Result<()> {
    check_tag_value("selector", selector)
}

impl Signer {
    /// A signer with the defaults: relaxed/relaxed, [`DEFAULT_HEADERS`].
    pub fn new(key: Arc<Key>, domain: &str, selector: &str) -> Result<Signer> {
        let domain = checked_domain(domain)?;
        check_selector(selector)?;
        Ok(Signer {
            key,
            domain,
            selector: selector.to_string(),
            headers: DEFAULT_HEADERS.iter().map(|h| h.to_string()).collect(),
            header_canon: Canon::Relaxed,
            body_canon: Canon::Relaxed,
            timestamp: None,
            expire_after: None,
        })
    }

    /// The fields to sign: `names` lower-cased, From added when missing.
    pub fn set_headers(&mut self, names: &[&str]) -> Result<()> {
        let mut out: Vec<String> = Vec::new();
        for n in names {
            crate::compose::header::check_name(n)?;
            out.push(n.to_ascii_lowercase());
        }
        if !out.iter().any(|n| n == "from") {
            out.insert(0, "from".into());
        }
        self.headers = out;
        Ok(())
    }

    pub fn body_hasher(&self) -> BodyHasher {
        BodyHasher { canon: canon::Body::new(self.body_canon), sha: Sha256::new(), buf: Vec::new() }
    }

    /// The DKIM-Signature field (with its CRLF) for a message whose header
    /// fields are `fields` (lower-case name, whole field with its line
    /// ends), in order, and whose canonical body hashes to `body_hash`.
    /// Each listed name signs its instances from the bottom up (RFC 6376
    /// 5.4.2); names with no instance are left out of h=.
    pub fn sign(&self, fields: &[(&str, &[u8])], body_hash: &[u8; 32]) -> Result<String> {
        let mut used = vec![false; fields.len()];
        let mut signed: Vec<(&str, usize)> = Vec::new();
        for name in &self.headers {
            while let Some(i) = (0..fields.len()).rev().find(|&i| !used[i] && fields[i].0.eq_ignore_ascii_case(name)) {
                used[i] = true;
                signed.push((name, i));
            }
        }
        if !signed.iter().any(|(n, _)| *n == "from") {
            return Err(Error::InvalidArgument("DKIM: the message has no From field to sign".into()));
        }
        let t = self.timestamp.unwrap_or_else(crate::compose::date::now);
        let mut tags = vec![
            "v=1;".to_string(),
            format!("a={};", self.key.algorithm()),
            format!("c={}/{};", self.header_canon.name(), self.body_canon.name()),
            format!("d={};", self.domain),
            format!("s={};", self.selector),
            format!("t={t};"),
        ];
        if let Some(x) = self.expire_after {
            tags.push(format!("x={};", t.saturating_add(i64::try_from(x).unwrap_or(i64::MAX))));
        }
        // h= may fold after its colons (RFC 6376 3.5).
        let mut h = vec![String::from("h=")];
        for (k, (n, _)) in signed.iter().enumerate() {
            let piece = format!("{n}{}", if k + 1 < signed.len() { ':' } else { ';' });
            match h.last_mut() {
                Some(last) if last.len() + piece.len() <= 60 => last.push_str(&piece),
                _ => h.push(piece),
            }
        }
        let mut atoms: Vec<Atom> = tags.into_iter().chain(h).map(|text| Atom { space: " ".into(), text }).collect();
        atoms.push(Atom { space: " ".into(), text: format!("bh={};", STANDARD.encode(body_hash)) });
        atoms.push(Atom { space: " ".into(), text: "b=".into() });
        let unsigned = fold("DKIM-Signature", &atoms);
        let unsigned = unsigned.strip_suffix("\r\n").expect("a folded field ends in CRLF");
        let mut data = Vec::new();
        for (_, i) in &signed {
            data.extend(canon::header(self.header_canon, fields[*i].1));
        }
        // The signature field itself, b= empty, without its CRLF (3.7).
        let own = canon::header(self.header_canon, format!("{unsigned}\r\n").as_bytes());
        data.extend_from_slice(&own[..own.len() - 2]);
        let b = STANDARD.encode(self.key.sign(&data)?);
        Ok(format!("{unsigned}{}\r\n", fold_b64(&b, unsigned.len() - unsigned.rfind('\n').map_or(0, |i| i + 1))))
    }

    /// The DKIM-Signature field for a raw message (prepend it): the header
    /// fields up to the first empty line, the body after it, with line ends
    /// as `SMTP_MSG_NORMALIZE` sends them (a lone LF or CR is a CRLF).
    pub fn sign_raw(&self, msg: &[u8]) -> Result<String> {
        let fields = crate::message::header_fields(msg);
        let mut body_start = fields.last().map_or(0, |f| f.range.end);
        if msg[body_start..].starts_with(b"\r\n") {
            body_start += 2;
        } else if msg[body_start..].starts_with(b"\n") || msg[body_start..].starts_with(b"\r") {
            body_start += 1;
        }
        let normalized: Vec<(String, Vec<u8>)> = fields
            .iter()
            .map(|f| {
                let mut enc = DataEncoder::for_chunks(LineEndings::Normalize);
                let mut b = Vec::new();
                enc.encode(&msg[f.range.clone()], &mut b);
                enc.finish(&mut b);
                (String::from_utf8_lossy(f.name).to_ascii_lowercase(), b)
            })
            .collect();
        let refs: Vec<(&str, &[u8])> = normalized.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
        let mut h = self.body_hasher();
        h.update(&msg[body_start..]);
        self.sign(&refs, &h.finish())
    }
}

/// The DNS TXT record that publishes `key`'s public half, at
/// `<selector>._domainkey.<domain>` (RFC 6376 3.6.1, RFC 8463 4).
pub fn dns_record(key: &Key) -> String {
    let k = match key {
        Key::Rsa(_) => "rsa",
        Key::Ed25519(_) => "ed25519",
    };
    format!("v=DKIM1; k={k}; p={}", STANDARD.encode(key.public_der()))
}

/// The base64 signature cut to fit lines of [`LINE`], the first piece
/// after `col` characters already on the line; FWS in b= is ignored (3.5).
fn fold_b64(b: &str, col: usize) -> String {
    let mut out = String::new();
    let mut rest = b;
    let mut room = LINE.saturating_sub(col).max(1);
    while !rest.is_empty() {
        let (piece, tail) = rest.split_at(room.min(rest.len()));
        if !out.is_empty() || col >= LINE {
            out.push_str("\r\n ");
        }
        out.push_str(piece);
        rest = tail;
        room = LINE - 1;
    }
    out
}

#[cfg(test)]
mod tests;
