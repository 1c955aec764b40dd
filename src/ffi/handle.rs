//! The opaque handle and the boundary every export goes through: NULL
//! checks, a guard against calls from inside the session's own callbacks,
//! panics caught (and the session poisoned), errors turned into codes and
//! kept for `smtp_session_errmsg()` (the sqlite model).

use std::cell::{Cell, UnsafeCell};
use std::ffi::{c_char, c_int, CString};
use std::sync::Arc;

use super::boundary::{guard, shielded, Failure};
use super::result::smtp_result;
use crate::cancel::Canceller;
use crate::error::Error;
use crate::session::Session;

/// An SMTP or LMTP session: one connection at a time, smtplib's state, the
/// settings, and the results of the last call. Opaque; made by
/// `smtp_session_new()`, freed by `smtp_session_free()`.
#[allow(non_camel_case_types)]
pub struct smtp_session {
    /// Set while an export runs: a call from inside a callback of the same
    /// session must not alias the `&mut` the running call holds.
    busy: Cell<bool>,
    /// The one part another thread may touch while a call runs
    /// (`smtp_session_cancel`): atomics and a pipe, never `inner`.
    cancel: Arc<Canceller>,
    inner: UnsafeCell<Inner>,
}

/// The session and the C strings its getters lend out.
pub struct Inner {
    pub core: Session,
    poisoned: bool,
    pub mirror: Mirror,
}

/// NUL-terminated copies of the state, rebuilt after every call, so that
/// `const` getters can lend pointers that live until the next call.
#[derive(Default)]
pub struct Mirror {
    pub errmsg: CString,
    pub reply_text: CString,
    pub ehlo_resp: Option<CString>,
    pub helo_resp: Option<CString>,
    /// (name, parameters) in the server's order.
    pub features: Vec<(CString, CString)>,
    pub rcpts: Vec<RcptMirror>,
    /// `Session::sender`.
    pub sender: Option<CString>,
    /// (version, cipher suite) while the connection is TLS.
    pub tls: Option<(CString, CString)>,
}

/// One recipient's strings.
pub struct RcptMirror {
    pub addr: CString,
    pub text: CString,
    pub data_text: CString,
    pub status: Option<CString>,
    pub data_status: Option<CString>,
}

/// A failure of one call: a core error, or a NULL where a pointer was needed.
#[derive(Debug)]
pub enum CallError {
    Null(&'static str),
    Core(Error),
}

impl From<Error> for CallError {
    fn from(e: Error) -> CallError {
        CallError::Core(e)
    }
}

pub type CallResult<T = ()> = Result<T, CallError>;

/// Text for C: the bytes as received, a NUL shown as `?` (it cannot be
/// carried by a C string).
pub fn c_text(bytes: &[u8]) -> CString {
    let clean: Vec<u8> = bytes.iter().map(|&b| if b == 0 { b'?' } else { b }).collect();
    CString::new(clean).expect("NUL bytes replaced")
}

impl Inner {
    fn sync(&mut self) {
        let core = &self.core;
        let m = &mut self.mirror;
        m.reply_text = c_text(core.last_reply().map_or(&[][..], |r| &r.text));
        m.ehlo_resp = core.ehlo_resp().map(c_text);
        m.helo_resp = core.helo_resp().map(c_text);
        m.features = core.features().iter().map(|(k, v)| (c_text(k.as_bytes()), c_text(v.as_bytes()))).collect();
        m.sender = core.sender().map(|t| c_text(t.as_bytes()));
        m.tls = core.tls_info().map(|(v, c)| (c_text(v.as_bytes()), c_text(c.as_bytes())));
        m.rcpts = core
            .rcpt_results()
            .iter()
            .map(|r| RcptMirror {
                addr: c_text(r.addr.as_bytes()),
                text: c_text(&r.reply.text),
                data_text: c_text(r.data_reply.as_ref().map_or(&[][..], |d| &d.text)),
                status: r.status.as_deref().map(|t| c_text(t.as_bytes())),
                data_status: r.data_status.as_deref().map(|t| c_text(t.as_bytes())),
            })
            .collect();
    }
}

impl smtp_session {
    pub fn new(core: Session) -> smtp_session {
        let cancel = core.canceller();
        let mut inner = Inner { core, poisoned: false, mirror: Mirror::default() };
        inner.mirror.errmsg = c_text(b"no error");
        inner.sync();
        smtp_session { busy: Cell::new(false), cancel, inner: UnsafeCell::new(inner) }
    }

