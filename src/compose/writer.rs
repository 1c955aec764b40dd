//! The written message as a stream the engine pulls: segments in order,
//! attachments read a chunk at a time and base64-encoded on the way, so
//! that a file of any size costs one chunk of memory.

use super::encode::{Base64Lines, B64_LINE_IN};
use super::source::{Opened, Source};
use super::tree::Seg;
use crate::error::Result;

/// Attachment bytes read at a time: whole base64 lines (57 bytes each).
const CHUNK: usize = B64_LINE_IN * 1024;

/// Pull-based reader over the segments of a message.
pub struct Stream<'m> {
    sources: Vec<&'m mut Source>,
    segs: Vec<Seg>,
    next: usize,
    out: Vec<u8>,
    pos: usize,
    cur: Option<(usize, Opened, Base64Lines)>,
    scratch: Vec<u8>,
}

impl<'m> Stream<'m> {
    /// `sources[i]` is attachment `i` of the segments.
    pub fn new(segs: Vec<Seg>, sources: Vec<&'m mut Source>) -> Stream<'m> {
        Stream { sources, segs, next: 0, out: Vec::new(), pos: 0, cur: None, scratch: Vec::new() }
    }

    /// Up to `buf.len()` bytes of the message, 0 at its end.
    pub fn read(&mut self, buf: &mut [u8]) -> std::result::Result<usize, String> {
        while self.pos == self.out.len() {
            self.out.clear();
            self.pos = 0;
            if !self.refill().map_err(|e| e.to_string())? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }

    /// Put more of the message in `out`; false at its end.
    fn refill(&mut self) -> Result<bool> {
        if let Some((i, opened, enc)) = &mut self.cur {
            self.scratch.resize(CHUNK, 0);
            let n = fill(opened, self.sources[*i], &mut self.scratch).map_err(crate::error::Error::Io)?;
            enc.feed(&self.scratch[..n], &mut self.out);
            if n < CHUNK {
                enc.finish(&mut self.out);
                self.cur = None;
            }
            return Ok(true);
        }
        let Some(seg) = self.segs.get(self.next) else { return Ok(false) };
        self.next += 1;
        match seg {
            Seg::Bytes(b) => self.out.extend_from_slice(b),
            Seg::Part(i) => {
                let opened = self.sources[*i].open()?;
                self.cur = Some((*i, opened, Base64Lines::default()));
            }
        }
        Ok(true)
    }

    /// The whole rest of the message (tests and `smtp_message_bytes()`).
    pub fn read_all(&mut self) -> std::result::Result<Vec<u8>, String> {
        let mut all = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = self.read(&mut buf)?;
            if n == 0 {
                return Ok(all);
            }
            all.extend_from_slice(&buf[..n]);
        }
    }
}

/// Fill `buf` from the source (short only at its end).
fn fill(opened: &mut Opened, source: &mut Source, buf: &mut [u8]) -> std::result::Result<usize, String> {
    let mut n = 0;
    while n < buf.len() {
        let k = opened.read(source, &mut buf[n..])?;
        if k == 0 {
            break;
        }
        n += k;
    }
    Ok(n)
}
