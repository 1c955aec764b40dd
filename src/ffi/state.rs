//! `const` getters: the last call's outcome, the EHLO state and the
//! per-recipient results. Returned strings are owned by the session and
//! valid until the next non-const call on it or its free; NULL session
//! gives the documented default. Getters never change what they report.

use std::ffi::{c_char, c_int, CStr};

use super::handle::{get, get_or, ptr, smtp_session};

/// What the last non-const call did: "no error" after success, else a
/// message naming the failure. Never NULL: a static message for a NULL
/// session, and another from inside one of the session's own callbacks
/// (where getters cannot read the session while its call runs).
///
/// The string is the session's: valid until the next call on the session
/// that is not a getter, or its free; never free() it.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_errmsg(s: *const smtp_session) -> *const c_char {
    const NULL_SESSION: &CStr = c"session is NULL";
    const BUSY: &CStr = c"not available inside a callback of this session";
    unsafe { get_or(s, NULL_SESSION.as_ptr(), BUSY.as_ptr(), |i| i.mirror.errmsg.as_ptr()) }
}

/// The code of the reply behind the last result: after an error that
/// carries a server reply (a refused sender, say, even though RSET
/// followed), that reply; otherwise the last reply read on this session.
/// -1 when the server sent no number where the code belongs; 0 before any
/// reply (and for NULL).
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_last_reply_code(s: *const smtp_session) -> c_int {
    unsafe { get(s, 0, |i| i.core.last_reply().map_or(0, |r| r.code)) }
}

/// The text of the reply `smtp_session_last_reply_code()` reports: each
/// line without its code, stripped,
/// lines joined with "\n" (smtplib's message). Bytes as the server sent
/// them, not necessarily UTF-8, a NUL shown as '?'. "" before any reply
/// and from inside one of the session's own callbacks; NULL only for a
/// NULL session.
///
/// The string is the session's: valid until the next call on the session
/// that is not a getter, or its free; never free() it.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_last_reply_text(s: *const smtp_session) -> *const c_char {
    unsafe { get_or(s, std::ptr::null(), c"".as_ptr(), |i| i.mirror.reply_text.as_ptr()) }
}

/// 1 while connected, else 0.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_is_connected(s: *const smtp_session) -> c_int {
    unsafe { get(s, 0, |i| c_int::from(i.core.is_connected())) }
}

/// smtplib's `command_encoding`: 1 while commands may be UTF-8 ("utf-8":
/// from a MAIL with the SMTPUTF8 option until RSET), else 0 ("ascii": a
/// command that is not ASCII is `SMTP_ERR_INVALID_ARGUMENT`, nothing sent).
/// 0 for NULL.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_utf8_commands(s: *const smtp_session) -> c_int {
    unsafe { get(s, 0, |i| c_int::from(i.core.utf8_commands())) }
}

/// smtplib's `does_esmtp`: 1 once an EHLO got 250 (until QUIT), else 0.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_does_esmtp(s: *const smtp_session) -> c_int {
    unsafe { get(s, 0, |i| c_int::from(i.core.does_esmtp())) }
}

/// smtplib's `ehlo_resp`: the text of the last EHLO reply, or NULL when no
/// EHLO has been answered since connect or QUIT.
///
/// The string is the session's: valid until the next call on the session
/// that is not a getter, or its free; never free() it.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_ehlo_resp(s: *const smtp_session) -> *const c_char {
    unsafe { get(s, std::ptr::null(), |i| ptr(i.mirror.ehlo_resp.as_ref())) }
}

/// smtplib's `helo_resp`: the text of the last HELO reply, or NULL.
///
/// The string is the session's: valid until the next call on the session
/// that is not a getter, or its free; never free() it.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_helo_resp(s: *const smtp_session) -> *const c_char {
    unsafe { get(s, std::ptr::null(), |i| ptr(i.mirror.helo_resp.as_ref())) }
}

/// smtplib's `has_extn`: 1 when the last EHLO advertised `name`
/// (case-insensitive), else 0 (also for NULL arguments).
///
/// # Safety
/// `s` is NULL or a live session; `name` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_has_extn(s: *const smtp_session, name: *const c_char) -> c_int {
    unsafe {
        get(s, 0, |i| {
            if name.is_null() {
                return 0;
            }
            let name = CStr::from_ptr(name).to_string_lossy();
            c_int::from(i.core.has_extn(&name))
        })
    }
}

/// How many extensions the last EHLO advertised (smtplib's
/// `esmtp_features`, in the server's order, AUTH lines merged into one).
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_feature_count(s: *const smtp_session) -> usize {
    unsafe { get(s, 0, |i| i.mirror.features.len()) }
}

