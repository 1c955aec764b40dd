//! TLS with rustls: the settings a caller builds (trust anchors, client
//! certificate, server-name override, the one flag that turns verification
//! off), the immutable config sessions share, the handshake, and error
//! messages that say which check failed.
//!
//! Verified by default, unlike smtplib (cpython#91826); TLS 1.2 is the
//! minimum (rustls speaks nothing older).

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    AlertDescription, CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore,
    SignatureScheme,
};

use crate::error::{Error, Result};

/// What a caller sets before building a [`TlsConfig`].
#[derive(Debug)]
pub struct TlsSettings {
    default_roots: bool,
    extra_roots: Vec<CertificateDer<'static>>,
    client_cert: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    server_name: Option<ServerName<'static>>,
    no_verify: bool,
}

impl Default for TlsSettings {
    fn default() -> TlsSettings {
        TlsSettings {
            default_roots: true,
            extra_roots: Vec::new(),
            client_cert: None,
            server_name: None,
            no_verify: false,
        }
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certs_from_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let iter = CertificateDer::pem_file_iter(path).map_err(|e| Error::Tls(format!("{}: {e}", path.display())))?;
    iter.collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Tls(format!("{}: not a PEM certificate file: {e}", path.display())))
}

impl TlsSettings {
    /// Add the PEM certificates of `path` as trust anchors; returns how many.
    pub fn add_ca_file(&mut self, path: &Path) -> Result<usize> {
        let certs = certs_from_pem(path)?;
        if certs.is_empty() {
            return Err(Error::Tls(format!("{}: holds no PEM certificate", path.display())));
        }
        let n = certs.len();
        self.extra_roots.extend(certs);
        Ok(n)
    }

    /// Add every PEM certificate found in the files of directory `path`
    /// (files without one are skipped); at least one must be found.
    pub fn add_ca_dir(&mut self, path: &Path) -> Result<usize> {
        let entries = std::fs::read_dir(path).map_err(|e| Error::Tls(format!("{}: {e}", path.display())))?;
        let mut n = 0;
        let mut names: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
        names.sort();
        for file in names {
            if let Ok(certs) = certs_from_pem(&file) {
                n += certs.len();
                self.extra_roots.extend(certs);
            }
        }
        if n == 0 {
            return Err(Error::Tls(format!("{}: no PEM certificate in its files", path.display())));
        }
        Ok(n)
    }

    /// Trust the Mozilla roots of webpki-roots (the default) or not.
    pub fn set_default_roots(&mut self, on: bool) {
        self.default_roots = on;
    }

    /// smtplib's certfile and keyfile: a PEM chain (leaf first) and its key.
    pub fn set_client_cert(&mut self, chain: &Path, key: &Path) -> Result<()> {
        let certs = certs_from_pem(chain)?;
        if certs.is_empty() {
            return Err(Error::Tls(format!("{}: holds no PEM certificate", chain.display())));
        }
        let key = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| Error::Tls(format!("{}: no usable private key: {e}", key.display())))?;
        self.client_cert = Some((certs, key));
        Ok(())
    }

    /// Verify (and send as SNI) this name instead of the host connected to.
    pub fn set_server_name(&mut self, name: &str) -> Result<()> {
        let name = ServerName::try_from(name.to_string())
            .map_err(|_| Error::InvalidArgument(format!("{name:?} is not a DNS name or IP address")))?;
        self.server_name = Some(name);
        Ok(())
    }

    /// Accept any certificate. For test setups only: traced loudly.
    pub fn dangerous_disable_verification(&mut self) {
        self.no_verify = true;
    }

    pub fn build(&self) -> Result<TlsConfig> {
        let provider = provider();
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| Error::Tls(e.to_string()))?;
        let builder = if self.no_verify {
            builder.dangerous().with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
        } else {
            let mut roots = RootCertStore::empty();
            if self.default_roots {
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
            for cert in &self.extra_roots {
                roots.add(cert.clone()).map_err(|e| Error::Tls(format!("a CA certificate was refused: {e}")))?;
            }
            if roots.is_empty() {
                return Err(Error::Tls("no trust anchors: the default roots are off and no CA was added".into()));
            }
            builder.with_root_certificates(roots)
        };
        let config = match &self.client_cert {
            Some((chain, key)) => builder
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .map_err(|e| Error::Tls(format!("the client certificate and key do not fit: {e}")))?,
            None => builder.with_no_client_auth(),
        };
        Ok(TlsConfig { inner: Arc::new(config), server_name: self.server_name.clone(), no_verify: self.no_verify })
    }
}

