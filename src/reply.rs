//! The reply reader: bytes in, replies out, no sockets.
//!
//! Follows smtplib's `getreply` exactly:
//! - a line may be 8192 bytes including its line end; a longer one is the
//!   error 500 "Line too long." and the connection is closed;
//! - the code is the first three bytes, read as Python's `int()` reads them;
//!   when they are not a number the code is -1 and the reply ends there;
//! - a `-` as the fourth byte continues the reply;
//! - each line's text (from the fifth byte on) is stripped of space, tab, CR
//!   and LF, and the lines are joined with `\n`;
//! - bare LF line ends are accepted, and a last line cut short by end of
//!   stream counts as a line (Python's `readline` returns it).
//!
//! Beyond smtplib, one reply is capped in lines and bytes so that a hostile
//! server cannot make the client hold an endless multi-line reply in memory.

use memchr::memchr;

/// smtplib's `_MAXLINE`: the longest reply line, line end included.
pub(crate) const MAX_LINE: usize = 8192;
/// Most lines one reply may have (smtplib has no limit).
pub(crate) const MAX_REPLY_LINES: usize = 1000;
/// Most bytes one reply may have, line ends included (smtplib has no limit).
pub(crate) const MAX_REPLY_BYTES: usize = 1 << 20;

/// One server reply: the code and the joined, stripped text.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Reply {
    /// The three-digit code, or -1 when the server sent something that is not
    /// a number where the code belongs.
    pub code: i32,
    /// The lines' texts joined with `\n` (not necessarily UTF-8).
    pub text: Vec<u8>,
}

impl Reply {
    pub fn new(code: i32, text: impl Into<Vec<u8>>) -> Reply {
        Reply { code, text: text.into() }
    }

    /// The text as a string for messages (invalid UTF-8 replaced).
    pub fn text_lossy(&self) -> String {
        String::from_utf8_lossy(&self.text).into_owned()
    }

    /// 2xx: positive completion.
    pub fn is_positive(&self) -> bool {
        (200..=299).contains(&self.code)
    }
}

/// The RFC 3463 status code at the start of a reply text ("5.1.1").
pub fn enhanced_status(text: &[u8]) -> Option<String> {
    let word = text.split(|&b| b == b' ').next()?;
    let s = std::str::from_utf8(word).ok()?;
    let mut parts = s.split('.');
    let (class, subject, detail) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |p: &str, max: usize| !p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit());
    (parts.next().is_none() && matches!(class, "2" | "4" | "5") && digits(subject, 3) && digits(detail, 3))
        .then(|| s.to_string())
}

/// Why a reply could not be read; the connection must be closed after each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplyError {
    /// A line longer than [`MAX_LINE`] (smtplib: SMTPResponseException(500, "Line too long.")).
    LineTooLong,
    /// More than [`MAX_REPLY_LINES`] lines or [`MAX_REPLY_BYTES`] bytes in one reply.
    ReplyTooLong,
}

/// Incremental reader: feed it bytes as they arrive, take replies out.
#[derive(Debug, Default)]
pub struct ReplyParser {
    buf: Vec<u8>,
    /// Start of unconsumed bytes in `buf`.
    pos: usize,
    /// The reply being assembled.
    lines: usize,
    bytes: usize,
    text: Vec<u8>,
}

/// What one line says.
enum Line {
    /// The reply ends with this line.
    Last(i32),
    /// More lines follow.
    More,
}

impl ReplyParser {
    pub fn new() -> ReplyParser {
        ReplyParser::default()
    }