/// Extension `index`'s keyword, lower-case; NULL when out of range.
///
/// The string is the session's: valid until the next call on the session
/// that is not a getter, or its free; never free() it.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_feature_name(s: *const smtp_session, index: usize) -> *const c_char {
    unsafe { get(s, std::ptr::null(), |i| ptr(i.mirror.features.get(index).map(|f| &f.0))) }
}

/// Extension `index`'s parameters as smtplib keeps them ("" when none;
/// for `auth`, each line's mechanisms after a space); NULL when out of range.
///
/// The string is the session's: valid until the next call on the session
/// that is not a getter, or its free; never free() it.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_feature_params(s: *const smtp_session, index: usize) -> *const c_char {
    unsafe { get(s, std::ptr::null(), |i| ptr(i.mirror.features.get(index).map(|f| &f.1))) }
}

/// The parameters of extension `name` (case-insensitive), or NULL when it
/// was not advertised.
///
/// The string is the session's: valid until the next call on the session
/// that is not a getter, or its free; never free() it.
///
/// # Safety
/// `s` is NULL or a live session; `name` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_feature(s: *const smtp_session, name: *const c_char) -> *const c_char {
    unsafe {
        get(s, std::ptr::null(), |i| {
            if name.is_null() {
                return std::ptr::null();
            }
            // The core finds it; the mirror holds its C string at the same index.
            let found =
                std::str::from_utf8(CStr::from_ptr(name).to_bytes()).ok().and_then(|n| i.core.features().position(n));
            ptr(found.and_then(|k| i.mirror.features.get(k)).map(|f| &f.1))
        })
    }
}

/// How many recipients the last transaction has results for: those sent
/// RCPT since the last MAIL (by `smtp_session_rcpt()` or
/// `smtp_session_sendmail()`, in order).
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_rcpt_count(s: *const smtp_session) -> usize {
    unsafe { get(s, 0, |i| i.mirror.rcpts.len()) }
}

/// Recipient `index`'s address as the caller gave it; NULL when out of range.
///
/// The string is the session's: valid until the next call on the session
/// that is not a getter, or its free; never free() it.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_rcpt_addr(s: *const smtp_session, index: usize) -> *const c_char {
    unsafe { get(s, std::ptr::null(), |i| ptr(i.mirror.rcpts.get(index).map(|r| &r.addr))) }
}

/// Recipient `index`'s RCPT reply code; 0 when out of range.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_rcpt_code(s: *const smtp_session, index: usize) -> c_int {
    unsafe { get(s, 0, |i| i.core.rcpt_results().get(index).map_or(0, |r| r.reply.code)) }
}

/// Recipient `index`'s RCPT reply text; NULL when out of range.
///
/// The string is the session's: valid until the next call on the session
/// that is not a getter, or its free; never free() it.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_rcpt_text(s: *const smtp_session, index: usize) -> *const c_char {
    unsafe { get(s, std::ptr::null(), |i| ptr(i.mirror.rcpts.get(index).map(|r| &r.text))) }
}

/// LMTP: recipient `index`'s reply after the data; 0 when none was read
/// (SMTP sessions, refused recipients, out of range, and an accepted
/// recipient whose reply never came, which counts as refused).
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_rcpt_data_code(s: *const smtp_session, index: usize) -> c_int {
    unsafe { get(s, 0, |i| i.core.rcpt_results().get(index).and_then(|r| r.data_reply.as_ref()).map_or(0, |r| r.code)) }
}

/// LMTP: recipient `index`'s reply text after the data ("" when none was
/// read, "no reply after the data ..." for an accepted recipient whose
/// reply never came); NULL when out of range.
///
/// The string is the session's: valid until the next call on the session
/// that is not a getter, or its free; never free() it.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_rcpt_data_text(s: *const smtp_session, index: usize) -> *const c_char {
    unsafe { get(s, std::ptr::null(), |i| ptr(i.mirror.rcpts.get(index).map(|r| &r.data_text))) }
}

/// 1 when recipient `index` was refused (RCPT not 250 or 251, or on LMTP
/// its reply after the data not 250 or never read), 0 when accepted or out
/// of range.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_rcpt_refused(s: *const smtp_session, index: usize) -> c_int {
    unsafe { get(s, 0, |i| i.core.rcpt_results().get(index).map_or(0, |r| c_int::from(r.refused()))) }
}

/// Recipient `index`'s RFC 3463 status code from its RCPT reply ("2.1.5",
/// "5.1.1"), read when the server advertises ENHANCEDSTATUSCODES; NULL when
/// there is none or `index` is out of range.
///
/// The string is the session's: valid until the next call on the session
/// that is not a getter, or its free; never free() it.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_rcpt_status(s: *const smtp_session, index: usize) -> *const c_char {
    unsafe { get(s, std::ptr::null(), |i| ptr(i.mirror.rcpts.get(index).and_then(|r| r.status.as_ref()))) }
}

