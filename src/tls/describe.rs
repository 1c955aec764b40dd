//! rustls and webpki errors in words a user can act on: which check failed,
//! with what the certificate says (its dates, its names) and what to do.
//! Without it a self-signed certificate made by `openssl req -x509` reads
//! `Other(OtherError(CaUsedAsEndEntity))`.

use rustls::{AlertDescription, CertificateError, ExtendedKeyPurpose};
use rustls_pki_types::UnixTime;

use super::verify::Refusal;
use crate::error::Error;

const FAILED: &str = "certificate verification failed";

/// A rustls error (a failed check, an alert) as an [`Error::Tls`] whose
/// message says what went wrong; `host` is the host connected to.
pub fn describe(tls: &rustls::Error, host: &str) -> Error {
    use rustls::Error as R;
    Error::Tls(match tls {
        R::InvalidCertificate(c) => format!("{FAILED}: {}", certificate(c, host)),
        R::AlertReceived(AlertDescription::ProtocolVersion) | R::PeerIncompatible(_) => {
            format!("protocol version: the server offers no TLS version or cipher suite libsmtp accepts (TLS 1.2 minimum): {tls}")
        }
        R::AlertReceived(
            a @ (AlertDescription::CertificateRequired
            | AlertDescription::HandshakeFailure
            | AlertDescription::BadCertificate
            | AlertDescription::UnknownCA),
        ) => format!("the server refused the handshake ({a:?}); it may require a client certificate"),
        R::InvalidMessage(_) | R::InappropriateMessage { .. } | R::InappropriateHandshakeMessage { .. } => {
            format!("the server did not answer in TLS (a plaintext port?): {tls}")
        }
        other => format!("TLS handshake: {other}"),
    })
}

/// One line per check rustls reports (RFC 5280 6.1 path validation,
/// RFC 6125 names).
#[allow(deprecated)] // UnsupportedSignatureAlgorithm: older rustls still sends it
fn certificate(c: &CertificateError, host: &str) -> String {
    use CertificateError as C;
    match c {
        C::UnknownIssuer => format!(
            "unknown issuer: the certificate of {host:?} is not signed by a CA libsmtp trusts (add its CA with \
             smtp_tls_config_builder_add_ca_file, or trust the system store with smtp_tls_config_builder_set_roots)"
        ),
        C::NotValidForNameContext { expected, presented } => name_mismatch(&expected.to_str(), presented),
        C::NotValidForName => format!("name mismatch: the certificate is not valid for {host:?}"),
        C::ExpiredContext { time, not_after } => format!(
            "expired: the certificate of {host:?} was valid until {}; it is now {} (renew it, or check the clock)",
            utc(not_after),
            utc(time)
        ),
        C::Expired => format!("expired: the certificate of {host:?} is past its end date"),
        C::NotValidYetContext { time, not_before } => format!(
            "not yet valid: the certificate of {host:?} is valid from {}; it is now {} (check the clock)",
            utc(not_before),
            utc(time)
        ),
        C::NotValidYet => format!("not yet valid: the certificate of {host:?} starts later (check the clock)"),
        C::Revoked => format!("revoked: the CA of {host:?} has revoked its certificate"),
        C::UnknownRevocationStatus | C::ExpiredRevocationList | C::ExpiredRevocationListContext { .. } => {
            format!("revocation status unknown: no valid revocation list covers the certificate of {host:?}")
        }
        C::BadSignature => {
            format!("bad signature: the signature on the certificate of {host:?} does not verify (corrupted or forged)")
        }
        C::UnsupportedSignatureAlgorithm
        | C::UnsupportedSignatureAlgorithmContext { .. }
        | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => format!(
            "unsupported signature algorithm: the certificate of {host:?} is signed with an algorithm libsmtp does \
             not accept (such as SHA-1)"
        ),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => purpose(c, host),
        C::BadEncoding => format!("malformed certificate: the certificate of {host:?} is not valid DER"),
        C::UnhandledCriticalExtension => {
            format!("unsupported: the certificate of {host:?} has a critical extension libsmtp does not know")
        }
        C::Other(e) => match (e.0.downcast_ref::<webpki::Error>(), e.0.downcast_ref::<Refusal>()) {
            (_, Some(r)) => refusal(r, host),
            (Some(w), _) => webpki_words(w, host),
            _ => format!("{} (the certificate of {host:?})", e.0),
        },
        other => format!("{other:?} (the certificate of {host:?})"),
    }
}

