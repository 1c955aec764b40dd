//! The one panic boundary. Every export runs its work through [`guard`]
//! (a call that reports a result) or [`shielded`] (a getter, a free, a
//! cancel: a panic gives a fallback value), so that how a panic, a NULL
//! argument and a core error become a result code and a message is decided
//! here and nowhere else. Each handle keeps the message its own way
//! (`handle.rs` for sessions, which a panic also poisons; the envelope and
//! the TLS builder keep theirs; a pool has none).

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::handle::{CallError, CallResult};
use super::result::{code_of, smtp_result};
use crate::error::Error;

/// How a guarded call failed.
#[derive(Debug)]
pub enum Failure {
    Null(&'static str),
    Core(Error),
    /// The library panicked; the text is the panic's message.
    Panic(String),
}

impl Failure {
    pub fn code(&self) -> smtp_result {
        match self {
            Failure::Null(_) => smtp_result::SMTP_ERR_NULL_ARGUMENT,
            Failure::Core(e) => code_of(e),
            Failure::Panic(_) => smtp_result::SMTP_ERR_PANIC,
        }
    }

    /// The text for the handle's errmsg.
    pub fn message(&self) -> String {
        match self {
            Failure::Null(what) => format!("{what} is NULL"),
            Failure::Core(e) => e.to_string(),
            Failure::Panic(what) => format!("internal panic: {what}"),
        }
    }
}

/// Run `f`; a panic never leaves it.
pub fn guard<T>(f: impl FnOnce() -> CallResult<T>) -> Result<T, Failure> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(CallError::Null(what))) => Err(Failure::Null(what)),
        Ok(Err(CallError::Core(e))) => Err(Failure::Core(e)),
        Err(panic) => Err(Failure::Panic(
            panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default(),
        )),
    }
}

/// Run `f` for a getter, a free or a cancel: `fallback` if it panics.
pub fn shielded<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// The result code of a guarded call with no message to keep.
pub fn code<T>(r: &Result<T, Failure>) -> std::ffi::c_int {
    match r {
        Ok(_) => smtp_result::SMTP_OK as std::ffi::c_int,
        Err(f) => f.code() as std::ffi::c_int,
    }
}
