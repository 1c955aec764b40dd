//! Authentication: smtplib's `login` and `auth`, the latter with the
//! authobject as a C callback, plus each built-in mechanism alone.

use std::ffi::{c_char, c_int, c_uint, c_void};

use super::args;
use super::handle::{call, smtp_session, CallResult};
use crate::auth::secret::wipe;
use crate::auth::{MechError, Mechanism, Secret};
use crate::error::Error;
use crate::session::AuthOptions;

/// Auth flag: do not send an initial response with AUTH (smtplib's
/// `initial_response_ok=False`); the first response answers a challenge.
pub const SMTP_AUTH_NO_INITIAL_RESPONSE: c_uint = 1;
/// Auth flag: allow PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER on a connection
/// that is neither TLS, a Unix socket nor loopback. Without it they are
/// refused there with `SMTP_ERR_NOT_ENCRYPTED` and nothing is sent.
pub const SMTP_AUTH_ALLOW_CLEARTEXT: c_uint = 2;

/// SASL callback verdict: the response is in the buffer, `*response_len` bytes.
pub const SMTP_SASL_CONTINUE: c_int = 100;
/// SASL callback verdict, only when asked for the initial response: the
/// mechanism has none (AUTH is sent without one).
pub const SMTP_SASL_NO_INITIAL_RESPONSE: c_int = 101;
/// SASL callback verdict: the buffer is too small; `*response_len` says how
/// many bytes are needed and the callback is called again with a buffer that
/// large (at most 16 MiB).
pub const SMTP_SASL_NEED_SPACE: c_int = 102;

/// The most a callback may ask for with `SMTP_SASL_NEED_SPACE`.
const MAX_RESPONSE: usize = 16 << 20;

/// The client side of a SASL mechanism (smtplib's authobject), for
/// `smtp_session_auth()`.
///
/// Called with `challenge == NULL` to ask for the initial response (only when
/// initial responses are allowed), then once per server challenge with the
/// challenge base64-decoded (`challenge_len` bytes, maybe 0; `challenge` is
/// not NULL then). The callback writes its raw response (the library does
/// the base64) into `response`, which holds `response_cap` bytes, stores its
/// length in `*response_len` and returns `SMTP_SASL_CONTINUE`; or returns
/// `SMTP_SASL_NO_INITIAL_RESPONSE` or `SMTP_SASL_NEED_SPACE`. Any other value,
/// 0 included, aborts: the library sends `*` and the call returns
/// `SMTP_ERR_AUTH_ABORTED`. Called only during `smtp_session_auth()`, on its
/// thread; it must return normally (no exception, longjmp or unwinding), and
/// a call on the same session from inside it returns `SMTP_ERR_BAD_STATE`.
#[allow(non_camel_case_types)]
pub type smtp_sasl_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        challenge: *const u8,
        challenge_len: usize,
        response: *mut u8,
        response_cap: usize,
        response_len: *mut usize,
    ) -> c_int,
>;

pub(super) fn options(flags: c_uint) -> CallResult<AuthOptions> {
    if flags & !(SMTP_AUTH_NO_INITIAL_RESPONSE | SMTP_AUTH_ALLOW_CLEARTEXT) != 0 {
        return Err(Error::InvalidArgument(format!("unknown auth flags {flags:#x}")).into());
    }
    Ok(AuthOptions {
        no_initial_response: flags & SMTP_AUTH_NO_INITIAL_RESPONSE != 0,
        allow_cleartext: flags & SMTP_AUTH_ALLOW_CLEARTEXT != 0,
    })
}

/// The response a `smtp_sasl_step_fn` gives with `smtp_sasl_respond()`.
/// Opaque; lent to the callback for one call.
#[allow(non_camel_case_types)]
pub struct smtp_sasl_exchange {
    response: Option<Secret>,
}

/// The client side of a SASL mechanism (smtplib's authobject) for
/// `smtp_session_auth_step()` and `smtp_pool_set_auth_step()`: the form
/// for bindings, whose callbacks compute a response of any length.
///
/// Called with `challenge == NULL` to ask for the initial response (only
/// when initial responses are allowed), then once per server challenge with
/// the challenge base64-decoded (`challenge_len` bytes, maybe 0; not NULL
/// then). The callback gives its raw response with `smtp_sasl_respond(x,
/// ...)` (the library does the base64; no call means an empty response) and
/// returns `SMTP_SASL_CONTINUE`, or returns `SMTP_SASL_NO_INITIAL_RESPONSE`
/// when asked for the initial response. Any other value, 0 included,
/// aborts: the library sends `*` and the call returns
/// `SMTP_ERR_AUTH_ABORTED`. `x` is valid only during the call. The rules of
/// `smtp_sasl_fn` on threads and reentrancy apply.
#[allow(non_camel_case_types)]
pub type smtp_sasl_step_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        challenge: *const u8,
        challenge_len: usize,
        x: *mut smtp_sasl_exchange,
    ) -> c_int,
