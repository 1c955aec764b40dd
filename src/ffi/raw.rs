//! smtplib's low-level `send` and `getreply`, and the socket's descriptor:
//! for commands libsmtp has no function for (XCLIENT, say) and for callers
//! that poll the connection themselves.

use std::ffi::{c_int, c_void};

use super::args;
use super::handle::{call, get, smtp_session};
use super::session::reply_call;

/// smtplib's `send`: write `len` bytes from `data` to the server exactly as
/// they are (no CRLF is added and nothing is checked: the caller builds the
/// whole line, CRLF included) and read no reply. Anything the session had
/// queued goes first. The write is bounded by the I/O limit and the call
/// limit and ends at `smtp_session_cancel()`, as every call is; a reply that
/// arrives meanwhile is kept for `smtp_session_getreply()`. `len` 0 sends
/// nothing. The session's state is not changed: a command sent this way is
/// the caller's to follow up (read its reply with `smtp_session_getreply()`).
/// A line starting with "AUTH " is traced with its payload redacted; other
/// bytes are traced as sent (do not send secrets this way with tracing on).
///
/// Errors: `SMTP_ERR_SERVER_DISCONNECTED` when not connected ("please run
/// connect() first") or when the server closed the connection,
/// `SMTP_ERR_TIMEOUT`, `SMTP_ERR_IO`, `SMTP_ERR_CANCELLED`; after any of
/// them the connection is closed (how much was written is unknown).
///
/// # Safety
/// `s` is NULL or a live session; `data` is NULL (only when `len` is 0) or
/// valid for reading `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_send(s: *mut smtp_session, data: *const c_void, len: usize) -> c_int {
    unsafe {
        call(s, |i| {
            let data = args::bytes(data.cast(), len, "data")?;
            Ok(i.core.send(data)?)
        })
    }
}

/// smtplib's `getreply`: read one reply from the server (after
/// `smtp_session_send()`, say), whatever its code: the code goes to `*code`
/// (NULL allowed; -1 when the server sent no number where the code belongs)
/// and the text to `smtp_session_last_reply_text()`. A reply already read
/// ahead is returned at once; otherwise the wait is bounded by the reply
/// limit (`SMTP_TIMEOUT_REPLY`), the I/O limit and the call limit, and ends
/// at `smtp_session_cancel()`. The session's state is not changed.
///
/// Errors: `SMTP_ERR_SERVER_DISCONNECTED` when not connected or when the
/// server closed the connection ("Connection unexpectedly closed"),
/// `SMTP_ERR_RESPONSE` (500, a reply line over 8192 bytes), `SMTP_ERR_TIMEOUT`,
/// `SMTP_ERR_IO`, `SMTP_ERR_CANCELLED`; after any of them the connection is
/// closed.
///
/// # Safety
/// `s` is NULL or a live session; `code` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_getreply(s: *mut smtp_session, code: *mut c_int) -> c_int {
    unsafe { reply_call(s, code, |i| Ok(i.core.getreply()?)) }
}

/// The descriptor of the connection's socket, -1 when not connected (and
/// for NULL, and from inside one of the session's own callbacks). It stays
/// the session's: valid until the connection is closed (`smtp_session_close()`,
/// `smtp_session_quit()`, a failure, a new connect, the free); poll it,
/// read its address or set socket options, but do not read, write, close
/// or change its blocking mode (the session's driver owns the stream, and
/// on TLS the bytes on it are encrypted).
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_fileno(s: *const smtp_session) -> c_int {
    unsafe { get(s, -1, |i| i.core.fileno().unwrap_or(-1)) }
}
