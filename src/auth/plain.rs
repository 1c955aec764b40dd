//! PLAIN (RFC 4616): `\0user\0password`, as smtplib's `auth_plain` (which
//! answers every challenge with the same). UTF-8 is sent as given.

use super::{join, MechError, Mechanism, Secret};

pub struct Plain {
    response: Secret,
}

impl Plain {
    pub fn new(user: Secret, password: Secret) -> Plain {
        Plain { response: join(&[b"\0", user.bytes(), b"\0", password.bytes()]) }
    }
}

impl Mechanism for Plain {
    fn name(&self) -> &str {
        "PLAIN"
    }

    fn initial(&mut self) -> Result<Option<Secret>, MechError> {
        Ok(Some(self.response.clone()))
    }

    fn respond(&mut self, _challenge: &[u8]) -> Result<Secret, MechError> {
        Ok(self.response.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtplib_bytes() {
        let mut m = Plain::new(Secret::new("alice"), Secret::new("s3cret"));
        assert_eq!(m.initial().unwrap().unwrap().bytes(), b"\0alice\0s3cret");
        assert_eq!(m.respond(b"").unwrap().bytes(), b"\0alice\0s3cret");
    }
}
