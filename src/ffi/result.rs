//! Result codes, their descriptions, and the library version.

use std::ffi::{c_char, c_int};

use crate::error::Error;

/// Library version, major part (the SONAME is libsmtp.so.SMTP_VERSION_MAJOR).
pub const SMTP_VERSION_MAJOR: c_int = 0;
/// Library version, minor part.
pub const SMTP_VERSION_MINOR: c_int = 1;
/// Library version, patch part.
pub const SMTP_VERSION_PATCH: c_int = 0;

/// Result codes. Every fallible function returns `int`: `SMTP_OK` (0) or one
/// of these. Numbers are fixed and only ever added to: 1-9 the caller's
/// errors, 10-19 the connection (17: a pool's message whose outcome is
/// unknown), 20-29 the protocol (one per smtplib exception), then codes
/// added later where they fit no group (30: larger than the server's
/// SIZE). `smtp_result_str()` describes each; the session's
/// `smtp_session_errmsg()` says what happened in detail.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum smtp_result {
    /// Success.
    SMTP_OK = 0,
    /// A required pointer argument was NULL. Nothing was sent.
    SMTP_ERR_NULL_ARGUMENT = 1,
    /// An argument was refused (invalid UTF-8, CR or LF bound for a command
    /// line, an unknown constant, ...) before anything was sent
    /// (smtplib: ValueError).
    SMTP_ERR_INVALID_ARGUMENT = 2,
    /// The call does not fit the session's state: a call from inside one of
    /// the session's callbacks, or a session poisoned by a caught panic.
    SMTP_ERR_BAD_STATE = 3,
    /// The library panicked; the session is poisoned (only
    /// `smtp_session_free()` still works on it).
    SMTP_ERR_PANIC = 4,
    /// The connection could not be made (refused, unreachable, name not
    /// resolved) (smtplib: OSError).
    SMTP_ERR_CONNECT = 10,
    /// A connect, I/O or reply timeout fired; the connection is closed.
    SMTP_ERR_TIMEOUT = 11,
    /// Another I/O error; the connection is closed.
    SMTP_ERR_IO = 12,
    /// TLS failed.
    SMTP_ERR_TLS = 13,
    /// Not connected, or the server closed the connection
    /// (SMTPServerDisconnected).
    SMTP_ERR_SERVER_DISCONNECTED = 14,
    /// The call would send a password or token in clear: the connection is
    /// neither TLS, a Unix socket nor loopback, and cleartext was not
    /// allowed (`SMTP_AUTH_ALLOW_CLEARTEXT`). Nothing was sent.
    SMTP_ERR_NOT_ENCRYPTED = 15,
    /// The call was cancelled by `smtp_session_cancel()` from another
    /// thread; the connection is closed. A message whose final reply was
    /// not read is not reported as sent.
    SMTP_ERR_CANCELLED = 16,
    /// A pool call (`smtp_pool_sendmail()`...): the message's data went out
    /// in full, then the connection failed, timed out or was cancelled
    /// before the reply that decides it. The server may or may not have
    /// taken the message; the pool does not send it again.
    SMTP_ERR_OUTCOME_UNKNOWN = 17,
    /// The server's reply could not be accepted (SMTPResponseException), for
    /// example a reply line over 8192 bytes (code 500, "Line too long.").
    SMTP_ERR_RESPONSE = 20,
    /// The greeting was not 220 (SMTPConnectError); only `smtp_session_open()`.
    SMTP_ERR_CONNECT_REPLY = 21,
    /// Both EHLO and HELO were refused (SMTPHeloError).
    SMTP_ERR_HELO = 22,
    /// The server does not offer what the call needs (SMTPNotSupportedError).
    SMTP_ERR_NOT_SUPPORTED = 23,
    /// Authentication was refused (SMTPAuthenticationError).
    SMTP_ERR_AUTH = 24,
    /// The client aborted an authentication exchange.
    SMTP_ERR_AUTH_ABORTED = 25,
    /// MAIL FROM was refused (SMTPSenderRefused).
    SMTP_ERR_SENDER_REFUSED = 26,
    /// Every recipient was refused, or a 421 came during RCPT
    /// (SMTPRecipientsRefused).
    SMTP_ERR_RECIPIENTS_REFUSED = 27,
    /// DATA or the message was refused (SMTPDataError).
    SMTP_ERR_DATA = 28,
    /// Another protocol failure (SMTPException).
    SMTP_ERR_SMTP = 29,
    /// The message is larger than the SIZE the server advertised; it was
    /// refused before MAIL, nothing was sent.
    SMTP_ERR_TOO_LARGE = 30,
}

