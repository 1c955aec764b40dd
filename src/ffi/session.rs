//! Making, configuring, connecting and freeing sessions.

use std::ffi::{c_char, c_int, c_void, CString};
use std::time::Duration;

use super::args;
use super::boundary::shielded;
use super::handle::{call, get, smtp_session, CallResult, Inner};
use crate::connect::SourceAddr;
use crate::error::Error;
use crate::reply::Reply;
use crate::session::{Kind, Session};
use crate::trace::Direction;

/// Session kind: SMTP (smtplib's `SMTP`), default port 25.
pub const SMTP_KIND_SMTP: c_int = 0;
/// Session kind: SMTP over TLS from the first byte (smtplib's `SMTP_SSL`),
/// default port 465; the certificate is checked against the host given to
/// connect (see `smtp_session_set_tls_config()`).
pub const SMTP_KIND_SMTP_SSL: c_int = 1;
/// Session kind: LMTP (smtplib's `LMTP`, RFC 2033), default port 2003. A
/// host starting with `/` is a Unix-domain socket.
pub const SMTP_KIND_LMTP: c_int = 2;

/// `smtp_session_set_timeout_ms()`: bound on resolving the host name, and
/// on connecting to each of its addresses (default 30000).
pub const SMTP_TIMEOUT_CONNECT: c_int = 0;
/// `smtp_session_set_timeout_ms()`: bound on any wait in which nothing is
/// sent or received, but for message data, which has
/// `SMTP_TIMEOUT_DATA_BLOCK` (default 300000, RFC 5321 4.5.3.2).
pub const SMTP_TIMEOUT_IO: c_int = 1;
/// `smtp_session_set_timeout_ms()`: bound on one whole reply to a command
/// without a phase of its own below, however the server trickles it
/// (default 600000).
pub const SMTP_TIMEOUT_REPLY: c_int = 2;
/// `smtp_session_set_timeout_ms()`: the greeting (default 300000, RFC 5321
/// 4.5.3.2.1); also bounds a TLS handshake.
pub const SMTP_TIMEOUT_GREETING: c_int = 3;
/// `smtp_session_set_timeout_ms()`: the reply to MAIL (default 300000).
pub const SMTP_TIMEOUT_MAIL: c_int = 4;
/// `smtp_session_set_timeout_ms()`: the reply to each RCPT (default 300000).
pub const SMTP_TIMEOUT_RCPT: c_int = 5;
/// `smtp_session_set_timeout_ms()`: the reply to DATA, and to each BDAT
/// chunk but the last (default 120000).
pub const SMTP_TIMEOUT_DATA: c_int = 6;
/// `smtp_session_set_timeout_ms()`: progress while message data waits to
/// be sent: the server must take some within this long (default 180000,
/// RFC 5321 4.5.3.2.5).
pub const SMTP_TIMEOUT_DATA_BLOCK: c_int = 7;
/// `smtp_session_set_timeout_ms()`: the reply after the final dot, or to
/// the last BDAT chunk (default 600000).
pub const SMTP_TIMEOUT_FINAL_DOT: c_int = 8;
/// `smtp_session_set_timeout_ms()`: the whole of one library call, however
/// many waits it takes, name lookup and connect included (default 0: no
/// limit).
pub const SMTP_TIMEOUT_CALL: c_int = 9;
/// `smtp_session_set_timeout_ms()`: every limit above but
/// `SMTP_TIMEOUT_CALL` at once, so that no single wait lasts longer
/// (what smtplib's `timeout` means). `smtp_session_timeout_ms()` gives the
/// longest of them (0 when one is unlimited).
pub const SMTP_TIMEOUT_ALL: c_int = 10;

/// The timeout `which` selects, for reading and writing.
fn timeout_slot(t: &mut crate::deadline::Timeouts, which: c_int) -> Option<&mut Option<Duration>> {
    Some(match which {
        SMTP_TIMEOUT_CONNECT => &mut t.connect,
        SMTP_TIMEOUT_IO => &mut t.io,
        SMTP_TIMEOUT_REPLY => &mut t.reply,
        SMTP_TIMEOUT_GREETING => &mut t.greeting,
        SMTP_TIMEOUT_MAIL => &mut t.mail,
        SMTP_TIMEOUT_RCPT => &mut t.rcpt,
        SMTP_TIMEOUT_DATA => &mut t.data,
        SMTP_TIMEOUT_DATA_BLOCK => &mut t.data_block,
        SMTP_TIMEOUT_FINAL_DOT => &mut t.final_dot,
        SMTP_TIMEOUT_CALL => &mut t.call,
        _ => return None,
    })
}

