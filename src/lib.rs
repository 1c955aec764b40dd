//! libsmtp: an SMTP and LMTP client with Python smtplib's semantics, a
//! pure-Rust protocol core and a C ABI (`include/smtp.h`).
//!
//! The core modules know nothing of C; `ffi` is the only place with
//! `extern "C"`, C pointers and panics caught at the boundary. Calls to the
//! operating system below std and socket2 live in `sys` alone (and
//! `adopt` turns the caller's raw fd into an owned socket).

pub mod address;
pub mod adopt;
pub mod auth;
pub mod cancel;
pub mod command;
pub mod compose;
pub mod conn;
pub mod connect;
pub mod data;
pub mod deadline;
pub mod dkim;
pub mod engine;
pub mod error;
pub mod eyeballs;
pub mod features;
pub mod idna_host;
pub mod message;
pub mod pool;
pub mod proxy;
pub mod reply;
pub mod session;
pub mod sys;
pub mod tls;
pub mod trace;
pub mod transport;

pub mod ffi;

pub use error::{Error, Result};
pub use session::{Kind, Session};
