//! The MIME tree of a message (RFC 2046 5.1) and its flattening into
//! segments: bytes that are known now (headers, boundaries, the encoded
//! text parts) and attachments, encoded as base64 when written.
//!
//! Shape: text and HTML side by side in multipart/alternative (plain text
//! first, RFC 2046 5.1.4); HTML with its inline parts in multipart/related
//! (RFC 2387); all that and the attachments in multipart/mixed. A part alone
//! is the message's own body.

use super::encode::{crlf_lines, encode_text, Cte};
use super::header::{fold, Atom};
use super::param::{param, with_params};
use super::{Disposition, Message};

/// A piece of the written message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Bytes(Vec<u8>),
    /// Attachment `n`'s content, base64.
    Part(usize),
}

enum Node {
    /// (Content-Type value, encoding, encoded bytes)
    Text(String, Cte, Vec<u8>),
    Part(usize),
    Multi(&'static str, Vec<Node>),
}

fn text_node(subtype: &str, text: &str) -> Node {
    let (cte, bytes) = encode_text(&crlf_lines(text.as_bytes()));
    Node::Text(format!("text/{subtype}; charset=\"utf-8\""), cte, bytes)
}

fn tree(m: &Message) -> Node {
    let (inline, attached): (Vec<usize>, Vec<usize>) =
        (0..m.parts.len()).partition(|&i| matches!(m.parts[i].disposition, Disposition::Inline(_)));
    let html = m.html.as_deref().map(|h| {
        let node = text_node("html", h);
        if inline.is_empty() {
            node
        } else {
            Node::Multi("related", std::iter::once(node).chain(inline.iter().map(|&i| Node::Part(i))).collect())
        }
    });
    let text = m.text.as_deref().map(|t| text_node("plain", t));
    let body = match (text, html) {
        (Some(t), Some(h)) => Some(Node::Multi("alternative", vec![t, h])),
        (t, h) => t.or(h),
    };
    // Inline parts with no HTML to refer to them travel as parts of the mix.
    let orphans = if m.html.is_none() { inline } else { Vec::new() };
    let mut mixed: Vec<Node> = orphans.into_iter().chain(attached).map(Node::Part).collect();
    match (body, mixed.is_empty()) {
        (Some(b), true) => b,
        (None, true) => text_node("plain", ""),
        (body, false) => {
            mixed.splice(0..0, body);
            Node::Multi("mixed", mixed)
        }
    }
}

/// Writes nodes as segments, numbering the boundaries.
struct Flat<'m> {
    m: &'m Message,
    segs: Vec<Seg>,
    boundaries: usize,
}

impl Flat<'_> {
    fn bytes(&mut self, b: &[u8]) {
        match self.segs.last_mut() {
            Some(Seg::Bytes(v)) => v.extend_from_slice(b),
            _ => self.segs.push(Seg::Bytes(b.to_vec())),
        }
    }

    /// A node's own header fields, and how to write its body.
    fn headers(&mut self, node: &Node) -> (Vec<(&'static str, String)>, Option<String>) {
        match node {
            Node::Text(ctype, cte, _) => {
                let ct = fold("Content-Type", &[Atom { space: String::new(), text: ctype.clone() }]);
                (vec![("content-type", ct), ("content-transfer-encoding", cte_field(*cte))], None)
            }
            Node::Part(i) => {
                let p = &self.m.parts[*i];
                let mut fields = Vec::new();
                let ctype = match &p.filename {
                    Some(f) => with_params(&p.content_type, vec![param("name", f)]),
                    None => with_params(&p.content_type, vec![]),
                };
                fields.push(("content-type", fold("Content-Type", &ctype)));
                let disposition = match &p.disposition {
                    Disposition::Attachment => "attachment",
                    Disposition::Inline(_) => "inline",
                };
                let params = p.filename.iter().map(|f| param("filename", f)).collect();
                fields.push(("content-disposition", fold("Content-Disposition", &with_params(disposition, params))));
                if let Disposition::Inline(cid) = &p.disposition {
                    fields.push(("content-id", format!("Content-ID: <{cid}>\r\n")));
                }
                fields.push(("content-transfer-encoding", cte_field(Cte::Base64)));
                (fields, None)
            }
            Node::Multi(sub, _) => {
                self.boundaries += 1;
                let b = format!("=_{}_{}", self.m.seed, self.boundaries);
                let ct = with_params(
                    &format!("multipart/{sub}"),
                    vec![vec![Atom { space: " ".into(), text: format!("boundary=\"{b}\"") }]],
                );
                (vec![("content-type", fold("Content-Type", &ct))], Some(b))
            }
        }
    }

    fn body(&mut self, node: &Node, boundary: Option<String>) {
        match node {
            Node::Text(_, _, bytes) => self.bytes(bytes),
            Node::Part(i) => self.segs.push(Seg::Part(*i)),
            Node::Multi(_, children) => {
                let b = boundary.expect("a multipart has a boundary");
                for child in children {
                    self.bytes(format!("--{b}\r\n").as_bytes());
                    let (fields, inner) = self.headers(child);
                    for (_, f) in &fields {
                        self.bytes(f.as_bytes());
                    }
                    self.bytes(b"\r\n");
                    self.body(child, inner);
                    // The CRLF before a delimiter belongs to it (RFC 2046
                    // 5.1.1): this one keeps the part's last line end.
                    self.bytes(b"\r\n");
                }
                self.bytes(format!("--{b}--\r\n").as_bytes());
            }
        }
    }
}

fn cte_field(cte: Cte) -> String {
    format!("Content-Transfer-Encoding: {}\r\n", cte.name())
}

/// The message's MIME header fields (lower-case name, field) and its body
/// as segments.
pub fn flatten(m: &Message) -> (Vec<(&'static str, String)>, Vec<Seg>) {
    let top = tree(m);
    let mut flat = Flat { m, segs: Vec::new(), boundaries: 0 };
    let (mut fields, boundary) = flat.headers(&top);
    fields.insert(0, ("mime-version", "MIME-Version: 1.0\r\n".to_string()));
    flat.body(&top, boundary);
    (fields, flat.segs)
}
