//! The session pool: made from a session's settings, shared between
//! threads, and used through the caller's own sessions (see `crate::pool`).

use std::ffi::{c_char, c_int, c_uint, c_void};
use std::sync::Arc;
use std::time::Duration;

use super::args;
use super::auth::{options as auth_options, Callback, CallbackMechanism};
use super::boundary::{self, guard, shielded};
use super::commands::{sendmail_batch_via, sendmail_via, smtp_batch_item};
use super::handle::{call, smtp_session, CallError, CallResult};
use super::message::send_message_via;
use super::result::smtp_result;
use crate::auth::Secret;
use crate::error::Error;
use crate::pool::{Authenticate, Options, Pool};

/// A pool of connections to one server, safe to share between threads.
/// Opaque; made by `smtp_pool_new()`, freed by `smtp_pool_free()`.
#[allow(non_camel_case_types)]
pub struct smtp_pool {
    core: Pool,
}

/// `smtp_pool_set_option()`: 1 to send STARTTLS (and EHLO again) on every
/// new connection, failing when the server does not offer it; default 0.
pub const SMTP_POOL_STARTTLS: c_int = 0;
/// `smtp_pool_set_option()`: close a connection (QUIT) after it carried
/// this many messages; 0: never. Default 1000 (Exim's limit per
/// connection; Postfix has none).
pub const SMTP_POOL_MAX_MESSAGES: c_int = 1;
/// `smtp_pool_set_option()`: close instead of reusing a connection that
/// sat idle this many milliseconds; 0: never. Default 60000.
pub const SMTP_POOL_MAX_IDLE_MS: c_int = 2;
/// `smtp_pool_set_option()`: probe with NOOP, before reuse, a connection
/// that sat idle this many milliseconds (a dead one is replaced); 0: never.
/// Default 5000.
pub const SMTP_POOL_PROBE_IDLE_MS: c_int = 3;
/// `smtp_pool_set_option()`: messages per second at most, over the whole
/// pool (a call waits for its turn, within its call deadline); 0: no limit,
/// the default.
pub const SMTP_POOL_RATE: c_int = 4;
/// `smtp_pool_set_option()`: connections open at most (at least 1); the
/// value given to `smtp_pool_new()`.
pub const SMTP_POOL_MAX_CONNECTIONS: c_int = 5;

/// `smtp_pool_stat()`: connections opened since the pool was made.
pub const SMTP_POOL_STAT_OPENED: c_int = 0;
/// `smtp_pool_stat()`: connections open now, lent or idle.
pub const SMTP_POOL_STAT_OPEN: c_int = 1;
/// `smtp_pool_stat()`: connections idle now.
pub const SMTP_POOL_STAT_IDLE: c_int = 2;
/// `smtp_pool_stat()`: messages reported sent.
pub const SMTP_POOL_STAT_SENT: c_int = 3;
/// `smtp_pool_stat()`: messages sent again on a new connection because the
/// one they started on died before their data went out.
pub const SMTP_POOL_STAT_RETRIED: c_int = 4;
/// `smtp_pool_stat()`: idle connections probed before reuse.
pub const SMTP_POOL_STAT_PROBED: c_int = 5;
/// `smtp_pool_stat()`: probed connections found dead.
pub const SMTP_POOL_STAT_PROBE_FAILED: c_int = 6;
/// `smtp_pool_stat()`: connections closed after `SMTP_POOL_MAX_MESSAGES`
/// or `SMTP_POOL_MAX_IDLE_MS`.
pub const SMTP_POOL_STAT_RETIRED: c_int = 7;
/// `smtp_pool_stat()`: messages that ended with `SMTP_ERR_OUTCOME_UNKNOWN`.
pub const SMTP_POOL_STAT_UNKNOWN: c_int = 8;

/// Run `f` on a live pool inside the panic boundary (a pool has no
/// message of its own to keep: these calls return only a code).
///
/// # Safety
/// `pool` is NULL or a live pool.
unsafe fn with_pool(pool: *const smtp_pool, f: impl FnOnce(&Pool) -> CallResult) -> c_int {
    // SAFETY: per the contract.
    let Some(p) = (unsafe { pool.as_ref() }) else {
        return smtp_result::SMTP_ERR_NULL_ARGUMENT as c_int;
    };
    boundary::code(&guard(|| f(&p.core)))
}

