//! Test certificates made at test time with rcgen: CAs and leaves
//! (optionally expired), written as PEM files for servers and configs.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate with its key, in memory and as PEM files.
pub struct Leaf {
    pub chain: Vec<CertificateDer<'static>>,
    pub key_der: Vec<u8>,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
}

impl Leaf {
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }
}

/// A self-signed CA: its parameters and key (to issue with), its
/// certificate, and that certificate as PEM.
pub fn ca(name: &str) -> (CertificateParams, KeyPair, CertificateDer<'static>, String) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let cert = params.self_signed(&key).unwrap();
    (params, key, cert.der().clone(), cert.pem())
}

/// A leaf for `names` (DNS names or IP addresses) issued by `issuer`.
pub fn leaf(dir: &Path, file: &str, names: &[&str], issuer: &Issuer<'_, KeyPair>, expired: bool) -> Leaf {
    cert(dir, file, names, Some(issuer), Shape { expired, ca: false })
}

/// What is odd about a test certificate.
#[derive(Clone, Copy, Default)]
pub struct Shape {
    /// Valid only in 2020.
    pub expired: bool,
    /// basicConstraints CA:TRUE, as `openssl req -x509` makes by default.
    pub ca: bool,
}

/// A certificate for `names` (DNS names or IP addresses) issued by
/// `issuer`, or by itself when `None`.
pub fn cert(dir: &Path, file: &str, names: &[&str], issuer: Option<&Issuer<'_, KeyPair>>, shape: Shape) -> Leaf {
    let key = KeyPair::generate().unwrap();
    let dns: Vec<String> =
        names.iter().filter(|n| n.parse::<std::net::IpAddr>().is_err()).map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(dns).unwrap();
    for n in names {
        if let Ok(ip) = n.parse() {
            params.subject_alt_names.push(SanType::IpAddress(ip));
        }
    }
    params.distinguished_name.push(DnType::CommonName, names[0]);
    if shape.expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    if shape.ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    }
    let cert = match issuer {
        Some(issuer) => params.signed_by(&key, issuer).unwrap(),
        None => params.self_signed(&key).unwrap(),
    };
    let cert_path = dir.join(format!("{file}.pem"));
    let key_path = dir.join(format!("{file}.key"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    Leaf { chain: vec![cert.der().clone()], key_der: key.serialize_der(), cert_path, key_path }
}