>;

/// Give the response to the challenge a `smtp_sasl_step_fn` is answering:
/// `len` raw bytes (at most 16 MiB), copied (and wiped when sent); a second
/// call replaces the first. `SMTP_ERR_NULL_ARGUMENT` for a NULL `x` or a
/// NULL `response` with a non-zero `len`, `SMTP_ERR_INVALID_ARGUMENT` when
/// too long.
///
/// # Safety
/// `x` is NULL or the exchange lent to the running callback; `response` is
/// NULL or readable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_sasl_respond(x: *mut smtp_sasl_exchange, response: *const u8, len: usize) -> c_int {
    use super::result::smtp_result;
    // SAFETY: NULL or the live exchange, per the contract.
    let Some(x) = (unsafe { x.as_mut() }) else {
        return smtp_result::SMTP_ERR_NULL_ARGUMENT as c_int;
    };
    let bytes = match (response.is_null(), len) {
        (_, 0) => &[][..],
        (true, _) => return smtp_result::SMTP_ERR_NULL_ARGUMENT as c_int,
        (false, _) if len > MAX_RESPONSE => return smtp_result::SMTP_ERR_INVALID_ARGUMENT as c_int,
        // SAFETY: readable for len bytes, per the contract.
        (false, _) => unsafe { std::slice::from_raw_parts(response, len) },
    };
    x.response = Some(Secret::new(bytes));
    smtp_result::SMTP_OK as c_int
}

/// `smtp_sasl_fn` once checked not to be NULL.
pub(super) type SaslCallback = unsafe extern "C" fn(*mut c_void, *const u8, usize, *mut u8, usize, *mut usize) -> c_int;
/// `smtp_sasl_step_fn` once checked not to be NULL.
pub(super) type SaslStep = unsafe extern "C" fn(*mut c_void, *const u8, usize, *mut smtp_sasl_exchange) -> c_int;

/// The caller's callback, in either form.
#[derive(Clone, Copy)]
pub(super) enum Callback {
    Buffer(SaslCallback),
    Step(SaslStep),
}

/// A mechanism whose steps the caller's callback computes.
pub(super) struct CallbackMechanism<'a> {
    pub name: &'a str,
    pub callback: Callback,
    pub userdata: *mut c_void,
}

impl CallbackMechanism<'_> {
    fn ask(&mut self, challenge: Option<&[u8]>) -> Result<Option<Secret>, MechError> {
        // A non-NULL pointer for an empty challenge: NULL means "initial".
        static EMPTY: [u8; 1] = [0];
        let (ptr, len) = match challenge {
            None => (std::ptr::null(), 0),
            Some([]) => (EMPTY.as_ptr(), 0),
            Some(c) => (c.as_ptr(), c.len()),
        };
        let (verdict, response) = match self.callback {
            Callback::Buffer(f) => self.ask_buffer(f, ptr, len)?,
            Callback::Step(f) => {
                let mut x = smtp_sasl_exchange { response: None };
                // SAFETY: the caller vouches for the callback; x lives for the call.
                let verdict = unsafe { f(self.userdata, ptr, len, &mut x) };
                (verdict, x.response.unwrap_or_default())
            }
        };
        match verdict {
            SMTP_SASL_CONTINUE => Ok(Some(response)),
            SMTP_SASL_NO_INITIAL_RESPONSE if challenge.is_none() => Ok(None),
            SMTP_SASL_NO_INITIAL_RESPONSE => {
                Err(MechError::Abort("the callback answered a challenge with NO_INITIAL_RESPONSE".into()))
            }
            other => Err(MechError::Abort(format!("the callback aborted the exchange (returned {other})"))),
        }
    }

    /// An `smtp_sasl_fn` into a buffer, grown as it asks (NEED_SPACE):
    /// its verdict and response.
    fn ask_buffer(&self, f: SaslCallback, ptr: *const u8, len: usize) -> Result<(c_int, Secret), MechError> {
        let mut buf = vec![0u8; 1024];
        loop {
            let mut out_len = 0usize;
            // SAFETY: the caller of smtp_session_auth vouches for the callback;
            // buf is writable for its length and out_len for a usize.
            let verdict = unsafe { f(self.userdata, ptr, len, buf.as_mut_ptr(), buf.len(), &mut out_len) };
            let result = match verdict {
                SMTP_SASL_CONTINUE if out_len <= buf.len() => Ok((verdict, Secret::new(&buf[..out_len]))),
                SMTP_SASL_CONTINUE => Err(MechError::Abort(format!(
                    "the callback reported {out_len} response bytes in a {}-byte buffer",
                    buf.len()
                ))),
                SMTP_SASL_NEED_SPACE if out_len > buf.len() && out_len <= MAX_RESPONSE => {
                    wipe(&mut buf);
                    buf = vec![0u8; out_len];
                    continue;
                }
                SMTP_SASL_NEED_SPACE => Err(MechError::Abort(format!(
                    "the callback asked for {out_len} bytes (more than the {}-byte buffer, at most {MAX_RESPONSE})",
                    buf.len()
                ))),
                other => Ok((other, Secret::default())),
            };
            wipe(&mut buf);
            return result;
        }
    }
}

