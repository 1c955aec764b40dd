//! Bytes that hold a secret (a password, a token, a response that carries
//! one): wiped when dropped, never printed. And the OS random source.

use std::fmt;

use zeroize::Zeroize;

/// A byte buffer zeroed on drop.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Secret {
        Secret(bytes.into())
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

/// Overwrite with zeros in a way the optimiser keeps (zeroize's volatile
/// writes and fence).
pub fn wipe(buf: &mut [u8]) {
    buf.zeroize();
}

/// Fill `buf` from the operating system's random source (getrandom(2),
/// getentropy(3) or the platform's equivalent, as the getrandom crate picks).
pub fn os_random(buf: &mut [u8]) -> Result<(), String> {
    getrandom::getrandom(buf).map_err(|e| format!("the OS random source failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secret() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(<redacted>)");
    }

    #[test]
    fn random_differs() {
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        os_random(&mut a).unwrap();
        os_random(&mut b).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn wipe_zeroes() {
        let mut v = b"secret".to_vec();
        wipe(&mut v);
        assert_eq!(v, [0; 6]);
    }
}
