//! XOAUTH2 (Google's and Microsoft's) and OAUTHBEARER (RFC 7628): one
//! initial message carrying the access token. When the token is refused the
//! server sends a 334 whose payload is a JSON error; the client answers with
//! the response the provider expects (empty for XOAUTH2, `\x01` for
//! OAUTHBEARER, RFC 7628 3.2.3), the server then fails the exchange, and the
//! JSON is handed to the caller.

use super::{join, MechError, Mechanism, Secret};

pub struct OAuth {
    name: &'static str,
    message: Secret,
    /// What to answer an error challenge with.
    error_response: &'static [u8],
    sent: bool,
    detail: Option<String>,
}

/// RFC 5801 `saslname`: `,` and `=` escaped.
fn saslname(user: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(user.len());
    for &b in user {
        match b {
            b',' => out.extend_from_slice(b"=2C"),
            b'=' => out.extend_from_slice(b"=3D"),
            _ => out.push(b),
        }
    }
    out
}

impl OAuth {
    /// `user=U^Aauth=Bearer T^A^A`.
    pub fn xoauth2(user: Secret, token: Secret) -> OAuth {
        let message = join(&[b"user=", user.bytes(), b"\x01auth=Bearer ", token.bytes(), b"\x01\x01"]);
        OAuth { name: "XOAUTH2", message, error_response: b"", sent: false, detail: None }
    }

    /// `n,a=U,^Aauth=Bearer T^A^A` (RFC 7628 3.1).
    pub fn oauthbearer(user: Secret, token: Secret) -> OAuth {
        let user = Secret::new(saslname(user.bytes()));
        let message = join(&[b"n,a=", user.bytes(), b",\x01auth=Bearer ", token.bytes(), b"\x01\x01"]);
        OAuth { name: "OAUTHBEARER", message, error_response: b"\x01", sent: false, detail: None }
    }
}

impl Mechanism for OAuth {
    fn name(&self) -> &str {
        self.name
    }

    fn initial(&mut self) -> Result<Option<Secret>, MechError> {
        self.sent = true;
        Ok(Some(self.message.clone()))
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Secret, MechError> {
        if !self.sent {
            // No initial response allowed: the first (empty) challenge asks for it.
            self.sent = true;
            return Ok(self.message.clone());
        }
        self.detail = Some(String::from_utf8_lossy(challenge).into_owned());
        Ok(Secret::new(self.error_response))
    }

    fn failure_detail(&self) -> Option<String> {
        self.detail.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoauth2_messages() {
        let mut m = OAuth::xoauth2(Secret::new("u@example.com"), Secret::new("ya29.tok"));
        assert_eq!(m.initial().unwrap().unwrap().bytes(), b"user=u@example.com\x01auth=Bearer ya29.tok\x01\x01");
        let err = br#"{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}"#;
        assert_eq!(m.respond(err).unwrap().bytes(), b"");
        assert_eq!(m.failure_detail().unwrap().as_bytes(), err);
    }

    #[test]
    fn oauthbearer_messages() {
        let mut m = OAuth::oauthbearer(Secret::new("a,b=c"), Secret::new("tok"));
        assert_eq!(m.respond(b"").unwrap().bytes(), b"n,a=a=2Cb=3Dc,\x01auth=Bearer tok\x01\x01");
        assert_eq!(m.respond(br#"{"status":"invalid_token"}"#).unwrap().bytes(), b"\x01");
        assert_eq!(m.failure_detail().as_deref(), Some(r#"{"status":"invalid_token"}"#));
    }
}
