//! Proxies and the caller's socket through the C ABI: plain, STARTTLS and
//! SMTP_SSL sessions through a real SOCKS5 and a real HTTP CONNECT proxy
//! (pproxy, tests/servers/proxy_server.py) to aiosmtpd; scripted proxies
//! that refuse, never answer, answer garbage, or relay and record what
//! they carry; bad proxy URLs; sessions over a socket the test connected.

mod common;

use std::ffi::{c_int, CString};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::IntoRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use common::pki::{ca, leaf, Leaf};
use common::raw::*;
use common::PyServer;
use rcgen::Issuer;
use smtp::ffi::proxy::*;
use smtp::ffi::session::*;
use smtp::ffi::tls::*;

const USER: &str = "alice";
/// A password with characters a URL must escape.
const PASSWORD: &str = "p@ss:w0rd";
const PASSWORD_IN_URL: &str = "p%40ss%3Aw0rd";

// ---- servers ------------------------------------------------------------------

fn pproxy(scheme: &str, auth: bool) -> PyServer {
    let pair = format!("{USER}:{PASSWORD}");
    let mut args = vec!["--scheme", scheme];
    if auth {
        args.extend(["--auth", pair.as_str()]);
    }
    PyServer::start("proxy_server.py", &args)
}

fn proxy_url(scheme: &str, port: u16, auth: bool) -> String {
    let userinfo = if auth { format!("{USER}:{PASSWORD_IN_URL}@") } else { String::new() };
    format!("{scheme}://{userinfo}127.0.0.1:{port}")
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("libsmtp-proxy-{}", std::process::id())).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn sink(dir: &Path) -> PyServer {
    PyServer::start("sink.py", &["--dir", dir.to_str().unwrap()])
}

/// A CA and a certificate for localhost and 127.0.0.1 signed by it.
struct Pki {
    ca_path: PathBuf,
    server: Leaf,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = temp_dir("pki");
        let (params, key, _, pem) = ca("libsmtp proxy test CA");
        let ca_path = dir.join("ca.pem");
        std::fs::write(&ca_path, pem).unwrap();
        let server = leaf(&dir, "server", &["localhost", "127.0.0.1"], &Issuer::new(params, key), false);
        Pki { ca_path, server }
    })
}

fn tls_server(mode: &str, dir: &Path) -> PyServer {
    let p = pki();
    let (cert, key) = (p.server.cert_path.to_str().unwrap(), p.server.key_path.to_str().unwrap());
    PyServer::start("tls_server.py", &["--mode", mode, "--cert", cert, "--key", key, "--dir", dir.to_str().unwrap()])
}

/// A TLS configuration trusting the test CA only.
struct Config(*mut smtp_tls_config);

impl Drop for Config {
    fn drop(&mut self) {
        unsafe { smtp_tls_config_free(self.0) };
    }
}

fn trusting_test_ca() -> Config {
    unsafe {
        let b = smtp_tls_config_builder_new();
        let ca = CString::new(pki().ca_path.to_str().unwrap()).unwrap();
        assert_eq!(smtp_tls_config_builder_add_ca_file(b, ca.as_ptr()), SMTP_OK);
        let mut out = std::ptr::null_mut();
        assert_eq!(smtp_tls_config_builder_build(b, &mut out), SMTP_OK);
        smtp_tls_config_builder_free(b);
        Config(out)
    }
}

// ---- the client -------------------------------------------------------------------

fn set_proxy(c: &Client, url: Option<&str>) -> c_int {
    let url = url.map(|u| CString::new(u).unwrap());
    unsafe { smtp_session_set_proxy(c.0, url.as_ref().map_or(std::ptr::null(), |u| u.as_ptr())) }
}

fn connect_to(c: &Client, host: &str, port: u16) -> (c_int, c_int) {
    let host = CString::new(format!("{host}:{port}")).unwrap();
    let mut code = -7;
    let rc = unsafe { smtp_session_connect(c.0, host.as_ptr(), 0, &mut code) };
    (rc, code)
}

fn connect_fd(c: *mut smtp::ffi::handle::smtp_session, fd: c_int, host: Option<&str>) -> (c_int, c_int) {
    let host = host.map(|h| CString::new(h).unwrap());
    let mut code = -7;
    let rc =
        unsafe { smtp_session_connect_fd(c, fd, host.as_ref().map_or(std::ptr::null(), |h| h.as_ptr()), &mut code) };
    (rc, code)
}

