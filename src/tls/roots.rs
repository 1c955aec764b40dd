//! The operating system's trust store, loaded by rustls-native-certs: on
//! Linux and BSD the PEM bundle and directory OpenSSL would use (or the
//! ones SSL_CERT_FILE and SSL_CERT_DIR name), on macOS the keychain, on
//! Windows the system certificate store. The certificates become webpki
//! trust anchors like any other: the checks are webpki's on every
//! platform, and nothing is fetched from the network during a handshake.

use rustls::RootCertStore;
use rustls_pki_types::TrustAnchor;

use crate::error::{Error, Result};

/// How many errors a report names; the rest are counted.
const ERRORS_NAMED: usize = 3;

/// The system's trust anchors and what loading them found.
#[derive(Debug, Clone)]
pub struct SystemRoots {
    pub anchors: Vec<TrustAnchor<'static>>,
    /// "system trust store (SSL_CERT_FILE=/x.pem): 1 certificate loaded".
    pub report: String,
}

/// Load the store now. Certificates that cannot be read or parsed are
/// skipped and named in the report; none usable at all is an error.
pub fn load_system() -> Result<SystemRoots> {
    let found = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    let (added, unusable) = store.add_parsable_certificates(found.certs);
    let errors: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
    let report = report(&source(), added, unusable, &errors);
    if added == 0 {
        return Err(Error::Tls(format!(
            "{report}: no trust anchor (on Debian and Ubuntu the ca-certificates package provides the store; \
             SSL_CERT_FILE or SSL_CERT_DIR may name another)"
        )));
    }
    Ok(SystemRoots { anchors: store.roots, report })
}

/// Where rustls-native-certs looked: the variables when set (they replace
/// the platform's locations), else those locations.
fn source() -> String {
    let vars: Vec<String> = ["SSL_CERT_FILE", "SSL_CERT_DIR"]
        .iter()
        .filter_map(|v| std::env::var_os(v).map(|p| format!("{v}={}", p.to_string_lossy())))
        .collect();
    if vars.is_empty() {
        platform_locations()
    } else {
        vars.join(", ")
    }
}

/// The bundle and directories OpenSSL would use, as rustls-native-certs
/// finds them.
#[cfg(all(unix, not(target_os = "macos")))]
fn platform_locations() -> String {
    let found = openssl_probe::probe();
    let paths: Vec<String> =
        found.cert_file.iter().chain(found.cert_dir.iter()).map(|p| p.display().to_string()).collect();
    if paths.is_empty() {
        "no CA bundle or directory found in the usual places".to_string()
    } else {
        paths.join(", ")
    }
}

#[cfg(target_os = "macos")]
fn platform_locations() -> String {
    "the keychain".to_string()
}

#[cfg(windows)]
fn platform_locations() -> String {
    "the Windows certificate store".to_string()
}

#[cfg(not(any(unix, windows)))]
fn platform_locations() -> String {
    "the platform's store".to_string()
}

fn report(source: &str, added: usize, unusable: usize, errors: &[String]) -> String {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let mut r = format!("system trust store ({source}): {added} certificate{} loaded", plural(added));
    if unusable > 0 {
        r += &format!(", {unusable} not usable as trust anchor{} (skipped)", plural(unusable));
    }
    if !errors.is_empty() {
        r += &format!("; {} failed: {}", errors.len(), errors[..errors.len().min(ERRORS_NAMED)].join("; "));
        if errors.len() > ERRORS_NAMED {
            r += &format!("; and {} more", errors.len() - ERRORS_NAMED);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_count_and_name_failures() {
        assert_eq!(report("X", 1, 0, &[]), "system trust store (X): 1 certificate loaded");
        let errors: Vec<String> = (1..=5).map(|i| format!("/etc/ssl/{i}.pem: bad")).collect();
        let r = report("X", 140, 2, &errors);
        assert!(r.starts_with("system trust store (X): 140 certificates loaded, 2 not usable as trust anchors"), "{r}");
        assert!(r.contains("5 failed: /etc/ssl/1.pem: bad; /etc/ssl/2.pem: bad; /etc/ssl/3.pem: bad; and 2 more"));
        assert!(!r.contains("4.pem"));
    }
}
