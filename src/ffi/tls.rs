//! TLS for C: a builder (`smtp_tls_config_builder`, one thread, mutable)
//! makes an immutable `smtp_tls_config` that any number of sessions on any
//! threads share; `smtp_session_starttls()` and SMTP_SSL sessions use it.

use super::boundary::guard;
use std::ffi::{c_char, c_int, c_uint, CString};
use std::path::Path;

use super::args;
use super::handle::{c_text, call, get, ptr, smtp_session, CallError, CallResult};
use super::result::smtp_result;
use super::session::reply_call;
use crate::tls::{Roots, TlsConfig, TlsSettings};

/// Collects TLS settings; made by `smtp_tls_config_builder_new()`, turned
/// into a config by `smtp_tls_config_builder_build()`, freed by
/// `smtp_tls_config_builder_free()`. Not for use by two threads at once.
#[allow(non_camel_case_types)]
pub struct smtp_tls_config_builder {
    settings: TlsSettings,
    errmsg: CString,
}

/// A built TLS configuration: immutable and thread-safe. Sessions given it
/// keep their own reference, so it may be freed (`smtp_tls_config_free()`)
/// as soon as it has been handed to them.
#[allow(non_camel_case_types)]
pub struct smtp_tls_config {
    config: TlsConfig,
}

/// `smtp_tls_config_builder_set_roots()`: the Mozilla roots built into
/// libsmtp (webpki-roots), the same on every platform. The default.
pub const SMTP_ROOTS_MOZILLA: c_uint = 1;
/// `smtp_tls_config_builder_set_roots()`: the operating system's trust
/// store (on Linux and BSD the CA bundle OpenSSL uses, or the file and
/// directory named by SSL_CERT_FILE and SSL_CERT_DIR; the keychain on
/// macOS; the system store on Windows).
pub const SMTP_ROOTS_SYSTEM: c_uint = 2;

/// Run a builder call: NULL check, panic boundary, errmsg.
unsafe fn builder_call(b: *mut smtp_tls_config_builder, f: impl FnOnce(&mut TlsSettings) -> CallResult) -> c_int {
    unsafe { builder_call_reporting(b, |t| f(t).map(|()| "no error".to_string())) }
}

/// A builder call whose success leaves its own message in errmsg.
unsafe fn builder_call_reporting(
    b: *mut smtp_tls_config_builder,
    f: impl FnOnce(&mut TlsSettings) -> Result<String, CallError>,
) -> c_int {
    // SAFETY: NULL or a live builder, per every caller's contract.
    let Some(b) = (unsafe { b.as_mut() }) else {
        return smtp_result::SMTP_ERR_NULL_ARGUMENT as c_int;
    };
    let (code, msg) = match guard(|| f(&mut b.settings)) {
        Ok(report) => (smtp_result::SMTP_OK, report),
        Err(failure) => (failure.code(), failure.message()),
    };
    b.errmsg = c_text(msg.as_bytes());
    code as c_int
}

/// A builder with the defaults: trust the Mozilla roots (webpki-roots),
/// verify certificates and host names, TLS 1.2 minimum, no client
/// certificate. Never NULL; free with `smtp_tls_config_builder_free()`.
#[unsafe(no_mangle)]
pub extern "C" fn smtp_tls_config_builder_new() -> *mut smtp_tls_config_builder {
    Box::into_raw(Box::new(smtp_tls_config_builder { settings: TlsSettings::default(), errmsg: c_text(b"no error") }))
}

/// Free a builder (NULL is a no-op). Configs built from it stay valid.
///
/// # Safety
/// `b` is NULL or a builder not yet freed; it is not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_tls_config_builder_free(b: *mut smtp_tls_config_builder) {
    if !b.is_null() {
        // SAFETY: per the contract.
        drop(unsafe { Box::from_raw(b) });
    }
}

/// What the builder's last call did ("no error" after success); owned by
/// the builder, valid until its next call. A static message for NULL.
///
/// # Safety
/// `b` is NULL or a live builder.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_tls_config_builder_errmsg(b: *const smtp_tls_config_builder) -> *const c_char {
    // SAFETY: NULL or a live builder.
    match unsafe { b.as_ref() } {
        Some(b) => b.errmsg.as_ptr(),
        None => c"builder is NULL".as_ptr(),
    }
}

/// Trust the CA certificates in the PEM file `path` as well (smtplib's
/// `cafile`). `SMTP_ERR_TLS` when it cannot be read or holds no certificate.
///
/// # Safety
/// `b` is NULL or a live builder; `path` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_tls_config_builder_add_ca_file(
    b: *mut smtp_tls_config_builder,
    path: *const c_char,
) -> c_int {
    unsafe {
        builder_call(b, |t| {
            t.add_ca_file(Path::new(args::text(path, "path")?))?;
            Ok(())
        })
    }
}