/// The result code for a core error.
pub fn code_of(e: &Error) -> smtp_result {
    use smtp_result::*;
    match e {
        Error::InvalidArgument(_) => SMTP_ERR_INVALID_ARGUMENT,
        Error::BadState(_) => SMTP_ERR_BAD_STATE,
        Error::Connect(_) => SMTP_ERR_CONNECT,
        Error::Timeout(_) => SMTP_ERR_TIMEOUT,
        Error::Io(_) => SMTP_ERR_IO,
        Error::Cancelled(_) => SMTP_ERR_CANCELLED,
        Error::OutcomeUnknown(_) => SMTP_ERR_OUTCOME_UNKNOWN,
        Error::Tls(_) => SMTP_ERR_TLS,
        Error::NotEncrypted(_) => SMTP_ERR_NOT_ENCRYPTED,
        Error::ServerDisconnected(_) => SMTP_ERR_SERVER_DISCONNECTED,
        Error::Response(_) => SMTP_ERR_RESPONSE,
        Error::ConnectReply(_) => SMTP_ERR_CONNECT_REPLY,
        Error::Helo(_) => SMTP_ERR_HELO,
        Error::NotSupported(_) => SMTP_ERR_NOT_SUPPORTED,
        Error::Auth { .. } => SMTP_ERR_AUTH,
        Error::AuthAborted { .. } => SMTP_ERR_AUTH_ABORTED,
        Error::SenderRefused { .. } => SMTP_ERR_SENDER_REFUSED,
        Error::RecipientsRefused(_) => SMTP_ERR_RECIPIENTS_REFUSED,
        Error::Data(_) => SMTP_ERR_DATA,
        Error::Smtp(_) => SMTP_ERR_SMTP,
        Error::TooLarge(_) => SMTP_ERR_TOO_LARGE,
    }
}

/// One result code's facts: everything the C API, the C++ wrapper and the
/// bindings say about a code comes from this table (issue 14, "one table
/// per fact"). The numbers stay in the enum above because cbindgen reads
/// only plain source (macro expansion needs nightly); the table names each
/// variant and the exhaustive match in `results!` fails to compile when a
/// variant is missing from the table.
struct ResultInfo {
    code: smtp_result,
    /// The C name, NUL-terminated.
    name: &'static str,
    /// smtp_result_str()'s text, NUL-terminated.
    description: &'static str,
    /// The exception smtplib raises for this failure (a class of smtplib,
    /// of the builtins or `ssl`), NUL-terminated; None for SMTP_OK.
    exception: Option<&'static str>,
    /// An error with this code can carry a server reply
    /// (`Error::reply()`), which smtp_session_last_reply_code() then holds.
    has_reply: bool,
}

macro_rules! results {
    ($($name:ident => $desc:literal, $exc:expr, $reply:literal;)*) => {
        const RESULTS: &[ResultInfo] = &[$(ResultInfo {
            code: smtp_result::$name,
            name: concat!(stringify!($name), "\0"),
            description: concat!($desc, "\0"),
            exception: $exc,
            has_reply: $reply,
        }),*];

        /// The codes as `c_int` constants, what the C functions return
        /// (for Rust tests that call them).
        pub mod codes {
            use super::*;
            $(pub const $name: c_int = smtp_result::$name as c_int;)*
        }

        // Every variant of the enum is a row of the table (a missing one is
        // a compile error here; a repeated one an unreachable pattern).
        #[deny(unreachable_patterns)]
        const _: fn(smtp_result) = |r| match r {
            $(smtp_result::$name => (),)*
        };
    };
}

macro_rules! exc {
    () => {
        None
    };
    ($e:literal) => {
        Some(concat!($e, "\0"))
    };
}

