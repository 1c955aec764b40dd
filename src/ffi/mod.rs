//! The C ABI: the only module with `extern "C"`, raw pointers and `unsafe`
//! beyond sockets. Each export converts its arguments, runs the core inside
//! the one panic boundary ([`boundary`]), and maps errors to result codes.
//! Conventions and the ABI policy: `docs/c-api.md`.

// cbindgen writes the header in the order of these modules, so they are in
// the order a reader meets the API (one per line, blank lines between:
// rustfmt would sort a block alphabetically).
pub mod result;

pub mod session;

pub mod state;

pub mod commands;

pub mod message;

pub mod auth;

pub mod tls;

pub mod proxy;

pub mod raw;

pub mod pool;

pub mod compose;

pub mod dkim;

// Internals: no exports.
pub mod args;
pub mod boundary;
pub mod handle;

pub use handle::smtp_session;