fn with_tls(kind: c_int, cfg: &Config) -> Client {
    let c = Client::of_kind(kind);
    assert_eq!(unsafe { smtp_session_set_tls_config(c.0, cfg.0) }, SMTP_OK);
    c
}

fn starttls(c: &Client) -> c_int {
    let mut code = 0;
    unsafe { smtp_session_starttls(c.0, std::ptr::null(), &mut code) }
}

fn encrypted(c: &Client) -> bool {
    unsafe { smtp_session_is_encrypted(c.0) == 1 }
}

/// Send one message; it must be accepted and land in `dir` as message `n`.
#[track_caller]
fn send_and_check(c: &Client, dir: &Path, n: usize, subject: &str) {
    let msg = format!("From: a@example.com\r\nSubject: {subject}\r\n\r\nthrough the proxy\r\n");
    let sent = c.sendmail(&["b@example.com"], msg.as_bytes());
    assert_eq!(sent.rc, SMTP_OK, "{}", c.errmsg());
    let got = common::wait_for_file(&dir.join(format!("{n:04}.eml")));
    assert!(String::from_utf8_lossy(&got).contains(subject));
    assert_eq!(c.quit().0, SMTP_OK, "{}", c.errmsg());
}

// ---- through real proxies ------------------------------------------------------

#[test]
fn socks5_with_user_and_password_carries_a_message() {
    let dir = temp_dir("socks5-mail");
    let (mail, proxy) = (sink(&dir), pproxy("socks5", true));
    let c = Client::new();
    assert_eq!(set_proxy(&c, Some(&proxy_url("socks5", proxy.port, true))), SMTP_OK, "{}", c.errmsg());
    assert_eq!(connect_to(&c, "127.0.0.1", mail.port), (SMTP_OK, 220), "{}", c.errmsg());
    send_and_check(&c, &dir, 1, "socks5 by address");
    // The name resolved here (socks5), then by the proxy (socks5h).
    assert_eq!(connect_to(&c, "localhost", mail.port), (SMTP_OK, 220), "{}", c.errmsg());
    send_and_check(&c, &dir, 2, "socks5 by name");
    assert_eq!(set_proxy(&c, Some(&proxy_url("socks5h", proxy.port, true))), SMTP_OK);
    assert_eq!(connect_to(&c, "localhost", mail.port), (SMTP_OK, 220), "{}", c.errmsg());
    send_and_check(&c, &dir, 3, "socks5h by name");
}

#[test]
fn http_connect_with_basic_credentials_carries_a_message() {
    let dir = temp_dir("http-mail");
    let (mail, proxy) = (sink(&dir), pproxy("http", true));
    let c = Client::new();
    assert_eq!(set_proxy(&c, Some(&proxy_url("http", proxy.port, true))), SMTP_OK);
    assert_eq!(connect_to(&c, "localhost", mail.port), (SMTP_OK, 220), "{}", c.errmsg());
    send_and_check(&c, &dir, 1, "http connect");
}

/// A session of `kind` trusting the test CA, through the proxy of `url`,
/// connected to `host:port`.
#[track_caller]
fn tls_through(kind: c_int, url: &str, host: &str, port: u16) -> Client {
    let c = Client::of_kind(kind);
    // The session keeps its own reference to the configuration.
    assert_eq!(unsafe { smtp_session_set_tls_config(c.0, trusting_test_ca().0) }, SMTP_OK);
    assert_eq!(set_proxy(&c, Some(url)), SMTP_OK, "{}", c.errmsg());
    assert_eq!(connect_to(&c, host, port), (SMTP_OK, 220), "{}", c.errmsg());
    c
}

#[test]
fn starttls_runs_end_to_end_through_socks5h() {
    let dir = temp_dir("starttls-mail");
    let (mail, proxy) = (tls_server("starttls", &dir), pproxy("socks5", true));
    // The certificate is checked against "localhost", the mail host, not the proxy.
    let c = tls_through(SMTP_KIND_SMTP, &proxy_url("socks5h", proxy.port, true), "localhost", mail.port);
    assert_eq!(starttls(&c), SMTP_OK, "{}", c.errmsg());
    assert!(encrypted(&c));
    send_and_check(&c, &dir, 1, "starttls via socks5h");
}