results! {
    SMTP_OK => "success", exc!(), false;
    SMTP_ERR_NULL_ARGUMENT => "a required argument was NULL", exc!("TypeError"), false;
    SMTP_ERR_INVALID_ARGUMENT => "invalid argument", exc!("ValueError"), false;
    SMTP_ERR_BAD_STATE => "call not allowed in the session's state", exc!("SMTPException"), false;
    SMTP_ERR_PANIC => "internal panic; the session is poisoned", exc!("SMTPException"), false;
    SMTP_ERR_CONNECT => "could not connect", exc!("OSError"), false;
    SMTP_ERR_TIMEOUT => "timed out", exc!("TimeoutError"), false;
    SMTP_ERR_IO => "I/O error", exc!("SMTPServerDisconnected"), false;
    SMTP_ERR_TLS => "TLS error", exc!("SSLError"), false;
    SMTP_ERR_SERVER_DISCONNECTED => "server disconnected", exc!("SMTPServerDisconnected"), false;
    SMTP_ERR_NOT_ENCRYPTED => "refused to send secrets over an unprotected connection", exc!("SMTPException"), false;
    SMTP_ERR_CANCELLED => "cancelled", exc!("SMTPServerDisconnected"), false;
    SMTP_ERR_OUTCOME_UNKNOWN => "the message was sent but no reply decided its fate", exc!("SMTPServerDisconnected"), false;
    SMTP_ERR_RESPONSE => "unexpected server reply", exc!("SMTPResponseException"), true;
    SMTP_ERR_CONNECT_REPLY => "server refused the connection in its greeting", exc!("SMTPConnectError"), true;
    SMTP_ERR_HELO => "server refused both EHLO and HELO", exc!("SMTPHeloError"), true;
    SMTP_ERR_NOT_SUPPORTED => "not supported by the server", exc!("SMTPNotSupportedError"), false;
    SMTP_ERR_AUTH => "authentication failed", exc!("SMTPAuthenticationError"), true;
    SMTP_ERR_AUTH_ABORTED => "authentication aborted", exc!("SMTPAuthenticationError"), true;
    SMTP_ERR_SENDER_REFUSED => "sender refused", exc!("SMTPSenderRefused"), true;
    SMTP_ERR_RECIPIENTS_REFUSED => "all recipients refused", exc!("SMTPRecipientsRefused"), true;
    SMTP_ERR_DATA => "message data refused", exc!("SMTPDataError"), true;
    SMTP_ERR_SMTP => "SMTP error", exc!("SMTPException"), false;
    SMTP_ERR_TOO_LARGE => "message larger than the server accepts", exc!("SMTPException"), false;
}

/// The table's row for a code.
fn info(code: c_int) -> Option<&'static ResultInfo> {
    RESULTS.iter().find(|r| r.code as c_int == code)
}

fn c_str(s: &'static str) -> *const c_char {
    s.as_ptr().cast()
}

/// A static English description of a result code. Never NULL; an unknown
/// code gives "unknown result code". The string must not be freed.
#[unsafe(no_mangle)]
pub extern "C" fn smtp_result_str(code: c_int) -> *const c_char {
    c_str(info(code).map_or("unknown result code\0", |r| r.description))
}

/// The C name of a result code, e.g. "SMTP_ERR_TIMEOUT" for
/// `SMTP_ERR_TIMEOUT` (static; must not be freed), for bindings that name
/// codes as the header does. NULL for a code this library does not know.
#[unsafe(no_mangle)]
pub extern "C" fn smtp_result_name(code: c_int) -> *const c_char {
    info(code).map_or(std::ptr::null(), |r| c_str(r.name))
}

/// The name of the exception Python's smtplib raises for the failure a
/// code reports, e.g. "SMTPSenderRefused", "OSError" for `SMTP_ERR_CONNECT`,
/// "ValueError" for `SMTP_ERR_INVALID_ARGUMENT`: a class of smtplib, of
/// Python's builtins or "SSLError" of its ssl module (static; must not be
/// freed). NULL for `SMTP_OK` and for an unknown code.
#[unsafe(no_mangle)]
pub extern "C" fn smtp_result_exception(code: c_int) -> *const c_char {
    info(code).and_then(|r| r.exception).map_or(std::ptr::null(), c_str)
}

/// 1 when an error with this code can carry the server reply behind it
/// (smtplib's `smtp_code`/`smtp_error`); after a call that failed with it,
/// smtp_session_last_reply_code() and smtp_session_last_reply_text() give
/// that reply. 0 for the other codes, `SMTP_OK` and unknown codes.
#[unsafe(no_mangle)]
pub extern "C" fn smtp_result_has_reply(code: c_int) -> c_int {
    info(code).is_some_and(|r| r.has_reply) as c_int
}

/// How many result codes this library has (`SMTP_OK` included); with
/// smtp_result_code_at() a binding lists them at run time.
#[unsafe(no_mangle)]
pub extern "C" fn smtp_result_count() -> usize {
    RESULTS.len()
}

/// The `i`th result code in increasing order, `SMTP_OK` (0) first; -1 when
/// `i >= smtp_result_count()`.
#[unsafe(no_mangle)]
pub extern "C" fn smtp_result_code_at(i: usize) -> c_int {
    RESULTS.get(i).map_or(-1, |r| r.code as c_int)
}

