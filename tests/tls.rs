//! TLS through the C ABI: STARTTLS and implicit TLS against aiosmtpd
//! (tests/servers/tls_server.py) with a CA and certificates made here by
//! rcgen; refusals (wrong name, unknown CA, expired, TLS 1.0 only, a
//! plaintext server on the TLS port, a stalled handshake) against rustls and
//! Python servers; STARTTLS injection and stripping; client certificates.

mod common;

use std::ffi::{c_char, c_int, c_void, CStr};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use common::pki::{ca, cert, leaf, Leaf, Shape};
use common::{cstr, text, wait_for_file, PyServer, Scripted, Session};
use rcgen::Issuer;
use rustls::pki_types::CertificateDer;
use smtp::ffi::auth::*;
use smtp::ffi::commands::*;
use smtp::ffi::session::*;
use smtp::ffi::state::*;
use smtp::ffi::tls::*;

// Result codes from the library, under this file's short names.
use common::codes::{
    SMTP_ERR_CONNECT as ERR_CONNECT, SMTP_ERR_NOT_ENCRYPTED as ERR_NOT_ENCRYPTED,
    SMTP_ERR_NOT_SUPPORTED as ERR_NOT_SUPPORTED, SMTP_ERR_RESPONSE as ERR_RESPONSE, SMTP_ERR_TIMEOUT as ERR_TIMEOUT,
    SMTP_ERR_TLS as ERR_TLS, SMTP_OK as OK,
};

// ---- certificates -------------------------------------------------------------

struct Pki {
    dir: PathBuf,
    ca_path: PathBuf,
    server: Leaf,
    wrong_name: Leaf,
    expired: Leaf,
    unknown_ca: Leaf,
    /// Signed by itself, not a CA: webpki says "unknown issuer".
    self_signed: Leaf,
    /// A self-signed CA certificate, as `openssl req -x509` makes.
    self_signed_ca: Leaf,
    /// A CA certificate issued by the test CA, used as a server's.
    ca_as_leaf: Leaf,
    /// For bücher.example, by its A-labels.
    idn: Leaf,
    client_ca: CertificateDer<'static>,
    client: Leaf,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("libsmtp-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (ca_params, ca_key, _, ca_pem) = ca("libsmtp test CA");
        let ca_path = dir.join("ca.pem");
        std::fs::write(&ca_path, ca_pem).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let server = leaf(&dir, "server", &["localhost", "127.0.0.1"], &issuer, false);
        let wrong_name = leaf(&dir, "wrong", &["other.example"], &issuer, false);
        let expired = leaf(&dir, "expired", &["localhost", "127.0.0.1"], &issuer, true);
        let (other_params, other_key, _, _) = ca("someone else's CA");
        let unknown_ca =
            leaf(&dir, "unknown", &["localhost", "127.0.0.1"], &Issuer::new(other_params, other_key), false);
        let here = ["localhost", "127.0.0.1"];
        let self_signed = cert(&dir, "self-signed", &here, None, Shape::default());
        let self_signed_ca = cert(&dir, "self-signed-ca", &here, None, Shape { ca: true, ..Shape::default() });
        let ca_as_leaf = cert(&dir, "ca-as-leaf", &here, Some(&issuer), Shape { ca: true, ..Shape::default() });
        let idn = leaf(&dir, "idn", &["xn--bcher-kva.example"], &issuer, false);
        let (client_params, client_key, client_ca, client_ca_pem) = ca("libsmtp client CA");
        std::fs::write(dir.join("client-ca.pem"), client_ca_pem).unwrap();
        let client = leaf(&dir, "client", &["client.example"], &Issuer::new(client_params, client_key), false);
        Pki {
            dir,
            ca_path,
            server,
            wrong_name,
            expired,
            unknown_ca,
            self_signed,
            self_signed_ca,
            ca_as_leaf,
            idn,
            client_ca,
            client,
        }
    })
}

// ---- client configuration --------------------------------------------------------

struct Config(*mut smtp_tls_config);

impl Drop for Config {
    fn drop(&mut self) {
        unsafe { smtp_tls_config_free(self.0) };
    }
}