fn ms(value: u64) -> Option<Duration> {
    (value > 0).then(|| Duration::from_millis(value))
}

/// Make a pool of at most `max_connections` connections to `host` and
/// `port` (0: the kind's default; as `smtp_session_connect()`, `host` may
/// carry `:port`, and for LMTP be a Unix socket path), each opened like
/// `like` would open it: its kind, local hostname, source address, proxy,
/// TLS configuration, TLS requirement, auth mechanisms and loopback trust are
/// copied now; later changes to `like` do not reach the pool. Connections
/// open on demand. On success `*pool` owns the new pool (free it with
/// `smtp_pool_free()`); on failure `*pool` is NULL and the error is in
/// `like`'s `smtp_session_errmsg()`.
///
/// A pool is safe to use from many threads at once. Each call on it runs
/// on the caller's own session (one per thread), which the pool lends a
/// connection for the call: see `smtp_pool_sendmail()`.
///
/// # Safety
/// `like` is NULL or a live session; `host` is NULL or NUL-terminated;
/// `pool` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_pool_new(
    like: *mut smtp_session,
    host: *const c_char,
    port: u16,
    max_connections: c_uint,
    pool: *mut *mut smtp_pool,
) -> c_int {
    unsafe {
        args::put(pool, std::ptr::null_mut());
        call(like, |i| {
            if pool.is_null() {
                return Err(CallError::Null("pool"));
            }
            let host = args::text(host, "host")?;
            let core = Pool::new(i.core.profile(), host, port, Options::new(max_connections as usize))?;
            args::put(pool, Box::into_raw(Box::new(smtp_pool { core })));
            Ok(())
        })
    }
}

/// Free a pool and close its idle connections (without QUIT: freeing never
/// waits on a server). No call may be running on it. NULL is ignored.
///
/// # Safety
/// `pool` is NULL or came from `smtp_pool_new()` and is not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_pool_free(pool: *mut smtp_pool) {
    if !pool.is_null() {
        // SAFETY: per the contract; a panic while closing stays here.
        shielded((), || drop(unsafe { Box::from_raw(pool) }));
    }
}

/// Set one of the pool's `SMTP_POOL_*` options (see each); allowed at any
/// time, from any thread, and applies to the calls that start after it.
/// An unknown option is `SMTP_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `pool` is NULL or a live pool.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_pool_set_option(pool: *mut smtp_pool, option: c_int, value: u64) -> c_int {
    unsafe {
        with_pool(pool, |p| {
            let mut o = p.options();
            match option {
                SMTP_POOL_STARTTLS => o.starttls = value != 0,
                SMTP_POOL_MAX_MESSAGES => o.max_messages = value,
                SMTP_POOL_MAX_IDLE_MS => o.max_idle = ms(value),
                SMTP_POOL_PROBE_IDLE_MS => o.probe_idle = ms(value),
                SMTP_POOL_RATE => o.rate = value,
                SMTP_POOL_MAX_CONNECTIONS if value > 0 => o.max_connections = value.min(u32::MAX as u64) as usize,
                _ => {
                    return Err(Error::InvalidArgument(format!("unknown pool option {option} or value {value}")).into())
                }
            }
            p.set_options(o);
            Ok(())
        })
    }
}

/// A counter of the pool (`SMTP_POOL_STAT_*`); 0 for NULL or an unknown one.
///
/// # Safety
/// `pool` is NULL or a live pool.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_pool_stat(pool: *const smtp_pool, which: c_int) -> u64 {
    // SAFETY: per the contract.
    let Some(p) = (unsafe { pool.as_ref() }) else {
        return 0;
    };
    let Some(st) = shielded(None, || Some(p.core.stats())) else {
        return 0;
    };
    match which {
        SMTP_POOL_STAT_OPENED => st.opened,
        SMTP_POOL_STAT_OPEN => st.open,
        SMTP_POOL_STAT_IDLE => st.idle,
        SMTP_POOL_STAT_SENT => st.sent,
        SMTP_POOL_STAT_RETRIED => st.retried,
        SMTP_POOL_STAT_PROBED => st.probed,
        SMTP_POOL_STAT_PROBE_FAILED => st.probe_failed,
        SMTP_POOL_STAT_RETIRED => st.retired,
        SMTP_POOL_STAT_UNKNOWN => st.unknown,
        _ => 0,
    }
}

