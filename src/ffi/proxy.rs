//! Proxies, and a session over the caller's own socket.

use std::ffi::{c_char, c_int};

use super::args;
use super::handle::{call, smtp_session};
use super::session::reply_call;
use crate::adopt;

/// Connect through a proxy from the next `smtp_session_connect()` or
/// `smtp_session_open()` on; NULL or "" connects directly again. `url` is
/// one of
/// - `socks5://[user:password@]host[:port]`: SOCKS5 (RFC 1928), the mail
///   host's name resolved here; user and password (RFC 1929) when given;
/// - `socks5h://...`: the same, the name resolved by the proxy;
/// - `http://[user:password@]host[:port]`: HTTP CONNECT, with Basic proxy
///   credentials when given.
///
/// The port defaults to 1080 for SOCKS5 and 8080 for HTTP; user and
/// password are percent-decoded (`%40` for `@`); an IPv6 address is written
/// in brackets. TLS (`SMTP_KIND_SMTP_SSL`, `smtp_session_starttls()`) runs
/// end to end through the proxy, checked against the mail host's name: the
/// proxy sees only ciphertext. The credentials never appear in the trace
/// or in an error message; HTTP's Basic scheme sends them to the proxy in
/// clear.
///
/// The proxy handshake is part of connecting: reaching the proxy is bounded
/// by `SMTP_TIMEOUT_CONNECT` (per address), the handshake by
/// `SMTP_TIMEOUT_CONNECT` again, all of it by `SMTP_TIMEOUT_CALL`, and
/// `smtp_session_cancel()` ends it. `smtp_session_set_source_address()`
/// binds the connection to the proxy. A proxy that refuses (a SOCKS reply
/// code, an HTTP status) or answers in another protocol makes the connect
/// fail with `SMTP_ERR_CONNECT` and the reason in the errmsg; one that does
/// not answer, with `SMTP_ERR_TIMEOUT`. A Unix-domain socket path (a host
/// starting with `/`) cannot go through a proxy: `SMTP_ERR_INVALID_ARGUMENT`.
///
/// Returns `SMTP_ERR_INVALID_ARGUMENT` for a URL with another scheme, no
/// host, a bad port, a bad %-escape, a path, spaces or control characters
/// (CR, LF); the setting is then unchanged.
///
/// # Safety
/// `s` is NULL or a live session; `url` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_set_proxy(s: *mut smtp_session, url: *const c_char) -> c_int {
    unsafe {
        call(s, |i| {
            let url = args::opt_text(url, "url")?;
            Ok(i.core.set_proxy(url)?)
        })
    }
}

/// Run the session over `fd`, a stream socket (TCP or Unix-domain) the
/// caller has connected, and read the greeting as `smtp_session_connect()`
/// does (its code to `*code`, NULL allowed); for `SMTP_KIND_SMTP_SSL` the
/// TLS handshake comes first. An open connection is closed first. The
/// session's proxy, if any, is not used.
///
/// `host` is the server's name, which TLS checks the certificate against
/// (SMTP_SSL's handshake and a later `smtp_session_starttls()`); NULL is
/// allowed when there will be no TLS or the TLS configuration has a server
/// name (`smtp_tls_config_builder_set_server_name()`).
///
/// Ownership: `fd` belongs to the library from the call on, whatever the
/// result. On any failure (NULL session included) it has been closed when
/// the function returns; on success it is closed by `smtp_session_close()`,
/// `smtp_session_free()`, the next connect, or an error that ends the
/// connection. The caller must not use or close it after the call. (An
/// `fd` that is not open at all is only refused.) The library makes it
/// non-blocking (and sets TCP_NODELAY on TCP).
///
/// Errors: `SMTP_ERR_INVALID_ARGUMENT` when `fd` is not open, not a socket,
/// not a stream socket, not connected, or neither TCP nor Unix-domain; then
/// those of `smtp_session_connect()` and `SMTP_ERR_TLS`.
///
/// # Safety
/// `s` is NULL or a live session; `fd` is a descriptor the caller owns and
/// gives up; `host` is NULL or a NUL-terminated string; `code` is NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_connect_fd(
    s: *mut smtp_session,
    fd: c_int,
    host: *const c_char,
    code: *mut c_int,
) -> c_int {
    // Owned before anything else: whichever way the call ends, even
    // without running (NULL session), dropping it closes it.
    let owned = adopt::own(fd);
    unsafe {
        reply_call(s, code, move |i| {
            let sock = adopt::socket(owned?)?;
            let host = args::opt_text(host, "host")?;
            Ok(i.core.connect_socket_for(sock, host)?)
        })
    }
}