/// A built configuration: immutable, cheap to clone, shared by sessions on
/// any thread.
#[derive(Clone, Debug)]
pub struct TlsConfig {
    inner: Arc<ClientConfig>,
    server_name: Option<ServerName<'static>>,
    no_verify: bool,
}

impl TlsConfig {
    /// Verification against webpki-roots, nothing else.
    pub fn default_config() -> Result<TlsConfig> {
        TlsSettings::default().build()
    }

    pub fn verification_disabled(&self) -> bool {
        self.no_verify
    }

    /// A client connection for `host` (or the override name).
    pub fn connect(&self, host: &str) -> Result<ClientConnection> {
        let name = match &self.server_name {
            Some(n) => n.clone(),
            None => {
                let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
                ServerName::try_from(bare.to_string()).map_err(|_| {
                    Error::Tls(format!("{host:?} cannot be checked against a certificate: set a server name"))
                })?
            }
        };
        ClientConnection::new(self.inner.clone(), name).map_err(|e| Error::Tls(e.to_string()))
    }
}

/// The verifier behind `dangerous_disable_verification`: any certificate,
/// but handshake signatures are still checked.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A rustls error (a failed check, an alert) in words a user can act on.
pub fn describe(tls: &rustls::Error, host: &str) -> Error {
    use rustls::Error as R;
    Error::Tls(match tls {
        R::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => {
                "certificate verification failed: unknown issuer (the server's certificate is not signed by a trusted CA; add the CA with smtp_tls_config_builder_add_ca_file)".to_string()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!("certificate verification failed: name mismatch (the certificate is not valid for {host:?})")
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "certificate verification failed: expired (the server's certificate is past its end date)".to_string()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "certificate verification failed: not valid yet (check the clock)".to_string()
            }
            CertificateError::Revoked => "certificate verification failed: revoked".to_string(),
            other => format!("certificate verification failed: {other:?}"),
        },
        R::AlertReceived(AlertDescription::ProtocolVersion) | R::PeerIncompatible(_) => {
            format!("protocol version: the server offers no TLS version or cipher suite libsmtp accepts (TLS 1.2 minimum): {tls}")
        }
        R::AlertReceived(a @ (AlertDescription::CertificateRequired | AlertDescription::HandshakeFailure | AlertDescription::BadCertificate | AlertDescription::UnknownCA)) => {
            format!("the server refused the handshake ({a:?}); it may require a client certificate")
        }
        R::InvalidMessage(_) | R::InappropriateMessage { .. } | R::InappropriateHandshakeMessage { .. } => {
            format!("the server did not answer in TLS (a plaintext port?): {tls}")
        }
        other => format!("TLS handshake: {other}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_builds() {
        let c = TlsConfig::default_config().unwrap();
        assert!(!c.verification_disabled());
        assert!(c.connect("mx.example.com").is_ok());
        assert!(c.connect("127.0.0.1").is_ok());
        assert!(c.connect("[::1]").is_ok());
        assert!(c.connect("bad name!").is_err());
    }

    #[test]
    fn settings_errors() {
        let mut s = TlsSettings::default();
        assert!(matches!(s.add_ca_file(Path::new("/nonexistent.pem")), Err(Error::Tls(_))));
        assert!(matches!(s.add_ca_dir(Path::new("/nonexistent")), Err(Error::Tls(_))));
        assert!(matches!(s.set_server_name("not a name"), Err(Error::InvalidArgument(_))));
        s.set_default_roots(false);
        assert!(matches!(s.build(), Err(Error::Tls(_))), "no roots at all");
        s.dangerous_disable_verification();
        assert!(s.build().unwrap().verification_disabled());
    }
}
