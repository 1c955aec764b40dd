//! The debug trace (smtplib's `set_debuglevel`): level 1 shows the
//! connection, every command and every reply line; level 2 adds a timestamp
//! to each line. Output goes to stderr, or to a sink the caller installs.
//!
//! Bytes are shown as Python's `repr` shows them (`\r`, `\n`, `\xNN`), so a
//! hostile reply cannot write control characters to the user's terminal.
//! Secrets are redacted by the caller before they reach the trace.

use std::time::{SystemTime, UNIX_EPOCH};

/// What a trace line is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Direction {
    /// About the connection (connect, close, sizes).
    Info = 0,
    /// Bytes the client sent.
    Send = 1,
    /// Bytes the server sent.
    Recv = 2,
}

/// Where trace lines go: a callback given the direction and the finished
/// line (no line end).
pub type Sink = Box<dyn FnMut(Direction, &str)>;

#[derive(Default)]
pub struct Trace {
    pub level: i32,
    pub sink: Option<Sink>,
    /// Show AUTH payloads instead of `<redacted>` (test servers only).
    pub show_secrets: bool,
}

impl std::fmt::Debug for Trace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trace").field("level", &self.level).field("sink", &self.sink.is_some()).finish()
    }
}

impl Trace {
    pub fn enabled(&self) -> bool {
        self.level > 0
    }

    /// Emit `label: text`.
    pub fn line(&mut self, dir: Direction, label: &str, text: &str) {
        if !self.enabled() {
            return;
        }
        let mut out = String::new();
        if self.level >= 2 {
            out.push_str(&timestamp());
            out.push(' ');
        }
        out.push_str(label);
        out.push_str(": ");
        out.push_str(text);
        match &mut self.sink {
            Some(sink) => sink(dir, &out),
            None => eprintln!("{out}"),
        }
    }

    /// Emit `label: '...'` with the bytes shown escaped.
    pub fn bytes(&mut self, dir: Direction, label: &str, bytes: &[u8]) {
        if self.enabled() {
            self.line(dir, label, &repr(bytes));
        }
    }
}

/// Python-style `repr` of bytes: printable ASCII as is, the rest escaped.
pub fn repr(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('\'');
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            b'\'' => s.push_str("\\'"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('\'');
    s
}

/// `HH:MM:SS.ffffff` (UTC), as smtplib's level-2 `datetime.now().time()`.
fn timestamp() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = now.as_secs() % 86_400;
    format!("{:02}:{:02}:{:02}.{:06}", secs / 3600, secs / 60 % 60, secs % 60, now.subsec_micros())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    #[test]
    fn repr_escapes() {
        assert_eq!(repr(b"ehlo x\r\n"), "'ehlo x\\r\\n'");
        assert_eq!(repr(b"\x1b[2J\xff'"), "'\\x1b[2J\\xff\\''");
    }

    #[test]
    fn levels() {
        let lines = Rc::new(RefCell::new(Vec::new()));
        let l2 = lines.clone();
        let mut t = Trace {
            level: 0,
            show_secrets: false,
            sink: Some(Box::new(move |d, s| l2.borrow_mut().push((d, s.to_string())))),
        };
        t.bytes(Direction::Send, "send", b"noop\r\n");
        assert!(lines.borrow().is_empty());
        t.level = 1;
        t.bytes(Direction::Send, "send", b"noop\r\n");
        assert_eq!(lines.borrow()[0], (Direction::Send, "send: 'noop\\r\\n'".to_string()));
        t.level = 2;
        t.line(Direction::Info, "connect", "x");
        let (_, l) = &lines.borrow()[1];
        assert!(l.ends_with(" connect: x") && l.as_bytes()[2] == b':', "{l}");
    }
}