// SAFETY: smtp_tls_config is immutable and documented as thread-safe.
unsafe impl Send for Config {}
unsafe impl Sync for Config {}

fn config(setup: impl FnOnce(*mut smtp_tls_config_builder)) -> Config {
    unsafe {
        let b = smtp_tls_config_builder_new();
        assert_eq!(smtp_tls_config_builder_add_ca_file(b, cstr(pki().ca_path.to_str().unwrap()).as_ptr()), OK);
        setup(b);
        let mut out = std::ptr::null_mut();
        assert_eq!(smtp_tls_config_builder_build(b, &mut out), OK, "{:?}", text(smtp_tls_config_builder_errmsg(b)));
        smtp_tls_config_builder_free(b);
        Config(out)
    }
}

fn trusting_test_ca() -> Config {
    config(|_| {})
}

/// Trusting the test CA, checking certificates against `name`.
fn checking_name(name: &CStr) -> Config {
    config(|b| unsafe {
        assert_eq!(smtp_tls_config_builder_set_server_name(b, name.as_ptr()), OK);
    })
}

fn session(kind: c_int, cfg: Option<&Config>) -> Session {
    let s = Session::new(kind);
    unsafe {
        smtp_session_set_local_hostname(s.0, c"client.example".as_ptr());
        smtp_session_set_timeout_ms(s.0, SMTP_TIMEOUT_IO, 5000);
        smtp_session_set_timeout_ms(s.0, SMTP_TIMEOUT_REPLY, 5000);
        if let Some(c) = cfg {
            assert_eq!(smtp_session_set_tls_config(s.0, c.0), OK);
        }
    }
    s
}

fn connect(s: &Session, host: &str, port: u16) -> c_int {
    let mut code = 0;
    unsafe { smtp_session_connect(s.0, cstr(&format!("{host}:{port}")).as_ptr(), 0, &mut code) }
}

fn sendmail(s: &Session, msg: &[u8]) -> c_int {
    let to = [c"b@example.com".as_ptr()];
    unsafe {
        smtp_session_sendmail(
            s.0,
            c"a@example.com".as_ptr(),
            to.as_ptr(),
            1,
            msg.as_ptr(),
            msg.len(),
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            SMTP_MSG_NORMALIZE,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    }
}

// ---- servers -----------------------------------------------------------------------

fn tls_server(mode: &str, leaf: &Leaf, client_ca: bool, mail_dir: &Path) -> PyServer {
    let mut args = vec![
        "--mode".to_string(),
        mode.to_string(),
        "--cert".to_string(),
        leaf.cert_path.display().to_string(),
        "--key".to_string(),
        leaf.key_path.display().to_string(),
        "--dir".to_string(),
        mail_dir.display().to_string(),
    ];
    if client_ca {
        args.push("--client-ca".into());
        args.push(pki().dir.join("client-ca.pem").display().to_string());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    PyServer::start("tls_server.py", &refs)
}

fn rustls_server_config(leaf: &Leaf, require_client_cert: bool) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let b =
        rustls::ServerConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions().unwrap();
    let b = if require_client_cert {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pki().client_ca.clone()).unwrap();
        let v = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider).build().unwrap();
        b.with_client_cert_verifier(v)
    } else {
        b.with_no_client_auth()
    };
    Arc::new(b.with_single_cert(leaf.chain.clone(), leaf.key()).unwrap())
}