    /// Cancel the call running on `s`, from any thread.
    ///
    /// # Safety
    /// `s` is NULL or a live session that no thread frees meanwhile.
    pub unsafe fn cancel(s: *const smtp_session) -> bool {
        if s.is_null() {
            return false;
        }
        // Only the `cancel` field is read (through a raw pointer: no
        // reference to the session, whose other parts the calling thread
        // is using); it is immutable after construction and Sync.
        let cancel: &Arc<Canceller> = unsafe { &*std::ptr::addr_of!((*s).cancel) };
        cancel.cancel();
        true
    }

    /// Free a session made by [`smtp_session::new`] and boxed.
    ///
    /// # Safety
    /// `s` came from `Box::into_raw` and is not used again.
    pub unsafe fn free(s: *mut smtp_session) {
        if s.is_null() {
            return;
        }
        // SAFETY: per the contract; a free from inside a callback is refused
        // (the running call still holds the session).
        if unsafe { (*s).busy.get() } {
            return;
        }
        drop(unsafe { Box::from_raw(s) });
    }
}

/// Run a mutating call on a session. `f` gets the session and fills the
/// caller's outputs; its error becomes the result code and the errmsg.
///
/// # Safety
/// `s` is NULL or a live session from `smtp_session_new()`.
pub unsafe fn call(s: *mut smtp_session, f: impl FnOnce(&mut Inner) -> CallResult) -> c_int {
    // SAFETY: the caller passes NULL or a live session; only shared access here.
    let Some(handle) = (unsafe { s.as_ref() }) else {
        return smtp_result::SMTP_ERR_NULL_ARGUMENT as c_int;
    };
    if handle.busy.get() {
        return smtp_result::SMTP_ERR_BAD_STATE as c_int;
    }
    handle.busy.set(true);
    // SAFETY: `busy` guarantees no other reference into `inner` exists.
    let inner = unsafe { &mut *handle.inner.get() };
    let code = if inner.poisoned {
        inner.mirror.errmsg = c_text(b"the session is poisoned by an earlier panic; free it");
        smtp_result::SMTP_ERR_BAD_STATE
    } else {
        let result = guard(|| {
            inner.core.begin_call();
            f(inner)
        });
        inner.core.end_call();
        match result {
            Ok(()) => {
                inner.mirror.errmsg = c_text(b"no error");
                smtp_result::SMTP_OK
            }
            Err(failure) => {
                match &failure {
                    Failure::Core(e) => inner.core.note_error(e),
                    Failure::Panic(_) => inner.poisoned = true,
                    Failure::Null(_) => {}
                }
                inner.mirror.errmsg = c_text(failure.message().as_bytes());
                failure.code()
            }
        }
    };
    // A panic while copying would leave the session half-updated: poison instead.
    if !inner.poisoned
        && !shielded(false, || {
            inner.sync();
            true
        })
    {
        inner.poisoned = true;
    }
    handle.busy.set(false);
    code as c_int
}

/// Read from a session for a `const` getter; `default` when `s` is NULL or
/// a call on it is running (a getter from inside a callback).
///
/// # Safety
/// `s` is NULL or a live session from `smtp_session_new()`.
pub unsafe fn get<T: Clone>(s: *const smtp_session, default: T, f: impl FnOnce(&Inner) -> T) -> T {
    unsafe { get_or(s, default.clone(), default, f) }
}

/// As [`get`], with a separate value for a getter called from inside one of
/// the session's own callbacks (the session exists but cannot be read).
///
/// # Safety
/// As [`get`].
pub unsafe fn get_or<T>(s: *const smtp_session, null: T, busy: T, f: impl FnOnce(&Inner) -> T) -> T {
    // SAFETY: the caller passes NULL or a live session.
    let Some(handle) = (unsafe { s.as_ref() }) else {
        return null;
    };
    if handle.busy.get() {
        return busy;
    }
    let default = busy;
    // SAFETY: not busy, so nothing holds `&mut inner`; getters only read.
    let inner = unsafe { &*handle.inner.get() };
    shielded(default, || f(inner))
}

/// A borrowed C string from the mirror, NULL for `None`.
pub fn ptr(s: Option<&CString>) -> *const c_char {
    s.map_or(std::ptr::null(), |c| c.as_ptr())
}