/// The library's version as "MAJOR.MINOR.PATCH" (static; never NULL; must
/// not be freed). Compare with the SMTP_VERSION_* macros the program was
/// built with.
#[unsafe(no_mangle)]
pub extern "C" fn smtp_lib_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The library's version at run time as one number, MAJOR << 16 | MINOR << 8
/// | PATCH: compare with `SMTP_VERSION_NUM`, the header's
/// (`smtp_lib_version_number() >= SMTP_VERSION_NUM` when the program runs
/// on the library it was built with or a later one).
#[unsafe(no_mangle)]
pub extern "C" fn smtp_lib_version_number() -> u32 {
    ((SMTP_VERSION_MAJOR as u32) << 16) | ((SMTP_VERSION_MINOR as u32) << 8) | SMTP_VERSION_PATCH as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn versions_match_cargo() {
        assert_eq!(SMTP_VERSION_MAJOR.to_string(), env!("CARGO_PKG_VERSION_MAJOR"));
        assert_eq!(SMTP_VERSION_MINOR.to_string(), env!("CARGO_PKG_VERSION_MINOR"));
        assert_eq!(SMTP_VERSION_PATCH.to_string(), env!("CARGO_PKG_VERSION_PATCH"));
        let v = unsafe { CStr::from_ptr(smtp_lib_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
        let n = smtp_lib_version_number();
        assert_eq!(
            format!("{}.{}.{}", n >> 16, (n >> 8) & 0xff, n & 0xff),
            env!("CARGO_PKG_VERSION"),
            "smtp_lib_version_number {n:#x}"
        );
    }

    fn text(p: *const c_char) -> Option<&'static str> {
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap())
    }

    #[test]
    fn table_in_order_and_complete() {
        let codes: Vec<c_int> = (0..smtp_result_count()).map(|i| smtp_result_code_at(i)).collect();
        assert!(codes.windows(2).all(|w| w[0] < w[1]), "increasing, no repeats: {codes:?}");
        assert_eq!(smtp_result_code_at(smtp_result_count()), -1);
        for &code in &codes {
            let name = text(smtp_result_name(code)).unwrap();
            assert!(name.starts_with("SMTP_"), "{name}");
            assert_ne!(text(smtp_result_str(code)), Some("unknown result code"), "{name}");
            assert_eq!(text(smtp_result_exception(code)).is_none(), code == 0, "{name}");
        }
        for unknown in [-5, -1, 5, 9, 18, 31, 1000] {
            assert!(smtp_result_name(unknown).is_null());
            assert!(smtp_result_exception(unknown).is_null());
            assert_eq!(smtp_result_has_reply(unknown), 0);
            assert_eq!(text(smtp_result_str(unknown)), Some("unknown result code"));
        }
        assert_eq!(text(smtp_result_name(11)), Some("SMTP_ERR_TIMEOUT"));
        assert_eq!(text(smtp_result_exception(26)), Some("SMTPSenderRefused"));
    }

    /// One error of every core variant, with a reply wherever the variant
    /// can hold one.
    fn every_error() -> Vec<Error> {
        use crate::error::Refusal;
        use crate::reply::Reply;
        let r = || Reply::new(550, "no");
        let s = || String::from("x");
        let all = vec![
            Error::InvalidArgument(s()),
            Error::BadState(s()),
            Error::Connect(s()),
            Error::Timeout(s()),
            Error::Io(s()),
            Error::Cancelled(s()),
            Error::OutcomeUnknown(s()),
            Error::Tls(s()),
            Error::NotEncrypted(s()),
            Error::ServerDisconnected(s()),
            Error::Response(r()),
            Error::ConnectReply(r()),
            Error::Helo(r()),
            Error::NotSupported(s()),
            Error::Auth { reply: r(), detail: None },
            Error::AuthAborted { why: s(), reply: Some(r()) },
            Error::SenderRefused { reply: r(), sender: s() },
            Error::RecipientsRefused(vec![Refusal { recipient: s(), reply: r() }]),
            Error::Data(r()),
            Error::Smtp(s()),
            Error::TooLarge(s()),
        ];
        // A variant added to Error without a row here fails to compile.
        for e in &all {
            match e {
                Error::InvalidArgument(_)
                | Error::BadState(_)
                | Error::Connect(_)
                | Error::Timeout(_)
                | Error::Io(_)
                | Error::Cancelled(_)
                | Error::OutcomeUnknown(_)
                | Error::Tls(_)
                | Error::NotEncrypted(_)
                | Error::ServerDisconnected(_)
                | Error::Response(_)
                | Error::ConnectReply(_)
                | Error::Helo(_)
                | Error::NotSupported(_)
                | Error::Auth { .. }
                | Error::AuthAborted { .. }
                | Error::SenderRefused { .. }
                | Error::RecipientsRefused(_)
                | Error::Data(_)
                | Error::Smtp(_)
                | Error::TooLarge(_) => (),
            }
        }
        all
    }

    #[test]
    fn has_reply_is_what_the_core_errors_carry() {
        let errors = every_error();
        for e in &errors {
            let code = code_of(e) as c_int;
            assert_eq!(smtp_result_has_reply(code) == 1, e.reply().is_some(), "{e:?}");
        }
        // Codes no core error maps to (the C layer's own) carry no reply.
        for code in (0..smtp_result_count()).map(|i| smtp_result_code_at(i)) {
            if !errors.iter().any(|e| code_of(e) as c_int == code) {
                assert_eq!(smtp_result_has_reply(code), 0, "{code}");
            }
        }
    }
}