    /// Add bytes received from the server.
    pub fn feed(&mut self, data: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 64 * 1024 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Bytes received but not yet consumed by a complete reply.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Drop everything buffered and any partial reply (after the connection closes).
    pub fn reset(&mut self) {
        *self = ReplyParser::default();
    }

    /// The next complete reply, if the buffered bytes hold one.
    ///
    /// `Ok(None)` means more bytes are needed. After an error the parser must
    /// be reset (the connection is closed).
    pub fn next_reply(&mut self) -> Result<Option<Reply>, ReplyError> {
        loop {
            let pending = &self.buf[self.pos..];
            let Some(nl) = memchr(b'\n', pending) else {
                // smtplib reads with readline(_MAXLINE + 1): a line that has
                // no end within 8192 bytes can never be valid.
                if pending.len() > MAX_LINE {
                    return Err(ReplyError::LineTooLong);
                }
                return Ok(None);
            };
            let end = self.pos + nl + 1;
            if let Some(reply) = self.take_line(end)? {
                return Ok(Some(reply));
            }
        }
    }

    /// At end of stream: the last line cut short, if any, as Python's
    /// `readline` would return it. `Ok(None)`: nothing left (disconnected).
    pub fn finish(&mut self) -> Result<Option<Reply>, ReplyError> {
        if let Some(reply) = self.next_reply()? {
            return Ok(Some(reply));
        }
        if self.buffered() == 0 {
            return Ok(None);
        }
        let end = self.buf.len();
        // A partial line that does not end the reply leaves the reply
        // incomplete: the caller reports the disconnection.
        self.take_line(end)
    }

    /// Consume `buf[pos..end]` as one line; a complete reply when it is the last.
    fn take_line(&mut self, end: usize) -> Result<Option<Reply>, ReplyError> {
        let line = &self.buf[self.pos..end];
        if line.len() > MAX_LINE {
            return Err(ReplyError::LineTooLong);
        }
        self.lines += 1;
        self.bytes += line.len();
        if self.lines > MAX_REPLY_LINES || self.bytes > MAX_REPLY_BYTES {
            return Err(ReplyError::ReplyTooLong);
        }
        if self.lines > 1 {
            self.text.push(b'\n');
        }
        self.text.extend_from_slice(strip(line.get(4..).unwrap_or(&[])));
        let kind = classify(line);
        self.pos = end;
        match kind {
            Line::More => Ok(None),
            Line::Last(code) => {
                self.lines = 0;
                self.bytes = 0;
                Ok(Some(Reply { code, text: std::mem::take(&mut self.text) }))
            }
        }
    }
}

fn classify(line: &[u8]) -> Line {
    let code = &line[..line.len().min(3)];
    match python_int(code) {
        None => Line::Last(-1),
        Some(_) if line.get(3) == Some(&b'-') => Line::More,
        Some(n) => Line::Last(n),
    }
}

/// Python's `bytes.strip(b' \t\r\n')`.
fn strip(s: &[u8]) -> &[u8] {
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = s.iter().position(|b| !ws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !ws(b)).map_or(start, |i| i + 1);
    &s[start..end]
}

/// Python's `int(bytes)` on at most three bytes: surrounding ASCII white space,
/// an optional sign, decimal digits with single underscores between them.
/// smtplib reads the code this way, so `" 25"` is 25 and `"2x0"` is not a number.
pub fn python_int(s: &[u8]) -> Option<i32> {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c');
    let start = s.iter().position(|b| !is_space(b))?;
    let end = s.iter().rposition(|b| !is_space(b))? + 1;
    let mut t = &s[start..end];
    let mut neg = false;
    if let Some((&sign, rest)) = t.split_first() {
        if sign == b'+' || sign == b'-' {
            neg = sign == b'-';
            t = rest;
        }
    }
    if t.is_empty() || t[0] == b'_' || t[t.len() - 1] == b'_' {
        return None;
    }
    let mut n: i32 = 0;
    let mut prev_underscore = false;
    for &b in t {
        match b {
            b'0'..=b'9' => {
                n = n * 10 + i32::from(b - b'0');
                prev_underscore = false;
            }
            b'_' if !prev_underscore => prev_underscore = true,
            _ => return None,
        }
    }
    Some(if neg { -n } else { n })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Vec<Result<Option<Reply>, ReplyError>> {
        let mut p = ReplyParser::new();
        p.feed(input);
        let mut out = Vec::new();
        loop {
            let r = p.next_reply();
            let stop = !matches!(r, Ok(Some(_)));
            out.push(r);
            if stop {
                break;
            }
        }
        out
    }

    fn one(input: &[u8]) -> Reply {
        let mut p = ReplyParser::new();
        p.feed(input);
        p.next_reply().unwrap().unwrap()
    }

    #[test]
    fn single_line() {
        assert_eq!(one(b"250 ok\r\n"), Reply::new(250, "ok"));
    }

    #[test]
    fn multiline_joined_and_stripped() {
        let r = one(b"250-first   \r\n250-\tsecond\r\n250 third\r\n");
        assert_eq!(r, Reply::new(250, "first\nsecond\nthird"));
    }

    #[test]
    fn bare_lf() {
        let r = one(b"250-mx.example\n250-SIZE 100\n250 8BITMIME\n");
        assert_eq!(r, Reply::new(250, "mx.example\nSIZE 100\n8BITMIME"));
    }

    #[test]
    fn bad_code_ends_reply_with_minus_one() {
        let r = one(b"2x0 weird\r\n250 more\r\n");
        assert_eq!(r, Reply::new(-1, "weird"));
    }

    #[test]
    fn bad_code_on_continuation_line_ends_reply() {
        let r = one(b"250-a\r\nxyz-b\r\n250 c\r\n");
        assert_eq!(r, Reply::new(-1, "a\nb"));
    }

    #[test]
    fn python_int_rules() {
        assert_eq!(python_int(b"250"), Some(250));
        assert_eq!(python_int(b" 25"), Some(25));
        assert_eq!(python_int(b"+25"), Some(25));
        assert_eq!(python_int(b"-25"), Some(-25));
        assert_eq!(python_int(b"2_5"), Some(25));
        assert_eq!(python_int(b"2__"), None);
        assert_eq!(python_int(b"_25"), None);
        assert_eq!(python_int(b"2x0"), None);
        assert_eq!(python_int(b""), None);
        assert_eq!(python_int(b"\r\n"), None);
        assert_eq!(python_int(b"2\r\n"), Some(2));
    }

    #[test]
    fn short_lines() {
        assert_eq!(one(b"\r\n"), Reply::new(-1, ""));
        assert_eq!(one(b"250\r\n"), Reply::new(250, ""));
        assert_eq!(one(b"25\n"), Reply::new(25, ""));
    }

    #[test]
    fn needs_more_bytes() {
        let mut p = ReplyParser::new();
        p.feed(b"250-a\r\n250 b");
        assert_eq!(p.next_reply(), Ok(None));
        p.feed(b"\r\n");
        assert_eq!(p.next_reply(), Ok(Some(Reply::new(250, "a\nb"))));
        assert_eq!(p.next_reply(), Ok(None));
    }

    #[test]
    fn byte_at_a_time() {
        let input = b"220-x\r\n220 y z\r\n250 ok\n";
        let mut p = ReplyParser::new();
        let mut got = Vec::new();
        for b in input {
            p.feed(&[*b]);
            while let Some(r) = p.next_reply().unwrap() {
                got.push(r);
            }
        }
        assert_eq!(got, vec![Reply::new(220, "x\ny z"), Reply::new(250, "ok")]);
    }

    #[test]
    fn line_length_limit_is_8192_with_line_end() {
        let mut ok = b"250 ".to_vec();
        ok.resize(8190, b'x');
        ok.extend_from_slice(b"\r\n");
        assert_eq!(ok.len(), MAX_LINE);
        assert_eq!(one(&ok).code, 250);

        let mut long = b"250 ".to_vec();
        long.resize(8191, b'x');
        long.extend_from_slice(b"\r\n");
        assert_eq!(parse_all(&long)[0], Err(ReplyError::LineTooLong));
    }

    #[test]
    fn line_without_end_fails_once_over_limit() {
        let mut p = ReplyParser::new();
        p.feed(&[b'x'; MAX_LINE]);
        assert_eq!(p.next_reply(), Ok(None));
        p.feed(b"x");
        assert_eq!(p.next_reply(), Err(ReplyError::LineTooLong));
    }

    #[test]
    fn endless_multiline_is_capped() {
        let mut p = ReplyParser::new();
        let mut result = Ok(None);
        for _ in 0..=MAX_REPLY_LINES {
            p.feed(b"250-more\r\n");
            result = p.next_reply();
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(ReplyError::ReplyTooLong));
    }

    #[test]
    fn reply_byte_cap() {
        let mut line = b"250-".to_vec();
        line.resize(8000, b'y');
        line.extend_from_slice(b"\r\n");
        let mut p = ReplyParser::new();
        let mut result = Ok(None);
        for _ in 0..200 {
            p.feed(&line);
            result = p.next_reply();
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(ReplyError::ReplyTooLong));
    }

    #[test]
    fn finish_returns_cut_line() {
        let mut p = ReplyParser::new();
        p.feed(b"250 ok");
        assert_eq!(p.next_reply(), Ok(None));
        assert_eq!(p.finish(), Ok(Some(Reply::new(250, "ok"))));
        assert_eq!(p.finish(), Ok(None));
        let mut p = ReplyParser::new();
        p.feed(b"250-more");
        assert_eq!(p.finish(), Ok(None));
    }

    #[test]
    fn nul_and_invalid_utf8_kept() {
        let r = one(b"250 a\x00b\xff\r\n");
        assert_eq!(r.text, b"a\x00b\xff");
    }

    #[test]
    fn status_codes() {
        assert_eq!(enhanced_status(b"2.1.5 Ok").as_deref(), Some("2.1.5"));
        assert_eq!(enhanced_status(b"5.7.1").as_deref(), Some("5.7.1"));
        assert_eq!(enhanced_status(b"4.2.22 x").as_deref(), Some("4.2.22"));
        for bad in [&b"Ok"[..], b"3.1.1 x", b"2.1 x", b"2.1.5.6 x", b"2.1234.5 x", b"", b"2..5 x"] {
            assert_eq!(enhanced_status(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