/// A rustls SMTP server: `starttls` offers STARTTLS in clear first, else TLS
/// from the first byte. After the handshake it answers EHLO, NOOP and QUIT.
/// Returns the SNI it got ("SNI name" or "SNI none") and the lines it read
/// in TLS (None when the handshake failed).
fn rustls_smtp_server(
    leaf: &Leaf,
    starttls: bool,
    require_client_cert: bool,
) -> (u16, thread::JoinHandle<Option<Vec<String>>>) {
    let config = rustls_server_config(leaf, require_client_cert);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let h = thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        if starttls {
            let mut r = BufReader::new(sock.try_clone().unwrap());
            sock.write_all(b"220 plain ready\r\n").unwrap();
            let mut l = String::new();
            r.read_line(&mut l).unwrap();
            sock.write_all(b"250-localhost\r\n250 STARTTLS\r\n").unwrap();
            l.clear();
            r.read_line(&mut l).unwrap();
            sock.write_all(b"220 go ahead\r\n").unwrap();
        }
        let mut conn = rustls::ServerConnection::new(config).unwrap();
        while conn.is_handshaking() {
            if conn.complete_io(&mut sock).is_err() {
                return None;
            }
        }
        let mut seen = vec![format!("SNI {}", conn.server_name().unwrap_or("none"))];
        let mut tls = rustls::StreamOwned::new(conn, sock);
        if !starttls {
            tls.write_all(b"220 tls ready\r\n").ok()?;
        }
        let mut r = BufReader::new(tls);
        loop {
            let mut l = String::new();
            if r.read_line(&mut l).unwrap_or(0) == 0 {
                return Some(seen);
            }
            seen.push(l.clone());
            let reply: &[u8] = match l.get(..4).map(|v| v.to_ascii_uppercase()).as_deref() {
                Some("EHLO") => b"250-localhost\r\n250 AUTH PLAIN\r\n",
                Some("QUIT") => b"221 bye\r\n",
                _ => b"250 ok\r\n",
            };
            if r.get_mut().write_all(reply).is_err() {
                return Some(seen);
            }
        }
    });
    (port, h)
}