impl Mechanism for CallbackMechanism<'_> {
    fn name(&self) -> &str {
        self.name
    }

    fn initial(&mut self) -> Result<Option<Secret>, MechError> {
        self.ask(None)
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Secret, MechError> {
        Ok(self.ask(Some(challenge))?.unwrap_or_default())
    }
}

/// smtplib's `login`: EHLO or HELO if needed; no AUTH advertised is
/// `SMTP_ERR_NOT_SUPPORTED`; then each mechanism of the session's list
/// (default CRAM-MD5, PLAIN, LOGIN; see `smtp_session_set_auth_mechanisms()`)
/// that the server advertises is tried in turn until one succeeds (235, or
/// 503 "already authenticated"). Every one refused is `SMTP_ERR_AUTH` with
/// the last refusal as the last reply; none usable is `SMTP_ERR_SMTP` ("No
/// suitable authentication method found."), or `SMTP_ERR_NOT_ENCRYPTED`
/// when the only usable ones would send the password in clear on an
/// unprotected connection. `flags`: `SMTP_AUTH_NO_INITIAL_RESPONSE`,
/// `SMTP_AUTH_ALLOW_CLEARTEXT`. UTF-8 credentials are sent as given. The
/// session keeps no copy of them after the call. The reply is in
/// `smtp_session_last_reply_code()` / `_text()`.
///
/// # Safety
/// `s` is NULL or a live session; `user` and `password` are NULL or
/// NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_login(
    s: *mut smtp_session,
    user: *const c_char,
    password: *const c_char,
    flags: c_uint,
) -> c_int {
    unsafe {
        call(s, |i| {
            let user = args::text(user, "user")?;
            let password = args::text(password, "password")?;
            i.core.login(user, password, options(flags)?)?;
            Ok(())
        })
    }
}

/// Choose the mechanisms `smtp_session_login()` tries, in order: a
/// space-separated list of built-in names (CRAM-MD5, PLAIN, LOGIN,
/// SCRAM-SHA-256, XOAUTH2, OAUTHBEARER; for the last two the password is the
/// access token). NULL restores smtplib's "CRAM-MD5 PLAIN LOGIN". An unknown
/// name or an empty list is `SMTP_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `s` is NULL or a live session; `mechanisms` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_set_auth_mechanisms(s: *mut smtp_session, mechanisms: *const c_char) -> c_int {
    unsafe {
        call(s, |i| {
            match args::opt_text(mechanisms, "mechanisms")? {
                None => i.core.reset_auth_mechanisms(),
                Some(list) => i.core.set_auth_mechanisms(&list.split_whitespace().collect::<Vec<_>>())?,
            }
            Ok(())
        })
    }
}

