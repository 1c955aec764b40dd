//! The DATA body encoder: line-ending policy, dot-stuffing and the final
//! `.\r\n`, in one streaming pass with no copy of the whole message.
//!
//! smtplib's `data()` does `_fix_eols` for `str` messages (every CRLF, lone
//! LF and lone CR becomes CRLF), then `_quote_periods` (a `.` at the start
//! of the message or after `\n` is doubled), then appends CRLF unless the
//! result already ends in CRLF, then `.\r\n`. The encoder gives the same
//! bytes. In pass-through mode (smtplib's `bytes` path) a dot after a lone CR
//! is doubled too: smtplib does not, but a server that takes a lone CR as a
//! line end could otherwise read `\r.\r\n` as the end of data (SMTP
//! smuggling, CVE-2023-51764).

use memchr::memchr2;

/// What happens to line endings in the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineEndings {
    /// Lone CR and lone LF become CRLF (smtplib's `str` path; the default).
    Normalize,
    /// Bytes are sent as given (smtplib's `bytes` path).
    Pass,
    /// A lone CR or lone LF is an error before anything is sent; the bytes
    /// are otherwise sent as given.
    Reject,
}

/// The message length as smtplib counts it for `SIZE=`: after line-ending
/// normalisation, before dot-stuffing. The message may come in pieces (a
/// CR ending one piece and an LF starting the next are one CRLF).
pub fn normalized_len(parts: &[&[u8]], mode: LineEndings) -> u64 {
    let mut len: u64 = parts.iter().map(|p| p.len() as u64).sum();
    if mode == LineEndings::Normalize {
        // Each lone CR or lone LF grows by one byte.
        for_each_bare_eol(parts, |_| len += 1);
    }
    len
}

/// Call `f` with the offset (in the whole message) of every lone CR and
/// lone LF.
fn for_each_bare_eol(parts: &[&[u8]], mut f: impl FnMut(u64)) {
    let mut check = BareEolCheck::default();
    for part in parts {
        check.feed(part, &mut f);
    }
    check.finish(&mut f);
}

/// Finds lone CRs and LFs in a message that comes in pieces.
#[derive(Debug, Default)]
pub struct BareEolCheck {
    base: u64,
    pending_cr: Option<u64>,
}

impl BareEolCheck {
    /// The next piece; `f` gets each lone line end's offset in the message.
    pub fn feed(&mut self, part: &[u8], f: &mut impl FnMut(u64)) {
        let mut i = 0;
        if let Some(at) = self.pending_cr.take() {
            if part.first() == Some(&b'\n') {
                i = 1;
            } else if !part.is_empty() {
                f(at);
            } else {
                self.pending_cr = Some(at);
            }
        }
        while let Some(off) = memchr2(b'\r', b'\n', &part[i..]) {
            let j = i + off;
            if part[j] == b'\n' {
                f(self.base + j as u64);
                i = j + 1;
            } else if j + 1 == part.len() {
                self.pending_cr = Some(self.base + j as u64);
                i = j + 1;
            } else if part[j + 1] == b'\n' {
                i = j + 2;
            } else {
                f(self.base + j as u64);
                i = j + 1;
            }
        }
        self.base += part.len() as u64;
    }

    /// The end of the message: a CR ending it is lone.
    pub fn finish(&mut self, f: &mut impl FnMut(u64)) {
        if let Some(at) = self.pending_cr.take() {
            f(at);
        }
    }
}

/// The offset of the first lone CR or LF, for [`LineEndings::Reject`].
pub fn first_bare_eol(parts: &[&[u8]]) -> Option<u64> {
    let mut first = None;
    for_each_bare_eol(parts, |at| {
        first.get_or_insert(at);
    });
    first
}

/// Streaming encoder: feed the message in pieces of any size, then finish.
#[derive(Debug)]
pub struct DataEncoder {
    mode: LineEndings,
    /// The next byte starts a line (a dot there is doubled).
    line_start: bool,
    /// Normalize mode: the previous piece ended in CR; whether LF follows is
    /// not known yet.
    pending_cr: bool,
    /// The last two bytes written, to know whether a CRLF must be added.
    tail: [u8; 2],
    /// Double dots at line starts (DATA); BDAT sends the bytes as they are.
    stuff: bool,
}

impl DataEncoder {
    pub fn new(mode: LineEndings) -> DataEncoder {
        DataEncoder { mode, line_start: true, pending_cr: false, tail: [0, 0], stuff: true }
    }

    /// For BDAT (RFC 3030): the line-ending policy, no dot-stuffing, no
    /// final dot.
    pub fn for_chunks(mode: LineEndings) -> DataEncoder {
        DataEncoder { stuff: false, ..DataEncoder::new(mode) }
    }