fn mail_dir(name: &str) -> PathBuf {
    let d = pki().dir.join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const MSG: &[u8] = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: over TLS\r\n\r\nSecret plans.\r\n.dot\r\n";

// ---- the tests ----------------------------------------------------------------------

#[test]
fn starttls_to_aiosmtpd_delivers() {
    let dir = mail_dir("starttls-mail");
    let server = tls_server("starttls", &pki().server, false, &dir);
    let cfg = trusting_test_ca();
    for host in ["127.0.0.1", "localhost"] {
        let s = session(SMTP_KIND_SMTP, Some(&cfg));
        assert_eq!(connect(&s, host, server.port), OK, "{}", s.errmsg());
        let mut code = 0;
        unsafe {
            assert_eq!(smtp_session_starttls(s.0, std::ptr::null(), &mut code), OK, "{host}: {}", s.errmsg());
            assert_eq!(code, 220);
            assert_eq!(smtp_session_is_encrypted(s.0), 1);
            assert!(text(smtp_session_tls_version(s.0)).unwrap().starts_with("TLSv1."));
            assert!(text(smtp_session_tls_cipher(s.0)).is_some());
            // RFC 3207 4.2: what was learned in clear is forgotten.
            assert!(smtp_session_ehlo_resp(s.0).is_null());
            assert_eq!(smtp_session_does_esmtp(s.0), 0);
            assert_eq!(smtp_session_feature_count(s.0), 0);
        }
        assert_eq!(sendmail(&s, MSG), OK, "{}", s.errmsg());
        unsafe { smtp_session_quit(s.0, &mut code) };
    }
    let got = wait_for_file(&dir.join("0001.eml"));
    assert_eq!(got, MSG);
    wait_for_file(&dir.join("0002.eml"));
}

/// A pool whose connections run STARTTLS (or TLS from the first byte),
/// verified with the TLS configuration of the session it was made from;
/// threads send through it, each on a session of its own.
fn pool_over_tls(kind: c_int, mode: &str, starttls: bool) {
    use smtp::ffi::pool::*;
    let dir = mail_dir(&format!("pool-{mode}-mail"));
    let server = tls_server(mode, &pki().server, false, &dir);
    let cfg = trusting_test_ca();
    let like = session(kind, Some(&cfg));
    let mut pool = std::ptr::null_mut();
    let host = cstr(&format!("localhost:{}", server.port));
    assert_eq!(unsafe { smtp_pool_new(like.0, host.as_ptr(), 0, 2, &mut pool) }, OK, "{}", like.errmsg());
    assert_eq!(unsafe { smtp_pool_set_option(pool, SMTP_POOL_STARTTLS, u64::from(starttls)) }, OK);
    struct Shared(*mut smtp_pool);
    // SAFETY: a pool is documented as safe to share between threads.
    unsafe impl Send for Shared {}
    unsafe impl Sync for Shared {}
    let shared = Arc::new(Shared(pool));
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let shared = shared.clone();
            thread::spawn(move || {
                let seat = session(kind, None);
                // The seat sends only on an encrypted connection: the lent
                // one must be.
                assert_eq!(unsafe { smtp_session_set_require_tls(seat.0, 1) }, OK);
                (0..4)
                    .map(|_| common::raw::pool_sendmail(shared.0, seat.0, "a@example.com", &["b@example.com"], MSG))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for t in threads {
        assert!(t.join().unwrap().iter().all(|&rc| rc == OK));
    }
    assert_eq!(wait_for_file(&dir.join("0012.eml")), MSG);
    assert!(unsafe { smtp_pool_stat(pool, SMTP_POOL_STAT_OPENED) } <= 2);
    unsafe { smtp_pool_free(pool) };
}

#[test]
fn a_pool_runs_starttls_on_each_connection() {
    pool_over_tls(SMTP_KIND_SMTP, "starttls", true);
}

#[test]
fn a_pool_of_implicit_tls_connections() {
    pool_over_tls(SMTP_KIND_SMTP_SSL, "implicit", false);
}

#[test]
fn implicit_tls_to_aiosmtpd_delivers() {
    let dir = mail_dir("implicit-mail");
    let server = tls_server("implicit", &pki().server, false, &dir);
    let cfg = trusting_test_ca();
    let s = session(SMTP_KIND_SMTP_SSL, Some(&cfg));
    assert_eq!(connect(&s, "127.0.0.1", server.port), OK, "{}", s.errmsg());
    unsafe { assert_eq!(smtp_session_is_encrypted(s.0), 1) };
    assert_eq!(sendmail(&s, MSG), OK, "{}", s.errmsg());
    assert_eq!(wait_for_file(&dir.join("0001.eml")), MSG);
}

fn refused(leaf: &Leaf, cfg: &Config, host: &str) -> Session {
    let (port, h) = rustls_smtp_server(leaf, false, false);
    let s = session(SMTP_KIND_SMTP_SSL, Some(cfg));
    assert_eq!(connect(&s, host, port), ERR_TLS, "{}", s.errmsg());
    assert!(!s.connected_now());
    assert!(h.join().unwrap().is_none(), "the handshake must fail on the server too");
    s
}

/// A handshake the client accepts: what the server saw, SNI first.
fn accepted(leaf: &Leaf, cfg: &Config, host: &str) -> Vec<String> {
    let (port, h) = rustls_smtp_server(leaf, false, false);
    let s = session(SMTP_KIND_SMTP_SSL, Some(cfg));
    assert_eq!(connect(&s, host, port), OK, "{}", s.errmsg());
    let mut code = 0;
    unsafe { smtp_session_quit(s.0, &mut code) };
    drop(s);
    h.join().unwrap().expect("the handshake must succeed on the server too")
}

#[test]
fn wrong_name_unknown_ca_expired_are_refused_by_name() {
    let cfg = trusting_test_ca();
    let s = refused(&pki().wrong_name, &cfg, "127.0.0.1");
    assert_eq!(
        s.errmsg(),
        "TLS error: certificate verification failed: name mismatch: the certificate is for \"other.example\" only, not \
         \"127.0.0.1\" (connect by a name it has, or check it against one with smtp_tls_config_builder_set_server_name)"
    );
    let s = refused(&pki().unknown_ca, &cfg, "127.0.0.1");
    assert!(s.errmsg().starts_with("TLS error: certificate verification failed: unknown issuer: "), "{}", s.errmsg());
    let s = refused(&pki().expired, &cfg, "localhost");
    assert!(
        s.errmsg().starts_with(
            "TLS error: certificate verification failed: expired: the certificate of \"localhost\" was valid until \
             2021-01-01 00:00:00 UTC; it is now 20"
        ),
        "{}",
        s.errmsg()
    );
    // The default config (Mozilla roots only) does not know the test CA.
    let (port, _h) = rustls_smtp_server(&pki().server, false, false);
    let s = session(SMTP_KIND_SMTP_SSL, None);
    assert_eq!(connect(&s, "127.0.0.1", port), ERR_TLS);
    assert!(s.errmsg().contains("unknown issuer"), "{}", s.errmsg());
}

#[test]
fn self_signed_and_ca_certificates_are_refused_in_plain_words() {
    let cfg = trusting_test_ca();
    let s = refused(&pki().self_signed, &cfg, "127.0.0.1");
    assert!(
        s.errmsg().starts_with(
            "TLS error: certificate verification failed: self-signed: the certificate of \"127.0.0.1\" is signed by itself"
        ),
        "{}",
        s.errmsg()
    );
    let s = refused(&pki().self_signed_ca, &cfg, "127.0.0.1");
    assert!(
        s.errmsg().starts_with(
            "TLS error: certificate verification failed: self-signed CA certificate used as end entity: \"127.0.0.1\" \
             presents a self-signed CA certificate (basicConstraints CA:TRUE, as `openssl req -x509` makes"
        ),
        "{}",
        s.errmsg()
    );
    let s = refused(&pki().ca_as_leaf, &cfg, "localhost");
    assert!(
        s.errmsg().starts_with(
            "TLS error: certificate verification failed: CA certificate used as end entity: \"localhost\" presents a CA \
             certificate (basicConstraints CA:TRUE) as its own"
        ),
        "{}",
        s.errmsg()
    );
    for s in [&s, &refused(&pki().self_signed, &cfg, "localhost")] {
        assert!(!s.errmsg().contains("Other"), "{}", s.errmsg());
    }

    // What the messages advise holds: a self-signed certificate added as a
    // CA verifies; a self-signed CA certificate does not, trusted or not.
    let trust = |leaf: &'static Leaf| {
        config(move |b| unsafe {
            assert_eq!(smtp_tls_config_builder_add_ca_file(b, cstr(leaf.cert_path.to_str().unwrap()).as_ptr()), OK);
        })
    };
    accepted(&pki().self_signed, &trust(&pki().self_signed), "localhost");
    let s = refused(&pki().self_signed_ca, &trust(&pki().self_signed_ca), "localhost");
    assert!(s.errmsg().contains("used as end entity"), "{}", s.errmsg());
}

#[test]
fn unicode_server_name_goes_out_as_a_labels() {
    // The certificate names xn--bcher-kva.example; the config names
    // Bücher.example: SNI and the check both use the A-labels.
    let cfg = checking_name(c"B\u{fc}cher.example");
    assert_eq!(accepted(&pki().idn, &cfg, "127.0.0.1")[0], "SNI xn--bcher-kva.example");

    // Another certificate: the mismatch names the A-labels asked for.
    let s = refused(&pki().server, &cfg, "127.0.0.1");
    assert!(s.errmsg().contains("not \"xn--bcher-kva.example\""), "{}", s.errmsg());

    unsafe {
        let b = smtp_tls_config_builder_new();
        assert_eq!(smtp_tls_config_builder_set_server_name(b, c"\u{301}b\u{fc}cher.example".as_ptr()), 2);
        let m = text(smtp_tls_config_builder_errmsg(b)).unwrap();
        assert!(m.contains("not a valid internationalized domain name"), "{m}");
        smtp_tls_config_builder_free(b);
    }
}

#[test]
fn unicode_host_is_mapped_for_the_resolver_and_tls() {
    // Full-width "localhost" maps (UTS #46) to the name /etc/hosts has: the
    // lookup and SNI get the ASCII form, and nothing leaves the machine.
    let fullwidth = "\u{ff4c}\u{ff4f}\u{ff43}\u{ff41}\u{ff4c}\u{ff48}\u{ff4f}\u{ff53}\u{ff54}";
    assert_eq!(accepted(&pki().server, &trusting_test_ca(), fullwidth)[0], "SNI localhost");

    // Refused before any lookup.
    let s = session(SMTP_KIND_SMTP, None);
    assert_eq!(connect(&s, "\u{301}b\u{fc}cher.invalid", 25), 2, "{}", s.errmsg());
    assert!(s.errmsg().contains("internationalized domain name"), "{}", s.errmsg());
    // A Unix socket path is no host name: left as it is.
    assert_eq!(connect(&s, "/nonexistent/b\u{fc}cher.sock", 0), ERR_CONNECT);
    assert!(s.errmsg().contains("/nonexistent/b\u{fc}cher.sock"), "{}", s.errmsg());
}

#[test]
fn server_name_override_and_disabled_verification() {
    let cfg = checking_name(c"other.example");
    assert_eq!(accepted(&pki().wrong_name, &cfg, "127.0.0.1")[0], "SNI other.example");

    let insecure = config(|b| unsafe {
        assert_eq!(smtp_tls_config_builder_dangerous_disable_verification(b), OK);
    });
    let (port, _h) = rustls_smtp_server(&pki().unknown_ca, false, false);
    let s = session(SMTP_KIND_SMTP_SSL, Some(&insecure));
    let mut lines: Vec<String> = Vec::new();
    unsafe {
        smtp_session_set_debuglevel(s.0, 1);
        smtp_session_set_trace(s.0, Some(collect), (&raw mut lines).cast());
    }
    assert_eq!(connect(&s, "127.0.0.1", port), OK, "{}", s.errmsg());
    unsafe { smtp_session_set_trace(s.0, None, std::ptr::null_mut()) };
    assert!(lines.iter().any(|l| l.contains("WARNING") && l.contains("DISABLED")), "{lines:?}");
}

unsafe extern "C" fn collect(userdata: *mut c_void, _dir: c_int, line: *const c_char, len: usize) {
    let lines = unsafe { &mut *userdata.cast::<Vec<String>>() };
    let bytes = unsafe { std::slice::from_raw_parts(line.cast::<u8>(), len) };
    lines.push(String::from_utf8_lossy(bytes).into_owned());
}

#[test]
fn tls_1_0_only_server_is_refused() {
    let dir = mail_dir("tls10");
    let server = tls_server("tls10", &pki().server, false, &dir);
    let cfg = trusting_test_ca();
    let s = session(SMTP_KIND_SMTP_SSL, Some(&cfg));
    assert_eq!(connect(&s, "127.0.0.1", server.port), ERR_TLS, "{}", s.errmsg());
    assert!(s.errmsg().contains("protocol version"), "{}", s.errmsg());
}

#[test]
fn plaintext_server_on_the_tls_port() {
    let srv = Scripted::start(|p| {
        p.send("220 plain hello\r\n");
        let _ = p.line();
    });
    let cfg = trusting_test_ca();
    let s = session(SMTP_KIND_SMTP_SSL, Some(&cfg));
    assert_eq!(connect(&s, "127.0.0.1", srv.port), ERR_TLS, "{}", s.errmsg());
    assert!(s.errmsg().contains("did not answer in TLS"), "{}", s.errmsg());
    drop(s);
    // What the client sent was a ClientHello, nothing in clear.
    let seen = srv.finish();
    assert!(seen.iter().all(|l| !l.contains("EHLO") && !l.contains("ehlo")), "{seen:?}");
}

#[test]
fn stalled_handshake_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let h = thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut buf = [0u8; 4096];
        let _ = sock.read(&mut buf); // the ClientHello, never answered
        let _ = sock.read(&mut buf);
    });
    let cfg = trusting_test_ca();
    let s = session(SMTP_KIND_SMTP_SSL, Some(&cfg));
    unsafe { smtp_session_set_timeout_ms(s.0, SMTP_TIMEOUT_IO, 300) };
    let start = Instant::now();
    assert_eq!(connect(&s, "127.0.0.1", port), ERR_TIMEOUT, "{}", s.errmsg());
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(!s.connected_now());
    h.join().unwrap();
}