#[test]
fn smtp_ssl_runs_end_to_end_through_http_connect() {
    let dir = temp_dir("implicit-mail");
    let (mail, proxy) = (tls_server("implicit", &dir), pproxy("http", true));
    let c = tls_through(SMTP_KIND_SMTP_SSL, &proxy_url("http", proxy.port, true), "localhost", mail.port);
    assert!(encrypted(&c));
    send_and_check(&c, &dir, 1, "smtp_ssl via http");
}

#[test]
fn smtp_ssl_through_socks5_resolving_here() {
    let dir = temp_dir("implicit-socks5");
    let (mail, proxy) = (tls_server("implicit", &dir), pproxy("socks5", false));
    let c = tls_through(SMTP_KIND_SMTP_SSL, &proxy_url("socks5", proxy.port, false), "localhost", mail.port);
    assert!(encrypted(&c));
    send_and_check(&c, &dir, 1, "smtp_ssl via socks5");
}

#[test]
fn wrong_or_missing_credentials_are_refused_in_words() {
    let socks = pproxy("socks5", true);
    let http = pproxy("http", true);
    let wrong = |scheme: &str, port| format!("{scheme}://{USER}:not-{PASSWORD_IN_URL}@127.0.0.1:{port}");
    let c = Client::new();
    for (url, word) in [
        // pproxy closes the connection rather than send RFC 1929's failure status.
        (wrong("socks5", socks.port), "refused: it closed the connection after our user name and password"),
        (proxy_url("socks5", socks.port, false), "closed the connection without answering"),
        (wrong("http", http.port), "rejected the user name and password (407"),
        (proxy_url("http", http.port, false), "requires a user name and password (407"),
    ] {
        assert_eq!(set_proxy(&c, Some(&url)), SMTP_OK);
        assert_eq!(connect_to(&c, "127.0.0.1", 25).0, SMTP_ERR_CONNECT, "{url}: {}", c.errmsg());
        assert_errmsg(&c, word);
        assert!(!c.errmsg().contains("w0rd"), "{}", c.errmsg());
        assert!(!c.connected());
    }
}

#[test]
fn the_trace_names_the_proxy_and_never_its_credentials() {
    let dir = temp_dir("trace-mail");
    let mail = sink(&dir);
    let mut lines: Vec<String> = Vec::new();
    for scheme in ["socks5", "http"] {
        let proxy = pproxy(scheme, true);
        let c = Client::new();
        unsafe {
            smtp_session_set_debuglevel(c.0, 2);
            smtp::ffi::auth::smtp_session_set_debug_secrets(c.0, 1);
            smtp_session_set_trace(c.0, Some(common::collect_lines), (&raw mut lines).cast());
        }
        assert_eq!(set_proxy(&c, Some(&proxy_url(scheme, proxy.port, true))), SMTP_OK);
        assert_eq!(connect_to(&c, "localhost", mail.port), (SMTP_OK, 220), "{}", c.errmsg());
        assert_eq!(c.quit().0, SMTP_OK);
        unsafe { smtp_session_set_trace(c.0, None, std::ptr::null_mut()) };
    }
    let all = lines.join("\n");
    assert!(all.contains("SOCKS5 proxy 127.0.0.1:") && all.contains("HTTP proxy 127.0.0.1:"), "{all}");
    assert!(all.contains("connected us to localhost:"), "{all}");
    // Not the password in any form: as is, escaped, or inside Basic's base64.
    for secret in [PASSWORD, PASSWORD_IN_URL, "w0rd", "YWxpY2U6cEBzczp3MHJk"] {
        assert!(!all.contains(secret), "{secret} in the trace:\n{all}");
    }
}

// ---- scripted proxies -------------------------------------------------------------

/// A SOCKS5 proxy that takes no authentication and answers CONNECT with
/// reply code `rep`.
fn socks5_answering(rep: u8) -> Server {
    Server::start(move |p| {
        p.read_some(3)?;
        p.buf.clear();
        p.send([5, 0])?;
        p.read_some(10)?;
        p.send([5, rep, 0, 1, 0, 0, 0, 0, 0, 0])?;
        p.drain_until_eof()
    })
}

fn proxied_client(url: &str) -> Client {
    let c = Client::new();
    assert_eq!(set_proxy(&c, Some(url)), SMTP_OK, "{}", c.errmsg());
    c
}