fn to_ms(d: Option<Duration>) -> i64 {
    d.map_or(0, |d| d.as_millis().min(i64::MAX as u128) as i64)
}

/// Trace line direction: about the connection.
pub const SMTP_TRACE_INFO: c_int = 0;
/// Trace line direction: what the client sent.
pub const SMTP_TRACE_SEND: c_int = 1;
/// Trace line direction: what the server sent.
pub const SMTP_TRACE_RECV: c_int = 2;

/// Receives debug trace lines (see `smtp_session_set_trace()`). `line` is
/// NUL-terminated, `len` bytes long without the NUL, and valid only during
/// the call. Called on the thread inside a call on the session; it must
/// return normally, and a call on the same session from inside it returns
/// `SMTP_ERR_BAD_STATE`.
#[allow(non_camel_case_types)]
pub type smtp_trace_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, direction: c_int, line: *const c_char, len: usize)>;

/// Make a session of `kind` (`SMTP_KIND_SMTP`, `SMTP_KIND_SMTP_SSL` or
/// `SMTP_KIND_LMTP`), not yet
/// connected. Returns NULL only for an unknown kind. The caller owns the
/// session and frees it with `smtp_session_free()`.
///
/// Different sessions may be used on different threads at once; one session
/// must not be used by two threads at the same time.
#[unsafe(no_mangle)]
pub extern "C" fn smtp_session_new(kind: c_int) -> *mut smtp_session {
    let kind = match kind {
        SMTP_KIND_SMTP => Kind::Smtp,
        SMTP_KIND_SMTP_SSL => Kind::SmtpSsl,
        SMTP_KIND_LMTP => Kind::Lmtp,
        _ => return std::ptr::null_mut(),
    };
    shielded(std::ptr::null_mut(), || Box::into_raw(Box::new(smtp_session::new(Session::new(kind)))))
}

/// Free a session: closes its connection without QUIT (use
/// `smtp_session_quit()` first for a polite close) and releases everything
/// it owns; every pointer its getters lent becomes invalid. NULL is a no-op.
/// Calling it from inside one of the session's callbacks does nothing.
///
/// # Safety
/// `s` is NULL or a session from `smtp_session_new()` not yet freed; it must
/// not be used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_free(s: *mut smtp_session) {
    shielded((), || unsafe { smtp_session::free(s) });
}

/// Set the name sent with EHLO, HELO and LHLO when none is given (smtplib's
/// `local_hostname`). Default: the host's fully qualified name when it has a
/// dot, else its address as a literal such as `[192.0.2.1]`.
///
/// Returns `SMTP_ERR_NULL_ARGUMENT` for NULL `name`, `SMTP_ERR_INVALID_ARGUMENT`
/// for an empty name, white space, CR, LF or invalid UTF-8.
///
/// # Safety
/// `s` is NULL or a live session; `name` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_set_local_hostname(s: *mut smtp_session, name: *const c_char) -> c_int {
    unsafe {
        call(s, |i| {
            let name = args::text(name, "name")?;
            Ok(i.core.set_local_hostname(name)?)
        })
    }
}