/// Authenticate every new connection with `smtp_session_login()`'s rules
/// (`flags` as there). The pool keeps a copy of the credentials, wiped
/// when replaced or when the pool is freed. NULL `user` removes them.
///
/// # Safety
/// `pool` is NULL or a live pool; `user` and `password` are NULL or
/// NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_pool_set_login(
    pool: *mut smtp_pool,
    user: *const c_char,
    password: *const c_char,
    flags: c_uint,
) -> c_int {
    unsafe {
        with_pool(pool, |p| {
            if user.is_null() {
                p.set_auth(None);
                return Ok(());
            }
            let user = args::text(user, "user")?.to_string();
            let password = Secret::new(args::text(password, "password")?.as_bytes());
            let opts = auth_options(flags)?;
            let login: Authenticate = Arc::new(move |s| {
                let password = std::str::from_utf8(password.bytes()).unwrap_or_default();
                s.login(&user, password, opts).map(|_| ())
            });
            p.set_auth(Some(login));
            Ok(())
        })
    }
}

/// The caller's `userdata`, which the caller vouches for on every thread.
struct Userdata(*mut c_void);
// SAFETY: smtp_pool_set_auth's contract: the callback and its userdata may
// be used from any thread calling the pool, several at once.
unsafe impl Send for Userdata {}
unsafe impl Sync for Userdata {}

impl Userdata {
    /// By method, so that closures capture the whole (Send) wrapper.
    fn get(&self) -> *mut c_void {
        self.0
    }
}

/// Authenticate every new connection with `smtp_session_auth()`'s rules:
/// `mechanism` with `callback` and `userdata`, `flags` as there. The
/// callback runs on the thread of the pool call that opens the connection,
/// on several threads at once when several open: it and `userdata` must be
/// thread-safe, and live until the pool is freed or the auth replaced. NULL
/// `callback` removes it.
///
/// # Safety
/// `pool` is NULL or a live pool; `mechanism` is NULL or NUL-terminated;
/// `callback` is NULL or valid for the pool's lifetime with `userdata`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_pool_set_auth(
    pool: *mut smtp_pool,
    mechanism: *const c_char,
    callback: super::auth::smtp_sasl_fn,
    userdata: *mut c_void,
    flags: c_uint,
) -> c_int {
    unsafe { set_auth_with(pool, mechanism, callback.map(Callback::Buffer), userdata, flags) }
}

/// `smtp_pool_set_auth()` with a `smtp_sasl_step_fn` (see
/// `smtp_session_auth_step()`); the same rules.
///
/// # Safety
/// As `smtp_pool_set_auth()`, with `step` in place of `callback`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_pool_set_auth_step(
    pool: *mut smtp_pool,
    mechanism: *const c_char,
    step: super::auth::smtp_sasl_step_fn,
    userdata: *mut c_void,
    flags: c_uint,
) -> c_int {
    unsafe { set_auth_with(pool, mechanism, step.map(Callback::Step), userdata, flags) }
}

/// The body of `smtp_pool_set_auth()` and `smtp_pool_set_auth_step()`.
///
/// # Safety
/// As `smtp_pool_set_auth()`.
unsafe fn set_auth_with(
    pool: *mut smtp_pool,
    mechanism: *const c_char,
    callback: Option<Callback>,
    userdata: *mut c_void,
    flags: c_uint,
) -> c_int {
    unsafe {
        with_pool(pool, |p| {
            let Some(callback) = callback else {
                p.set_auth(None);
                return Ok(());
            };
            let name = args::text(mechanism, "mechanism")?.to_ascii_uppercase();
            let opts = auth_options(flags)?;
            let userdata = Userdata(userdata);
            let auth: Authenticate = Arc::new(move |s| {
                let mut mech = CallbackMechanism { name: &name, callback, userdata: userdata.get() };
                s.auth(&mut mech, opts).map(|_| ())
            });
            p.set_auth(Some(auth));
            Ok(())
        })
    }
}

/// The pool's reference, or the NULL error for the session's errmsg.
///
/// # Safety
/// `pool` is NULL or a live pool.
unsafe fn pool_ref<'a>(pool: *const smtp_pool) -> Option<&'a Pool> {
    // SAFETY: per the contract.
    unsafe { pool.as_ref() }.map(|p| &p.core)
}