#[test]
fn a_socks5_refusal_says_why() {
    let proxy = socks5_answering(5);
    let c = proxied_client(&format!("socks5://127.0.0.1:{}", proxy.port));
    assert_eq!(connect_to(&c, "192.0.2.1", 25).0, SMTP_ERR_CONNECT);
    assert_errmsg(&c, &format!("SOCKS5 proxy 127.0.0.1:{} refused: connection refused by destination (5)", proxy.port));
    assert!(!c.connected());
    proxy.finish().unwrap();
}

#[test]
fn an_http_refusal_says_the_status() {
    let proxy = Server::start(|p| {
        let req = p.line()?.unwrap_or_default();
        if !req.starts_with(b"CONNECT mx.example:2525 HTTP/1.1") {
            return Err(format!("request {:?}", String::from_utf8_lossy(&req)));
        }
        p.send("HTTP/1.1 403 Forbidden by policy\r\nContent-Length: 0\r\n\r\n")?;
        p.drain_until_eof()
    });
    let c = proxied_client(&format!("http://127.0.0.1:{}", proxy.port));
    assert_eq!(connect_to(&c, "mx.example", 2525).0, SMTP_ERR_CONNECT);
    assert_errmsg(&c, &format!("HTTP proxy 127.0.0.1:{} refused: 403 Forbidden by policy", proxy.port));
    proxy.finish().unwrap();
}

#[test]
fn a_proxy_that_answers_garbage_is_not_taken_for_one() {
    // An SMTP server where a proxy should be: it greets first.
    for scheme in ["socks5h", "http"] {
        let proxy = Server::start(|p| {
            p.send("220 not.a.proxy ESMTP\r\n")?;
            p.drain_until_eof()
        });
        let c = proxied_client(&format!("{scheme}://127.0.0.1:{}", proxy.port));
        c.timeout(SMTP_TIMEOUT_CONNECT, 5000);
        let start = Instant::now();
        assert_eq!(connect_to(&c, "mx.example", 25).0, SMTP_ERR_CONNECT, "{scheme}");
        assert!(start.elapsed() < Duration::from_secs(1), "judged at once: {:?}", start.elapsed());
        let protocol = if scheme == "http" { "HTTP" } else { "SOCKS5" };
        assert_errmsg(&c, &format!("the proxy's reply is not {protocol}"));
        proxy.finish().unwrap();
    }
}

/// A proxy that accepts and never answers.
fn silent_proxy() -> Server {
    Server::start(|p| p.drain_until_eof())
}

#[test]
fn a_proxy_that_never_answers_ends_at_the_connect_limit() {
    for scheme in ["socks5h", "http"] {
        let proxy = silent_proxy();
        let c = proxied_client(&format!("{scheme}://127.0.0.1:{}", proxy.port));
        c.timeout(SMTP_TIMEOUT_CONNECT, 1000);
        let start = Instant::now();
        assert_eq!(connect_to(&c, "mx.example", 25).0, SMTP_ERR_TIMEOUT);
        let took = start.elapsed();
        eprintln!("{scheme}: a silent proxy ended the connect after {took:?} (SMTP_TIMEOUT_CONNECT 1000 ms)");
        assert!(took >= Duration::from_millis(1000) && took < Duration::from_millis(1100), "{scheme}: {took:?}");
        assert_errmsg(&c, "SMTP_TIMEOUT_CONNECT");
        assert_errmsg(&c, &format!("proxy 127.0.0.1:{}", proxy.port));
        drop(c);
        proxy.finish().unwrap();
    }
}

#[test]
fn the_call_deadline_bounds_the_handshake() {
    let proxy = silent_proxy();
    let c = proxied_client(&format!("socks5h://127.0.0.1:{}", proxy.port));
    c.timeout(SMTP_TIMEOUT_CONNECT, 10_000);
    c.timeout(SMTP_TIMEOUT_CALL, 700);
    let start = Instant::now();
    assert_eq!(connect_to(&c, "mx.example", 25).0, SMTP_ERR_TIMEOUT);
    let took = start.elapsed();
    eprintln!("a silent proxy ended the connect after {took:?} (SMTP_TIMEOUT_CALL 700 ms)");
    assert!(took >= Duration::from_millis(700) && took < Duration::from_millis(770), "{took:?}");
    assert_errmsg(&c, "SMTP_TIMEOUT_CALL");
    drop(c);
    proxy.finish().unwrap();
}

