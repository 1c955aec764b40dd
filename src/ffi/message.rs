//! send_message and the structured envelope options.

use std::ffi::{c_char, c_int, c_uint, CString};

use super::args;
use super::boundary::{self, guard};
use super::commands::line_endings;
use super::handle::{c_text, call, smtp_session, CallError};
use crate::message::envelope::{Body, DeliverBy, EnvelopeOptions, RcptDsn, Ret};

/// `smtp_envelope_set_dsn_ret()`: return the whole message in a DSN.
pub const SMTP_DSN_RET_FULL: c_int = 1;
/// `smtp_envelope_set_dsn_ret()`: return only the headers.
pub const SMTP_DSN_RET_HDRS: c_int = 2;
/// DSN NOTIFY bit: on delivery.
pub const SMTP_DSN_NOTIFY_SUCCESS: c_uint = 1;
/// DSN NOTIFY bit: on failure.
pub const SMTP_DSN_NOTIFY_FAILURE: c_uint = 2;
/// DSN NOTIFY bit: on delay.
pub const SMTP_DSN_NOTIFY_DELAY: c_uint = 4;
/// DSN NOTIFY: never (alone).
pub const SMTP_DSN_NOTIFY_NEVER: c_uint = 8;
/// `smtp_envelope_set_body()`: BODY=7BIT.
pub const SMTP_BODY_7BIT: c_int = 1;
/// `smtp_envelope_set_body()`: BODY=8BITMIME (needs the server's 8BITMIME).
pub const SMTP_BODY_8BITMIME: c_int = 2;
/// `smtp_envelope_set_body()`: BODY=BINARYMIME (needs BINARYMIME and CHUNKING).
pub const SMTP_BODY_BINARYMIME: c_int = 3;

/// Structured MAIL and RCPT options (DSN, SMTPUTF8, BODY, REQUIRETLS,
/// MT-PRIORITY, DELIVERBY), handed to a session with
/// `smtp_session_set_envelope()`. Each option the server does not advertise
/// makes sendmail and send_message fail with `SMTP_ERR_NOT_SUPPORTED` before
/// MAIL is sent. Made by `smtp_envelope_new()`, freed by `smtp_envelope_free()`.
#[allow(non_camel_case_types)]
pub struct smtp_envelope {
    options: EnvelopeOptions,
    /// What the last call on it did, for `smtp_envelope_errmsg()`.
    errmsg: CString,
}

/// An envelope with no option set. Never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn smtp_envelope_new() -> *mut smtp_envelope {
    Box::into_raw(Box::new(smtp_envelope { options: EnvelopeOptions::default(), errmsg: c_text(b"no error") }))
}

/// What the envelope's last call did: "no error", or why it was refused
/// (which option, which value, what is allowed). Owned by the envelope and
/// valid until its next call or its free; a static message for NULL.
///
/// # Safety
/// `e` is NULL or a live envelope.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_envelope_errmsg(e: *const smtp_envelope) -> *const c_char {
    // SAFETY: NULL or a live envelope, per the contract.
    match unsafe { e.as_ref() } {
        Some(e) => e.errmsg.as_ptr(),
        None => c"envelope is NULL".as_ptr(),
    }
}

/// Free an envelope (NULL is a no-op); sessions given it keep their copy.
///
/// # Safety
/// `e` is NULL or an envelope not yet freed; it is not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_envelope_free(e: *mut smtp_envelope) {
    if !e.is_null() {
        // SAFETY: per the contract.
        drop(unsafe { Box::from_raw(e) });
    }
}

/// Change an envelope, keeping the change only when the result is valid.
/// The message (and so `smtp_envelope_errmsg()`) says why not.
unsafe fn edit(e: *mut smtp_envelope, f: impl FnOnce(&mut EnvelopeOptions) -> Result<(), CallError>) -> c_int {
    // SAFETY: NULL or a live envelope, per every caller's contract.
    let Some(e) = (unsafe { e.as_mut() }) else {
        return super::result::smtp_result::SMTP_ERR_NULL_ARGUMENT as c_int;
    };
    let result = guard(|| {
        let mut next = e.options.clone();
        f(&mut next)?;
        next.validate()?;
        Ok(next)
    });
    let code = boundary::code(&result);
    e.errmsg = match result {
        Ok(next) => {
            e.options = next;
            c_text(b"no error")
        }
        Err(failure) => c_text(failure.message().as_bytes()),
    };
    code
}

fn invalid(msg: String) -> CallError {
    CallError::Core(crate::error::Error::InvalidArgument(msg))
}