#[test]
fn starttls_response_injection_closes_the_connection() {
    let srv = Scripted::start(|p| {
        p.send("220 hi\r\n");
        p.answer("250-mx\r\n250 STARTTLS\r\n");
        p.answer("220 go ahead\r\n250-INJECTED\r\n250 AUTH PLAIN\r\n");
        let _ = p.line();
    });
    let s = session(SMTP_KIND_SMTP, Some(&trusting_test_ca()));
    assert_eq!(connect(&s, "127.0.0.1", srv.port), OK);
    let mut code = 0;
    unsafe {
        assert_eq!(smtp_session_starttls(s.0, std::ptr::null(), &mut code), ERR_TLS);
        assert!(s.errmsg().contains("injection"), "{}", s.errmsg());
        assert!(!s.connected_now());
        for p in [
            smtp_session_ehlo_resp(s.0),
            smtp_session_last_reply_text(s.0),
            smtp_session_feature(s.0, c"auth".as_ptr()),
        ] {
            assert!(text(p).is_none_or(|t| !t.contains("INJECTED") && t != " PLAIN"), "{:?}", text(p));
        }
        assert_eq!(smtp_session_has_extn(s.0, c"auth".as_ptr()), 0);
    }
    drop(s);
    let seen = srv.finish();
    assert_eq!(seen.last().map(String::as_str), Some(""), "nothing was sent after STARTTLS: {seen:?}");
}