#[test]
fn a_cancel_ends_the_handshake_at_once() {
    let proxy = silent_proxy();
    let c = proxied_client(&format!("http://127.0.0.1:{}", proxy.port));
    c.timeout(SMTP_TIMEOUT_CONNECT, 10_000);
    let canceller = c.cancel_after(Duration::from_millis(200));
    assert_eq!(connect_to(&c, "mx.example", 25).0, SMTP_ERR_CANCELLED);
    let ended = Instant::now();
    let (rc, at) = canceller.join().unwrap();
    eprintln!("the handshake ended {:?} after the cancel", ended.duration_since(at));
    assert_eq!(rc, SMTP_OK);
    assert!(ended.duration_since(at) < Duration::from_millis(100), "{:?}", ended.duration_since(at));
    assert!(!c.connected());
    drop(c);
    proxy.finish().unwrap();
}

#[test]
fn an_unreachable_proxy_is_a_connect_error() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let c = proxied_client(&format!("socks5://u:{PASSWORD_IN_URL}@127.0.0.1:{port}"));
    assert_eq!(connect_to(&c, "192.0.2.1", 25).0, SMTP_ERR_CONNECT);
    assert_errmsg(&c, &format!("SOCKS5 proxy 127.0.0.1:{port} unreachable"));
    assert!(!c.errmsg().contains("w0rd"));
}

/// Relay between `client` and `server` until both are done; every byte
/// the client sent.
fn pump(mut client: TcpStream, mut server: TcpStream) -> Vec<u8> {
    let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let down = thread::spawn(move || {
        let _ = std::io::copy(&mut s2, &mut c2);
        let _ = c2.shutdown(std::net::Shutdown::Write);
    });
    let mut seen = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n @ 1..) = client.read(&mut buf) {
        seen.extend_from_slice(&buf[..n]);
        if server.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = server.shutdown(std::net::Shutdown::Write);
    let _ = down.join();
    seen
}

/// A one-connection proxy on a thread: `handshake` answers the client and
/// says where to connect; then it relays, and returns what the client sent.
fn relay(handshake: impl FnOnce(&mut TcpStream) -> String + Send + 'static) -> (u16, thread::JoinHandle<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = thread::spawn(move || {
        let (mut client, _) = l.accept().unwrap();
        client.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let target = handshake(&mut client);
        pump(client, TcpStream::connect(target).unwrap())
    });
    (port, h)
}

/// An HTTP CONNECT proxy that relays to where it is asked, recording.
fn recording_relay() -> (u16, thread::JoinHandle<Vec<u8>>) {
    relay(|client| {
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && client.read(&mut b).unwrap_or(0) == 1 {
            head.push(b[0]);
        }
        client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").unwrap();
        String::from_utf8_lossy(&head).split_whitespace().nth(1).unwrap().to_string()
    })
}

/// A lying SOCKS5 proxy: whatever it is asked, it connects to `port` on
/// 127.0.0.1.
fn redirecting_socks5(port: u16) -> (u16, thread::JoinHandle<Vec<u8>>) {
    relay(move |client| {
        let mut b = [0u8; 300];
        client.read_exact(&mut b[..3]).unwrap();
        client.write_all(&[5, 0]).unwrap();
        // VER CMD RSV ATYP=3 LEN NAME PORT
        client.read_exact(&mut b[..5]).unwrap();
        let rest = usize::from(b[4]) + 2;
        client.read_exact(&mut b[..rest]).unwrap();
        client.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 25]).unwrap();
        format!("127.0.0.1:{port}")
    })
}

/// A proxy that connects somewhere else than asked cannot pass for the
/// mail host: the certificate is checked against the name asked for.
#[test]
fn a_proxy_that_redirects_cannot_impersonate_the_mail_host() {
    let dir = temp_dir("redirected");
    let mail = tls_server("implicit", &dir);
    let (port, proxy) = redirecting_socks5(mail.port);
    let c = Client::of_kind(SMTP_KIND_SMTP_SSL);
    let cfg = trusting_test_ca();
    assert_eq!(unsafe { smtp_session_set_tls_config(c.0, cfg.0) }, SMTP_OK);
    assert_eq!(set_proxy(&c, Some(&format!("socks5h://127.0.0.1:{port}"))), SMTP_OK);
    assert_eq!(connect_to(&c, "mx.example", 465).0, SMTP_ERR_TLS, "{}", c.errmsg());
    assert_errmsg(&c, "mx.example");
    drop(c);
    let seen = proxy.join().unwrap();
    assert!(String::from_utf8_lossy(&seen).contains("mx.example"), "SNI names the host asked for");
}