/// Trust every PEM certificate in the files of directory `path` as well
/// (smtplib's `capath`). `SMTP_ERR_TLS` when none is found.
///
/// # Safety
/// As `smtp_tls_config_builder_add_ca_file()`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_tls_config_builder_add_ca_dir(
    b: *mut smtp_tls_config_builder,
    path: *const c_char,
) -> c_int {
    unsafe {
        builder_call(b, |t| {
            t.add_ca_dir(Path::new(args::text(path, "path")?))?;
            Ok(())
        })
    }
}

/// Trust the built-in Mozilla roots (1, the default) or not (0: with no
/// system store either, the added CAs replace them). Leaves the system
/// store as `smtp_tls_config_builder_set_roots()` set it.
///
/// # Safety
/// `b` is NULL or a live builder.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_tls_config_builder_set_default_roots(
    b: *mut smtp_tls_config_builder,
    use_defaults: c_int,
) -> c_int {
    unsafe {
        builder_call(b, |t| {
            t.set_default_roots(use_defaults != 0);
            Ok(())
        })
    }
}

/// Which built-in trust stores to trust beside the CAs added from files:
/// `SMTP_ROOTS_MOZILLA`, `SMTP_ROOTS_SYSTEM`, both (or'ed), or 0 (only the
/// added CAs). The default is `SMTP_ROOTS_MOZILLA`: the same roots on
/// every platform and in containers without a CA bundle.
///
/// With `SMTP_ROOTS_SYSTEM` the system store is loaded by this call (not
/// again at build): after `SMTP_OK`, `smtp_tls_config_builder_errmsg()`
/// says how many certificates were loaded and from where, and names files
/// or certificates that failed (they are skipped). `SMTP_ERR_TLS` when not
/// one certificate could be loaded, with the reason; the builder is then
/// unchanged. Other bits are `SMTP_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `b` is NULL or a live builder.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_tls_config_builder_set_roots(b: *mut smtp_tls_config_builder, roots: c_uint) -> c_int {
    unsafe {
        builder_call_reporting(b, |t| {
            if roots & !(SMTP_ROOTS_MOZILLA | SMTP_ROOTS_SYSTEM) != 0 {
                return Err(crate::Error::InvalidArgument(format!(
                    "roots {roots:#x}: only SMTP_ROOTS_MOZILLA (1) and SMTP_ROOTS_SYSTEM (2) are known"
                ))
                .into());
            }
            let which = Roots { mozilla: roots & SMTP_ROOTS_MOZILLA != 0, system: roots & SMTP_ROOTS_SYSTEM != 0 };
            Ok(t.set_roots(which)?)
        })
    }
}

/// Present a client certificate (smtplib's `certfile` and `keyfile`): the
/// PEM chain, leaf first, and its PEM private key (PKCS#8, PKCS#1 or SEC1).
///
/// # Safety
/// `b` is NULL or a live builder; the paths are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_tls_config_builder_set_client_cert(
    b: *mut smtp_tls_config_builder,
    chain_path: *const c_char,
    key_path: *const c_char,
) -> c_int {
    unsafe {
        builder_call(b, |t| {
            let chain = args::text(chain_path, "chain_path")?;
            let key = args::text(key_path, "key_path")?;
            t.set_client_cert(Path::new(chain), Path::new(key))?;
            Ok(())
        })
    }
}

/// Check the server's certificate against (and send as SNI) `name` instead
/// of the host given to connect. A name with non-ASCII labels (UTF-8) is
/// used as its A-labels ("b\xc3\xbccher.example" is
/// "xn--bcher-kva.example", UTS #46). `SMTP_ERR_INVALID_ARGUMENT` for
/// something that is neither a DNS name nor an IP address, or an
/// internationalized name UTS #46 refuses.
///
/// # Safety
/// `b` is NULL or a live builder; `name` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_tls_config_builder_set_server_name(
    b: *mut smtp_tls_config_builder,
    name: *const c_char,
) -> c_int {
    unsafe {
        builder_call(b, |t| {
            t.set_server_name(args::text(name, "name")?)?;
            Ok(())
        })
    }
}

/// DANGER: accept any server certificate, for any name. Anyone on the path
/// can then read and change the connection, passwords included. For test
/// setups only; every handshake with such a config says so in the trace.
///
/// # Safety
/// `b` is NULL or a live builder.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_tls_config_builder_dangerous_disable_verification(
    b: *mut smtp_tls_config_builder,
) -> c_int {
    unsafe {
        builder_call(b, |t| {
            t.dangerous_disable_verification();
            Ok(())
        })
    }
}