/// `smtp_session_sendmail()` through the pool: the pool lends `s` a
/// connection (an idle one, probed if it sat long; else a new one, opened
/// and authenticated; else it waits for one), runs the call on `s`, and
/// takes the connection back. `s` must be an unconnected session of the
/// pool's kind (LMTP or not), used by one thread at a time; a thread keeps
/// one for its pool calls. The call takes `s`'s timeouts (`SMTP_TIMEOUT_CALL`
/// bounds all of it, the wait for a connection included), its trace,
/// envelope (`smtp_session_set_envelope()`), pipelining and chunking
/// switches, and `smtp_session_cancel(s)` ends it; the results are read
/// from `s` exactly as after `smtp_session_sendmail()`.
///
/// A connection that died before the message's data went out in full
/// (dropped, or closed after a 421) is replaced and the message sent again
/// on the new one, at most twice. Once the data went out in full it is
/// never sent again: if no reply decided it the result is
/// `SMTP_ERR_OUTCOME_UNKNOWN` (the cause in `smtp_session_errmsg(s)`). So
/// a message is delivered at most once by the pool, and reported sent only
/// when the server said so.
///
/// # Safety
/// `pool` is NULL or a live pool; the rest as `smtp_session_sendmail()`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_pool_sendmail(
    pool: *mut smtp_pool,
    s: *mut smtp_session,
    from: *const c_char,
    to: *const *const c_char,
    to_count: usize,
    msg: *const u8,
    len: usize,
    mail_options: *const *const c_char,
    n_mail_options: usize,
    rcpt_options: *const *const c_char,
    n_rcpt_options: usize,
    flags: c_uint,
    rcpt_codes: *mut c_int,
    refused_count: *mut usize,
) -> c_int {
    unsafe {
        let Some(p) = pool_ref(pool) else {
            return null_pool(s);
        };
        sendmail_via(
            Some(p),
            s,
            from,
            to,
            to_count,
            msg,
            len,
            (mail_options, n_mail_options),
            (rcpt_options, n_rcpt_options),
            flags,
            rcpt_codes,
            refused_count,
        )
    }
}

/// `smtp_session_send_message()` through the pool, with the rules of
/// `smtp_pool_sendmail()`.
///
/// # Safety
/// `pool` is NULL or a live pool; the rest as `smtp_session_send_message()`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_pool_send_message(
    pool: *mut smtp_pool,
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
        let Some(p) = pool_ref(pool) else {
            return null_pool(s);
        };
        send_message_via(
            Some(p),
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

/// `smtp_session_sendmail_batch()` through the pool, with the rules of
/// `smtp_pool_sendmail()`: the messages go on one lent connection; those a
/// dying connection left unsent go again on a new one, and an item whose
/// data went out without a deciding reply gets `SMTP_ERR_OUTCOME_UNKNOWN`.
///
/// # Safety
/// `pool` is NULL or a live pool; the rest as `smtp_session_sendmail_batch()`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_pool_sendmail_batch(
    pool: *mut smtp_pool,
    s: *mut smtp_session,
    items: *mut smtp_batch_item,
    n: usize,
) -> c_int {
    unsafe {
        let Some(p) = pool_ref(pool) else {
            return null_pool(s);
        };
        sendmail_batch_via(Some(p), s, items, n)
    }
}

/// `smtp_session_send_composed()` through the pool, with the rules of
/// `smtp_pool_sendmail()`. Sent again on a new connection, the message is
/// written again: files are re-read, and a callback attachment without a
/// rewind callback makes that second attempt fail with
/// `SMTP_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `pool` is NULL or a live pool; the rest as `smtp_session_send_composed()`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_pool_send_composed(
    pool: *mut smtp_pool,
    s: *mut smtp_session,
    m: *mut super::compose::smtp_message,
    mail_options: *const *const c_char,
    n_mail_options: usize,
    rcpt_options: *const *const c_char,
    n_rcpt_options: usize,
    refused_count: *mut usize,
) -> c_int {
    unsafe {
        let Some(p) = pool_ref(pool) else {
            return null_pool(s);
        };
        super::compose::send_composed_via(
            Some(p),
            s,
            m,
            (mail_options, n_mail_options),
            (rcpt_options, n_rcpt_options),
            refused_count,
        )
    }
}

/// A NULL pool: reported on the session, as a NULL argument is.
///
/// # Safety
/// `s` is NULL or a live session.
unsafe fn null_pool(s: *mut smtp_session) -> c_int {
    unsafe { call(s, |_| Err(CallError::Null("pool"))) }
}
