//! The message on its way out: from the caller's slices or a read callback
//! (a message larger than memory), through DATA (dot-stuffed, RFC 5321) or
//! BDAT chunks (RFC 3030 CHUNKING: no stuffing, pipelined when the server
//! offers PIPELINING), never copied whole.

use super::{not_connected, Session};
use crate::conn::{Phase, Sensitivity};
use crate::data::{BareEolCheck, DataEncoder, LineEndings};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::trace::Direction;

/// Input read at a time.
const PIECE: usize = 64 * 1024;
/// BDAT chunk size.
const CHUNK: usize = 1024 * 1024;

/// Where the message comes from.
pub enum Body<'a> {
    /// The message in memory, maybe in pieces (send_message leaves Bcc out).
    Parts(&'a [&'a [u8]]),
    /// Pieces from a callback until it returns 0; an error ends the call
    /// (and the connection, so that no partial message is delivered).
    Reader(&'a mut dyn FnMut(&mut [u8]) -> std::result::Result<usize, String>),
}

impl Body<'_> {
    /// Call `f` with each piece of the message in order.
    fn for_each(&mut self, mut f: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
        match self {
            Body::Parts(parts) => {
                for part in parts.iter() {
                    for piece in part.chunks(PIECE) {
                        f(piece)?;
                    }
                }
                Ok(())
            }
            Body::Reader(read) => {
                let mut buf = vec![0u8; PIECE];
                loop {
                    let n = read(&mut buf).map_err(|e| Error::Io(format!("the message source failed: {e}")))?;
                    if n == 0 {
                        return Ok(());
                    }
                    if n > buf.len() {
                        return Err(Error::Io(format!("the message source reported {n} bytes for a {PIECE}-byte buffer")));
                    }
                    f(&buf[..n])?;
                }
            }
        }
    }
}

/// The reject policy on a message seen piece by piece (a no-op in the
/// other modes).
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

impl Session {
    /// The message after 354 in one streaming pass: dot-stuffed, the final
    /// dot. A failure on the way closes the connection. Unless `flush`, the
    /// end of the message stays buffered, to go out with what is queued
    /// next (a batch's next envelope) at the next read.
    pub(super) fn send_body(&mut self, body: &mut Body<'_>, mode: LineEndings, flush: bool) -> Result<()> {
        self.trace.line(Direction::Send, "data", "message follows");
        let conn = self.conn.as_mut().ok_or_else(not_connected)?;
        let mut enc = DataEncoder::new(mode);
        let mut check = RejectCheck::new(mode);
        let mut sent: u64 = 0;
        let mut result = body
            .for_each(|piece| {
                check.feed(piece)?;
                sent += piece.len() as u64;
                enc.encode(piece, conn.data_buffer());
                conn.write_data()
            })
            .and_then(|()| check.finish());
        if result.is_ok() {
            enc.finish(conn.data_buffer());
            if flush {
                result = conn.flush_data();
            }
        }
        if result.is_err() {
            self.close();
        }
        self.trace.line(Direction::Send, "data", &format!("{sent} message bytes sent"));
        result
    }

    /// CHUNKING: the message as BDAT chunks (the last marked LAST), then the
    /// final reply (on LMTP one per accepted recipient). Pipelined, every
    /// chunk goes out before any reply is read; a refused chunk is a data
    /// error after all replies are read, and the transaction is reset.
    pub(super) fn send_chunks(&mut self, body: &mut Body<'_>, mode: LineEndings, pipelined: bool) -> Result<Reply> {
        let mut enc = DataEncoder::for_chunks(mode);
        let mut check = RejectCheck::new(mode);
        let mut chunk: Vec<u8> = Vec::with_capacity(CHUNK + PIECE * 2);
        let mut unread = 0usize;
        let mut refusal: Option<Reply> = None;
        let mut sent: u64 = 0;
        let result = body.for_each(|piece| {
            check.feed(piece)?;
            enc.encode(piece, &mut chunk);
            if chunk.len() >= CHUNK {
                sent += chunk.len() as u64;
                self.put_chunk(&chunk, false)?;
                chunk.clear();
                unread += 1;
                if !pipelined {
                    self.chunk_reply(&mut refusal)?;
                    unread -= 1;
                }
            }
            Ok(())
        });
        let result = result.and_then(|()| check.finish());
        if let Err(e) = result {
            // No LAST chunk went out: close so that nothing is delivered.
            self.close();
            return Err(e);
        }
        enc.finish(&mut chunk);
        sent += chunk.len() as u64;
        self.put_chunk(&chunk, true)?;
        self.trace.line(Direction::Send, "data", &format!("{sent} message bytes sent in BDAT chunks"));
        for _ in 0..unread {
            self.chunk_reply(&mut refusal)?;
        }
        let last = self.final_replies()?;
        match refusal {
            Some(r) => {
                self.fail_transaction(r.code);
                Err(Error::Data(r))
            }
            None => Ok(last),
        }
    }

    fn put_chunk(&mut self, chunk: &[u8], last: bool) -> Result<()> {
        let args = format!("{}{}", chunk.len(), if last { " LAST" } else { "" });
        self.put_command("BDAT", &args, Sensitivity::Plain)?;
        let conn = self.conn.as_mut().ok_or_else(not_connected)?;
        conn.data_buffer().extend_from_slice(chunk);
        let r = conn.write_data();
        if r.is_err() {
            self.close();
        }
        r
    }

    /// The reply to a chunk that is not the last; the first refusal is kept.
    fn chunk_reply(&mut self, refusal: &mut Option<Reply>) -> Result<()> {
        let r = self.get_reply_in(Phase::Data)?;
        if r.code != 250 && refusal.is_none() {
            *refusal = Some(r);
        }
        Ok(())
    }
}
