//! Turning C arguments into Rust values: NULL is reported by name, invalid
//! UTF-8 is an invalid argument. Nothing here sends anything.

use std::ffi::{c_char, CStr};

use super::handle::{CallError, CallResult};
use crate::error::Error;

/// A required NUL-terminated UTF-8 string.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the call.
pub unsafe fn text<'a>(p: *const c_char, what: &'static str) -> CallResult<&'a str> {
    if p.is_null() {
        return Err(CallError::Null(what));
    }
    // SAFETY: per the contract.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    std::str::from_utf8(bytes).map_err(|_| Error::InvalidArgument(format!("{what} is not valid UTF-8")).into())
}

/// An optional string: NULL is `None`.
///
/// # Safety
/// As [`text`].
pub unsafe fn opt_text<'a>(p: *const c_char, what: &'static str) -> CallResult<Option<&'a str>> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: per the contract.
        unsafe { text(p, what) }.map(Some)
    }
}

/// An array of `n` strings; NULL is allowed when `n` is 0.
///
/// # Safety
/// `p` is NULL or points to `n` pointers, each NULL or a valid string.
pub unsafe fn text_array<'a>(p: *const *const c_char, n: usize, what: &'static str) -> CallResult<Vec<&'a str>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if p.is_null() {
        return Err(CallError::Null(what));
    }
    // SAFETY: per the contract, p holds n pointers.
    let ptrs = unsafe { std::slice::from_raw_parts(p, n) };
    ptrs.iter().map(|&s| unsafe { text(s, what) }).collect()
}

/// A byte buffer; NULL is allowed when `len` is 0.
///
/// # Safety
/// `p` is NULL or valid for reading `len` bytes.
pub unsafe fn bytes<'a>(p: *const u8, len: usize, what: &'static str) -> CallResult<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(CallError::Null(what));
    }
    // SAFETY: per the contract.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// Store into an optional output pointer.
///
/// # Safety
/// `p` is NULL or valid for writing a `T`.
pub unsafe fn put<T>(p: *mut T, value: T) {
    if !p.is_null() {
        // SAFETY: per the contract.
        unsafe { p.write(value) };
    }
}