    fn emit(&mut self, out: &mut Vec<u8>, bytes: &[u8]) {
        match bytes.len() {
            0 => return,
            1 => self.tail = [self.tail[1], bytes[0]],
            n => self.tail = [bytes[n - 2], bytes[n - 1]],
        }
        out.extend_from_slice(bytes);
    }

    /// Encode one piece of the message, appending to `out`.
    pub fn encode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut i = 0;
        if self.pending_cr && !input.is_empty() {
            self.pending_cr = false;
            if input[0] == b'\n' {
                i = 1;
            }
            self.emit(out, b"\r\n");
            self.line_start = true;
        }
        while i < input.len() {
            if self.stuff && self.line_start && input[i] == b'.' {
                self.emit(out, b".");
            }
            self.line_start = false;
            let Some(off) = memchr2(b'\r', b'\n', &input[i..]) else {
                self.emit(out, &input[i..]);
                return;
            };
            let j = i + off;
            match self.mode {
                LineEndings::Pass | LineEndings::Reject => {
                    self.emit(out, &input[i..=j]);
                    i = j + 1;
                }
                LineEndings::Normalize => {
                    self.emit(out, &input[i..j]);
                    if input[j] == b'\r' {
                        match input.get(j + 1) {
                            None => {
                                self.pending_cr = true;
                                return;
                            }
                            Some(b'\n') => i = j + 2,
                            Some(_) => i = j + 1,
                        }
                    } else {
                        i = j + 1;
                    }
                    self.emit(out, b"\r\n");
                }
            }
            self.line_start = true;
        }
    }

    /// End the message: a pending CR, the CRLF smtplib adds when the data
    /// does not end in one, and the terminating `.\r\n`.
    pub fn finish(mut self, out: &mut Vec<u8>) {
        if self.pending_cr {
            self.emit(out, b"\r\n");
        }
        if self.tail != *b"\r\n" {
            self.emit(out, b"\r\n");
        }
        if self.stuff {
            out.extend_from_slice(b".\r\n");
        }
    }
}

