//! The server certificate verifier: webpki's, telling a self-signed
//! certificate from one by an unknown CA (webpki says "unknown issuer" for
//! both), or none at all for `dangerous_disable_verification`.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, OtherError, RootCertStore, SignatureScheme};

use crate::error::{Error, Result};

/// What the verifier adds to webpki's verdict, for `describe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown issuer, and the issuer is the certificate itself.
    SelfSigned,
    /// A CA certificate as end entity that issued itself: what
    /// `openssl req -x509` makes unless told otherwise.
    SelfSignedCa,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::SelfSigned => "self-signed certificate",
            Refusal::SelfSignedCa => "self-signed CA certificate used as end entity",
        })
    }
}

impl std::error::Error for Refusal {}

/// The server certificate verifier: webpki's checks against the trust
/// anchors, unchanged, with a self-signed end entity named as such when
/// they fail; or, for `dangerous_disable_verification`, no check of the
/// certificate at all. Handshake signatures are checked either way.
#[derive(Debug)]
pub struct Verifier {
    /// `None`: verification disabled.
    webpki: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl Verifier {
    pub fn new(roots: RootCertStore, provider: Arc<CryptoProvider>) -> Result<Verifier> {
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| Error::Tls(format!("the certificate verifier: {e}")))?;
        Ok(Verifier { webpki: Some(webpki), provider })
    }

    pub fn dangerous_none(provider: Arc<CryptoProvider>) -> Verifier {
        Verifier { webpki: None, provider }
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let Some(webpki) = &self.webpki else { return Ok(ServerCertVerified::assertion()) };
        let verdict = webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp, now);
        let Err(rustls::Error::InvalidCertificate(e)) = &verdict else { return verdict };
        let ca_as_leaf = matches!(e, CertificateError::Other(o)
            if matches!(o.0.downcast_ref(), Some(webpki::Error::CaUsedAsEndEntity)));
        let refusal = match e {
            CertificateError::UnknownIssuer => Refusal::SelfSigned,
            _ if ca_as_leaf => Refusal::SelfSignedCa,
            _ => return verdict,
        };
        if !self_issued(end_entity) {
            return verdict;
        }
        Err(rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(refusal)))))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }

    fn root_hint_subjects(&self) -> Option<&[DistinguishedName]> {
        self.webpki.as_ref().and_then(|w| w.root_hint_subjects())
    }
}

/// One DER element: (tag, contents, what follows).
fn tlv(d: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, d) = d.split_first()?;
    let (&first, d) = d.split_first()?;
    let (len, d) = if first < 0x80 {
        (usize::from(first), d)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || d.len() < n {
            return None;
        }
        let (len, d) = d.split_at(n);
        (len.iter().fold(0usize, |a, &b| a << 8 | usize::from(b)), d)
    };
    (d.len() >= len).then(|| (tag, &d[..len], &d[len..]))
}

/// A certificate whose issuer is its subject (RFC 5280 6.1: self-issued;
/// in practice self-signed). Reads only the TBSCertificate's leading
/// fields: version, serial, signature, issuer, validity, subject.
fn self_issued(cert: &[u8]) -> bool {
    let names = || {
        let (_, cert, _) = tlv(cert)?;
        let (_, tbs, _) = tlv(cert)?;
        let (tag, _, rest) = tlv(tbs)?;
        let rest = if tag == 0xa0 { tlv(rest)?.2 } else { rest }; // [0] version, then the serial
        let (_, _, rest) = tlv(rest)?; // signature algorithm
        let (_, issuer, rest) = tlv(rest)?;
        let (_, _, rest) = tlv(rest)?; // validity
        let (_, subject, _) = tlv(rest)?;
        Some(issuer == subject)
    };
    names().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths() {
        assert_eq!(tlv(&[0x30, 0x02, 1, 2, 9]), Some((0x30, &[1u8, 2][..], &[9u8][..])));
        assert_eq!(tlv(&[0x30, 0x81, 0x01, 7]), Some((0x30, &[7u8][..], &[][..])));
        assert_eq!(tlv(&[0x30, 0x82, 0x00, 0x02, 7]), None, "shorter than it says");
        assert_eq!(tlv(&[0x30, 0x80]), None, "indefinite length is not DER");
        assert_eq!(tlv(&[0x30]), None);
        assert!(!self_issued(b"not a certificate"));
        assert!(!self_issued(&[]));
    }

    #[test]
    fn self_issued_reads_issuer_and_subject() {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let named = |cn: &str| {
            let mut p = CertificateParams::new(vec![format!("{}.example", cn.to_lowercase())]).unwrap();
            p.distinguished_name.push(DnType::CommonName, cn);
            p
        };
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = named("CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        assert!(self_issued(ca.self_signed(&ca_key).unwrap().der()));
        let key = KeyPair::generate().unwrap();
        assert!(self_issued(named("leaf").self_signed(&key).unwrap().der()));
        let issued = named("leaf").signed_by(&key, &Issuer::new(ca, ca_key)).unwrap();
        assert!(!self_issued(issued.der()));
    }
}
