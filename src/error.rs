//! The core's error type. Its variants mirror smtplib's exceptions one to
//! one (plus the failures smtplib leaves to `OSError` and `ValueError`); the
//! C layer maps each to a result code and bindings map codes back.

use std::fmt;

use crate::reply::Reply;

/// One refused recipient, as in smtplib's refused dict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub recipient: String,
    pub reply: Reply,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// An argument was refused before anything was sent (smtplib: ValueError).
    InvalidArgument(String),
    /// The call does not fit the session's state (for example a reentrant call).
    BadState(String),
    /// The TCP or Unix-socket connection could not be made (smtplib: OSError).
    Connect(String),
    /// A connect, I/O or deadline timeout fired; the connection is closed.
    Timeout(String),
    /// Another I/O failure; the connection is closed.
    Io(String),
    /// The call was cancelled from another thread; the connection is closed.
    Cancelled(String),
    /// A message's data went out in full, then the connection ended before
    /// the reply that decides it: the server may have taken it (pool calls,
    /// which never send such a message again).
    OutcomeUnknown(String),
    /// TLS failed: the handshake, a certificate, or a record.
    Tls(String),
    /// The call would expose a secret (or, with TLS required, anything) on a
    /// connection that is not protected.
    NotEncrypted(String),
    /// SMTPServerDisconnected: not connected, or the server closed the connection.
    ServerDisconnected(String),
    /// SMTPResponseException: a reply the call could not accept.
    Response(Reply),
    /// SMTPConnectError: the greeting was not 220.
    ConnectReply(Reply),
    /// SMTPHeloError: both EHLO and HELO were refused.
    Helo(Reply),
    /// SMTPNotSupportedError: the server does not offer what was asked.
    NotSupported(String),
    /// SMTPAuthenticationError; `detail` is what the mechanism learned (the
    /// provider's OAuth JSON error, a SCRAM check that failed).
    Auth { reply: Reply, detail: Option<String> },
    /// The authentication exchange was aborted by the client; `reply` is the
    /// server's answer to the `*` that ended it (RFC 4954 4), none when the
    /// exchange ended before the AUTH command went out.
    AuthAborted { why: String, reply: Option<Reply> },
    /// SMTPSenderRefused.
    SenderRefused { reply: Reply, sender: String },
    /// SMTPRecipientsRefused: every recipient was refused (or a 421 came).
    RecipientsRefused(Vec<Refusal>),
    /// SMTPDataError.
    Data(Reply),
    /// SMTPException: any other failure of the protocol.
    Smtp(String),
    /// The message is larger than the server's advertised SIZE; nothing sent.
    TooLarge(String),
}

impl Error {
    /// The server reply the error carries, if any.
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            Error::Response(r)
            | Error::ConnectReply(r)
            | Error::Helo(r)
            | Error::Auth { reply: r, .. }
            | Error::Data(r)
            | Error::SenderRefused { reply: r, .. } => Some(r),
            Error::AuthAborted { reply, .. } => reply.as_ref(),
            Error::RecipientsRefused(list) => list.last().map(|r| &r.reply),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reply =
            |f: &mut fmt::Formatter<'_>, what: &str, r: &Reply| write!(f, "{what}: {} {}", r.code, r.text_lossy());
        match self {
            Error::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            Error::BadState(m) => write!(f, "bad state: {m}"),
            Error::Connect(m) => write!(f, "connect failed: {m}"),
            Error::Timeout(m) => write!(f, "timed out: {m}"),
            Error::Io(m) => write!(f, "I/O error: {m}"),
            Error::Cancelled(m) => write!(f, "cancelled: {m}"),
            Error::OutcomeUnknown(m) => write!(f, "outcome unknown: {m}"),
            Error::Tls(m) => write!(f, "TLS error: {m}"),
            Error::NotEncrypted(m) => write!(f, "refused on an unprotected connection: {m}"),
            Error::ServerDisconnected(m) => write!(f, "server disconnected: {m}"),
            Error::Response(r) => reply(f, "unexpected reply", r),
            Error::ConnectReply(r) => reply(f, "greeting refused", r),
            Error::Helo(r) => reply(f, "EHLO and HELO refused", r),
            Error::NotSupported(m) => write!(f, "not supported: {m}"),
            Error::Auth { reply: r, detail } => {
                reply(f, "authentication failed", r)?;
                match detail {
                    Some(d) => write!(f, " ({d})"),
                    None => Ok(()),
                }
            }
            Error::AuthAborted { why: m, .. } => write!(f, "authentication aborted: {m}"),
            Error::SenderRefused { reply: r, sender } => reply(f, &format!("sender <{sender}> refused"), r),
            Error::RecipientsRefused(list) => {
                write!(f, "all {} recipient(s) refused", list.len())?;
                if let Some(last) = list.last() {
                    write!(f, "; last <{}>: {} {}", last.recipient, last.reply.code, last.reply.text_lossy())?;
                }
                Ok(())
            }
            Error::Data(r) => reply(f, "message refused", r),
            Error::Smtp(m) => f.write_str(m),
            Error::TooLarge(m) => write!(f, "message too large: {m}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
