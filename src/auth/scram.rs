//! SCRAM-SHA-256 (RFC 7677, RFC 5802) without channel binding: a random
//! client nonce from the OS, PBKDF2 on the password, and the server's
//! signature verified before success is accepted.
//!
//! User names are escaped (`=2C`, `=3D`); SASLprep is not applied, so a
//! password that SASLprep would change must be given already prepared.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::secret::os_random;
use super::{MechError, Mechanism, Secret};

/// The most PBKDF2 iterations a server may ask for: a hostile server could
/// otherwise make the client spin for minutes.
pub(crate) const MAX_ITERATIONS: u32 = 1_000_000;

enum State {
    /// Nothing sent yet.
    Start,
    /// client-first sent; waiting for server-first.
    ClientFirstSent,
    /// client-final sent; waiting for server-final (its signature expected).
    ClientFinalSent { server_signature: [u8; 32] },
    /// The server proved it knows the password.
    Verified,
}

pub struct ScramSha256 {
    password: Secret,
    nonce: String,
    client_first_bare: String,
    state: State,
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn escape_user(user: &[u8]) -> String {
    String::from_utf8_lossy(user).replace('=', "=3D").replace(',', "=2C")
}

fn abort(why: &str) -> MechError {
    MechError::Abort(format!("SCRAM-SHA-256: {why}"))
}

impl ScramSha256 {
    /// With a fresh random nonce.
    pub fn new(user: Secret, password: Secret) -> Result<ScramSha256, String> {
        let mut raw = [0u8; 24];
        os_random(&mut raw)?;
        Ok(ScramSha256::with_nonce(user, password, &B64.encode(raw)))
    }

    /// With a given nonce (the RFC test vectors).
    pub fn with_nonce(user: Secret, password: Secret, nonce: &str) -> ScramSha256 {
        let client_first_bare = format!("n={},r={nonce}", escape_user(user.bytes()));
        ScramSha256 { password, nonce: nonce.to_string(), client_first_bare, state: State::Start }
    }

    fn client_first(&mut self) -> Secret {
        self.state = State::ClientFirstSent;
        Secret::new(format!("n,,{}", self.client_first_bare))
    }

    fn client_final(&mut self, server_first: &[u8]) -> Result<Secret, MechError> {
        let text = std::str::from_utf8(server_first).map_err(|_| abort("server-first-message is not UTF-8"))?;
        let mut nonce = None;
        let mut salt = None;
        let mut iterations = None;
        for attr in text.split(',') {
            match attr.split_once('=') {
                Some(("r", v)) => nonce = Some(v),
                Some(("s", v)) => salt = Some(v),
                Some(("i", v)) => iterations = Some(v),
                Some(("e", v)) => return Err(MechError::Failed(format!("SCRAM-SHA-256: server error {v}"))),
                Some(("m", _)) => return Err(abort("server requires an unsupported extension")),
                _ => {}
            }
        }
        let (Some(nonce), Some(salt), Some(iterations)) = (nonce, salt, iterations) else {
            return Err(abort("server-first-message lacks r, s or i"));
        };
        if !nonce.starts_with(&self.nonce) || nonce.len() == self.nonce.len() {
            return Err(abort("server nonce does not extend the client nonce"));
        }
        let salt = B64.decode(salt).map_err(|_| abort("salt is not valid base64"))?;
        let iterations: u32 = iterations.parse().map_err(|_| abort("iteration count is not a number"))?;
        if iterations == 0 || iterations > MAX_ITERATIONS {
            return Err(abort(&format!("iteration count {iterations} is outside 1..={MAX_ITERATIONS}")));
        }
        let mut salted = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(self.password.bytes(), &salt, iterations, &mut salted);
        let client_key = hmac(&salted, b"Client Key");
        let stored_key: [u8; 32] = Sha256::digest(client_key).into();
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{text},{without_proof}", self.client_first_bare);
        let signature = hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key.iter().zip(signature).map(|(k, s)| k ^ s).collect();
        let server_key = hmac(&salted, b"Server Key");
        let server_signature = hmac(&server_key, auth_message.as_bytes());
        super::secret::wipe(&mut salted);
        self.state = State::ClientFinalSent { server_signature };
        Ok(Secret::new(format!("{without_proof},p={}", B64.encode(proof))))
    }

    fn check_server_final(&mut self, server_final: &[u8], expected: [u8; 32]) -> Result<Secret, MechError> {
        let text = String::from_utf8_lossy(server_final);
        if let Some(e) = text.strip_prefix("e=") {
            return Err(MechError::Failed(format!("SCRAM-SHA-256: server error {e}")));
        }
        let got = text.strip_prefix("v=").and_then(|v| B64.decode(v.split(',').next().unwrap_or("")).ok());
        if got.as_deref() != Some(&expected[..]) {
            return Err(MechError::Failed("SCRAM-SHA-256: the server's signature is wrong".into()));
        }
        self.state = State::Verified;
        Ok(Secret::new(""))
    }
}

impl Mechanism for ScramSha256 {
    fn name(&self) -> &str {
        "SCRAM-SHA-256"
    }

    fn initial(&mut self) -> Result<Option<Secret>, MechError> {
        Ok(Some(self.client_first()))
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Secret, MechError> {
        match self.state {
            State::Start => Ok(self.client_first()),
            State::ClientFirstSent => self.client_final(challenge),
            State::ClientFinalSent { server_signature } => self.check_server_final(challenge, server_signature),
            State::Verified => Err(abort("unexpected challenge after the server's signature")),
        }
    }

    fn on_success(&mut self) -> Result<(), MechError> {
        match self.state {
            State::Verified => Ok(()),
            _ => Err(MechError::Failed(
                "SCRAM-SHA-256: the server accepted without proving it knows the password".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677 section 3.
    #[test]
    fn rfc7677_vector() {
        let mut m = ScramSha256::with_nonce(Secret::new("user"), Secret::new("pencil"), "rOprNGfwEbeRWgbNEkqO");
        assert_eq!(m.initial().unwrap().unwrap().bytes(), b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let server_first = b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let client_final = m.respond(server_first).unwrap();
        assert_eq!(
            client_final.bytes(),
            b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=" as &[u8]
        );
        assert!(m.on_success().is_err(), "not verified yet");
        assert_eq!(m.respond(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=").unwrap().bytes(), b"");
        assert!(m.on_success().is_ok());
    }

    #[test]
    fn wrong_server_signature_fails() {
        let mut m = ScramSha256::with_nonce(Secret::new("user"), Secret::new("pencil"), "rOprNGfwEbeRWgbNEkqO");
        m.initial().unwrap();
        m.respond(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096").unwrap();
        let e = m.respond(b"v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=").unwrap_err();
        assert!(matches!(e, MechError::Failed(_)), "{e:?}");
    }

    #[test]
    fn hostile_server_first() {
        for bad in [
            &b"r=other,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"[..],
            b"r=abc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            b"r=abcdef,s=!!!,i=4096",
            b"r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4294967295",
            b"r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",
            b"r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==",
            b"\xff\xfe",
            b"",
        ] {
            let mut m = ScramSha256::with_nonce(Secret::new("u"), Secret::new("p"), "abc");
            m.initial().unwrap();
            assert!(m.respond(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn random_nonces_differ() {
        let a = ScramSha256::new(Secret::new("u"), Secret::new("p")).unwrap();
        let b = ScramSha256::new(Secret::new("u"), Secret::new("p")).unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_eq!(a.nonce.len(), 32);
    }
}