#[test]
fn the_proxy_sees_only_ciphertext() {
    let dir = temp_dir("ciphertext-mail");
    let mail = tls_server("implicit", &dir);
    let (port, relay) = recording_relay();
    let c = tls_through(SMTP_KIND_SMTP_SSL, &format!("http://127.0.0.1:{port}"), "localhost", mail.port);
    send_and_check(&c, &dir, 1, "Secret plans");
    drop(c);
    let seen = relay.join().unwrap();
    assert!(seen.len() > 500, "{} bytes relayed", seen.len());
    let text = String::from_utf8_lossy(&seen);
    for clear in ["Secret plans", "MAIL FROM", "a@example.com", "EHLO", "ehlo"] {
        assert!(!text.contains(clear), "the proxy saw {clear:?}");
    }
}

// ---- settings ----------------------------------------------------------------------

#[test]
fn bad_proxy_urls_are_refused_when_set() {
    let c = Client::new();
    for (url, word) in [
        ("ftp://127.0.0.1:21", "unsupported scheme"),
        ("socks4://127.0.0.1", "unsupported scheme"),
        ("127.0.0.1:1080", "no scheme"),
        ("socks5://", "no host"),
        (&format!("http://{USER}:{PASSWORD_IN_URL}@:8080") as &str, "no host"),
        ("socks5://127.0.0.1:99999", "bad port"),
        ("socks5://127.0.0.1:port", "bad port"),
        ("http://127.0.0.1:8080\r\nX-Injected: 1", "control character"),
        ("http://127.0.0.1:8080/some/path", "no path"),
        (&format!("socks5://{USER}:{PASSWORD}%zz@127.0.0.1") as &str, "%-escape"),
    ] {
        assert_eq!(set_proxy(&c, Some(url)), SMTP_ERR_INVALID_ARGUMENT, "{url:?}");
        assert_errmsg(&c, word);
        assert!(!c.errmsg().contains("w0rd"), "{}", c.errmsg());
    }
}

#[test]
fn null_or_empty_clears_the_proxy_and_a_bad_url_keeps_the_old_one() {
    let good = Server::start(well_behaved);
    let c = proxied_client("socks5://127.0.0.1:9");
    assert_eq!(set_proxy(&c, Some("socks5://")), SMTP_ERR_INVALID_ARGUMENT);
    // Still the old proxy (port 9: nothing listens): the connect goes there and fails.
    assert_eq!(connect_to(&c, "127.0.0.1", good.port).0, SMTP_ERR_CONNECT);
    assert_errmsg(&c, "proxy 127.0.0.1:9");
    assert_eq!(set_proxy(&c, None), SMTP_OK);
    assert_eq!(connect_to(&c, "127.0.0.1", good.port), (SMTP_OK, 220), "{}", c.errmsg());
    assert_eq!(c.quit().0, SMTP_OK);
    good.finish().unwrap();
    assert_eq!(set_proxy(&c, Some("http://127.0.0.1:9")), SMTP_OK);
    assert_eq!(set_proxy(&c, Some("")), SMTP_OK);
    let good = Server::start(well_behaved);
    assert_eq!(connect_to(&c, "127.0.0.1", good.port), (SMTP_OK, 220), "{}", c.errmsg());
    assert_eq!(c.quit().0, SMTP_OK);
    good.finish().unwrap();
    assert_eq!(unsafe { smtp_session_set_proxy(std::ptr::null_mut(), std::ptr::null()) }, SMTP_ERR_NULL_ARGUMENT);
}

#[test]
fn a_unix_socket_cannot_go_through_a_proxy() {
    let c = Client::lmtp();
    assert_eq!(set_proxy(&c, Some("socks5://127.0.0.1:1080")), SMTP_OK);
    let host = CString::new("/run/lmtp.sock").unwrap();
    let rc = unsafe { smtp_session_connect(c.0, host.as_ptr(), 0, std::ptr::null_mut()) };
    assert_eq!(rc, SMTP_ERR_INVALID_ARGUMENT);
    assert_errmsg(&c, "cannot be reached through a proxy");
}

