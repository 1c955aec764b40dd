//! LOGIN (draft-murchison-sasl-login), as smtplib's `auth_login`: the user
//! name while fewer than two steps have been taken (the initial response
//! counts as one), the password after.

use super::{MechError, Mechanism, Secret};

pub struct Login {
    user: Secret,
    password: Secret,
    /// smtplib's `_auth_challenge_count`.
    steps: usize,
}

impl Login {
    pub fn new(user: Secret, password: Secret) -> Login {
        Login { user, password, steps: 0 }
    }
}

impl Mechanism for Login {
    fn name(&self) -> &str {
        "LOGIN"
    }

    fn initial(&mut self) -> Result<Option<Secret>, MechError> {
        self.steps = 1;
        Ok(Some(self.user.clone()))
    }

    fn respond(&mut self, _challenge: &[u8]) -> Result<Secret, MechError> {
        self.steps += 1;
        Ok(if self.steps < 2 { self.user.clone() } else { self.password.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_initial_response() {
        let mut m = Login::new(Secret::new("bob"), Secret::new("pa ss"));
        assert_eq!(m.initial().unwrap().unwrap().bytes(), b"bob");
        assert_eq!(m.respond(b"Password:").unwrap().bytes(), b"pa ss");
    }

    #[test]
    fn without_initial_response() {
        let mut m = Login::new(Secret::new("bob"), Secret::new("pa ss"));
        assert_eq!(m.respond(b"Username:").unwrap().bytes(), b"bob");
        assert_eq!(m.respond(b"Password:").unwrap().bytes(), b"pa ss");
    }
}
