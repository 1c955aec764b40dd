//! DKIM canonicalization (RFC 6376 3.4): header fields one at a time, the
//! body as a stream, so that a body of any size is hashed in one pass with
//! constant memory.

use crate::data::{DataEncoder, LineEndings};

/// Simple or relaxed (RFC 6376 3.4.1-3.4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Canon {
    Simple,
    Relaxed,
}

impl Canon {
    pub fn name(self) -> &'static str {
        match self {
            Canon::Simple => "simple",
            Canon::Relaxed => "relaxed",
        }
    }
}

fn wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// One header field (its whole text, CRLF included) canonicalized. Simple
/// (3.4.1): unchanged. Relaxed (3.4.2): the name lower-cased, the value
/// unfolded, whitespace runs as one space, none around the colon or at the
/// end, then CRLF.
pub fn header(canon: Canon, field: &[u8]) -> Vec<u8> {
    if canon == Canon::Simple {
        return field.to_vec();
    }
    let colon = field.iter().position(|&b| b == b':').unwrap_or(field.len());
    let name = &field[..colon];
    let end = name.iter().rposition(|&b| !wsp(b)).map_or(0, |i| i + 1);
    let mut out: Vec<u8> = name[..end].to_ascii_lowercase();
    out.push(b':');
    let (mut space, mut started) = (false, false);
    for &b in field.get(colon + 1..).unwrap_or(&[]) {
        match b {
            b'\r' | b'\n' => {}
            b if wsp(b) => space = true,
            b => {
                if space && started {
                    out.push(b' ');
                }
                space = false;
                started = true;
                out.push(b);
            }
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// The body canonicalized as it streams by: line ends normalized to CRLF
/// the way the message is sent (`SMTP_MSG_NORMALIZE`, a final CRLF added),
/// then simple (3.4.3: trailing empty lines dropped, an empty body is one
/// CRLF) or relaxed (3.4.4: whitespace runs as one space, none at line
/// ends, trailing empty lines dropped, an empty body stays empty).
#[derive(Debug)]
pub struct Body {
    canon: Canon,
    norm: Option<DataEncoder>,
    normalized: Vec<u8>,
    /// Empty lines not yet written: written only if content follows.
    empty_lines: u64,
    /// Whitespace seen on this line and not yet written (relaxed).
    space: bool,
    /// This line has content.
    content: bool,
    /// Anything written at all.
    any: bool,
}

impl Body {
    pub fn new(canon: Canon) -> Body {
        Body {
            canon,
            norm: Some(DataEncoder::for_chunks(LineEndings::Normalize)),
            normalized: Vec::new(),
            empty_lines: 0,
            space: false,
            content: false,
            any: false,
        }
    }

    /// The next piece of the body; canonical bytes go to `out`.
    pub fn feed(&mut self, piece: &[u8], out: &mut Vec<u8>) {
        let mut normalized = std::mem::take(&mut self.normalized);
        normalized.clear();
        if let Some(n) = &mut self.norm {
            n.encode(piece, &mut normalized);
        }
        self.canonical(&normalized, out);
        self.normalized = normalized;
    }

    /// The end of the body.
    pub fn finish(mut self, out: &mut Vec<u8>) {
        let mut tail = Vec::new();
        if let Some(n) = self.norm.take() {
            n.finish(&mut tail);
        }
        self.canonical(&tail, out);
        if self.content {
            out.extend_from_slice(b"\r\n");
        }
        if self.canon == Canon::Simple && !self.any {
            out.extend_from_slice(b"\r\n");
        }
    }

    /// Canonicalize CRLF-normalized bytes (a CR is only ever before LF).
    fn canonical(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let relaxed = self.canon == Canon::Relaxed;
        for &b in input {
            match b {
                b'\r' => {}
                b'\n' => {
                    if self.content {
                        out.extend_from_slice(b"\r\n");
                    } else {
                        self.empty_lines += 1;
                    }
                    self.content = false;
                    self.space = false;
                }
                b if relaxed && wsp(b) => self.space = true,
                b => {
                    if !self.content {
                        for _ in 0..self.empty_lines {
                            out.extend_from_slice(b"\r\n");
                        }
                        self.empty_lines = 0;
                        self.content = true;
                        self.any = true;
                    }
                    if self.space {
                        out.push(b' ');
                        self.space = false;
                    }
                    out.push(b);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(canon: Canon, pieces: &[&[u8]]) -> Vec<u8> {
        let mut b = Body::new(canon);
        let mut out = Vec::new();
        for p in pieces {
            b.feed(p, &mut out);
        }
        b.finish(&mut out);
        out
    }

    /// RFC 6376 3.4.5's example.
    #[test]
    fn rfc_example() {
        let h1 = header(Canon::Relaxed, b"A: X\r\n");
        let h2 = header(Canon::Relaxed, b"B : Y\t\r\n\tZ  \r\n");
        assert_eq!([h1, h2].concat(), b"a:X\r\nb:Y Z\r\n");
        let b = b" C \r\nD \t E\r\n\r\n\r\n";
        assert_eq!(body(Canon::Relaxed, &[b]), b" C\r\nD E\r\n");
        assert_eq!(body(Canon::Simple, &[b]), b" C \r\nD \t E\r\n");
        assert_eq!(header(Canon::Simple, b"B : Y\t\r\n\tZ  \r\n"), b"B : Y\t\r\n\tZ  \r\n");
        assert_eq!(header(Canon::Relaxed, b"Subject:  x: y\r\n"), b"subject:x: y\r\n");
    }

    #[test]
    fn empty_bodies() {
        assert_eq!(body(Canon::Relaxed, &[]), b"");
        assert_eq!(body(Canon::Simple, &[]), b"\r\n");
        assert_eq!(body(Canon::Relaxed, &[b"\r\n\r\n"]), b"");
        assert_eq!(body(Canon::Simple, &[b"\r\n \r\n"]), b"\r\n \r\n");
        assert_eq!(body(Canon::Relaxed, &[b"\r\n \r\n"]), b"");
    }

    #[test]
    fn pieces_and_line_ends_do_not_matter() {
        let msg = b"a  b \r\n\r\nc\n\nd\r\n\r\n\r\n";
        for canon in [Canon::Simple, Canon::Relaxed] {
            let whole = body(canon, &[msg]);
            for split in 0..msg.len() {
                assert_eq!(body(canon, &[&msg[..split], &msg[split..]]), whole, "{canon:?} at {split}");
            }
        }
        assert_eq!(body(Canon::Relaxed, &[msg]), b"a b\r\n\r\nc\r\n\r\nd\r\n");
        assert_eq!(body(Canon::Simple, &[b"no end"]), b"no end\r\n");
    }
}