#[test]
fn a_host_with_line_breaks_is_not_sent_to_the_proxy() {
    let c = proxied_client("http://127.0.0.1:9");
    let host = CString::new("mx.example\r\nX-Injected: 1").unwrap();
    let rc = unsafe { smtp_session_connect(c.0, host.as_ptr(), 25, std::ptr::null_mut()) };
    assert_eq!(rc, SMTP_ERR_INVALID_ARGUMENT);
}

// ---- the caller's socket -------------------------------------------------------------

#[test]
fn a_session_over_the_callers_tcp_socket() {
    let dir = temp_dir("fd-mail");
    let mail = sink(&dir);
    let c = Client::new();
    let fd = TcpStream::connect(("127.0.0.1", mail.port)).unwrap().into_raw_fd();
    assert_eq!(connect_fd(c.0, fd, None), (SMTP_OK, 220), "{}", c.errmsg());
    assert!(c.connected());
    send_and_check(&c, &dir, 1, "over the caller's socket");
}

#[test]
fn a_session_over_a_socketpair() {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let server = thread::spawn(move || {
        let mut s = theirs;
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"220 pair.example ESMTP\r\n").unwrap();
        let mut buf = [0u8; 256];
        let n = s.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"noop\r\n");
        s.write_all(b"250 ok\r\n").unwrap();
        // The session closes the socket on free: end of stream here.
        assert_eq!(s.read(&mut buf).unwrap(), 0);
    });
    let c = Client::new();
    assert_eq!(connect_fd(c.0, ours.into_raw_fd(), None), (SMTP_OK, 220), "{}", c.errmsg());
    assert_eq!(c.noop(), (SMTP_OK, 250));
    drop(c);
    server.join().unwrap();
}

#[test]
fn smtp_ssl_and_starttls_over_the_callers_socket_check_the_host_given() {
    let cfg = trusting_test_ca();
    let dir = temp_dir("fd-implicit");
    let implicit = tls_server("implicit", &dir);
    let c = with_tls(SMTP_KIND_SMTP_SSL, &cfg);
    let fd = TcpStream::connect(("127.0.0.1", implicit.port)).unwrap().into_raw_fd();
    assert_eq!(connect_fd(c.0, fd, Some("localhost")), (SMTP_OK, 220), "{}", c.errmsg());
    assert!(encrypted(&c));
    send_and_check(&c, &dir, 1, "smtp_ssl over the caller's socket");
    // No host to check the certificate against: a clear refusal.
    let fd = TcpStream::connect(("127.0.0.1", implicit.port)).unwrap().into_raw_fd();
    assert_eq!(connect_fd(c.0, fd, None).0, SMTP_ERR_TLS);
    assert_errmsg(&c, "no host name to check");
    // A name the certificate lacks.
    let fd = TcpStream::connect(("127.0.0.1", implicit.port)).unwrap().into_raw_fd();
    assert_eq!(connect_fd(c.0, fd, Some("other.example")).0, SMTP_ERR_TLS);

    let dir = temp_dir("fd-starttls");
    let plain_first = tls_server("starttls", &dir);
    let c = with_tls(SMTP_KIND_SMTP, &cfg);
    let fd = TcpStream::connect(("127.0.0.1", plain_first.port)).unwrap().into_raw_fd();
    assert_eq!(connect_fd(c.0, fd, Some("localhost")), (SMTP_OK, 220), "{}", c.errmsg());
    assert_eq!(starttls(&c), SMTP_OK, "{}", c.errmsg());
    send_and_check(&c, &dir, 1, "starttls over the caller's socket");
}

/// The fd is the library's whatever the result: on failure it is closed
/// (the peer sees end of stream), a NULL session included.
#[test]
fn the_fd_is_closed_on_failure() {
    let c = Client::new();
    let (ours, mut theirs) = UnixStream::pair().unwrap();
    assert_eq!(connect_fd(std::ptr::null_mut(), ours.into_raw_fd(), None).0, SMTP_ERR_NULL_ARGUMENT);
    theirs.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    assert_eq!(theirs.read(&mut [0u8; 8]).unwrap(), 0, "still open after a NULL session");

    let (ours, mut theirs) = UnixStream::pair().unwrap();
    assert_eq!(connect_fd(c.0, ours.into_raw_fd(), Some("bad\r\nhost")).0, SMTP_ERR_INVALID_ARGUMENT);
    theirs.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    assert_eq!(theirs.read(&mut [0u8; 8]).unwrap(), 0, "still open after a bad host");

    // A greeting other than 220 is no failure: the connection stays.
    let (ours, mut theirs) = UnixStream::pair().unwrap();
    theirs.write_all(b"554 go away\r\n").unwrap();
    assert_eq!(connect_fd(c.0, ours.into_raw_fd(), None), (SMTP_OK, 554));
    assert!(c.connected());
    assert_eq!(unsafe { smtp_session_close(c.0) }, SMTP_OK);
    theirs.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    assert_eq!(theirs.read(&mut [0u8; 8]).unwrap(), 0, "still open after smtp_session_close");
}

