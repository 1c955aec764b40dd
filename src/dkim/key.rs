//! DKIM private keys from PEM: RSA (PKCS#1 or PKCS#8, 2048 to 8192 bits,
//! as ring signs them; RFC 8301 asks for at least 1024 and recommends 2048)
//! for rsa-sha256, Ed25519 (PKCS#8) for ed25519-sha256 (RFC 8463). The key
//! never appears in debug output.

use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::PrivateKeyDer;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

pub enum Key {
    Rsa(RsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Rsa(k) => write!(f, "Key(rsa, {} bits)", k.public().modulus_len() * 8),
            Key::Ed25519(_) => f.write_str("Key(ed25519)"),
        }
    }
}

fn bad(why: impl std::fmt::Display) -> Error {
    Error::InvalidArgument(format!("DKIM key: {why}"))
}

impl Key {
    /// The first private key of a PEM text.
    pub fn from_pem(pem: &[u8]) -> Result<Key> {
        let der =
            PrivateKeyDer::from_pem_slice(pem).map_err(|e| bad(format!("no private key in the PEM text ({e:?})")))?;
        match der {
            PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()).map(Key::Rsa).map_err(bad),
            PrivateKeyDer::Pkcs8(k) => {
                let der = k.secret_pkcs8_der();
                match RsaKeyPair::from_pkcs8(der) {
                    Ok(k) => Ok(Key::Rsa(k)),
                    Err(rsa) => Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                        .map(Key::Ed25519)
                        .map_err(|ed| bad(format!("neither an RSA key ({rsa}) nor an Ed25519 key ({ed})"))),
                }
            }
            PrivateKeyDer::Sec1(_) => Err(bad("an EC key; DKIM signs with RSA or Ed25519")),
            _ => Err(bad("an unknown kind of key")),
        }
    }

    /// The a= tag.
    pub fn algorithm(&self) -> &'static str {
        match self {
            Key::Rsa(_) => "rsa-sha256",
            Key::Ed25519(_) => "ed25519-sha256",
        }
    }

    /// The public key as DNS publishes it (p=, base64): the
    /// SubjectPublicKeyInfo for RSA (RFC 6376 3.6.1), the raw 32 bytes for
    /// Ed25519 (RFC 8463 4).
    pub fn public_der(&self) -> Vec<u8> {
        match self {
            Key::Rsa(k) => {
                // SEQUENCE { SEQUENCE { rsaEncryption, NULL }, BIT STRING { RSAPublicKey } }
                let pkcs1 = k.public().as_ref();
                let alg: &[u8] =
                    &[0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
                let mut bits = vec![0u8];
                bits.extend_from_slice(pkcs1);
                let bits = der(0x03, &bits);
                der(0x30, &[alg, &bits].concat())
            }
            Key::Ed25519(k) => k.public_key().as_ref().to_vec(),
        }
    }

    /// The b= signature of the canonical header data (RFC 6376 3.7):
    /// RSASSA-PKCS1-v1_5 with SHA-256; for Ed25519, PureEdDSA over the
    /// SHA-256 of the data (RFC 8463 3).
    pub fn sign(&self, data: &[u8]) -> Result<Vec<u8>> {
        match self {
            Key::Rsa(k) => {
                let mut sig = vec![0u8; k.public().modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), data, &mut sig)
                    .map_err(|_| Error::Smtp("DKIM: the RSA signature failed".into()))?;
                Ok(sig)
            }
            Key::Ed25519(k) => Ok(k.sign(&Sha256::digest(data)).as_ref().to_vec()),
        }
    }
}

/// A DER tag-length-value.
fn der(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = body.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n.to_be_bytes().into_iter().skip_while(|&b| b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(body);
    out
}
