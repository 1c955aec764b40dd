//! Content-Transfer-Encodings (RFC 2045 6): 7bit for short-lined ASCII
//! text, quoted-printable or base64 for other text (whichever is shorter,
//! as Python's `email.contentmanager` chooses), base64 for attachments.
//! Lines end in CRLF and never pass 76 characters in the encoded forms.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// The longest 7bit line (RFC 5322 2.1.1: 998 characters before CRLF).
const MAX_7BIT_LINE: usize = 998;
/// Input bytes per base64 line: 57 bytes are 76 characters.
pub(crate) const B64_LINE_IN: usize = 57;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cte {
    SevenBit,
    QuotedPrintable,
    Base64,
}

impl Cte {
    pub fn name(self) -> &'static str {
        match self {
            Cte::SevenBit => "7bit",
            Cte::QuotedPrintable => "quoted-printable",
            Cte::Base64 => "base64",
        }
    }
}

/// `text` with every line end (CRLF, lone LF, lone CR) as CRLF: text parts
/// are lines (RFC 2046 4.1.1).
pub fn crlf_lines(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 32);
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'\r' => {
                out.extend_from_slice(b"\r\n");
                if text.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            b'\n' => out.extend_from_slice(b"\r\n"),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// A text part's encoding and its encoded bytes. `text` has CRLF line ends.
pub fn encode_text(text: &[u8]) -> (Cte, Vec<u8>) {
    let short = text.split(|&b| b == b'\n').all(|l| l.len() <= MAX_7BIT_LINE + 1);
    if text.is_ascii() && short && !text.contains(&0) {
        return (Cte::SevenBit, text.to_vec());
    }
    let qp = quoted_printable(text);
    let b64 = base64_all(text);
    if qp.len() <= b64.len() {
        (Cte::QuotedPrintable, qp)
    } else {
        (Cte::Base64, b64)
    }
}

/// Quoted-printable (RFC 2045 6.7): CRLF stays a line break; `=`, controls,
/// bytes above 126 and whitespace before a line end become `=XX`; soft
/// breaks keep lines to 76 characters. A dot starting a line is encoded
/// too, so that no line of the part is a lone dot whatever the transport.
pub fn quoted_printable(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 8);
    let mut col = 0;
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if b == b'\r' && text.get(i + 1) == Some(&b'\n') {
            out.extend_from_slice(b"\r\n");
            col = 0;
            i += 2;
            continue;
        }
        let at_line_end = matches!(text.get(i + 1), None | Some(b'\r'));
        let literal = match b {
            b' ' | b'\t' => !at_line_end,
            b'.' => col != 0,
            b'=' => false,
            33..=126 => true,
            _ => false,
        };
        let width = if literal { 1 } else { 3 };
        // Room for the piece and, unless the line ends right after it, a '='.
        let limit = if at_line_end { 76 } else { 75 };
        if col + width > limit {
            out.extend_from_slice(b"=\r\n");
            col = 0;
        }
        if literal {
            out.push(b);
        } else {
            out.extend_from_slice(format!("={b:02X}").as_bytes());
        }
        col += width;
        i += 1;
    }
    out
}

/// Base64 of a whole buffer in 76-character lines, each ending in CRLF.
pub fn base64_all(data: &[u8]) -> Vec<u8> {
    let mut enc = Base64Lines::default();
    let mut out = Vec::new();
    enc.feed(data, &mut out);
    enc.finish(&mut out);
    out
}

/// The length of [`base64_all`] of `n` bytes.
pub fn base64_len(n: u64) -> u64 {
    let lines = n.div_ceil(B64_LINE_IN as u64);
    n.div_ceil(3) * 4 + lines * 2
}

/// Base64 over input that comes in pieces: full lines as soon as 57 bytes
/// are there, the rest kept for the next piece.
#[derive(Debug, Default)]
pub struct Base64Lines {
    carry: Vec<u8>,
}

impl Base64Lines {
    pub fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        if !self.carry.is_empty() {
            let take = (B64_LINE_IN - self.carry.len()).min(input.len());
            self.carry.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.carry.len() < B64_LINE_IN {
                return;
            }
            line(&self.carry, out);
            self.carry.clear();
        }
        let mut lines = input.chunks_exact(B64_LINE_IN);
        for l in &mut lines {
            line(l, out);
        }
        self.carry.extend_from_slice(lines.remainder());
    }

    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.carry.is_empty() {
            line(&self.carry, out);
            self.carry.clear();
        }
    }
}

fn line(bytes: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + bytes.len().div_ceil(3) * 4, 0);
    let n = STANDARD.encode_slice(bytes, &mut out[start..]).expect("sized for the line");
    out.truncate(start + n);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `s` with each `escape` followed by two hex digits as that byte.
    pub(crate) fn unhex(s: &str, escape: u8) -> Vec<u8> {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == escape {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        out
    }

    fn qp_decode(s: &[u8]) -> Vec<u8> {
        unhex(&std::str::from_utf8(s).unwrap().replace("=\r\n", ""), b'=')
    }

    #[test]
    fn text_choice() {
        assert_eq!(encode_text(b"Hello\r\n").0, Cte::SevenBit);
        let long = "a".repeat(1200);
        assert_eq!(encode_text(long.as_bytes()).0, Cte::QuotedPrintable);
        assert_eq!(encode_text("Grüße aus Köln, bis morgen.\r\n".as_bytes()).0, Cte::QuotedPrintable);
        assert_eq!(encode_text("日本語のテキストです。\r\n".repeat(5).as_bytes()).0, Cte::Base64);
    }

    #[test]
    fn qp_round_trips_and_lines_are_short() {
        let e_acute = "é".repeat(100);
        let cases: [&[u8]; 5] = [
            "Grüße = gut \r\nend \t\r\n".as_bytes(),
            &[b'x'; 300],
            b".dot\r\n.\r\n",
            e_acute.as_bytes(),
            b"trailing space ",
        ];
        for text in cases {
            let enc = quoted_printable(text);
            for l in enc.split(|&b| b == b'\n') {
                assert!(l.len() <= 77, "{:?}", String::from_utf8_lossy(l));
                assert!(!l.starts_with(b"."), "{:?}", String::from_utf8_lossy(l));
                let l = l.strip_suffix(b"\r").unwrap_or(l);
                assert!(!l.ends_with(b" ") && !l.ends_with(b"\t"));
            }
            assert_eq!(qp_decode(&enc), text);
        }
    }

    #[test]
    fn base64_in_pieces_equals_whole() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 256) as u8).collect();
        let whole = base64_all(&data);
        assert_eq!(whole.len() as u64, base64_len(data.len() as u64));
        for split in [0, 1, 56, 57, 58, 500] {
            let mut e = Base64Lines::default();
            let mut out = Vec::new();
            e.feed(&data[..split], &mut out);
            e.feed(&data[split..split.max(600)], &mut out);
            e.feed(&data[split.max(600)..], &mut out);
            e.finish(&mut out);
            assert_eq!(out, whole, "split at {split}");
        }
        for l in whole.split(|&b| b == b'\n') {
            assert!(l.len() <= 77);
        }
        assert_eq!(base64_len(0), 0);
        assert_eq!(base64_all(b""), b"");
        assert_eq!(base64_len(57), 78);
    }

    #[test]
    fn line_ends() {
        assert_eq!(crlf_lines(b"a\nb\rc\r\nd"), b"a\r\nb\r\nc\r\nd");
    }
}
