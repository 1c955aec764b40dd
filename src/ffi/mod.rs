//! The C ABI: the only module with `extern "C"`, raw pointers and `unsafe`
//! beyond sockets. Each export converts its arguments, runs the core inside
//! the panic boundary of [`handle`], and maps errors to result codes.
//! Conventions: `../shared/docs/c-api.md`.

pub mod args;
pub mod auth;
pub mod boundary;
pub mod commands;
pub mod handle;
pub mod message;
pub mod pool;
pub mod proxy;
pub mod raw;
pub mod result;
pub mod session;
pub mod state;
pub mod tls;

pub use handle::smtp_session;