/// DSN RET (RFC 3461 4.3): `SMTP_DSN_RET_FULL` or `SMTP_DSN_RET_HDRS`.
///
/// # Safety
/// `e` is NULL or a live envelope.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_envelope_set_dsn_ret(e: *mut smtp_envelope, ret: c_int) -> c_int {
    unsafe {
        edit(e, |o| {
            o.ret = Some(match ret {
                SMTP_DSN_RET_FULL => Ret::Full,
                SMTP_DSN_RET_HDRS => Ret::Hdrs,
                _ => return Err(invalid(format!("unknown DSN RET {ret}"))),
            });
            Ok(())
        })
    }
}

/// DSN ENVID (RFC 3461 4.4): 1 to 100 characters, sent xtext-encoded.
///
/// # Safety
/// `e` is NULL or a live envelope; `envid` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_envelope_set_dsn_envid(e: *mut smtp_envelope, envid: *const c_char) -> c_int {
    unsafe {
        edit(e, |o| {
            o.envid = Some(args::text(envid, "envid")?.to_string());
            Ok(())
        })
    }
}

/// DSN NOTIFY (RFC 3461 4.1) for every recipient without its own: a set of
/// `SMTP_DSN_NOTIFY_*` bits (NEVER alone).
///
/// # Safety
/// `e` is NULL or a live envelope.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_envelope_set_dsn_notify(e: *mut smtp_envelope, notify: c_uint) -> c_int {
    unsafe {
        edit(e, |o| {
            o.notify = Some(notify);
            Ok(())
        })
    }
}

/// DSN settings of one recipient (matched against the address given to
/// sendmail or found by send_message): NOTIFY bits (0: the envelope's), and
/// ORCPT, the original recipient (NULL: none), sent as `rfc822;` xtext.
///
/// # Safety
/// `e` is NULL or a live envelope; `rcpt` and `orcpt` are NULL or
/// NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_envelope_set_rcpt_dsn(
    e: *mut smtp_envelope,
    rcpt: *const c_char,
    notify: c_uint,
    orcpt: *const c_char,
) -> c_int {
    unsafe {
        edit(e, |o| {
            let rcpt = args::text(rcpt, "rcpt")?.to_string();
            let orcpt = args::opt_text(orcpt, "orcpt")?.map(str::to_string);
            o.set_rcpt_dsn(rcpt, RcptDsn { notify: (notify != 0).then_some(notify), orcpt });
            Ok(())
        })
    }
}

/// SMTPUTF8 (RFC 6531) on MAIL when `on` is non-zero.
///
/// # Safety
/// `e` is NULL or a live envelope.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_envelope_set_smtputf8(e: *mut smtp_envelope, on: c_int) -> c_int {
    unsafe {
        edit(e, |o| {
            o.smtputf8 = on != 0;
            Ok(())
        })
    }
}

/// BODY= on MAIL: `SMTP_BODY_7BIT`, `SMTP_BODY_8BITMIME` or
/// `SMTP_BODY_BINARYMIME`; 0 removes it.
///
/// # Safety
/// `e` is NULL or a live envelope.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_envelope_set_body(e: *mut smtp_envelope, body: c_int) -> c_int {
    unsafe {
        edit(e, |o| {
            o.body = match body {
                0 => None,
                SMTP_BODY_7BIT => Some(Body::SevenBit),
                SMTP_BODY_8BITMIME => Some(Body::EightBitMime),
                SMTP_BODY_BINARYMIME => Some(Body::BinaryMime),
                _ => return Err(invalid(format!("unknown BODY {body}"))),
            };
            Ok(())
        })
    }
}

/// REQUIRETLS (RFC 8689) on MAIL when `on` is non-zero; only over TLS
/// (`SMTP_ERR_NOT_ENCRYPTED` otherwise).
///
/// # Safety
/// `e` is NULL or a live envelope.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_envelope_set_requiretls(e: *mut smtp_envelope, on: c_int) -> c_int {
    unsafe {
        edit(e, |o| {
            o.requiretls = on != 0;
            Ok(())
        })
    }
}

/// MT-PRIORITY (RFC 6710), -9 to 9.
///
/// # Safety
/// `e` is NULL or a live envelope.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_envelope_set_mt_priority(e: *mut smtp_envelope, priority: c_int) -> c_int {
    unsafe {
        edit(e, |o| {
            o.mt_priority = Some(priority);
            Ok(())
        })
    }
}

/// DELIVERBY (RFC 2852): deliver within `seconds`, else return the message
/// (`notify` 0; `seconds` must be above 0) or send a delay notice (`notify`
/// non-zero); `trace` non-zero asks for the trace (T).
///
/// # Safety
/// `e` is NULL or a live envelope.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_envelope_set_deliver_by(
    e: *mut smtp_envelope,
    seconds: i64,
    notify: c_int,
    trace: c_int,
) -> c_int {
    unsafe {
        edit(e, |o| {
            o.deliver_by = Some(DeliverBy { seconds, notify: notify != 0, trace: trace != 0 });
            Ok(())
        })
    }
}