/// Build a config from the builder's settings into `*out` (the caller owns
/// it: `smtp_tls_config_free()`). The builder stays usable. `SMTP_ERR_TLS`
/// when the settings do not make a config (no trust anchor at all, a key
/// that does not fit the certificate); `*out` is then NULL.
///
/// # Safety
/// `b` is NULL or a live builder; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_tls_config_builder_build(
    b: *mut smtp_tls_config_builder,
    out: *mut *mut smtp_tls_config,
) -> c_int {
    unsafe {
        args::put(out, std::ptr::null_mut());
        builder_call(b, |t| {
            if out.is_null() {
                return Err(CallError::Null("out"));
            }
            let config = t.build()?;
            *out = Box::into_raw(Box::new(smtp_tls_config { config }));
            Ok(())
        })
    }
}

/// Free a config (NULL is a no-op). Sessions that were given it keep
/// working: they hold their own reference.
///
/// # Safety
/// `c` is NULL or a config not yet freed; it is not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_tls_config_free(c: *mut smtp_tls_config) {
    if !c.is_null() {
        // SAFETY: per the contract.
        drop(unsafe { Box::from_raw(c) });
    }
}

unsafe fn config_arg(c: *const smtp_tls_config) -> Option<TlsConfig> {
    // SAFETY: NULL or a live config.
    unsafe { c.as_ref() }.map(|c| c.config.clone())
}

/// The TLS configuration this session uses for SMTP_SSL connections and
/// for `smtp_session_starttls()` without one; NULL restores the default
/// (Mozilla roots, verification on). The session keeps its own reference.
///
/// # Safety
/// `s` is NULL or a live session; `config` is NULL or a live config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_set_tls_config(s: *mut smtp_session, config: *const smtp_tls_config) -> c_int {
    unsafe {
        call(s, |i| {
            i.core.set_tls_config(config_arg(config));
            Ok(())
        })
    }
}

/// smtplib's `starttls`: on a connection already encrypted,
/// `SMTP_ERR_BAD_STATE`; EHLO or HELO if needed; STARTTLS not advertised is
/// `SMTP_ERR_NOT_SUPPORTED`; a reply other than 220 is `SMTP_ERR_RESPONSE`
/// with its code in `*code`. Then the TLS handshake with `config` (NULL:
/// the session's, see `smtp_session_set_tls_config()`), checking the
/// certificate against the host given to connect. A server that sends
/// anything after its 220 and before the handshake is `SMTP_ERR_TLS` with
/// the connection closed (response injection); a failed handshake is
/// `SMTP_ERR_TLS` naming the check that failed, connection closed. After it
/// the session forgets helo_resp, ehlo_resp, the features and does_esmtp
/// (RFC 3207 4.2): EHLO again.
///
/// # Safety
/// `s` is NULL or a live session; `config` is NULL or a live config; `code`
/// is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_starttls(
    s: *mut smtp_session,
    config: *const smtp_tls_config,
    code: *mut c_int,
) -> c_int {
    unsafe {
        reply_call(s, code, |i| {
            let config = config_arg(config);
            Ok(i.core.starttls(config.as_ref())?)
        })
    }
}

/// With `on` non-zero, `smtp_session_sendmail()`, `smtp_session_login()` and
/// the auth calls refuse (`SMTP_ERR_NOT_ENCRYPTED`, nothing sent) unless the
/// connection is TLS: a server that does not offer STARTTLS cannot silently
/// downgrade the session (CVE-2016-0772).
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_set_require_tls(s: *mut smtp_session, on: c_int) -> c_int {
    unsafe {
        call(s, |i| {
            i.core.set_require_tls(on != 0);
            Ok(())
        })
    }
}

/// 1 when the current connection is TLS, else 0.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_is_encrypted(s: *const smtp_session) -> c_int {
    unsafe { get(s, 0, |i| c_int::from(i.core.is_encrypted())) }
}

/// The TLS version of the current connection ("TLSv1.3", "TLSv1.2"), or
/// NULL when it is not TLS.
///
/// The string is the session's: valid until the next call on the session
/// that is not a getter, or its free; never free() it.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_tls_version(s: *const smtp_session) -> *const c_char {
    unsafe { get(s, std::ptr::null(), |i| ptr(i.mirror.tls.as_ref().map(|t| &t.0))) }
}

/// The cipher suite of the current TLS connection (IANA name, such as
/// "TLS13_AES_256_GCM_SHA384"), or NULL when it is not TLS.
///
/// The string is the session's: valid until the next call on the session
/// that is not a getter, or its free; never free() it.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_tls_cipher(s: *const smtp_session) -> *const c_char {
    unsafe { get(s, std::ptr::null(), |i| ptr(i.mirror.tls.as_ref().map(|t| &t.1))) }
}