/// Encode a whole message at once (tests and small messages).
pub fn encode_all(msg: &[u8], mode: LineEndings) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + 8);
    let mut enc = DataEncoder::new(mode);
    enc.encode(msg, &mut out);
    enc.finish(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use LineEndings::*;

    #[test]
    fn smtplib_str_path() {
        let msg = b"Subject: dots\n\n.starts with a dot\nline\r..\rend\n.\n..\nlast";
        let want = b"Subject: dots\r\n\r\n..starts with a dot\r\nline\r\n...\r\nend\r\n..\r\n...\r\nlast\r\n.\r\n";
        assert_eq!(encode_all(msg, Normalize), want.to_vec());
        assert_eq!(normalized_len(&[msg], Normalize), 63);
    }

    #[test]
    fn smtplib_bytes_path() {
        let msg = b"Subject: raw\r\n\r\n.dot\r\nno final newline";
        assert_eq!(encode_all(msg, Pass), b"Subject: raw\r\n\r\n..dot\r\nno final newline\r\n.\r\n".to_vec());
        assert_eq!(normalized_len(&[msg], Pass), 38);
    }

    #[test]
    fn empty_message() {
        assert_eq!(encode_all(b"", Normalize), b"\r\n.\r\n".to_vec());
        assert_eq!(encode_all(b"", Pass), b"\r\n.\r\n".to_vec());
    }

    #[test]
    fn ending_kept_when_crlf() {
        assert_eq!(encode_all(b"a\r\n", Pass), b"a\r\n.\r\n".to_vec());
        assert_eq!(encode_all(b"a\n", Pass), b"a\n\r\n.\r\n".to_vec());
        assert_eq!(encode_all(b"a\r", Normalize), b"a\r\n.\r\n".to_vec());
        assert_eq!(encode_all(b"a\r", Pass), b"a\r\r\n.\r\n".to_vec());
    }

    #[test]
    fn pass_mode_doubles_dot_after_lone_cr() {
        assert_eq!(encode_all(b"a\r.\r\nb", Pass), b"a\r..\r\nb\r\n.\r\n".to_vec());
        assert_eq!(encode_all(b"a\n.\nb", Pass), b"a\n..\nb\r\n.\r\n".to_vec());
    }

    #[test]
    fn pieces_give_the_same_bytes() {
        let msgs: &[&[u8]] = &[
            b"Subject: dots\n\n.starts with a dot\nline\r..\rend\n.\n..\nlast",
            b"\r\n.\r\n.\r\r\n\n..\r",
            b".",
            b"\r",
            b"abc\r\n.\r\n",
        ];
        for msg in msgs {
            for mode in [Normalize, Pass] {
                let whole = encode_all(msg, mode);
                for split in 0..=msg.len() {
                    let mut out = Vec::new();
                    let mut enc = DataEncoder::new(mode);
                    enc.encode(&msg[..split], &mut out);
                    enc.encode(&msg[split..], &mut out);
                    enc.finish(&mut out);
                    assert_eq!(out, whole, "{msg:?} split at {split} in {mode:?}");
                }
                let mut out = Vec::new();
                let mut enc = DataEncoder::new(mode);
                for b in msg.iter() {
                    enc.encode(std::slice::from_ref(b), &mut out);
                }
                enc.finish(&mut out);
                assert_eq!(out, whole, "{msg:?} byte by byte in {mode:?}");
            }
        }
    }

    /// BDAT gets the same message bytes as DATA delivers: the encoder's
    /// output without stuffing equals the unstuffed DATA output.
    #[test]
    fn chunk_encoding_is_data_unstuffed() {
        for msg in [&b"a\n.b\r\n..c\rd"[..], b"", b".", b"x\r\n"] {
            for mode in [Normalize, Pass] {
                let mut out = Vec::new();
                let mut enc = DataEncoder::for_chunks(mode);
                enc.encode(msg, &mut out);
                enc.finish(&mut out);
                let data = encode_all(msg, mode);
                let body = &data[..data.len() - 3];
                let mut unstuffed = Vec::new();
                let mut start = true;
                let mut i = 0;
                while i < body.len() {
                    if start && body[i] == b'.' {
                        i += 1;
                    }
                    unstuffed.push(body[i]);
                    start = matches!(body[i], b'\r' | b'\n');
                    i += 1;
                }
                assert_eq!(out, unstuffed, "{msg:?} {mode:?}");
            }
        }
    }

    /// The length counted over pieces equals a plain reading of smtplib's
    /// `_fix_eols`, however the message is split.
    #[test]
    fn length_over_pieces() {
        fn reference(m: &[u8]) -> u64 {
            let (mut n, mut i) = (0u64, 0);
            while i < m.len() {
                if m[i] == b'\r' && m.get(i + 1) == Some(&b'\n') {
                    i += 2;
                    n += 2;
                } else {
                    n += if matches!(m[i], b'\r' | b'\n') { 2 } else { 1 };
                    i += 1;
                }
            }
            n
        }
        let msgs: &[&[u8]] = &[b"a\rb\nc\r\nd\r", b"\r\n\r\r\n\n", b"\r", b"", b"x\r\r", b"plain"];
        for msg in msgs {
            for split in 0..=msg.len() {
                let parts: [&[u8]; 3] = [&msg[..split], b"", &msg[split..]];
                assert_eq!(normalized_len(&parts, Normalize), reference(msg), "{msg:?} split at {split}");
                assert_eq!(normalized_len(&parts, Pass), msg.len() as u64);
            }
        }
    }

    #[test]
    fn bare_line_ends_found() {
        assert_eq!(first_bare_eol(&[b"a\r\nb\r\n"]), None);
        assert_eq!(first_bare_eol(&[b"a\r\nb\nc"]), Some(4));
        assert_eq!(first_bare_eol(&[b"a\r", b"\nb\rc"]), Some(4));
        assert_eq!(first_bare_eol(&[b"a\r", b"", b"b"]), Some(1));
        assert_eq!(first_bare_eol(&[b"ab\r"]), Some(2));
        assert_eq!(first_bare_eol(&[b"\n"]), Some(0));
    }

    /// Whatever the input, the output has exactly one end-of-data sequence
    /// (CRLF . CRLF), at the end, and no dot-line a lenient server could take
    /// for one.
    #[test]
    fn one_end_of_data() {
        let corpus: &[&[u8]] = &[b"\n.\n", b"\n.\r\n", b"\r.\r\n", b"\r\n.\n", b"a\0b", b"x", b".\r\n", b"\r\n.\r\n"];
        for msg in corpus {
            for mode in [Normalize, Pass, Reject] {
                let out = encode_all(msg, mode);
                assert!(out.ends_with(b"\r\n.\r\n"), "{msg:?} {mode:?}");
                let body = &out[..out.len() - 3];
                for w in body.windows(2) {
                    if matches!(w[0], b'\r' | b'\n') {
                        assert!(
                            w[1] != b'.' || body.windows(3).any(|x| x == [w[0], b'.', b'.']),
                            "{msg:?} {mode:?}: {out:?}"
                        );
                    }
                }
                let count = out.windows(5).filter(|w| *w == b"\r\n.\r\n").count();
                assert_eq!(count, 1, "{msg:?} {mode:?}: {out:?}");
            }
        }
    }
}