/// Use `envelope`'s options (copied) for every following sendmail and
/// send_message on this session; NULL removes them.
///
/// # Safety
/// `s` is NULL or a live session; `envelope` is NULL or a live envelope.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_set_envelope(s: *mut smtp_session, envelope: *const smtp_envelope) -> c_int {
    unsafe {
        call(s, |i| {
            let options = envelope.as_ref().map(|e| e.options.clone()).unwrap_or_default();
            Ok(i.core.set_envelope(options)?)
        })
    }
}

/// smtplib's `send_message` on a raw RFC 5322 message of `len` bytes.
///
/// The envelope comes from the headers unless given: exactly one
/// Resent-Date switches to the Resent- fields (more than one is
/// `SMTP_ERR_INVALID_ARGUMENT`, nothing sent); the sender is the first
/// address of Sender, else From (`from` non-NULL replaces it); the
/// recipients are every address of every To, Bcc and Cc field, in that order
/// (`to` non-NULL, `n_to` addresses, replaces them). A field that cannot be
/// parsed is `SMTP_ERR_INVALID_ARGUMENT` naming it. Bcc and Resent-Bcc fields
/// are not sent; every other byte is, per `flags` (`SMTP_MSG_NORMALIZE`,
/// `SMTP_MSG_RAW`, `SMTP_MSG_REJECT_BARE_EOL`). A non-ASCII envelope address
/// adds SMTPUTF8 and BODY=8BITMIME when the server offers SMTPUTF8, else it
/// is `SMTP_ERR_NOT_SUPPORTED` and nothing is sent. Then as
/// `smtp_session_sendmail()`: results, per-recipient accessors
/// (`smtp_session_rcpt_count()`...), and `*refused_count` (NULL allowed).
///
/// # Safety
/// `s` is NULL or a live session; `msg` is readable for `len` bytes (NULL
/// only with 0); `from` is NULL or NUL-terminated; `to` is NULL or holds
/// `n_to` strings; each options array is NULL (only with a count of 0) or
/// holds that many strings; `refused_count` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_send_message(
    s: *mut smtp_session,
    msg: *const u8,
    len: usize,
    from: *const c_char,
    to: *const *const c_char,
    n_to: usize,
    mail_options: *const *const c_char,
    n_mail_options: usize,
    rcpt_options: *const *const c_char,
    n_rcpt_options: usize,
    flags: c_uint,
    refused_count: *mut usize,
) -> c_int {
    unsafe {
        send_message_via(
            None,
            s,
            (msg, len),
            from,
            (to, n_to),
            (mail_options, n_mail_options),
            (rcpt_options, n_rcpt_options),
            flags,
            refused_count,
        )
    }
}

/// `smtp_session_send_message()` on the session's own connection, or on
/// one `pool` lends it.
///
/// # Safety
/// As `smtp_session_send_message()`.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn send_message_via(
    pool: Option<&crate::pool::Pool>,
    s: *mut smtp_session,
    (msg, len): (*const u8, usize),
    from: *const c_char,
    (to, n_to): (*const *const c_char, usize),
    (mail_options, n_mail_options): (*const *const c_char, usize),
    (rcpt_options, n_rcpt_options): (*const *const c_char, usize),
    flags: c_uint,
    refused_count: *mut usize,
) -> c_int {
    unsafe {
        args::put(refused_count, 0);
        call(s, |i| {
            let msg = args::bytes(msg, len, "msg")?;
            let from = args::opt_text(from, "from")?;
            let to = if to.is_null() { None } else { Some(args::text_array(to, n_to, "to")?) };
            let mail_opts = args::text_array(mail_options, n_mail_options, "mail_options")?;
            let rcpt_opts = args::text_array(rcpt_options, n_rcpt_options, "rcpt_options")?;
            let mode = line_endings(flags)?;
            let result = match pool {
                Some(p) => p.send_message(&mut i.core, msg, from, to.as_deref(), mode, &mail_opts, &rcpt_opts),
                None => i.core.send_message(msg, from, to.as_deref(), mode, &mail_opts, &rcpt_opts),
            };
            args::put(refused_count, crate::engine::txn::refused_count(i.core.rcpt_results()));
            result.map(|_| ()).map_err(Into::into)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::envelope as core;

    #[test]
    fn notify_bits_match_the_core() {
        assert_eq!(SMTP_DSN_NOTIFY_SUCCESS, core::NOTIFY_SUCCESS);
        assert_eq!(SMTP_DSN_NOTIFY_FAILURE, core::NOTIFY_FAILURE);
        assert_eq!(SMTP_DSN_NOTIFY_DELAY, core::NOTIFY_DELAY);
        assert_eq!(SMTP_DSN_NOTIFY_NEVER, core::NOTIFY_NEVER);
    }
}