/// Set one timeout, in milliseconds; 0 means no limit. `which` is one of
/// the `SMTP_TIMEOUT_*` constants (anything else:
/// `SMTP_ERR_INVALID_ARGUMENT`); `SMTP_TIMEOUT_ALL` sets every limit on a
/// single wait at once. Applies from the next call, on the current
/// connection too.
///
/// The rule: every wait inside a call ends at the earliest of
/// - `SMTP_TIMEOUT_CALL` after the call began (name lookup and connect
///   included);
/// - while message data waits to be written, `SMTP_TIMEOUT_DATA_BLOCK`
///   after the server last took some; otherwise `SMTP_TIMEOUT_IO` after
///   the last byte sent or received;
/// - while a reply is awaited and nothing is left to send, the limit of
///   that reply (`SMTP_TIMEOUT_GREETING`, `_MAIL`, `_RCPT`, `_DATA`,
///   `_FINAL_DOT`, else `_REPLY`), counted from the previous reply or the
///   last byte sent, however slowly the server trickles;
/// - while connecting, `SMTP_TIMEOUT_CONNECT` for the name lookup and for
///   each address.
///
/// The first to run out ends the call with `SMTP_ERR_TIMEOUT` (the errmsg
/// names the limit) and closes the connection; no call outlives its
/// deadline by more than a few milliseconds. `smtp_session_cancel()` ends a
/// wait at once.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_set_timeout_ms(s: *mut smtp_session, which: c_int, ms: u32) -> c_int {
    unsafe {
        call(s, |i| {
            let mut t = i.core.timeouts();
            let d = (ms > 0).then(|| Duration::from_millis(u64::from(ms)));
            if which == SMTP_TIMEOUT_ALL {
                t.set_per_wait(d);
            } else {
                let slot = timeout_slot(&mut t, which)
                    .ok_or_else(|| Error::InvalidArgument(format!("unknown timeout {which}")))?;
                *slot = d;
            }
            i.core.set_timeouts(t);
            Ok(())
        })
    }
}

/// One timeout in milliseconds (0: no limit), or -1 for a NULL session or
/// an unknown `which`. For `SMTP_TIMEOUT_ALL`: the longest single wait the
/// limits allow (0 when one of them is unlimited).
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_timeout_ms(s: *const smtp_session, which: c_int) -> i64 {
    unsafe {
        get(s, -1, |i| {
            let mut t = i.core.timeouts();
            if which == SMTP_TIMEOUT_ALL {
                return to_ms(t.longest_wait());
            }
            match timeout_slot(&mut t, which) {
                Some(d) => to_ms(*d),
                None => -1,
            }
        })
    }
}

/// Bind the connections this session makes to a local address and port
/// (smtplib's `source_address`); port 0 lets the system choose. NULL `host`
/// removes the setting. Takes effect at the next connect.
///
/// # Safety
/// `s` is NULL or a live session; `host` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_set_source_address(
    s: *mut smtp_session,
    host: *const c_char,
    port: u16,
) -> c_int {
    unsafe {
        call(s, |i| {
            let source = match args::opt_text(host, "host")? {
                Some(h) => Some(SourceAddr::new(h, port)?),
                None => None,
            };
            i.core.set_source_address(source);
            Ok(())
        })
    }
}

/// smtplib's `set_debuglevel`: 0 is quiet, 1 traces the connection, every
/// command and every reply, 2 adds a timestamp to each line. Lines go to
/// stderr unless a trace callback is set. AUTH payloads are never shown.
/// A negative level is `SMTP_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_set_debuglevel(s: *mut smtp_session, level: c_int) -> c_int {
    unsafe {
        call(s, |i| {
            if level < 0 {
                return Err(Error::InvalidArgument(format!("debug level {level} is negative")).into());
            }
            i.core.trace.level = level;
            Ok(())
        })
    }
}

/// Send the debug trace to `callback` instead of stderr; NULL restores
/// stderr. The callback gets `userdata`, the line's direction
/// (`SMTP_TRACE_INFO`, `SMTP_TRACE_SEND`, `SMTP_TRACE_RECV`) and the line as
/// stderr would show it; it is called only while the debug level is above 0.
///
/// # Safety
/// `s` is NULL or a live session; `callback` and `userdata` must stay valid
/// while the session may call them (until it is freed or the callback replaced).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_set_trace(
    s: *mut smtp_session,
    callback: smtp_trace_fn,
    userdata: *mut c_void,
) -> c_int {
    unsafe {
        call(s, |i| {
            i.core.trace.sink = callback.map(|cb| {
                let sink: crate::trace::Sink = Box::new(move |dir: Direction, line: &str| {
                    // Trace lines are escaped, so they hold no NUL.
                    let c = CString::new(line).unwrap_or_default();
                    // SAFETY: the caller promised cb and userdata stay valid.
                    cb(userdata, dir as c_int, c.as_ptr(), line.len());
                });
                sink
            });
            Ok(())
        })
    }
}

