//! TLS with rustls: the settings a caller builds (trust anchors, client
//! certificate, server-name override, the one flag that turns verification
//! off), the immutable config sessions share, the handshake, and error
//! messages that say which check failed.
//!
//! Verified by default, unlike smtplib (cpython#91826); TLS 1.2 is the
//! minimum (rustls speaks nothing older).

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};

use crate::error::{Error, Result};

pub(crate) mod describe;
mod roots;
mod verify;

pub use describe::describe;
use roots::SystemRoots;
use verify::Verifier;

/// The built-in trust stores a config may use, besides the CAs added from
/// files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Roots {
    /// Mozilla's roots as shipped in webpki-roots (the default).
    pub mozilla: bool,
    /// The operating system's trust store (see `roots`).
    pub system: bool,
}

/// What a caller sets before building a [`TlsConfig`].
#[derive(Debug)]
pub struct TlsSettings {
    mozilla_roots: bool,
    /// Loaded when chosen, so that a store that cannot be read is reported
    /// by the call that chose it.
    system_roots: Option<SystemRoots>,
    extra_roots: Vec<CertificateDer<'static>>,
    client_cert: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    server_name: Option<ServerName<'static>>,
    no_verify: bool,
}

impl Default for TlsSettings {
    fn default() -> TlsSettings {
        TlsSettings {
            mozilla_roots: true,
            system_roots: None,
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

    /// Trust the Mozilla roots of webpki-roots (the default) or not; the
    /// system store is left as it is.
    pub fn set_default_roots(&mut self, on: bool) {
        self.mozilla_roots = on;
    }

    /// Which built-in stores to trust. The system store is loaded now;
    /// returns what was loaded ("Mozilla roots: 146 certificates; system
    /// trust store (...): 140 certificates loaded, ..."). A system store
    /// without one usable certificate is an error and changes nothing.
    pub fn set_roots(&mut self, roots: Roots) -> Result<String> {
        let system = if roots.system { Some(roots::load_system()?) } else { None };
        self.mozilla_roots = roots.mozilla;
        self.system_roots = system;
        let mut parts = Vec::new();
        if roots.mozilla {
            parts.push(format!("Mozilla roots: {} certificates", webpki_roots::TLS_SERVER_ROOTS.len()));
        }
        if let Some(s) = &self.system_roots {
            parts.push(s.report.clone());
        }
        if parts.is_empty() {
            parts.push("no built-in roots: only the CAs added are trusted".to_string());
        }
        Ok(parts.join("; "))
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
        let name = ServerName::try_from(crate::idna_host::to_ascii(name)?.into_owned())
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
        let verifier = if self.no_verify {
            Verifier::dangerous_none(provider)
        } else {
            let mut roots = RootCertStore::empty();
            if self.mozilla_roots {
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
            if let Some(system) = &self.system_roots {
                roots.extend(system.anchors.iter().cloned());
            }
            for cert in &self.extra_roots {
                roots.add(cert.clone()).map_err(|e| Error::Tls(format!("a CA certificate was refused: {e}")))?;
            }
            if roots.is_empty() {
                return Err(Error::Tls(
                    "no trust anchors: the Mozilla and system roots are off and no CA was added".into(),
                ));
            }
            Verifier::new(roots, provider)?
        };
        let builder = builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier));
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
        let none = s.set_roots(Roots { mozilla: false, system: false }).unwrap();
        assert!(none.contains("only the CAs added"), "{none}");
        assert!(matches!(s.build(), Err(Error::Tls(m)) if m.contains("Mozilla and system roots are off")));
        let mozilla = s.set_roots(Roots { mozilla: true, system: false }).unwrap();
        assert!(mozilla.starts_with("Mozilla roots: ") && mozilla.ends_with(" certificates"), "{mozilla}");
        assert!(s.build().is_ok());
        s.dangerous_disable_verification();
        assert!(s.build().unwrap().verification_disabled());
    }

    #[test]
    fn server_names_go_out_as_a_labels() {
        let mut s = TlsSettings::default();
        s.set_server_name("Bücher.example").unwrap();
        assert_eq!(s.server_name.as_ref().map(|n| n.to_str().into_owned()).as_deref(), Some("xn--bcher-kva.example"));
        let e = s.set_server_name("\u{301}bücher.example").unwrap_err();
        assert!(matches!(&e, Error::InvalidArgument(m) if m.contains("internationalized")), "{e:?}");
    }
}
