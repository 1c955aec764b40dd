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
        Error::AuthAborted(_) => SMTP_ERR_AUTH_ABORTED,
        Error::SenderRefused { .. } => SMTP_ERR_SENDER_REFUSED,
        Error::RecipientsRefused(_) => SMTP_ERR_RECIPIENTS_REFUSED,
        Error::Data(_) => SMTP_ERR_DATA,
        Error::Smtp(_) => SMTP_ERR_SMTP,
        Error::TooLarge(_) => SMTP_ERR_TOO_LARGE,
    }
}

/// NUL-terminated static descriptions, indexed by code.
fn description(code: c_int) -> &'static [u8] {
    match code {
        0 => b"success\0",
        1 => b"a required argument was NULL\0",
        2 => b"invalid argument\0",
        3 => b"call not allowed in the session's state\0",
        4 => b"internal panic; the session is poisoned\0",
        10 => b"could not connect\0",
        11 => b"timed out\0",
        12 => b"I/O error\0",
        13 => b"TLS error\0",
        14 => b"server disconnected\0",
        15 => b"refused to send secrets over an unprotected connection\0",
        16 => b"cancelled\0",
        17 => b"the message was sent but no reply decided its fate\0",
        20 => b"unexpected server reply\0",
        21 => b"server refused the connection in its greeting\0",
        22 => b"server refused both EHLO and HELO\0",
        23 => b"not supported by the server\0",
        24 => b"authentication failed\0",
        25 => b"authentication aborted\0",
        26 => b"sender refused\0",
        27 => b"all recipients refused\0",
        28 => b"message data refused\0",
        29 => b"SMTP error\0",
        30 => b"message larger than the server accepts\0",
        _ => b"unknown result code\0",
    }
}

/// A static English description of a result code. Never NULL; an unknown
/// code gives "unknown result code". The string must not be freed.
#[unsafe(no_mangle)]
pub extern "C" fn smtp_result_str(code: c_int) -> *const c_char {
    description(code).as_ptr().cast()
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

    #[test]
    fn every_code_described() {
        for code in [0, 1, 2, 3, 4, 10, 11, 12, 13, 14, 15, 16, 17, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30] {
            let s = unsafe { CStr::from_ptr(smtp_result_str(code)) };
            assert_ne!(s.to_bytes(), b"unknown result code", "{code}");
        }
        let s = unsafe { CStr::from_ptr(smtp_result_str(-5)) };
        assert_eq!(s.to_bytes(), b"unknown result code");
    }
}