/// smtplib's `auth` with the authobject as `callback` (see `smtp_sasl_fn`):
/// `AUTH mechanism` with the callback's initial response unless
/// `SMTP_AUTH_NO_INITIAL_RESPONSE` is set or it has none, then each 334
/// challenge answered by the callback. 235 or 503 is `SMTP_OK`; another
/// reply is `SMTP_ERR_AUTH`; a callback abort or a challenge that is not
/// valid base64 is `SMTP_ERR_AUTH_ABORTED` after cancelling with `*`; more
/// than 5 challenges is `SMTP_ERR_SMTP` after cancelling. A mechanism named
/// PLAIN, LOGIN, XOAUTH2 or OAUTHBEARER follows the cleartext rule of
/// `smtp_session_login()`. Unlike `smtp_session_login()`, this does not
/// send EHLO first.
///
/// # Safety
/// `s` is NULL or a live session; `mechanism` is NULL or a NUL-terminated
/// string; `callback` is a valid function and `userdata` whatever it expects.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_auth(
    s: *mut smtp_session,
    mechanism: *const c_char,
    callback: smtp_sasl_fn,
    userdata: *mut c_void,
    flags: c_uint,
) -> c_int {
    unsafe { auth_with(s, mechanism, callback.map(Callback::Buffer), userdata, flags) }
}

/// `smtp_session_auth()` with the authobject as a `smtp_sasl_step_fn`,
/// which gives each response with `smtp_sasl_respond()` (of any length, no
/// buffer to size): the form for language bindings. Results as
/// `smtp_session_auth()`.
///
/// # Safety
/// As `smtp_session_auth()`, with `step` in place of `callback`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_auth_step(
    s: *mut smtp_session,
    mechanism: *const c_char,
    step: smtp_sasl_step_fn,
    userdata: *mut c_void,
    flags: c_uint,
) -> c_int {
    unsafe { auth_with(s, mechanism, step.map(Callback::Step), userdata, flags) }
}

/// The body of `smtp_session_auth()` and `smtp_session_auth_step()`.
///
/// # Safety
/// As `smtp_session_auth()`.
unsafe fn auth_with(
    s: *mut smtp_session,
    mechanism: *const c_char,
    callback: Option<Callback>,
    userdata: *mut c_void,
    flags: c_uint,
) -> c_int {
    unsafe {
        call(s, |i| {
            let name = args::text(mechanism, "mechanism")?;
            let callback = callback.ok_or(super::handle::CallError::Null("callback"))?;
            let upper = name.to_ascii_uppercase();
            let mut mech = CallbackMechanism { name: &upper, callback, userdata };
            i.core.auth(&mut mech, options(flags)?)?;
            Ok(())
        })
    }
}

/// One built-in mechanism alone (no fallback): `mechanism` is CRAM-MD5,
/// PLAIN, LOGIN, SCRAM-SHA-256, XOAUTH2 or OAUTHBEARER; `secret` is the
/// password, or the access token for XOAUTH2 and OAUTHBEARER. Results as
/// `smtp_session_auth()`. A refused OAuth token gives `SMTP_ERR_AUTH` with
/// the provider's JSON error in `smtp_session_errmsg()`; a SCRAM server that
/// cannot prove it knows the password gives `SMTP_ERR_AUTH`.
///
/// # Safety
/// `s` is NULL or a live session; the strings are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_auth_builtin(
    s: *mut smtp_session,
    mechanism: *const c_char,
    user: *const c_char,
    secret: *const c_char,
    flags: c_uint,
) -> c_int {
    unsafe {
        call(s, |i| {
            let name = args::text(mechanism, "mechanism")?;
            let user = args::text(user, "user")?;
            let secret = args::text(secret, "secret")?;
            i.core.auth_builtin(name, user, secret, options(flags)?)?;
            Ok(())
        })
    }
}

/// Show AUTH payloads in the debug trace instead of `<redacted>` when `show`
/// is non-zero. For debugging against test servers only: the trace then
/// holds passwords and tokens.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_set_debug_secrets(s: *mut smtp_session, show: c_int) -> c_int {
    unsafe {
        call(s, |i| {
            i.core.trace.show_secrets = show != 0;
            Ok(())
        })
    }
}

/// Whether a loopback peer (127.0.0.0/8, ::1) counts as protecting secrets
/// for the cleartext rule; default 1, as the bytes never leave the machine.
/// Set 0 when a loopback port may forward elsewhere (an SSH tunnel, a
/// proxy): then only TLS and Unix sockets count.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_set_trust_loopback(s: *mut smtp_session, trust: c_int) -> c_int {
    unsafe {
        call(s, |i| {
            i.core.set_trust_loopback(trust != 0);
            Ok(())
        })
    }
}
