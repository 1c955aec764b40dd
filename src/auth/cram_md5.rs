//! CRAM-MD5 (RFC 2195): `user SP hex(HMAC-MD5(password, challenge))`, no
//! initial response, as smtplib's `auth_cram_md5`.

use hmac::{Hmac, Mac};
use md5::Md5;

use super::{join, MechError, Mechanism, Secret};

pub struct CramMd5 {
    user: Secret,
    password: Secret,
}

impl CramMd5 {
    pub fn new(user: Secret, password: Secret) -> CramMd5 {
        CramMd5 { user, password }
    }
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Mechanism for CramMd5 {
    fn name(&self) -> &str {
        "CRAM-MD5"
    }

    fn initial(&mut self) -> Result<Option<Secret>, MechError> {
        Ok(None)
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Secret, MechError> {
        let mut mac = Hmac::<Md5>::new_from_slice(self.password.bytes()).expect("HMAC takes any key length");
        mac.update(challenge);
        let digest = hex(&mac.finalize().into_bytes());
        Ok(join(&[self.user.bytes(), b" ", digest.as_bytes()]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 2195 section 2's example.
    #[test]
    fn rfc2195_vector() {
        let mut m = CramMd5::new(Secret::new("tim"), Secret::new("tanstaaftanstaaf"));
        assert_eq!(m.initial().unwrap(), None);
        let r = m.respond(b"<1896.697170952@postoffice.reston.mci.net>").unwrap();
        assert_eq!(r.bytes(), b"tim b913a602c7eda7a495b4e6e7334d3890");
    }
}