#[test]
fn stripped_starttls_under_tls_required() {
    let srv = Scripted::start(|p| {
        p.send("220 hi\r\n");
        p.answer("250-mx\r\n250 AUTH PLAIN\r\n");
        let _ = p.line();
    });
    let s = session(SMTP_KIND_SMTP, None);
    unsafe { assert_eq!(smtp_session_set_require_tls(s.0, 1), OK) };
    assert_eq!(connect(&s, "127.0.0.1", srv.port), OK);
    let mut code = 0;
    unsafe {
        assert_eq!(smtp_session_starttls(s.0, std::ptr::null(), &mut code), ERR_NOT_SUPPORTED);
        assert_eq!(sendmail(&s, MSG), ERR_NOT_ENCRYPTED, "{}", s.errmsg());
        assert_eq!(smtp_session_login(s.0, c"u".as_ptr(), c"p".as_ptr(), SMTP_AUTH_ALLOW_CLEARTEXT), ERR_NOT_ENCRYPTED);
        assert_eq!(
            smtp_session_auth_builtin(s.0, c"CRAM-MD5".as_ptr(), c"u".as_ptr(), c"p".as_ptr(), 0),
            ERR_NOT_ENCRYPTED
        );
    }
    drop(s);
    let seen = srv.finish();
    assert!(seen.iter().all(|l| !l.to_ascii_lowercase().starts_with("mail") && !l.starts_with("AUTH")), "{seen:?}");
}

