//! The system trust store option (`SMTP_ROOTS_SYSTEM`): a CA that only
//! SSL_CERT_FILE names (rustls-native-certs honours it in place of the
//! platform's bundle) verifies the server it signed with the option on,
//! and not with it off; a store that cannot be loaded says why.
//!
//! One test in its own binary: it sets SSL_CERT_FILE, and changing the
//! environment is only sound while no other thread reads it.

mod common;

use std::ffi::{c_int, c_uint};
use std::path::Path;

use common::codes::*;
use common::pki::{ca, leaf};
use common::{cstr, text, PyServer, Session};
use rcgen::Issuer;
use smtp::ffi::commands::smtp_session_quit;
use smtp::ffi::session::*;
use smtp::ffi::tls::*;

/// A builder with `roots` (else the call's result and message), built.
fn config_with(roots: c_uint) -> Result<(*mut smtp_tls_config, String), (c_int, String)> {
    unsafe {
        let b = smtp_tls_config_builder_new();
        let rc = smtp_tls_config_builder_set_roots(b, roots);
        let report = text(smtp_tls_config_builder_errmsg(b)).unwrap_or_default();
        let mut out = std::ptr::null_mut();
        let result = if rc == SMTP_OK {
            assert_eq!(smtp_tls_config_builder_build(b, &mut out), SMTP_OK);
            Ok((out, report))
        } else {
            Err((rc, report))
        };
        smtp_tls_config_builder_free(b);
        result
    }
}

/// Connect over implicit TLS to 127.0.0.1:`port` with `config`.
fn connect(config: *mut smtp_tls_config, port: u16) -> (c_int, String) {
    let s = Session::new(SMTP_KIND_SMTP_SSL);
    let mut code = 0;
    unsafe {
        smtp_session_set_timeout_ms(s.0, SMTP_TIMEOUT_IO, 5000);
        assert_eq!(smtp_session_set_tls_config(s.0, config), SMTP_OK);
        smtp_tls_config_free(config); // the session keeps its own reference
        let rc = smtp_session_connect(s.0, cstr(&format!("127.0.0.1:{port}")).as_ptr(), 0, &mut code);
        if rc == SMTP_OK {
            smtp_session_quit(s.0, &mut code);
        }
        (rc, s.errmsg())
    }
}

fn set_cert_file(path: &Path) {
    std::env::set_var("SSL_CERT_FILE", path);
    std::env::remove_var("SSL_CERT_DIR");
}

#[test]
fn ssl_cert_file_ca_verifies_only_with_the_system_roots() {
    let dir = std::env::temp_dir().join(format!("libsmtp-trust-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ca_params, ca_key, _, ca_pem) = ca("libsmtp system store test CA");
    let ca_path = dir.join("system-ca.pem");
    std::fs::write(&ca_path, ca_pem).unwrap();
    let server = leaf(&dir, "server", &["localhost", "127.0.0.1"], &Issuer::new(ca_params, ca_key), false);

    // A store that cannot be loaded: the error names the file and why.
    let missing = dir.join("no-such-bundle.pem");
    set_cert_file(&missing);
    let (rc, m) = config_with(SMTP_ROOTS_SYSTEM).unwrap_err();
    assert_eq!(rc, SMTP_ERR_TLS, "{m}");
    assert!(
        m.starts_with(&format!(
            "TLS error: system trust store (SSL_CERT_FILE={}): 0 certificates loaded; 1 failed: ",
            missing.display()
        )),
        "{m}"
    );
    assert!(m.contains("No such file") && m.contains("no trust anchor"), "{m}");
    let empty = dir.join("empty-bundle.pem");
    std::fs::write(&empty, "no certificate here\n").unwrap();
    set_cert_file(&empty);
    let (rc, m) = config_with(SMTP_ROOTS_SYSTEM).unwrap_err();
    assert_eq!(rc, SMTP_ERR_TLS, "{m}");
    assert!(m.contains("0 certificates loaded: no trust anchor"), "{m}");

    // The CA as the whole system store. Loaded by set_roots: the
    // environment is not read again (no thread reads it from here on).
    set_cert_file(&ca_path);
    let (both, report) = config_with(SMTP_ROOTS_MOZILLA | SMTP_ROOTS_SYSTEM).unwrap();
    assert!(report.starts_with("Mozilla roots: "), "{report}");
    assert!(
        report.ends_with(&format!("; system trust store (SSL_CERT_FILE={}): 1 certificate loaded", ca_path.display())),
        "{report}"
    );
    let (system_only, _) = config_with(SMTP_ROOTS_SYSTEM).unwrap();
    let (mozilla_only, report) = config_with(SMTP_ROOTS_MOZILLA).unwrap();
    assert!(!report.contains("system"), "{report}");
    let (rc, m) = config_with(SMTP_ROOTS_SYSTEM | 4).unwrap_err();
    assert_eq!(rc, SMTP_ERR_INVALID_ARGUMENT, "{m}");

    let mail = dir.join("mail");
    std::fs::create_dir_all(&mail).unwrap();
    let args = ["--mode", "implicit", "--cert", server.cert_path.to_str().unwrap()];
    let tls = PyServer::start(
        "tls_server.py",
        &[&args[..], &["--key", server.key_path.to_str().unwrap(), "--dir", mail.to_str().unwrap()]].concat(),
    );
    assert_eq!(connect(both, tls.port), (SMTP_OK, "no error".to_string()));
    assert_eq!(connect(system_only, tls.port), (SMTP_OK, "no error".to_string()));
    let (rc, m) = connect(mozilla_only, tls.port);
    assert_eq!(rc, SMTP_ERR_TLS, "{m}");
    assert!(m.contains("unknown issuer"), "{m}");
}
