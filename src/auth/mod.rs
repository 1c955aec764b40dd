//! SASL mechanisms (RFC 4954 for SMTP AUTH): one trait for all, built-in
//! mechanisms one file each, and the C callback bridge in `ffi`.
//!
//! The exchange itself (AUTH, 334 challenges, cancel with `*`) is driven by
//! the session (`session/auth.rs`); a mechanism only turns challenges into
//! responses, so each is testable with bytes alone.

pub mod cram_md5;
pub mod login;
pub mod oauth;
pub mod plain;
pub mod scram;
pub mod secret;

pub use secret::Secret;

/// Why a mechanism stopped the exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MechError {
    /// The client gives up (a callback abort, a malformed challenge):
    /// SMTP_ERR_AUTH_ABORTED.
    Abort(String),
    /// The server failed a check of the client's (SCRAM's server
    /// signature): SMTP_ERR_AUTH.
    Failed(String),
}

/// One SASL mechanism's client side.
pub trait Mechanism {
    /// The SASL name (upper-case).
    fn name(&self) -> &str;
    /// The initial response (RFC 4954 4), or `None` when the mechanism has
    /// none. Asked only when initial responses are allowed.
    fn initial(&mut self) -> Result<Option<Secret>, MechError>;
    /// The response to one challenge, already base64-decoded.
    fn respond(&mut self, challenge: &[u8]) -> Result<Secret, MechError>;
    /// Called when the server answers 235 (or 503): a last check.
    fn on_success(&mut self) -> Result<(), MechError> {
        Ok(())
    }
    /// What the server said about a failure inside the exchange (the OAuth
    /// JSON error), for the caller.
    fn failure_detail(&self) -> Option<String> {
        None
    }
}

/// smtplib's `login` order.
pub(crate) const DEFAULT_PREFERENCE: &[&str] = &["CRAM-MD5", "PLAIN", "LOGIN"];

/// Every mechanism built in, usable by name.
pub(crate) const BUILTIN: &[&str] = &["CRAM-MD5", "PLAIN", "LOGIN", "SCRAM-SHA-256", "XOAUTH2", "OAUTHBEARER"];

/// smtplib's `_MAXCHALLENGE`: more challenges than this end the exchange.
pub(crate) const MAX_CHALLENGES: usize = 5;

/// Mechanisms that put the password or token on the wire as it is: sent only
/// over TLS, a Unix socket or loopback unless the caller allows cleartext.
pub fn sends_secret_in_clear(name: &str) -> bool {
    ["PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"].iter().any(|m| m.eq_ignore_ascii_case(name))
}

/// A built-in mechanism for `user` and `secret` (the password, or the
/// access token for XOAUTH2 and OAUTHBEARER); `None` for an unknown name.
pub fn builtin(name: &str, user: &str, secret: &str) -> Option<Box<dyn Mechanism>> {
    let user = Secret::new(user.as_bytes());
    let secret = Secret::new(secret.as_bytes());
    Some(match name.to_ascii_uppercase().as_str() {
        "PLAIN" => Box::new(plain::Plain::new(user, secret)),
        "LOGIN" => Box::new(login::Login::new(user, secret)),
        "CRAM-MD5" => Box::new(cram_md5::CramMd5::new(user, secret)),
        "XOAUTH2" => Box::new(oauth::OAuth::xoauth2(user, secret)),
        "OAUTHBEARER" => Box::new(oauth::OAuth::oauthbearer(user, secret)),
        "SCRAM-SHA-256" => Box::new(scram::ScramSha256::new(user, secret).ok()?),
        _ => return None,
    })
}

/// A mechanism name as RFC 4422 3.1 allows: 1 to 20 of A-Z, 0-9, `-`, `_`.
pub fn valid_name(name: &str) -> bool {
    (1..=20).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A 334 payload: base64, strictly (white space inside is tolerated as
/// smtplib's decoder tolerates line breaks). Empty is an empty challenge.
pub fn decode_challenge(text: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    let compact: Vec<u8> = text.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact).ok()
}

/// Concatenate pieces into a secret response.
pub(crate) fn join(parts: &[&[u8]]) -> Secret {
    Secret::new(parts.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("SCRAM-SHA-256") && valid_name("x_token") && !valid_name("") && !valid_name("A B"));
        assert!(!valid_name("AAAAAAAAAAAAAAAAAAAAA"));
        for name in BUILTIN {
            assert_eq!(builtin(name, "u", "p").unwrap().name(), *name);
        }
        assert!(builtin("GSSAPI", "u", "p").is_none());
        assert!(sends_secret_in_clear("plain") && !sends_secret_in_clear("CRAM-MD5"));
    }

    #[test]
    fn challenges() {
        assert_eq!(decode_challenge(b"UGFzc3dvcmQ6").unwrap(), b"Password:");
        assert_eq!(decode_challenge(b"").unwrap(), b"");
        assert!(decode_challenge(b"not base64!").is_none());
        assert!(decode_challenge(b"abc").is_none());
    }
}