#[test]
fn starttls_refused_with_454_is_a_response_error() {
    let srv = Scripted::start(|p| {
        p.send("220 hi\r\n");
        p.answer("250-mx\r\n250 STARTTLS\r\n");
        p.answer("454 4.7.0 TLS not available\r\n");
        p.answer("250 ok\r\n");
    });
    let s = session(SMTP_KIND_SMTP, None);
    assert_eq!(connect(&s, "127.0.0.1", srv.port), OK);
    let mut code = 0;
    unsafe {
        assert_eq!(smtp_session_starttls(s.0, std::ptr::null(), &mut code), ERR_RESPONSE);
        assert_eq!(code, 454);
        assert_eq!(smtp_session_noop(s.0, &mut code), OK, "still usable in clear");
    }
}

#[test]
fn client_certificates() {
    let with_cert = config(|b| unsafe {
        let chain = cstr(pki().client.cert_path.to_str().unwrap());
        let key = cstr(pki().client.key_path.to_str().unwrap());
        assert_eq!(smtp_tls_config_builder_set_client_cert(b, chain.as_ptr(), key.as_ptr()), OK);
    });
    let (port, h) = rustls_smtp_server(&pki().server, true, true);
    let s = session(SMTP_KIND_SMTP, Some(&with_cert));
    assert_eq!(connect(&s, "127.0.0.1", port), OK);
    let mut code = 0;
    unsafe {
        assert_eq!(smtp_session_starttls(s.0, std::ptr::null(), &mut code), OK, "{}", s.errmsg());
        assert_eq!(smtp_session_noop(s.0, &mut code), OK, "{}", s.errmsg());
        smtp_session_quit(s.0, &mut code);
    }
    drop(s);
    assert!(h.join().unwrap().unwrap().iter().any(|l| l.starts_with("noop")));

    // Without one the server refuses (TLS 1.3 tells the client on its first read).
    let (port, h) = rustls_smtp_server(&pki().server, true, true);
    let s = session(SMTP_KIND_SMTP, Some(&trusting_test_ca()));
    assert_eq!(connect(&s, "127.0.0.1", port), OK);
    let rc = unsafe {
        let rc = smtp_session_starttls(s.0, std::ptr::null(), &mut code);
        if rc == OK {
            smtp_session_noop(s.0, &mut code)
        } else {
            rc
        }
    };
    assert_eq!(rc, ERR_TLS, "{}", s.errmsg());
    assert!(s.errmsg().contains("client certificate"), "{}", s.errmsg());
    drop(s);
    assert!(h.join().unwrap().is_none());
}

