//! Where a message comes from: the caller's slices, or a read callback
//! (a message larger than memory), read a piece at a time as the socket
//! takes it, never copied whole; the reject policy checked on the way.

use crate::data::{BareEolCheck, LineEndings};
use crate::error::{Error, Result};

/// Input read at a time.
pub(crate) const PIECE: usize = 64 * 1024;

/// A message source.
pub enum Body<'a> {
    /// The message in memory, maybe in pieces (send_message leaves Bcc out).
    Parts(&'a [&'a [u8]]),
    /// Pieces from a callback until it returns 0; an error ends the call
    /// (and the connection, so that no partial message is delivered).
    Reader(&'a mut dyn FnMut(&mut [u8]) -> std::result::Result<usize, String>),
}

impl std::fmt::Debug for Body<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Parts(p) => write!(f, "Parts({} pieces)", p.len()),
            Body::Reader(_) => f.write_str("Reader"),
        }
    }
}

/// A body read piece by piece.
#[derive(Debug)]
pub struct Source<'a> {
    body: Body<'a>,
    part: usize,
    offset: usize,
    buf: Vec<u8>,
    check: RejectCheck,
    /// Message bytes read so far.
    pub read: u64,
    ended: bool,
}

impl<'a> Source<'a> {
    pub fn new(body: Body<'a>, mode: LineEndings) -> Source<'a> {
        Source { body, part: 0, offset: 0, buf: Vec::new(), check: RejectCheck::new(mode), read: 0, ended: false }
    }

    /// The next piece of the message (at most [`PIECE`] bytes), `None` at
    /// its end. A source that fails, or a lone line end under the reject
    /// policy, is an error.
    pub fn next_piece(&mut self) -> Result<Option<&[u8]>> {
        if self.ended {
            return Ok(None);
        }
        let piece: &[u8] = match &mut self.body {
            Body::Parts(parts) => loop {
                let Some(part) = parts.get(self.part) else { break &[] };
                if self.offset < part.len() {
                    let end = part.len().min(self.offset + PIECE);
                    let piece = &part[self.offset..end];
                    self.offset = end;
                    break piece;
                }
                self.part += 1;
                self.offset = 0;
            },
            Body::Reader(read) => {
                self.buf.resize(PIECE, 0);
                let n = read(&mut self.buf).map_err(|e| Error::Io(format!("the message source failed: {e}")))?;
                if n > PIECE {
                    return Err(Error::Io(format!("the message source reported {n} bytes for a {PIECE}-byte buffer")));
                }
                &self.buf[..n]
            }
        };
        if piece.is_empty() {
            self.ended = true;
            self.check.finish()?;
            return Ok(None);
        }
        self.check.feed(piece)?;
        self.read += piece.len() as u64;
        Ok(Some(piece))
    }
}

/// The reject policy on a message seen piece by piece (a no-op in the
/// other modes).
#[derive(Debug)]
struct RejectCheck(Option<BareEolCheck>);

impl RejectCheck {
    fn new(mode: LineEndings) -> RejectCheck {
        RejectCheck((mode == LineEndings::Reject).then(BareEolCheck::default))
    }

    fn feed(&mut self, piece: &[u8]) -> Result<()> {
        let Some(c) = &mut self.0 else { return Ok(()) };
        let mut bad = None;
        c.feed(piece, &mut |at| {
            bad.get_or_insert(at);
        });
        bad.map_or(Ok(()), |at| Err(bare_eol_error(at)))
    }

    fn finish(&mut self) -> Result<()> {
        let Some(c) = &mut self.0 else { return Ok(()) };
        let mut bad = None;
        c.finish(&mut |at| {
            bad.get_or_insert(at);
        });
        bad.map_or(Ok(()), |at| Err(bare_eol_error(at)))
    }
}

fn bare_eol_error(at: u64) -> Error {
    Error::InvalidArgument(format!(
        "the message has a lone CR or LF at byte {at} (line endings must be CRLF); \
         the connection was closed so that no partial message is delivered"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(mut s: Source<'_>) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(p) = s.next_piece()? {
            out.extend_from_slice(p);
        }
        Ok(out)
    }

    #[test]
    fn parts_in_order_and_in_pieces() {
        let big = vec![b'x'; PIECE + 10];
        let parts: [&[u8]; 3] = [b"ab", b"", &big];
        let got = all(Source::new(Body::Parts(&parts), LineEndings::Pass)).unwrap();
        assert_eq!(got.len(), 2 + PIECE + 10);
    }

    #[test]
    fn reader_errors_and_lone_line_ends() {
        let mut calls = 0;
        let mut failing = |buf: &mut [u8]| {
            calls += 1;
            if calls > 1 {
                return Err("disk on fire".to_string());
            }
            buf[..2].copy_from_slice(b"hi");
            Ok(2)
        };
        let e = all(Source::new(Body::Reader(&mut failing), LineEndings::Pass)).unwrap_err();
        assert!(e.to_string().contains("disk on fire"), "{e}");
        let parts: [&[u8]; 2] = [b"a\r", b"b"];
        let e = all(Source::new(Body::Parts(&parts), LineEndings::Reject)).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)), "{e:?}");
        let parts: [&[u8]; 2] = [b"a\r", b"\nb"];
        assert!(all(Source::new(Body::Parts(&parts), LineEndings::Reject)).is_ok(), "a CRLF split across pieces");
    }
}