fn name_mismatch(expected: &str, presented: &[String]) -> String {
    // webpki lists the subjectAltName entries as `DnsName("x")`,
    // `IpAddress(1.2.3.4)`: keep the names.
    let names: Vec<&str> = presented
        .iter()
        .map(|p| {
            p.strip_prefix("DnsName(\"")
                .and_then(|n| n.strip_suffix("\")"))
                .or_else(|| p.strip_prefix("IpAddress(").and_then(|n| n.strip_suffix(')')))
                .unwrap_or(p)
        })
        .collect();
    let has = match names.as_slice() {
        [] => "names no host at all (no subjectAltName)".to_string(),
        [one] => format!("is for {one:?} only"),
        many => format!("is for {}", many.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")),
    };
    format!(
        "name mismatch: the certificate {has}, not {expected:?} (connect by a name it has, or check it against \
         one with smtp_tls_config_builder_set_server_name)"
    )
}

fn purpose(c: &CertificateError, host: &str) -> String {
    let has = match c {
        CertificateError::InvalidPurposeContext { presented, .. } if !presented.is_empty() => {
            let p: Vec<String> = presented
                .iter()
                .map(|p| match p {
                    ExtendedKeyPurpose::ClientAuth => "client authentication".to_string(),
                    ExtendedKeyPurpose::ServerAuth => "server authentication".to_string(),
                    ExtendedKeyPurpose::Other(oid) => format!("{oid:?}"),
                })
                .collect();
            format!(" (it allows {})", p.join(", "))
        }
        _ => String::new(),
    };
    format!("wrong purpose: the certificate of {host:?} is not for TLS servers{has}")
}

/// Our verifier's own findings (see `verify`).
fn refusal(r: &Refusal, host: &str) -> String {
    match r {
        Refusal::SelfSigned => format!(
            "self-signed: the certificate of {host:?} is signed by itself, not by a CA libsmtp trusts (if it is the \
             right one, trust it with smtp_tls_config_builder_add_ca_file)"
        ),
        Refusal::SelfSignedCa => format!(
            "self-signed CA certificate used as end entity: {host:?} presents a self-signed CA certificate \
             (basicConstraints CA:TRUE, as `openssl req -x509` makes by default) as its own, which no trust setting \
             accepts: the server needs a certificate issued for its name by a CA"
        ),
    }
}

/// The webpki errors rustls passes on as `Other`.
fn webpki_words(e: &webpki::Error, host: &str) -> String {
    use webpki::Error as W;
    match e {
        W::CaUsedAsEndEntity => format!(
            "CA certificate used as end entity: {host:?} presents a CA certificate (basicConstraints CA:TRUE) as \
             its own: the server needs a certificate issued for its name by a CA"
        ),
        W::EndEntityUsedAsCa => {
            format!("end entity used as CA: a certificate in the chain of {host:?} that is not a CA signed another")
        }
        W::CertDistrusted => format!("distrusted: the CA of {host:?} is no longer trusted for server certificates"),
        W::NameConstraintViolation | W::PathLenConstraintViolated => {
            format!("constraint violated: the chain of {host:?} breaks a CA's name or path length constraints")
        }
        W::MaximumPathDepthExceeded | W::MaximumPathBuildCallsExceeded | W::MaximumSignatureChecksExceeded => {
            format!("chain too long: no path to a trusted CA within webpki's limits for {host:?}")
        }
        W::UnsupportedCertVersion => format!("unsupported: the certificate of {host:?} is not X.509 version 3"),
        W::UnsupportedCriticalExtension => {
            format!("unsupported: the certificate of {host:?} has a critical extension libsmtp does not know")
        }
        W::SignatureAlgorithmMismatch => {
            format!("bad signature: the certificate of {host:?} names two different signature algorithms")
        }
        other => format!("invalid certificate: {other:?} (the certificate of {host:?})"),
    }
}

/// `2021-01-01 00:00:00 UTC`: a certificate date as people read it.
fn utc(t: &UnixTime) -> String {
    let secs = t.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rustls::OtherError;
    use rustls_pki_types::ServerName;

    use super::*;

    fn words(c: CertificateError) -> String {
        match describe(&rustls::Error::InvalidCertificate(c), "mx.example") {
            Error::Tls(m) => m,
            other => panic!("{other:?}"),
        }
    }

    fn other(e: impl std::error::Error + Send + Sync + 'static) -> CertificateError {
        CertificateError::Other(OtherError(Arc::new(e)))
    }

    fn at(y_m_d: (i64, u32, u32)) -> UnixTime {
        // The inverse of civil_from_days, for the dates used here.
        let days = (0..30_000).find(|&d| civil_from_days(d) == y_m_d).unwrap();
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(days as u64 * 86_400 + 3661))
    }

    /// (error, words the message must hold): the table, checked whole.
    #[test]
    #[allow(deprecated)]
    fn every_check_in_words() {
        let table: Vec<(CertificateError, &[&str])> = vec![
            (CertificateError::UnknownIssuer, &["unknown issuer", "\"mx.example\"", "add_ca_file"]),
            (other(Refusal::SelfSigned), &["self-signed:", "signed by itself", "add_ca_file"]),
            (other(Refusal::SelfSignedCa), &["self-signed CA certificate used as end entity", "openssl req -x509"]),
            (other(webpki::Error::CaUsedAsEndEntity), &["CA certificate used as end entity", "CA:TRUE"]),
            (
                CertificateError::NotValidForNameContext {
                    expected: ServerName::try_from("mx.example").unwrap(),
                    presented: vec!["DnsName(\"other.example\")".into(), "IpAddress(10.0.0.1)".into()],
                },
                &["name mismatch", "\"other.example\", \"10.0.0.1\", not \"mx.example\"", "set_server_name"],
            ),
            (
                CertificateError::NotValidForNameContext {
                    expected: ServerName::try_from("10.1.2.3").unwrap(),
                    presented: vec!["DnsName(\"a.example\")".into()],
                },
                &["is for \"a.example\" only, not \"10.1.2.3\""],
            ),
            (
                CertificateError::NotValidForNameContext {
                    expected: ServerName::try_from("mx.example").unwrap(),
                    presented: vec![],
                },
                &["names no host at all"],
            ),
            (CertificateError::NotValidForName, &["name mismatch", "\"mx.example\""]),
            (
                CertificateError::ExpiredContext { time: at((2026, 12, 7)), not_after: at((2021, 1, 1)) },
                &["expired", "valid until 2021-01-01 01:01:01 UTC", "now 2026-12-07 01:01:01 UTC"],
            ),
            (CertificateError::Expired, &["expired", "end date"]),
            (
                CertificateError::NotValidYetContext { time: at((2024, 2, 29)), not_before: at((2030, 3, 1)) },
                &["not yet valid", "from 2030-03-01 01:01:01 UTC", "now 2024-02-29", "clock"],
            ),
            (CertificateError::NotValidYet, &["not yet valid", "clock"]),
            (CertificateError::Revoked, &["revoked"]),
            (CertificateError::UnknownRevocationStatus, &["revocation status unknown"]),
            (CertificateError::BadSignature, &["bad signature", "does not verify"]),
            (CertificateError::UnsupportedSignatureAlgorithm, &["unsupported signature algorithm"]),
            (
                CertificateError::UnsupportedSignatureAlgorithmContext {
                    signature_algorithm_id: vec![],
                    supported_algorithms: vec![],
                },
                &["unsupported signature algorithm"],
            ),
            (
                CertificateError::InvalidPurposeContext {
                    required: ExtendedKeyPurpose::ServerAuth,
                    presented: vec![ExtendedKeyPurpose::ClientAuth],
                },
                &["wrong purpose", "not for TLS servers", "client authentication"],
            ),
            (CertificateError::BadEncoding, &["malformed certificate"]),
            (CertificateError::UnhandledCriticalExtension, &["unsupported", "critical extension"]),
            (other(webpki::Error::UnsupportedCriticalExtension), &["unsupported", "critical extension"]),
            (other(webpki::Error::EndEntityUsedAsCa), &["end entity used as CA"]),
            (other(webpki::Error::NameConstraintViolation), &["constraint violated"]),
            (other(webpki::Error::UnsupportedCertVersion), &["version 3"]),
            (other(webpki::Error::BadDer), &["invalid certificate: BadDer"]),
            (CertificateError::ApplicationVerificationFailure, &["ApplicationVerificationFailure"]),
        ];
        for (error, expected) in table {
            let m = words(error);
            assert!(m.starts_with("certificate verification failed: "), "{m}");
            for e in expected {
                assert!(m.contains(e), "{e:?} not in {m:?}");
            }
            assert!(!m.contains("Other(") && !m.contains("OtherError"), "{m}");
        }
    }

    #[test]
    fn alerts_and_plaintext() {
        let m = describe(&rustls::Error::AlertReceived(AlertDescription::CertificateRequired), "h").to_string();
        assert!(m.contains("client certificate"), "{m}");
        let m = describe(&rustls::Error::AlertReceived(AlertDescription::ProtocolVersion), "h").to_string();
        assert!(m.contains("protocol version"), "{m}");
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(18_628), (2021, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        let t = UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_609_459_199));
        assert_eq!(utc(&t), "2020-12-31 23:59:59 UTC");
    }
}