/// LMTP: the RFC 3463 status code of recipient `index`'s reply after the
/// data; NULL when there is none.
///
/// The string is the session's: valid until the next call on the session
/// that is not a getter, or its free; never free() it.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_rcpt_data_status(s: *const smtp_session, index: usize) -> *const c_char {
    unsafe { get(s, std::ptr::null(), |i| ptr(i.mirror.rcpts.get(index).and_then(|r| r.data_status.as_ref()))) }
}

/// Everything known about one recipient of the last transaction, filled by
/// `smtp_session_rcpt_info()` in one call (the getters above, one field
/// each). Its strings are the session's: valid until the next call on the
/// session that is not a getter, or its free. The layout is fixed within
/// 0.x (fields are never reordered or removed).
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct smtp_rcpt_info {
    /// The address as the caller gave it.
    pub addr: *const c_char,
    /// 1 when refused (as `smtp_session_rcpt_refused()`), else 0.
    pub refused: c_int,
    /// The RCPT reply: code, text, RFC 3463 status (NULL when none).
    pub code: c_int,
    pub text: *const c_char,
    pub status: *const c_char,
    /// LMTP: the reply after the data (code 0 and text "" when none was
    /// read; status NULL when none).
    pub data_code: c_int,
    pub data_text: *const c_char,
    pub data_status: *const c_char,
    /// The reply that decided the recipient's fate: the one after the data
    /// when there is one for an accepted recipient, else the RCPT reply
    /// (what smtplib's `sendmail` reports for a refused recipient).
    pub final_code: c_int,
    pub final_text: *const c_char,
    pub final_status: *const c_char,
}

/// Fill `*out` with recipient `index`'s results (see `smtp_rcpt_info`).
/// `SMTP_ERR_NULL_ARGUMENT` for a NULL session or `out`,
/// `SMTP_ERR_INVALID_ARGUMENT` when `index` is not below
/// `smtp_session_rcpt_count()`, `SMTP_ERR_BAD_STATE` from inside one of the
/// session's own callbacks; `*out` is left alone then. A getter: it does not
/// change `smtp_session_errmsg()`.
///
/// # Safety
/// `s` is NULL or a live session; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_rcpt_info(
    s: *const smtp_session,
    index: usize,
    out: *mut smtp_rcpt_info,
) -> c_int {
    use super::result::smtp_result::*;
    if out.is_null() {
        return SMTP_ERR_NULL_ARGUMENT as c_int;
    }
    unsafe {
        get_or(s, SMTP_ERR_NULL_ARGUMENT as c_int, SMTP_ERR_BAD_STATE as c_int, |i| {
            let (Some(r), Some(m)) = (i.core.rcpt_results().get(index), i.mirror.rcpts.get(index)) else {
                return SMTP_ERR_INVALID_ARGUMENT as c_int;
            };
            let decided_after_data = r.data_reply.is_some() && r.accepted_at_rcpt();
            // SAFETY: out is writable, per the contract.
            *out = smtp_rcpt_info {
                addr: m.addr.as_ptr(),
                refused: c_int::from(r.refused()),
                code: r.reply.code,
                text: m.text.as_ptr(),
                status: ptr(m.status.as_ref()),
                data_code: r.data_reply.as_ref().map_or(0, |d| d.code),
                data_text: m.data_text.as_ptr(),
                data_status: ptr(m.data_status.as_ref()),
                final_code: r.final_reply().code,
                final_text: if decided_after_data { m.data_text.as_ptr() } else { m.text.as_ptr() },
                final_status: if decided_after_data { ptr(m.data_status.as_ref()) } else { ptr(m.status.as_ref()) },
            };
            SMTP_OK as c_int
        })
    }
}

/// The reverse-path of the last transaction begun on the session: the
/// sender given to `smtp_session_mail()`, `smtp_session_sendmail()` (and
/// its stream and batch forms: the last message's), or the one
/// `smtp_session_send_message()` chose from the headers, kept even when the
/// call failed after choosing it (smtplib's `SMTPSenderRefused.sender`).
/// "" is the null reverse-path; NULL before any, after a call that failed
/// before choosing one, and for NULL.
///
/// The string is the session's: valid until the next call on the session
/// that is not a getter, or its free; never free() it.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_sender(s: *const smtp_session) -> *const c_char {
    unsafe { get(s, std::ptr::null(), |i| ptr(i.mirror.sender.as_ref())) }
}