#[test]
fn descriptors_that_are_not_connected_stream_sockets_are_refused() {
    let c = Client::new();
    let file = std::fs::File::open("/dev/null").unwrap();
    assert_eq!(connect_fd(c.0, file.into_raw_fd(), None).0, SMTP_ERR_INVALID_ARGUMENT);
    assert_errmsg(&c, "is not a socket");
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(connect_fd(c.0, udp.into_raw_fd(), None).0, SMTP_ERR_INVALID_ARGUMENT);
    assert_errmsg(&c, "not a stream socket");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    assert_eq!(connect_fd(c.0, listener.into_raw_fd(), None).0, SMTP_ERR_INVALID_ARGUMENT);
    assert_errmsg(&c, "not connected");
    assert_eq!(connect_fd(c.0, -1, None).0, SMTP_ERR_INVALID_ARGUMENT);
    assert_errmsg(&c, "not an open file descriptor");
    // A server that closes before its greeting: the fd's session ends as a connect's would.
    let (ours, theirs) = UnixStream::pair().unwrap();
    drop(theirs);
    assert_eq!(connect_fd(c.0, ours.into_raw_fd(), None).0, SMTP_ERR_SERVER_DISCONNECTED);
}

// ---- a pool through a proxy ---------------------------------------------------------

/// A pool from `like`, to `host:port`, at most `max` connections.
fn pool_like(like: &Client, host: &str, port: u16, max: u32) -> *mut smtp::ffi::pool::smtp_pool {
    let host = CString::new(format!("{host}:{port}")).unwrap();
    let mut pool = std::ptr::null_mut();
    assert_eq!(unsafe { smtp::ffi::pool::smtp_pool_new(like.0, host.as_ptr(), 0, max, &mut pool) }, SMTP_OK);
    pool
}

fn pool_send(pool: *mut smtp::ffi::pool::smtp_pool, seat: &Client, subject: &str) -> c_int {
    let msg = format!("From: a@example.com\r\nSubject: {subject}\r\n\r\nthrough a pool and a proxy\r\n");
    pool_sendmail(pool, seat.0, "a@example.com", &["b@example.com"], msg.as_bytes())
}

#[test]
fn a_pool_connects_through_the_proxy_of_the_session_it_was_made_from() {
    let dir = temp_dir("pool-mail");
    let (mail, proxy) = (sink(&dir), pproxy("socks5", true));
    let like = Client::new();
    assert_eq!(set_proxy(&like, Some(&proxy_url("socks5h", proxy.port, true))), SMTP_OK);
    let pool = pool_like(&like, "localhost", mail.port, 2);
    let seat = Client::new();
    for i in 1..=3 {
        assert_eq!(pool_send(pool, &seat, &format!("pooled {i}")), SMTP_OK, "{}", seat.errmsg());
    }
    assert!(String::from_utf8_lossy(&common::wait_for_file(&dir.join("0003.eml"))).contains("pooled 3"));
    unsafe { smtp::ffi::pool::smtp_pool_free(pool) };

    // The proxy is the pool's way out: one that never answers holds its
    // new connections to the seat's connect limit.
    let silent = silent_proxy();
    let like = Client::new();
    assert_eq!(set_proxy(&like, Some(&format!("socks5://127.0.0.1:{}", silent.port))), SMTP_OK);
    let pool = pool_like(&like, "127.0.0.1", mail.port, 1);
    seat.timeout(SMTP_TIMEOUT_CONNECT, 300);
    let start = Instant::now();
    assert_eq!(pool_send(pool, &seat, "never"), SMTP_ERR_TIMEOUT);
    assert!(start.elapsed() < Duration::from_millis(330), "{:?}", start.elapsed());
    assert_errmsg(&seat, &format!("proxy 127.0.0.1:{}", silent.port));
    unsafe { smtp::ffi::pool::smtp_pool_free(pool) };
    drop(seat);
    silent.finish().unwrap();
}
