//! smtplib's low-level methods, `send` and `getreply`: bytes written as
//! they are and one reply read, for commands the session has no method for
//! (XCLIENT, a reply read after a raw `send`). Both run on the connection's
//! driver, so the deadlines and a cancel bound them as every other call;
//! neither changes the session's EHLO or transaction state.

use std::os::fd::RawFd;

use super::{not_connected, Session};
use crate::error::Result;
use crate::reply::Reply;

impl Session {
    /// smtplib's `send`: write `data` as it is (no CRLF added, nothing
    /// checked) and read nothing. A failure closes the connection: how much
    /// went out is unknown.
    pub fn send(&mut self, data: &[u8]) -> Result<()> {
        let conn = self.conn.as_mut().ok_or_else(not_connected)?;
        if let Err(e) = conn.send_raw(data, &mut self.trace) {
            self.close();
            return Err(e);
        }
        Ok(())
    }

    /// smtplib's `getreply`: read one reply, whatever its code, within the
    /// reply limit; it becomes the last reply. A failure (the server gone,
    /// a line over 8192 bytes, a timeout) closes the connection.
    pub fn getreply(&mut self) -> Result<Reply> {
        self.get_reply()
    }

    /// smtplib's `command_encoding == "utf-8"`: a MAIL with SMTPUTF8 went
    /// out since the last RSET, so commands may be UTF-8.
    pub fn utf8_commands(&self) -> bool {
        self.utf8_commands
    }

    /// The connection's socket descriptor, `None` when not connected.
    pub fn fileno(&self) -> Option<RawFd> {
        self.conn.as_ref().map(|c| c.fd())
    }
}