/// Fill `*code` from the call's reply: the reply on success, the reply the
/// error carries otherwise, else 0.
///
/// # Safety
/// `s` and `code` are NULL or valid, as the calling export documents.
pub(crate) unsafe fn reply_call(
    s: *mut smtp_session,
    code: *mut c_int,
    f: impl FnOnce(&mut Inner) -> CallResult<Reply>,
) -> c_int {
    unsafe {
        args::put(code, 0);
        call(s, |i| {
            let result = f(i);
            let c = match &result {
                Ok(r) => r.code,
                Err(super::handle::CallError::Core(e)) => e.reply().map_or(0, |r| r.code),
                Err(_) => 0,
            };
            args::put(code, c);
            result.map(|_| ())
        })
    }
}

/// smtplib's `connect`: connect to `host` and read the greeting, whose code
/// goes to `*code` (NULL allowed) and text to `smtp_session_last_reply_text()`.
/// Like smtplib, a greeting other than 220 is not an error here (see
/// `smtp_session_open()`). Port 0 means: a `host:port` suffix when the host
/// has one colon (a suffix that is not a port number is `SMTP_ERR_CONNECT`,
/// "nonnumeric port", as smtplib's `OSError`), else the kind's default
/// port. A host starting with `/` is a Unix-domain socket path. An open
/// connection is closed first. A host name with non-ASCII labels (UTF-8) is
/// looked up, sent as SNI and checked against the certificate as its
/// A-labels ("b\xc3\xbccher.example" is "xn--bcher-kva.example", UTS #46);
/// one UTS #46 refuses is `SMTP_ERR_INVALID_ARGUMENT`.
///
/// Errors: `SMTP_ERR_CONNECT`, `SMTP_ERR_TIMEOUT`,
/// `SMTP_ERR_SERVER_DISCONNECTED` (closed before a greeting),
/// `SMTP_ERR_RESPONSE` (a greeting line over 8192 bytes), and the argument errors.
///
/// # Safety
/// `s` is NULL or a live session; `host` is NULL or a NUL-terminated string;
/// `code` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_connect(
    s: *mut smtp_session,
    host: *const c_char,
    port: u16,
    code: *mut c_int,
) -> c_int {
    unsafe {
        reply_call(s, code, |i| {
            let host = args::text(host, "host")?;
            Ok(i.core.connect(host, port)?)
        })
    }
}

/// smtplib's `SMTP(host, port)`: as `smtp_session_connect()`, and a greeting
/// other than 220 is `SMTP_ERR_CONNECT_REPLY` with the connection closed.
///
/// # Safety
/// As `smtp_session_connect()`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_open(
    s: *mut smtp_session,
    host: *const c_char,
    port: u16,
    code: *mut c_int,
) -> c_int {
    unsafe {
        reply_call(s, code, |i| {
            let host = args::text(host, "host")?;
            Ok(i.core.open(host, port)?)
        })
    }
}

/// Cancel the call running on `s` in another thread. That call returns
/// `SMTP_ERR_CANCELLED` within 100 ms (at once when it waits on the network
/// or for a name lookup; a callback of the caller's runs to its end first)
/// and the connection is closed: connect again before the next command. A
/// message whose final reply was not read is reported as not sent. A call
/// that has nothing left to send or read when the cancel comes ends with
/// its own result (a message the server accepted is reported sent).
///
/// The one function that may run while another thread is inside a call on
/// the same session. When no call runs it does nothing (it does not cancel
/// the next call). Returns `SMTP_OK`, or `SMTP_ERR_NULL_ARGUMENT` for NULL.
///
/// # Safety
/// `s` is NULL or a live session, not freed by any thread while this runs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_cancel(s: *const smtp_session) -> c_int {
    match shielded(false, || unsafe { smtp_session::cancel(s) }) {
        true => super::result::smtp_result::SMTP_OK as c_int,
        false => super::result::smtp_result::SMTP_ERR_NULL_ARGUMENT as c_int,
    }
}

/// smtplib's `close`: drop the connection without QUIT. The EHLO state is
/// kept (as smtplib keeps it); a new `smtp_session_connect()` may follow.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_close(s: *mut smtp_session) -> c_int {
    unsafe {
        call(s, |i| {
            i.core.close();
            Ok(())
        })
    }
}