#[test]
fn one_config_shared_by_threads() {
    let cfg = Arc::new(trusting_test_ca());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let cfg = cfg.clone();
            thread::spawn(move || {
                let (port, h) = rustls_smtp_server(&pki().server, false, false);
                let s = session(SMTP_KIND_SMTP_SSL, Some(&cfg));
                assert_eq!(connect(&s, "127.0.0.1", port), OK, "{}", s.errmsg());
                let mut code = 0;
                unsafe { assert_eq!(smtp_session_quit(s.0, &mut code), OK) };
                drop(s);
                h.join().unwrap().unwrap()
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap().iter().any(|l| l.starts_with("quit")));
    }
}

#[test]
fn builder_errors() {
    unsafe {
        let b = smtp_tls_config_builder_new();
        assert_eq!(smtp_tls_config_builder_add_ca_file(b, c"/nonexistent/ca.pem".as_ptr()), ERR_TLS);
        assert!(text(smtp_tls_config_builder_errmsg(b)).unwrap().contains("/nonexistent/ca.pem"));
        assert_eq!(
            smtp_tls_config_builder_add_ca_file(b, cstr(pki().server.key_path.to_str().unwrap()).as_ptr()),
            ERR_TLS
        );
        assert_eq!(smtp_tls_config_builder_add_ca_dir(b, cstr(pki().dir.to_str().unwrap()).as_ptr()), OK);
        assert_eq!(smtp_tls_config_builder_set_server_name(b, c"not a name".as_ptr()), 2);
        assert_eq!(smtp_tls_config_builder_add_ca_file(b, std::ptr::null()), 1);
        assert_eq!(smtp_tls_config_builder_add_ca_file(std::ptr::null_mut(), c"x".as_ptr()), 1);
        let bad_key = cstr(pki().wrong_name.key_path.to_str().unwrap());
        let chain = cstr(pki().client.cert_path.to_str().unwrap());
        assert_eq!(smtp_tls_config_builder_set_client_cert(b, chain.as_ptr(), bad_key.as_ptr()), OK);
        let mut out = std::ptr::null_mut();
        assert_eq!(smtp_tls_config_builder_build(b, &mut out), ERR_TLS, "a key that does not fit its certificate");
        assert!(out.is_null());
        smtp_tls_config_builder_free(b);

        let b = smtp_tls_config_builder_new();
        smtp_tls_config_builder_set_default_roots(b, 0);
        assert_eq!(smtp_tls_config_builder_build(b, &mut out), ERR_TLS, "no trust anchors");
        smtp_tls_config_builder_free(b);
        smtp_tls_config_builder_free(std::ptr::null_mut());
        smtp_tls_config_free(std::ptr::null_mut());

        let s = Session::new(SMTP_KIND_SMTP);
        assert_eq!(smtp_session_starttls(s.0, std::ptr::null(), std::ptr::null_mut()), 14, "not connected");
        assert!(smtp_session_tls_version(s.0).is_null());
        assert_eq!(smtp_session_is_encrypted(s.0), 0);
    }
}
